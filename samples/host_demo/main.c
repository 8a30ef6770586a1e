/* Host demo for a tmc-compiled model: reads the input from a .npy file (float32,
 * C order), runs the model through its generated header API, prints the output
 * and the memory figures. Build with -DTMC_MODEL_HEADER='"name.h"' and
 * -DTMC_PREFIX=name -DTMC_PREFIX_UPPER=NAME (scripts/quickstart.sh does this). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include TMC_MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define P(x) CAT(TMC_PREFIX, x)
#define U(x) CAT(TMC_PREFIX_UPPER, x)

static unsigned char arena[U(_ARENA_BYTES) + 1] __attribute__((aligned(16)));

static int read_npy_f32(const char *path, float *dst, size_t count) {
  unsigned char head[10];
  size_t hlen;
  char *hdr;
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  if (fread(head, 1, 10, f) != 10 || memcmp(head, "\x93NUMPY", 6) != 0 || head[6] != 1) { fclose(f); return -1; }
  hlen = (size_t)head[8] | ((size_t)head[9] << 8);
  hdr = malloc(hlen + 1);
  if (!hdr || fread(hdr, 1, hlen, f) != hlen) { fclose(f); free(hdr); return -1; }
  hdr[hlen] = 0;
  if (!strstr(hdr, "<f4")) { fprintf(stderr, "demo: %s is not float32\n", path); fclose(f); free(hdr); return -1; }
  free(hdr);
  if (fread(dst, sizeof(float), count, f) != count) { fclose(f); return -1; }
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  static float in[U(_INPUT_0_SIZE)];
  static float out[U(_OUTPUT_0_SIZE)];
  const void *ins[1];
  void *outs[1];
  size_t i;
  int best = 0;
  if (argc != 2 || read_npy_f32(argv[1], in, U(_INPUT_0_SIZE)) != 0) {
    fprintf(stderr, "usage: %s INPUT.npy (float32, %d elements)\n", argv[0], (int)U(_INPUT_0_SIZE));
    return 2;
  }
  ins[0] = in;
  outs[0] = out;
  if (P(_run)(ins, outs, arena) != 0) { fprintf(stderr, "demo: run failed\n"); return 1; }
  printf("output '%s' (%d values):\n", P(_outputs)[0].name, (int)U(_OUTPUT_0_SIZE));
  for (i = 0; i < U(_OUTPUT_0_SIZE); ++i) {
    printf("  [%2d] % .6f\n", (int)i, out[i]);
    if (out[i] > out[best]) best = (int)i;
  }
  printf("argmax: %d\n", best);
  printf("memory: arena %d bytes (caller-supplied, aligned to %d), input %d bytes, output %d bytes\n",
         (int)U(_ARENA_BYTES), (int)U(_ARENA_ALIGN), (int)U(_INPUT_0_BYTES), (int)U(_OUTPUT_0_BYTES));
  return 0;
}

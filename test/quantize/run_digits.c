/* Runs a tmc-compiled model over a batch of samples, one NAME_run call per
 * sample: reads IN (raw float32, N x INPUT_0_SIZE values), writes OUT (raw
 * float32, N x OUTPUT_0_SIZE values). Build with
 * -DTMC_MODEL_HEADER='"name.h"' -DTMC_PREFIX=name -DTMC_PREFIX_UPPER=NAME. */
#include <stdio.h>
#include <stdlib.h>

#include TMC_MODEL_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define P(x) CAT(TMC_PREFIX, x)
#define U(x) CAT(TMC_PREFIX_UPPER, x)

/* Input and output must be float32. */
typedef char input_is_float[(U(_INPUT_0_DTYPE) == U(_DTYPE_FLOAT32)) ? 1 : -1];
typedef char output_is_float[(U(_OUTPUT_0_DTYPE) == U(_DTYPE_FLOAT32)) ? 1 : -1];

static unsigned char arena[U(_ARENA_BYTES) + 1] __attribute__((aligned(16)));

int main(int argc, char **argv) {
  static float in[U(_INPUT_0_SIZE)], out[U(_OUTPUT_0_SIZE)];
  const void *ins[1];
  void *outs[1];
  FILE *fi, *fo;
  long n = 0;
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN.f32 OUT.f32\n", argv[0]);
    return 2;
  }
  fi = fopen(argv[1], "rb");
  fo = fopen(argv[2], "wb");
  if (!fi || !fo) {
    fprintf(stderr, "run_digits: cannot open the files\n");
    return 2;
  }
  ins[0] = in;
  outs[0] = out;
  while (fread(in, sizeof(float), U(_INPUT_0_SIZE), fi) == U(_INPUT_0_SIZE)) {
    if (P(_run)(ins, outs, arena) != 0) {
      fprintf(stderr, "run_digits: run failed\n");
      return 1;
    }
    if (fwrite(out, sizeof(float), U(_OUTPUT_0_SIZE), fo) != U(_OUTPUT_0_SIZE)) return 1;
    ++n;
  }
  fclose(fi);
  fclose(fo);
  printf("%ld samples\n", n);
  return 0;
}

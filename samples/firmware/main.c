/* Runs two tmc-compiled models in one bare-metal image and prints their
 * outputs over semihosting. net_a (cnn_bn.onnx) and net_b (mlp_ae.onnx) were
 * compiled with different names, so every symbol and macro carries its own
 * prefix (net_a_run / net_b_run, NET_A_ARENA_BYTES / NET_B_ARENA_BYTES...)
 * and both link into one program. Exit status: 0 when both runs succeed. */
#include <stdint.h>
#include <string.h>

#include "net_a.h"
#include "net_b.h"
#include "net_a_sample.h" /* generated from cnn_bn.input.npy by tmc_embed_npy */
#include "net_b_sample.h" /* generated from mlp_ae.input.npy */
#include "tmc_semihost.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Compile-time checks (C99 has no static_assert). */
typedef char check_a_input[NET_A_SAMPLE_BYTES == NET_A_INPUT_0_BYTES ? 1 : -1];
typedef char check_b_input[NET_B_SAMPLE_BYTES == NET_B_INPUT_0_BYTES ? 1 : -1];
typedef char check_one_io[NET_A_NUM_INPUTS == 1 && NET_B_NUM_INPUTS == 1 &&
                          NET_A_NUM_OUTPUTS == 1 && NET_B_NUM_OUTPUTS == 1 ? 1 : -1];

/* The models run one after the other, so they share one arena (in .bss):
 * the larger of the two sizes, with the stricter alignment. */
#define ARENA_BYTES MAX(NET_A_ARENA_BYTES, NET_B_ARENA_BYTES)
#define ARENA_ALIGN MAX(NET_A_ARENA_ALIGN, NET_B_ARENA_ALIGN)
static unsigned char arena[ARENA_BYTES > 0 ? ARENA_BYTES : 1] __attribute__((aligned(ARENA_ALIGN)));

static NET_A_OUTPUT_0_CTYPE out_a[NET_A_OUTPUT_0_SIZE];
static NET_B_OUTPUT_0_CTYPE out_b[NET_B_OUTPUT_0_SIZE];

static void print_shape(const int32_t *shape, int32_t rank) {
  int32_t d;
  tmc_sh_write("[");
  for (d = 0; d < rank; ++d) {
    if (d) tmc_sh_write("x");
    tmc_sh_write_dec(shape[d]);
  }
  tmc_sh_write("]");
}

/* "  net_a.output[3] = -1.23456789e+00 (0xbf9e0652)" for each element. */
static void print_floats(const char *model, const char *tensor, const float *v, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    uint32_t bits;
    memcpy(&bits, &v[i], sizeof bits);
    tmc_sh_write("  ");
    tmc_sh_write(model);
    tmc_sh_write(".");
    tmc_sh_write(tensor);
    tmc_sh_write("[");
    tmc_sh_write_dec((long)i);
    tmc_sh_write("] = ");
    tmc_sh_write_float(v[i]);
    tmc_sh_write(" (0x");
    tmc_sh_write_hex32(bits);
    tmc_sh_write(")\n");
  }
}

static void describe(const char *model, const char *in_name, const int32_t *in_shape, int32_t in_rank,
                     long arena_bytes) {
  tmc_sh_write(model);
  tmc_sh_write(": input '");
  tmc_sh_write(in_name);
  tmc_sh_write("' ");
  print_shape(in_shape, in_rank);
  tmc_sh_write(", arena ");
  tmc_sh_write_dec(arena_bytes);
  tmc_sh_write(" bytes (shared arena: ");
  tmc_sh_write_dec((long)sizeof arena);
  tmc_sh_write(")\n");
}

int main(void) {
  int rc_a, rc_b;
  {
    const void *in[1];
    void *out[1];
    in[0] = net_a_sample;
    out[0] = out_a;
    describe("net_a", net_a_inputs[0].name, net_a_inputs[0].shape, net_a_inputs[0].rank, NET_A_ARENA_BYTES);
    rc_a = net_a_run(in, out, arena);
    tmc_sh_write("net_a: run returned ");
    tmc_sh_write_dec(rc_a);
    tmc_sh_write("\n");
    if (rc_a == 0) print_floats("net_a", net_a_outputs[0].name, out_a, NET_A_OUTPUT_0_SIZE);
  }
  {
    const void *in[1];
    void *out[1];
    in[0] = net_b_sample;
    out[0] = out_b;
    describe("net_b", net_b_inputs[0].name, net_b_inputs[0].shape, net_b_inputs[0].rank, NET_B_ARENA_BYTES);
    rc_b = net_b_run(in, out, arena);
    tmc_sh_write("net_b: run returned ");
    tmc_sh_write_dec(rc_b);
    tmc_sh_write("\n");
    if (rc_b == 0) print_floats("net_b", net_b_outputs[0].name, out_b, NET_B_OUTPUT_0_SIZE);
  }
  tmc_sh_write(rc_a == 0 && rc_b == 0 ? "done: both models ran\n" : "done: a model failed\n");
  return rc_a == 0 && rc_b == 0 ? 0 : 1;
}

/* Runs two tmc models linked from the installed package and prints their
 * outputs as "name j i value" lines (%.9g). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include "cnn.h"
#include "cnn_sample.h"
#include "mlp.h"
#include "mlp_sample.h"

typedef char check_align[CNN_ARENA_ALIGN == 32 ? 1 : -1]; /* OPTIONS --align 32 reached tmc */

static unsigned char arena_mlp[MLP_ARENA_BYTES + 1] __attribute__((aligned(MLP_ARENA_ALIGN)));
static unsigned char arena_cnn[CNN_ARENA_BYTES + 1] __attribute__((aligned(CNN_ARENA_ALIGN)));
static float out_mlp[MLP_OUTPUT_0_SIZE], out_cnn[CNN_OUTPUT_0_SIZE];

int main(void) {
  const void *in[1];
  void *out[1];
  int i;
  in[0] = mlp_sample;
  out[0] = out_mlp;
  if (MLP_SAMPLE_BYTES != MLP_INPUT_0_BYTES || mlp_run(in, out, arena_mlp) != 0) return 1;
  in[0] = cnn_sample;
  out[0] = out_cnn;
  if (CNN_SAMPLE_BYTES != CNN_INPUT_0_BYTES || cnn_run(in, out, arena_cnn) != 0) return 1;
  for (i = 0; i < MLP_OUTPUT_0_SIZE; ++i) printf("mlp 0 %d %.9g\n", i, out_mlp[i]);
  for (i = 0; i < CNN_OUTPUT_0_SIZE; ++i) printf("cnn 0 %d %.9g\n", i, out_cnn[i]);
  return 0;
}

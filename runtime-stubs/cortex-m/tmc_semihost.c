/* Semihosting console and exit for bare-metal Cortex-M firmware (tmc runtime
 * stubs). See tmc_semihost.h. */
#include "tmc_semihost.h"

#include <math.h>

#define TMC_SYS_WRITE0 0x04
#define TMC_SYS_EXIT 0x18
#define TMC_SYS_EXIT_EXTENDED 0x20
#define TMC_ADP_STOPPED_APPLICATION_EXIT 0x20026
#define TMC_ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023

static int tmc_sh_call(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void tmc_sh_write(const char *s) { tmc_sh_call(TMC_SYS_WRITE0, s); }

void tmc_sh_write_dec(long v) {
  char buf[24];
  char *p = buf + sizeof buf;
  unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
  *--p = 0;
  do {
    *--p = (char)('0' + u % 10u);
    u /= 10u;
  } while (u);
  if (v < 0) *--p = '-';
  tmc_sh_write(p);
}

static const char tmc_hex_digits[] = "0123456789abcdef";

void tmc_sh_write_hex32(uint32_t v) {
  char buf[9];
  int i;
  for (i = 7; i >= 0; --i, v >>= 4) buf[i] = tmc_hex_digits[v & 15u];
  buf[8] = 0;
  tmc_sh_write(buf);
}

void tmc_sh_write_hex_bytes(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  char line[64 * 2 + 2];
  size_t i, k = 0;
  for (i = 0; i < n; ++i) {
    line[k++] = tmc_hex_digits[b[i] >> 4];
    line[k++] = tmc_hex_digits[b[i] & 15u];
    if (k == 128 || i + 1 == n) {
      line[k++] = '\n';
      line[k] = 0;
      tmc_sh_write(line);
      k = 0;
    }
  }
}

void tmc_sh_write_float(float f) {
  /* Exact enough for display: scale in double, round to 9 digits. */
  char buf[24];
  int k = 0, e10 = 0, i;
  double d = f;
  unsigned long digits;
  if (isnan(f)) { tmc_sh_write("nan"); return; }
  if (signbit(f)) { buf[k++] = '-'; d = -d; }
  if (isinf(f)) { buf[k] = 0; tmc_sh_write(buf); tmc_sh_write("inf"); return; }
  if (d != 0) {
    while (d >= 10.0) { d /= 10.0; ++e10; }
    while (d < 1.0) { d *= 10.0; --e10; }
  }
  digits = (unsigned long)(d * 1e8 + 0.5);
  if (digits >= 1000000000ul) { digits /= 10u; ++e10; }
  for (i = 8; i >= 0; --i) {
    buf[k + (i ? i + 1 : 0)] = (char)('0' + digits % 10u);
    digits /= 10u;
  }
  buf[k + 1] = '.';
  k += 10;
  buf[k++] = 'e';
  buf[k++] = e10 < 0 ? '-' : '+';
  if (e10 < 0) e10 = -e10;
  if (e10 >= 100) buf[k++] = (char)('0' + e10 / 100);
  buf[k++] = (char)('0' + (e10 / 10) % 10);
  buf[k++] = (char)('0' + e10 % 10);
  buf[k] = 0;
  tmc_sh_write(buf);
}

void tmc_sh_exit(int status) {
  uint32_t block[2];
  block[0] = TMC_ADP_STOPPED_APPLICATION_EXIT;
  block[1] = (uint32_t)status;
  tmc_sh_call(TMC_SYS_EXIT_EXTENDED, block);
  /* Only reached if SYS_EXIT_EXTENDED is not supported. */
  tmc_sh_call(TMC_SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? TMC_ADP_STOPPED_APPLICATION_EXIT
                                                                   : TMC_ADP_STOPPED_RUNTIME_ERROR_UNKNOWN));
  for (;;) __asm__ volatile("wfi");
}

/* Semihosting console and exit for bare-metal Cortex-M firmware (tmc runtime
 * stubs). Works under QEMU with `-semihosting-config enable=on,target=native`
 * or under a debugger that services `bkpt 0xAB`. Without a debugger attached,
 * real hardware takes a HardFault on the first call. */
#ifndef TMC_SEMIHOST_H_
#define TMC_SEMIHOST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit status the startup code reports for a fault: 128 + exception number
 * (HardFault = 131, MemManage = 132, BusFault = 133, UsageFault = 134). */
#define TMC_EXIT_FAULT_BASE 128

/* Writes a NUL-terminated string (SYS_WRITE0). */
void tmc_sh_write(const char *s);
/* Writes a signed decimal number. */
void tmc_sh_write_dec(long v);
/* Writes a 32-bit value as 8 hex digits (no prefix). */
void tmc_sh_write_hex32(uint32_t v);
/* Writes n bytes as lowercase hex pairs, in memory order, 64 bytes a line. */
void tmc_sh_write_hex_bytes(const void *p, size_t n);
/* Writes a float as "-1.23456789e+00" (9 significant digits; nan, inf). */
void tmc_sh_write_float(float f);
/* Ends the program with an exit status (SYS_EXIT_EXTENDED, falling back to
 * SYS_EXIT, which can only say success or failure). Never returns. */
void tmc_sh_exit(int status) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* TMC_SEMIHOST_H_ */

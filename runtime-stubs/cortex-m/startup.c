/* Bare-metal startup for Cortex-M (tmc runtime stubs).
 *
 * Vector table, reset handler (enables the FPU when the code is built for one,
 * sets the ARMv8-M stack limit or, on ARMv7-M, an MPU guard region below the
 * stack, copies .data, zeroes .bss, calls main) and
 * fault handlers that report over semihosting and exit with status
 * 128 + exception number, so a fault ends a QEMU run with a clear error
 * instead of a hang. main's return value becomes the exit status.
 *
 * Needs the symbols of tmc_cortex_m_sections.ld (included by the
 * mps2-*.ld scripts). Build with -nostartfiles. */
#include <stdint.h>

#include "tmc_semihost.h"

/* Linker script symbols. Declared as functions so their addresses can sit in
 * the vector table (an array of function pointers) without a cast that ISO C
 * forbids; only their addresses are used. */
extern void __stack_top__(void);
extern uint32_t __stack_limit__[];
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];

int main(void);

void Reset_Handler(void) __attribute__((naked, noreturn));
void tmc_default_handler(void) __attribute__((naked, noreturn));
void tmc_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));
void tmc_c_start(void) __attribute__((noreturn, used));

typedef void (*tmc_vector)(void);

#define TMC_NUM_IRQS 48

/* 16 system exceptions + external interrupts; every unexpected one reports
 * and exits. */
__attribute__((section(".isr_vector"), used)) const tmc_vector tmc_vector_table[16 + TMC_NUM_IRQS] = {
    __stack_top__,       /* 0: initial main stack pointer */
    Reset_Handler,       /* 1: reset */
    tmc_default_handler, /* 2: NMI */
    tmc_default_handler, /* 3: HardFault */
    tmc_default_handler, /* 4: MemManage */
    tmc_default_handler, /* 5: BusFault */
    tmc_default_handler, /* 6: UsageFault */
    tmc_default_handler, /* 7: SecureFault (ARMv8-M) */
    0, 0, 0,             /* 8-10: reserved */
    tmc_default_handler, /* 11: SVCall */
    tmc_default_handler, /* 12: DebugMonitor */
    0,                   /* 13: reserved */
    tmc_default_handler, /* 14: PendSV */
    tmc_default_handler, /* 15: SysTick */
    /* 16...: external interrupts (C99 has no range initialisers). */
#define TMC_H tmc_default_handler
    TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H,
    TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H,
    TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H,
    TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H, TMC_H,
#undef TMC_H
};

void Reset_Handler(void) {
  __asm__ volatile(
#if defined(__ARM_FP)
      /* CPACR: full access to CP10 and CP11 (the FPU) before any FP instruction. */
      "ldr r0, =0xE000ED88\n"
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n"
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__) || defined(__ARM_ARCH_8_1M_MAIN__)
      /* Stack overflow raises a fault instead of corrupting memory. */
      "ldr r0, =__stack_limit__\n"
      "msr msplim, r0\n"
#endif
      "b tmc_c_start\n"
      ".ltorg\n");
}

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
/* ARMv7-M has no stack limit register: make the memory just below the stack
 * inaccessible with an MPU region (PMSAv7), so an overflow faults instead of
 * silently writing into QEMU's "reserved" regions (which accept and drop
 * writes). The fault cannot stack its frame either, so the core locks up and
 * QEMU stops with an error. */
static void tmc_stack_guard(void) {
  volatile uint32_t *const mpu_type = (volatile uint32_t *)0xE000ED90u;
  volatile uint32_t *const mpu_ctrl = (volatile uint32_t *)0xE000ED94u;
  volatile uint32_t *const mpu_rnr = (volatile uint32_t *)0xE000ED98u;
  volatile uint32_t *const mpu_rbar = (volatile uint32_t *)0xE000ED9Cu;
  volatile uint32_t *const mpu_rasr = (volatile uint32_t *)0xE000EDA0u;
  uint32_t limit = (uint32_t)(uintptr_t)__stack_limit__;
  uint32_t size = limit & (0u - limit); /* largest power of two aligning the guard */
  uint32_t log2size = 0;
  if (((*mpu_type >> 8) & 0xFFu) == 0 || size < 32u) return; /* no MPU, or no room */
  if (size > 0x10000000u) size = 0x10000000u;
  while ((1u << log2size) < size) ++log2size;
  *mpu_rnr = 0;
  *mpu_rbar = limit - size;
  /* XN, AP = no access, SIZE = log2(size) - 1, ENABLE */
  *mpu_rasr = (1u << 28) | ((log2size - 1u) << 1) | 1u;
  *mpu_ctrl = (1u << 2) | 1u; /* PRIVDEFENA: the default map elsewhere; ENABLE */
  __asm__ volatile("dsb\n isb" ::: "memory");
}
#endif

void tmc_c_start(void) {
  uint32_t *src = __data_load__, *dst = __data_start__;
  if (src != dst)
    while (dst < __data_end__) *dst++ = *src++;
  for (dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
  tmc_stack_guard();
#endif
  tmc_sh_exit(main());
}

/* Every exception lands here: pass the stacked frame (MSP or PSP, from bit 2
 * of EXC_RETURN) to tmc_fault_report. */
void tmc_default_handler(void) {
  __asm__ volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "mov r1, lr\n"
      "b tmc_fault_report\n");
}

static const char *const tmc_exception_names[16] = {
    "thread", "reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault",
    "reserved", "reserved", "reserved", "SVCall", "DebugMonitor", "reserved", "PendSV", "SysTick"};

void tmc_fault_report(const uint32_t *frame, uint32_t exc_return) {
  volatile const uint32_t *scb = (volatile const uint32_t *)0xE000ED00u;
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  ipsr &= 0x1FFu;
  tmc_sh_write("\ntmc: fatal: ");
  if (ipsr < 16) tmc_sh_write(tmc_exception_names[ipsr]);
  else { tmc_sh_write("IRQ "); tmc_sh_write_dec((long)ipsr - 16); }
  tmc_sh_write(" (exception ");
  tmc_sh_write_dec((long)ipsr);
  tmc_sh_write(")\n  pc=0x");
  tmc_sh_write_hex32(frame[6]);
  tmc_sh_write(" lr=0x");
  tmc_sh_write_hex32(frame[5]);
  tmc_sh_write(" sp=0x");
  tmc_sh_write_hex32((uint32_t)(uintptr_t)frame);
  tmc_sh_write(" exc_return=0x");
  tmc_sh_write_hex32(exc_return);
  tmc_sh_write("\n  CFSR=0x");
  tmc_sh_write_hex32(scb[0x28 / 4]);
  tmc_sh_write(" HFSR=0x");
  tmc_sh_write_hex32(scb[0x2C / 4]);
  tmc_sh_write(" MMFAR=0x");
  tmc_sh_write_hex32(scb[0x34 / 4]);
  tmc_sh_write(" BFAR=0x");
  tmc_sh_write_hex32(scb[0x38 / 4]);
  tmc_sh_write("\n");
  if (scb[0x28 / 4] & (1u << 20)) /* UFSR.STKOF (ARMv8-M) */
    tmc_sh_write("  stack overflow: raise the stack with -Wl,--defsym=__stack_size=N (default 0x40000)\n");
  tmc_sh_exit(TMC_EXIT_FAULT_BASE + (int)(ipsr < 16 ? ipsr : 16));
}

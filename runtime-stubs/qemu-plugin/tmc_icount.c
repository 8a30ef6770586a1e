/* tmc_icount: a QEMU TCG plugin that counts the guest instructions executed in
 * a window of a bare-metal program, for `tmc bench` (compiler/bench.cpp, which
 * embeds this file and compiles it with the host `cc -shared -fPIC` per run).
 *
 * Arguments (`-plugin tmc_icount.so,open=ADDR,close=ADDR,...`, hex or decimal):
 *   open=A   the window opens when the instruction at A is about to execute
 *            (A = the entry of the measured function);
 *   close=B  it closes when the instruction at B is about to execute (B = the
 *            return address of the measured call); B itself is not counted;
 *   mark=M   (repeatable, up to 8) the entry of a marker function: each time it
 *            runs inside the window, a new segment starts (for per-layer counts);
 *   out=F    write the result to file F (default: QEMU's plugin log).
 * Result lines: "windows N", "total N", then "segment OPENER COUNT" for each
 * segment in order, OPENER being 0 for the window opening and i+1 for mark i.
 *
 * Method: when a translation block is translated, it is cut into runs at the
 * watched addresses; each run gets one execution callback on its first
 * instruction that first handles the watched address (if any), then adds the
 * run's length to the current segment while the window is open. A run executes
 * entirely once its first instruction does, except when an exception interrupts
 * it, which the measured code (a model inference, no interrupts) does not do.
 *
 * Debian bookworm's QEMU 7.2 has plugin support but installs no qemu-plugin.h,
 * so the few API v1 entry points used here are declared below. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TMC_EXPORT __attribute__((visibility("default")))

/* ---- QEMU plugin API (version 1, QEMU 4.2 .. 7.2) ---- */
typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

TMC_EXPORT int qemu_plugin_version = 1;

/* ---- State (one vCPU: the Cortex-M machines have one core) ---- */
#define TMC_MAX_MARKS 8
enum { TMC_EV_NONE = -3, TMC_EV_OPEN = -2, TMC_EV_CLOSE = -1 }; /* >= 0: mark index */

struct tmc_run {
  uint64_t n; /* instructions in this run */
  int event;  /* what its first instruction is */
};

static uint64_t open_addr = UINT64_MAX, close_addr = UINT64_MAX;
static uint64_t mark_addr[TMC_MAX_MARKS];
static int n_marks;
static char out_path[4096];

static int in_window;
static uint64_t windows, total;
static uint64_t *seg_count;
static int *seg_opener;
static size_t n_segs, cap_segs;

static void new_segment(int opener) {
  if (n_segs == cap_segs) {
    size_t cap = cap_segs ? 2 * cap_segs : 256;
    uint64_t *c = realloc(seg_count, cap * sizeof *c);
    int *o = c ? realloc(seg_opener, cap * sizeof *o) : NULL;
    if (!c || !o) {
      if (c) seg_count = c;
      return; /* out of memory: keep adding to the last segment */
    }
    seg_count = c;
    seg_opener = o;
    cap_segs = cap;
  }
  seg_count[n_segs] = 0;
  seg_opener[n_segs] = opener;
  ++n_segs;
}

static void on_run(unsigned int vcpu, void *userdata) {
  const struct tmc_run *r = (const struct tmc_run *)userdata;
  (void)vcpu;
  switch (r->event) {
  case TMC_EV_NONE: break;
  case TMC_EV_OPEN:
    if (!in_window) {
      in_window = 1;
      ++windows;
      new_segment(0);
    }
    break;
  case TMC_EV_CLOSE: in_window = 0; break;
  default:
    if (in_window) new_segment(r->event + 1);
    break;
  }
  if (in_window) {
    total += r->n;
    if (n_segs) seg_count[n_segs - 1] += r->n;
  }
}

static int event_at(uint64_t a) {
  int i;
  if (a == open_addr) return TMC_EV_OPEN;
  if (a == close_addr) return TMC_EV_CLOSE;
  for (i = 0; i < n_marks; ++i)
    if (a == mark_addr[i]) return i;
  return TMC_EV_NONE;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  size_t n = qemu_plugin_tb_n_insns(tb), i = 0;
  (void)id;
  while (i < n) {
    struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, i);
    struct tmc_run *r = malloc(sizeof *r); /* lives as long as the translation may run */
    size_t j = i + 1;
    if (!r) return;
    r->event = event_at(qemu_plugin_insn_vaddr(first));
    while (j < n && event_at(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, j))) == TMC_EV_NONE) ++j;
    r->n = (uint64_t)(j - i);
    qemu_plugin_register_vcpu_insn_exec_cb(first, on_run, QEMU_PLUGIN_CB_NO_REGS, r);
    i = j;
  }
}

static void on_exit_cb(qemu_plugin_id_t id, void *userdata) {
  FILE *f = out_path[0] ? fopen(out_path, "w") : NULL;
  char line[96];
  size_t i;
  (void)id;
  (void)userdata;
  snprintf(line, sizeof line, "windows %" PRIu64 "\ntotal %" PRIu64 "\n", windows, total);
  if (f) fputs(line, f);
  else qemu_plugin_outs(line);
  for (i = 0; i < n_segs; ++i) {
    snprintf(line, sizeof line, "segment %d %" PRIu64 "\n", seg_opener[i], seg_count[i]);
    if (f) fputs(line, f);
    else qemu_plugin_outs(line);
  }
  if (f) fclose(f);
}

static int parse_addr(const char *s, uint64_t *v) {
  char *end;
  unsigned long long x = strtoull(s, &end, 0);
  if (end == s || *end) return 0;
  *v = (uint64_t)x & ~(uint64_t)1; /* Thumb bit */
  return 1;
}

TMC_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
  int i;
  (void)info;
  for (i = 0; i < argc; ++i) {
    const char *a = argv[i];
    if (strncmp(a, "arg=", 4) == 0) a += 4; /* the pre-6.1 spelling */
    if (strncmp(a, "open=", 5) == 0) {
      if (!parse_addr(a + 5, &open_addr)) goto bad;
    } else if (strncmp(a, "close=", 6) == 0) {
      if (!parse_addr(a + 6, &close_addr)) goto bad;
    } else if (strncmp(a, "mark=", 5) == 0) {
      if (n_marks == TMC_MAX_MARKS || !parse_addr(a + 5, &mark_addr[n_marks])) goto bad;
      ++n_marks;
    } else if (strncmp(a, "out=", 4) == 0) {
      snprintf(out_path, sizeof out_path, "%s", a + 4);
    } else {
      goto bad;
    }
  }
  if (open_addr == UINT64_MAX || close_addr == UINT64_MAX) {
    fprintf(stderr, "tmc_icount: open=ADDR and close=ADDR are required\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
bad:
  fprintf(stderr, "tmc_icount: bad argument '%s'\n", argv[i]);
  return -1;
}

#!/usr/bin/env python3
"""Command-line behaviour of tmc: exit codes, atomic output, determinism, and
the generated-code contract (header macros, prefixes, no writable globals,
allowed includes, two models in one program).

Usage: test_cli.py PATH/TO/tmc
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TMC = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, 'samples', 'models')
FAILS = []


def run(args, **kw):
    return subprocess.run([TMC] + args, capture_output=True, text=True, **kw)


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILS.append(what)


def main():
    tmp = tempfile.mkdtemp(prefix='tmc-cli-')
    try:
        sample = os.path.join(SAMPLES, 'cnn_bn.onnx')
        out1, out2 = os.path.join(tmp, 'o1'), os.path.join(tmp, 'o2')
        p = run(['compile', sample, '-o', out1])
        check(p.returncode == 0, 'compile exits 0: ' + p.stderr.strip()[:200])
        check(sorted(os.listdir(out1)) == ['cnn_bn.c', 'cnn_bn.h', 'cnn_bn.memory.svg', 'cnn_bn.report.json', 'cnn_bn_target.h'], 'compile writes NAME.c, NAME.h, NAME.memory.svg, NAME.report.json')
        check('arena' in p.stdout, 'compile prints the memory summary')
        p = run(['compile', sample, '-o', out2])
        same = all(open(os.path.join(out1, f), 'rb').read() == open(os.path.join(out2, f), 'rb').read()
                   for f in os.listdir(out1))
        check(same, 'output is byte-identical across runs')

        # Usage errors.
        check(run(['compile', sample]).returncode == 2, 'missing -o exits 2')
        check(run(['compile', sample, '-o', out1, '--no-such-flag']).returncode == 2, 'unknown flag exits 2')
        check(run([]).returncode == 2, 'no subcommand exits 2')

        # Model errors: clear message, exit 3, no partial output folder.
        bad = os.path.join(tmp, 'bad.onnx')
        open(bad, 'wb').write(b'\x08\x07garbage\xff\xff\xff')
        nd = os.path.join(tmp, 'never')
        p = run(['compile', bad, '-o', nd])
        check(p.returncode == 3, 'corrupt model exits 3')
        check('bad.onnx' in p.stderr, 'error names the model file')
        check(not os.path.exists(nd), 'failed compile leaves no output folder')
        leftovers = [f for f in os.listdir(tmp) if 'tmp' in f]
        check(not leftovers, 'failed compile leaves no temporary folder')
        before = open(os.path.join(out1, 'cnn_bn.h')).read()
        p = run(['compile', bad, '-o', out1])
        check(p.returncode == 3 and open(os.path.join(out1, 'cnn_bn.h')).read() == before,
              'failed compile leaves an existing output folder untouched')
        p = run(['compile', sample, '-o', os.path.join(tmp, 'n'), '--name', '3bad-name'])
        check(p.returncode == 3 and 'not a valid C identifier' in p.stderr, 'invalid --name is rejected')

        # Report.
        rep = json.load(open(os.path.join(out1, 'cnn_bn.report.json')))
        for k in ['arena_bytes', 'lower_bound_bytes', 'naive_bytes', 'greedy_by_size_bytes', 'weights_bytes', 'tensors']:
            check(k in rep, 'report has ' + k)
        check(rep['lower_bound_bytes'] <= rep['arena_bytes'] <= rep['naive_bytes'], 'lower bound <= arena <= naive')

        # Generated C contract.
        c = open(os.path.join(out1, 'cnn_bn.c')).read()
        incs = set(re.findall(r'#include\s+[<"]([^>"]+)[>"]', c))
        check(incs <= {'cnn_bn.h', 'cnn_bn_target.h', 'stdint.h', 'stddef.h', 'string.h', 'math.h'}, 'only allowed includes: %s' % sorted(incs))
        check('malloc' not in c and 'printf' not in c, 'no malloc or stdio')
        obj = os.path.join(tmp, 'm.o')
        p = subprocess.run(['gcc', '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-O2', '-fno-pic', '-c',
                            os.path.join(out1, 'cnn_bn.c'), '-o', obj], capture_output=True, text=True)
        check(p.returncode == 0, 'generated C builds with -Werror -pedantic: ' + p.stderr[:300])
        nm = subprocess.run(['nm', obj], capture_output=True, text=True).stdout
        writable = [l for l in nm.splitlines() if re.match(r'^\S*\s+[BbDdCc]\s', l)]
        check(not writable, 'no writable globals (non-PIC object as on an MCU: nm shows no B/D/C symbols): %s' % writable[:3])
        exported = [l.split()[-1] for l in nm.splitlines() if re.match(r'^\S+\s+[TR]\s', l)]
        check(exported and all(s.startswith('cnn_bn_') for s in exported), 'every exported symbol has the prefix: %s' % exported)

        # Two models with different prefixes in one program, header macros checked in C.
        da, db = os.path.join(tmp, 'a'), os.path.join(tmp, 'b')
        check(run(['compile', sample, '-o', da, '--name', 'net_a']).returncode == 0, 'compile --name net_a')
        check(run(['compile', os.path.join(SAMPLES, 'mlp_ae.onnx'), '-o', db, '--name', 'net_b']).returncode == 0,
              'compile --name net_b')
        x = np.load(os.path.join(SAMPLES, 'cnn_bn.input.npy'))
        y = np.load(os.path.join(SAMPLES, 'cnn_bn.expected.npy'))
        main_c = os.path.join(tmp, 'main.c')
        open(main_c, 'w').write(r'''
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "net_a.h"
#include "net_b.h"
static float in_a[NET_A_INPUT_0_SIZE], out_a[NET_A_OUTPUT_0_SIZE];
static float in_b[NET_B_INPUT_0_SIZE], out_b[NET_B_OUTPUT_0_SIZE];
static unsigned char arena_a[NET_A_ARENA_BYTES] __attribute__((aligned(NET_A_ARENA_ALIGN)));
static unsigned char arena_b[NET_B_ARENA_BYTES] __attribute__((aligned(NET_B_ARENA_ALIGN)));
static const int32_t shape_a[] = NET_A_INPUT_0_SHAPE;
int main(void) {
  const void *ia[1]; void *oa[1]; const void *ib[1]; void *ob[1];
  size_t i, n = 1;
  FILE *f = fopen(INPUT_PATH, "rb");
  if (!f || fread(in_a, 1, sizeof in_a, f) != sizeof in_a) return 10;
  fclose(f);
  for (i = 0; i < NET_A_INPUT_0_RANK; ++i) n *= (size_t)shape_a[i];
  if (n != NET_A_INPUT_0_SIZE || NET_A_INPUT_0_BYTES != 4 * NET_A_INPUT_0_SIZE) return 11;
  if (NET_A_NUM_INPUTS != 1 || NET_A_NUM_OUTPUTS != 1) return 12;
  if (NET_A_INPUT_0_DTYPE != NET_A_DTYPE_FLOAT32 || net_a_inputs[0].dtype != NET_A_DTYPE_FLOAT32) return 13;
  if (strcmp(net_a_inputs[0].name, NET_A_INPUT_0_NAME) != 0 || net_a_inputs[0].size != NET_A_INPUT_0_SIZE) return 14;
  if (net_a_inputs[0].rank != NET_A_INPUT_0_RANK || net_a_inputs[0].shape[1] != shape_a[1]) return 15;
  if (net_a_run(ia, oa, NULL) != -1) return 16; /* NULL arena is rejected */
  ia[0] = in_a; oa[0] = out_a; ib[0] = in_b; ob[0] = out_b;
  for (i = 0; i < NET_B_INPUT_0_SIZE; ++i) in_b[i] = 0.01f * (float)i;
  if (net_a_run(ia, oa, arena_a) != 0) return 17;
  if (net_b_run(ib, ob, arena_b) != 0) return 18;
  for (i = 0; i < NET_A_OUTPUT_0_SIZE; ++i) printf("%.8g\n", out_a[i]);
  return 0;
}
''')
        exe = os.path.join(tmp, 'two')
        p = subprocess.run(['gcc', '-std=c99', '-Wall', '-Wextra', '-Werror', '-O1', '-I', da, '-I', db,
                            '-DINPUT_PATH="%s"' % os.path.join(tmp, 'x.bin'), main_c,
                            os.path.join(da, 'net_a.c'), os.path.join(db, 'net_b.c'), '-o', exe, '-lm'],
                           capture_output=True, text=True)
        check(p.returncode == 0, 'two models link into one program: ' + p.stderr[:300])
        x.astype(np.float32).tofile(os.path.join(tmp, 'x.bin'))
        if p.returncode == 0:
            r = subprocess.run([exe], capture_output=True, text=True)
            check(r.returncode == 0, 'header contract checks pass in C (exit %d)' % r.returncode)
            got = np.array([float(v) for v in r.stdout.split()], dtype=np.float32)
            check(got.shape == y.ravel().shape and np.allclose(got, y.ravel(), rtol=1e-4, atol=1e-5),
                  'model A output through the header API matches torch')

        # verify: exit 1 on mismatch, 0 on match.
        wrong = os.path.join(tmp, 'wrong.npy')
        np.save(wrong, y + 1.0)
        p = run(['verify', sample, '--input', os.path.join(SAMPLES, 'cnn_bn.input.npy'), '--expected', wrong])
        check(p.returncode == 1 and 'MISMATCH' in p.stdout, 'verify exits 1 on mismatch and names it')
        p = run(['verify', sample, '--input', os.path.join(SAMPLES, 'cnn_bn.input.npy'), '--expected',
                 os.path.join(SAMPLES, 'cnn_bn.expected.npy')])
        check(p.returncode == 0 and 'PASS' in p.stdout, 'verify exits 0 on match')
        p = run(['verify', sample, '--expected', os.path.join(SAMPLES, 'cnn_bn.expected.npy')])
        check(p.returncode == 2, 'verify with a missing input exits 2')

        # Constant folding: torch's TF-style "same" padding chain folds away
        # (and the constant Pads then fold into the convolutions).
        p = run(['compile', os.path.join(SAMPLES, 'same_pad.onnx'), '-o', os.path.join(tmp, 'sp'), '--dump-ir'])
        ops = re.findall(r'^  %\S+ = (\w+)\(', p.stdout, re.M)
        shape_ops = {'Shape', 'Gather', 'Slice', 'Concat', 'ConstantOfShape', 'Cast', 'Reshape', 'Unsqueeze',
                     'Div', 'Ceil', 'Sub', 'Add', 'Clip'}
        # Layout conversions may remain at the graph boundary only.
        inner = ops[1:-1] if len(ops) > 2 else ops
        check(p.returncode == 0 and ops and not (set(ops) & shape_ops) and 'Transpose' not in inner,
              'same-padding shape chain folds to constants: %s' % ops)
        pads_ok = True
        for m in re.finditer(r'= Pad\(%\S+, %(\S+),', p.stdout):
            pads_ok &= bool(re.search(r'const\s+%' + re.escape(m.group(1)) + r' : i64\[8\]', p.stdout))
        conv_pads = re.findall(r'= Conv\(.*pads=\[([0-9,]+)\]', p.stdout)
        check(pads_ok and ('Pad' in ops or any(x.strip('0,') for x in conv_pads)),
              'Pad amounts are constants (or folded into Conv pads %s)' % conv_pads)

        # Targets and budgets.
        p = run(['compile', sample, '-o', os.path.join(tmp, 'tb'), '--target', 'nucleo-l4r5zi'])
        check(p.returncode == 0 and 'headroom: flash' in p.stdout, 'a board target reports budget headroom')
        rep = json.load(open(os.path.join(tmp, 'tb', 'cnn_bn.report.json')))
        check(rep['budget']['ram_budget_bytes'] == 640 * 1024 and rep['budget']['ram_headroom_bytes'] > 0,
              'the report states the board budget and headroom')
        p = run(['compile', sample, '-o', os.path.join(tmp, 'over'), '--target', 'cortex-m4', '--ram-budget', '1000'])
        check(p.returncode == 3 and 'does not fit' in p.stderr and 'RAM: arena' in p.stderr
              and not os.path.exists(os.path.join(tmp, 'over')), 'over budget: clear error, exit 3, nothing written')
        p = run(['compile', sample, '-o', os.path.join(tmp, 'nt'), '--target', 'cortex-m5'])
        check(p.returncode == 3 and 'known targets' in p.stderr, 'unknown target lists the known ones')
        th = open(os.path.join(tmp, 'tb', 'cnn_bn_target.h')).read()
        check('#define CNN_BN_HAS_DSP 1' in th and '#define CNN_BN_HAS_FPU 1' in th, 'target header carries the M4 features')

        # inspect
        p = run(['inspect', sample])
        check(p.returncode == 0 and 'MACs' in p.stdout and 'Conv' in p.stdout, 'inspect prints a layer table')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure(s)' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())

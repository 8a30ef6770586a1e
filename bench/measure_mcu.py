#!/usr/bin/env python3
"""Measures tmc-generated models on an emulated Cortex-M (instructions per
inference, flash, RAM) and checks the on-target output against a reference.

It compiles each model with `tmc compile --target cortex-<cpu>`, writes a small
glue file (input embedded as a constant array, arena and output statically
allocated), and runs the instruction-counting rig that lives beside the
project in ../shared/tools/mcu (a measuring aid only; nothing in the product
or its tests depends on it).

    /usr/bin/python3 bench/measure_mcu.py --tmc build/compiler/tmc --cpu m4 \
        MODEL.onnx:INPUT.npy[:EXPECTED.npy] ... [--tmc-args "..."] [--json out.json]

Prints one row per model: instructions, instructions/MAC, flash (code +
weights), RAM (arena + static + stack) as the rig measures them, and the
worst output error against EXPECTED if given.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_RIG = os.path.join(os.path.dirname(ROOT), 'shared', 'tools', 'mcu', 'mcubench.py')
CPU_CORE = {'m4': 'cortex-m4', 'm7': 'cortex-m7', 'm33': 'cortex-m33'}
CTYPE = {np.dtype('float32'): 'float', np.dtype('int8'): 'int8_t', np.dtype('uint8'): 'uint8_t',
         np.dtype('int32'): 'int32_t', np.dtype('int64'): 'int64_t'}
OUT_TYPE = {'float': 'f32', 'int8_t': 'i8', 'uint8_t': 'u8', 'int32_t': 'i32'}


def c_array(name, arr):
    ct = CTYPE[arr.dtype]
    flat = arr.ravel()
    if ct == 'float':
        vals = ['%.9gf' % v if np.isfinite(v) else '0.0f' for v in flat.tolist()]
        vals = [v if ('.' in v or 'e' in v or 'inf' in v or 'nan' in v) else v[:-1] + '.0f' for v in vals]
    else:
        vals = [str(int(v)) for v in flat.tolist()]
    body = ',\n  '.join(', '.join(vals[i:i + 12]) for i in range(0, len(vals), 12))
    return 'static const %s %s[%d] __attribute__((aligned(16))) = {\n  %s\n};\n' % (ct, name, len(vals), body)


def glue(name, x):
    up = name.upper()
    return '''#include <stdint.h>
#include "bench.h"
#include "%(n)s.h"
%(input)s
static %(up)s_OUTPUT_0_CTYPE out0[%(up)s_OUTPUT_0_SIZE] __attribute__((aligned(16)));
static unsigned char arena[%(up)s_ARENA_BYTES + 1] __attribute__((aligned(16)));
int bench_run(void) {
  const void *in[1] = {input0};
  void *out[1] = {out0};
  return %(n)s_run(in, out, arena);
}
const void *bench_output(uint32_t *nbytes) {
  *nbytes = (uint32_t)sizeof out0;
  return out0;
}
''' % {'n': name, 'up': up, 'input': c_array('input0', x)}


def macs_of(tmc, model, tmc_args):
    p = subprocess.run([tmc, 'inspect', model] + tmc_args, capture_output=True, text=True)
    m = re.search(r'total: (\d+) nodes, (\d+) MACs', p.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def measure(args, spec):
    parts = spec.split(':')
    model, inp = parts[0], parts[1]
    expected = parts[2] if len(parts) > 2 else None
    name = re.sub(r'\W', '_', os.path.splitext(os.path.basename(model))[0])
    tmc_args = args.tmc_args.split() if args.tmc_args else []
    work = tempfile.mkdtemp(prefix='tmc-bench-')
    gen = os.path.join(work, 'gen')
    p = subprocess.run([args.tmc, 'compile', model, '-o', gen, '--name', name, '--target', CPU_CORE[args.cpu]] +
                       tmc_args, capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError('tmc compile failed: ' + p.stderr)
    rep = json.load(open(os.path.join(gen, name + '.report.json')))
    x = np.load(inp)
    g = os.path.join(work, 'glue.c')
    open(g, 'w').write(glue(name, x))
    js = os.path.join(work, 'rig.json')
    cmd = [sys.executable, args.rig, '--cpu', args.cpu, g, os.path.join(gen, name + '.c'), '-I', gen,
           '--json', js, '--build-dir', os.path.join(work, 'rig')]
    if args.cflags:
        cmd.append('--cflags=' + args.cflags)
    if args.profile:
        cmd += ['--profile', str(args.profile)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(js):
        raise RuntimeError('rig failed: ' + r.stdout[-2000:] + r.stderr[-2000:])
    res = json.load(open(js))
    b, e = res['bench'], res.get('baseline', {})
    nodes, macs = macs_of(args.tmc, model, tmc_args)
    row = {'model': name, 'nodes': nodes, 'macs': macs, 'instructions': b['insns'],
           'insns_per_mac': b['insns'] / macs if macs else None,
           'flash': b['flash'] - e.get('flash', 0), 'ram_static': b['ram_static'] - e.get('ram_static', 0),
           'stack': b['stack_peak'], 'arena': rep['arena_bytes'], 'weights': rep['weights_bytes']}
    row['ram'] = row['ram_static'] + row['stack']
    if args.profile:
        row['profile'] = r.stdout
    if expected:
        want = np.load(expected).ravel()
        dump = os.path.join(work, 'rig', 'bench.dump')
        got = None
        m = re.findall(r'BENCH_OUT ([0-9a-f]+)', open(dump).read()) if os.path.exists(dump) else []
        if m:
            got = np.frombuffer(bytes.fromhex(''.join(m)), dtype=x.dtype if want.dtype == x.dtype else want.dtype)
        row['max_abs_err'] = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))) \
            if got is not None and got.size == want.size else None
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('specs', nargs='+', help='MODEL.onnx:INPUT.npy[:EXPECTED.npy]')
    ap.add_argument('--tmc', default=os.path.join(ROOT, 'build', 'compiler', 'tmc'))
    ap.add_argument('--rig', default=DEFAULT_RIG)
    ap.add_argument('--cpu', default='m4', choices=sorted(CPU_CORE))
    ap.add_argument('--tmc-args', default='')
    ap.add_argument('--cflags', default='')
    ap.add_argument('--profile', type=int, default=0)
    ap.add_argument('--json', default='')
    args = ap.parse_args()
    rows = []
    print('%-26s %6s %12s %14s %9s %10s %10s %8s' % ('model', 'nodes', 'MACs', 'instructions', 'ins/MAC',
                                                    'flash B', 'RAM B', 'stack B'))
    for s in args.specs:
        row = measure(args, s)
        rows.append(row)
        ipm = '%.2f' % row['insns_per_mac'] if row['insns_per_mac'] else '-'
        print('%-26s %6d %12d %14d %9s %10d %10d %8d' % (row['model'], row['nodes'], row['macs'],
                                                        row['instructions'], ipm, row['flash'], row['ram'],
                                                        row['stack']))
        if args.profile:
            print(row['profile'])
    if args.json:
        json.dump(rows, open(args.json, 'w'), indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())

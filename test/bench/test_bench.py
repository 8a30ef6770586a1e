#!/usr/bin/env python3
"""`tmc bench` on an emulated Cortex-M: the instruction count is positive and
deterministic, the per-layer counts add up to the total (within the cost of
the profiling hooks and of _run's own code), and flash/RAM are plausible.

    test_bench.py TMC MODEL.onnx [--input X.npy] [--target cortex-m4]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def bench(tmc, model, target, inp, extra, out):
    cmd = [tmc, 'bench', model, '--target', target, '--json', out] + extra
    if inp:
        cmd += ['--input', inp]
    p = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit('FAIL: %s exited %d' % (' '.join(cmd), p.returncode))
    with open(out) as f:
        return json.load(f), p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tmc')
    ap.add_argument('model')
    ap.add_argument('--input', default='')
    ap.add_argument('--target', default='cortex-m4')
    a = ap.parse_args()
    errors = []

    def check(cond, what):
        print(('ok   ' if cond else 'FAIL ') + what)
        if not cond:
            errors.append(what)

    with tempfile.TemporaryDirectory(prefix='tmc-bench-test-') as d:
        r1, _ = bench(a.tmc, a.model, a.target, a.input, [], os.path.join(d, 'a.json'))
        r2, text = bench(a.tmc, a.model, a.target, a.input, ['--per-layer'], os.path.join(d, 'b.json'))
        # Zeros as inputs still run the same (data-independent) code.
        n = r1['instructions']
        check(n > 0, 'instructions > 0 (%d)' % n)
        check(r2['instructions'] == n, 'deterministic: two runs give %d and %d' % (n, r2['instructions']))
        check(r1['outputs_fnv1a'] == r2['outputs_fnv1a'], 'same outputs in both runs')
        check(r1['baseline_instructions'] == 2, 'empty call = movs + bx lr (%d)' % r1['baseline_instructions'])
        if r1['macs']:
            check(abs(r1['instructions_per_mac'] - n / r1['macs']) < 1e-9, 'instructions/MAC')

        layers = r2['layers']
        check(len(layers) > 0, 'per-layer rows: %d' % len(layers))
        check(all(l['instructions'] > 0 for l in layers), 'every layer executed instructions')
        s = sum(l['instructions'] for l in layers)
        check(s == r2['layers_instructions'], 'layer sum as reported')
        check(s + r2['outside_layers_instructions'] == r2['per_layer_image_instructions'],
              'layers + outside layers = total of the per-layer image')
        # Each hook is one `bl` plus a one-instruction marker; register
        # allocation around the calls can move a few more.
        slack = 64 + 16 * len(layers)
        check(abs(r2['per_layer_image_instructions'] - n) <= slack,
              'per-layer image total %d within %d of %d' % (r2['per_layer_image_instructions'], slack, n))
        check(abs(s - n) <= slack, 'per-layer sum %d within %d of total %d' % (s, slack, n))
        slowest = max(layers, key=lambda l: l['instructions'])
        check('<- slowest' in text and slowest['function'].split('_n')[-1] in text, 'slowest layer marked')

        check(r1['weights_bytes'] > 0, 'weights > 0 (%d)' % r1['weights_bytes'])
        check(r1['flash_bytes'] >= r1['weights_bytes'], 'flash %d >= weights %d' % (r1['flash_bytes'], r1['weights_bytes']))
        check(r1['flash_bytes'] < r1['weights_bytes'] + 256 * 1024, 'flash %d < weights + 256 KiB' % r1['flash_bytes'])
        check(r1['image_flash_bytes'] == r1['harness_flash_bytes'] + r1['flash_bytes'], 'flash = image - harness')
        check(r1['ram_bytes'] >= r1['arena_bytes'], 'RAM %d >= arena %d' % (r1['ram_bytes'], r1['arena_bytes']))
        check(0 < r1['stack_peak_bytes'] < 64 * 1024, 'peak stack %d in (0, 64 KiB)' % r1['stack_peak_bytes'])
        check(r1['ram_bytes'] == r1['arena_bytes'] + r1['static_ram_bytes'] + r1['stack_peak_bytes'],
              'RAM = arena + static + stack')

    if errors:
        print('FAILED: %d check(s)' % len(errors))
        return 1
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())

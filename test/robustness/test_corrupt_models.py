#!/usr/bin/env python3
"""Robustness: tmc must never crash or hang on a corrupt model. Truncates and
byte-flips a deterministic sample of ONNX's conformance models and the bundled
samples, and requires every `tmc compile` to end with exit 0 or 3 (a clear
error), within a time limit, with printable ASCII diagnostics.

Usage: test_corrupt_models.py PATH/TO/tmc [--count N]
"""
import argparse
import glob
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tmc')
    ap.add_argument('--count', type=int, default=120)
    args = ap.parse_args()
    rng = random.Random(20261126)
    models = sorted(glob.glob('/usr/share/libonnx-testdata/data/*/*/model.onnx'))
    models += sorted(glob.glob(os.path.join(ROOT, 'samples', 'models', '*.onnx')))
    rng.shuffle(models)
    tmp = tempfile.mkdtemp(prefix='tmc-corrupt-')
    bad = []
    runs = 0
    try:
        for m in models[:args.count]:
            data = open(m, 'rb').read()
            for kind in ('truncate', 'flip'):
                d = bytearray(data)
                if kind == 'truncate':
                    d = d[:rng.randint(1, max(1, len(d) - 1))]
                else:
                    for _ in range(rng.randint(1, 6)):
                        d[rng.randrange(len(d))] = rng.randrange(256)
                path = os.path.join(tmp, 'm.onnx')
                open(path, 'wb').write(bytes(d))
                runs += 1
                try:
                    r = subprocess.run([args.tmc, 'compile', path, '-o', os.path.join(tmp, 'out')],
                                       capture_output=True, timeout=60)
                except subprocess.TimeoutExpired:
                    bad.append('%s (%s): hangs' % (m, kind))
                    continue
                if r.returncode not in (0, 3):
                    bad.append('%s (%s): exit %d: %s' % (m, kind, r.returncode, r.stderr[-200:]))
                try:
                    r.stderr.decode('ascii')
                except UnicodeDecodeError:
                    bad.append('%s (%s): non-ASCII diagnostics' % (m, kind))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d corrupt models, %d problems' % (runs, len(bad)))
    for b in bad:
        print('FAIL', b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

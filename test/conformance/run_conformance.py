#!/usr/bin/env python3
"""Runs ONNX's backend conformance tests through `tmc verify`.

For each test folder of the chosen suites: compile model.onnx, build the C
with -Werror, run it on every test_data_set_*, compare (float: rtol 1e-3,
atol 1e-5; everything else exact). Out-of-scope tests are listed in
out_of_scope.txt; known failures in known_failures.txt. The run fails when a
test fails that is not a known failure, when a known failure passes (so the
list stays accurate; rerun with --update), or when tmc crashes on any test.
"""
import argparse
import concurrent.futures as cf
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = '/usr/share/libonnx-testdata/data'
SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple']


def load_rules(path):
    rules = []
    for line in open(path):
        body = line.split('#', 1)[0].strip()
        if body:
            reason = line.split('#', 1)[1].strip() if '#' in line else ''
            rules.append((re.compile(body), reason))
    return rules


def load_known(path):
    known = {}
    if os.path.exists(path):
        for line in open(path):
            body = line.split('#', 1)[0].strip()
            if body:
                known[body] = line.split('#', 1)[1].strip() if '#' in line else ''
    return known


def numbered(files, prefix):
    out = [f for f in files if f.startswith(prefix) and f.endswith('.pb')]
    return sorted(out, key=lambda f: int(re.sub(r'\D', '', f) or 0))


def run_one(tmc, suite, name, timeout):
    folder = os.path.join(DATA, suite, name)
    sets = sorted(d for d in os.listdir(folder) if d.startswith('test_data_set_'))
    if not sets:
        return ('fail', 'no test data sets')
    for s in sets:
        sd = os.path.join(folder, s)
        files = os.listdir(sd)
        cmd = [tmc, 'verify', os.path.join(folder, 'model.onnx'), '--rtol=1e-3', '--atol=1e-5', '--quiet']
        for f in numbered(files, 'input_'):
            cmd += ['--input', os.path.join(sd, f)]
        for f in numbered(files, 'output_'):
            cmd += ['--expected', os.path.join(sd, f)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ('crash', 'timeout after %ds' % timeout)
        msg = (p.stderr + p.stdout).strip().replace('\n', ' | ')[:400]
        if p.returncode < 0 or p.returncode >= 5:
            return ('crash', 'exit %d: %s' % (p.returncode, msg))
        if p.returncode != 0:
            kind = {1: 'mismatch', 2: 'usage', 3: 'unsupported', 4: 'build/run'}.get(p.returncode, 'fail')
            return ('fail', '%s: %s' % (kind, msg))
    return ('pass', '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--tmc', required=True)
    ap.add_argument('--suite', action='append', choices=SUITES)
    ap.add_argument('-j', '--jobs', type=int, default=os.cpu_count() or 2)
    ap.add_argument('--filter', default='', help='only tests whose name matches this regex')
    ap.add_argument('--update', action='store_true', help='rewrite known_failures.txt from this run')
    ap.add_argument('--timeout', type=int, default=300)
    ap.add_argument('--json', default='', help='write per-test results here')
    args = ap.parse_args()
    suites = args.suite or SUITES
    rules = load_rules(os.path.join(HERE, 'out_of_scope.txt'))
    known_path = os.path.join(HERE, 'known_failures.txt')
    known = load_known(known_path)

    tests, skipped = [], []
    for suite in suites:
        for name in sorted(os.listdir(os.path.join(DATA, suite))):
            key = '%s/%s' % (suite, name)
            if args.filter and not re.search(args.filter, key):
                continue
            if any(r.fullmatch(key) for r, _ in rules):
                skipped.append(key)
            else:
                tests.append((suite, name))
    results = {}
    t0 = time.time()
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = {ex.submit(run_one, args.tmc, s, n, args.timeout): '%s/%s' % (s, n) for s, n in tests}
        for f in cf.as_completed(futs):
            results[futs[f]] = f.result()

    bad = []
    print('%-20s %8s %8s %8s %8s' % ('suite', 'in-scope', 'passed', 'rate', 'skipped'))
    for suite in suites:
        keys = [k for k in results if k.startswith(suite + '/')]
        npass = sum(1 for k in keys if results[k][0] == 'pass')
        nskip = sum(1 for k in skipped if k.startswith(suite + '/'))
        rate = 100.0 * npass / len(keys) if keys else 100.0
        print('%-20s %8d %8d %7.1f%% %8d' % (suite, len(keys), npass, rate, nskip))
    total = len(results)
    tpass = sum(1 for r in results.values() if r[0] == 'pass')
    print('%-20s %8d %8d %7.1f%% %8d' % ('all', total, tpass, 100.0 * tpass / max(total, 1), len(skipped)))
    print('time: %.0f s' % (time.time() - t0))

    for k in sorted(results):
        st, msg = results[k]
        if st == 'crash':
            bad.append('CRASH %s: %s' % (k, msg))
        elif st == 'fail' and k not in known:
            bad.append('NEW FAILURE %s: %s' % (k, msg))
        elif st == 'pass' and k in known:
            bad.append('NOW PASSES (remove from known_failures.txt) %s' % k)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({k: {'status': v[0], 'message': v[1]} for k, v in sorted(results.items())}, f, indent=1)
    if args.update:
        # Keep entries of tests not run this time; refresh those that were.
        for k, (st, msg) in results.items():
            if st == 'pass':
                known.pop(k, None)
            else:
                known[k] = msg[:160]
        with open(known_path, 'w') as f:
            f.write('# Known conformance failures: SUITE/TEST  # reason (first error). Reviewed list;\n')
            f.write('# regenerate with run_conformance.py --update after fixing or breaking tests.\n')
            for k in sorted(known):
                f.write('%s  # %s\n' % (k, known[k].replace('\n', ' ')))
        print('updated', known_path)
        return 0 if not any(b.startswith('CRASH') for b in bad) else 1
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

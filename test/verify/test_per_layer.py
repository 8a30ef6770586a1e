#!/usr/bin/env python3
"""tmc verify --per-layer and tmc compile --trace, end to end.

(a) ds_kws (float sample) against ONNX Runtime: every traced tensor compared,
    all within tolerance, exit 0.
(b) a small int8 QDQ model with .npz references from a numpy model of ONNX
    Runtime's integer arithmetic: exact everywhere; then one intermediate
    tensor is perturbed in the .npz and the tool must name exactly that
    layer as the first divergence and exit 1. Stored and deflate-compressed
    .npz both read; bad --reference usage gives exit 2.
(c) --trace changes nothing unless asked: compile output without --trace is
    byte-identical across runs, and the traced NAME.c minus its trace lines
    is the untraced NAME.c; traced code builds warning-free with and without
    a user hook (-std=c99 -Wall -Wextra -Werror -pedantic).

Usage: test_per_layer.py PATH/TO/tmc
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto

TMC = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, 'samples', 'models')
sys.path.insert(0, os.path.join(ROOT, 'test', 'int8'))
import make_qdq_models as q  # noqa: E402  (numpy reference of ORT's int8 arithmetic)

FAILS = []


def run(args, **kw):
    return subprocess.run([TMC] + args, capture_output=True, text=True, **kw)


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILS.append(what)


def summary(out):
    m = re.search(r'per-layer: (\d+) tensors traced, (\d+) compared, (\d+) diverge, (\d+) without reference', out)
    return tuple(int(x) for x in m.groups()) if m else None


def first_divergence(out):
    m = re.search(r'^first divergence: (.*)$', out, re.M)
    return m.group(1) if m else None


def part_a_float_vs_ort():
    print('--- (a) ds_kws against ONNX Runtime')
    ort = os.path.join(ROOT, '.deps', 'ort', 'node_modules', 'onnxruntime-node')
    if not shutil.which('node') or not os.path.isdir(ort):
        check(False, 'ONNX Runtime is installed (run scripts/setup.sh)')
        return
    m = os.path.join(SAMPLES, 'ds_kws')
    p = run(['verify', m + '.onnx', '--input', m + '.input.npy', '--per-layer', '--expected', m + '.expected.npy'])
    print(p.stdout[-3000:], p.stderr[-2000:])
    check(p.returncode == 0, f'ds_kws --per-layer vs ORT exits 0 (got {p.returncode})')
    s = summary(p.stdout)
    check(s is not None and s[1] >= 5 and s[2] == 0, f'ds_kws: several tensors compared, none diverge: {s}')
    check(first_divergence(p.stdout) == 'none', 'ds_kws: no first divergence')
    check('output 0' in p.stdout and 'ok' in p.stdout, 'ds_kws: outputs still checked with --expected')


def build_int8_model(tmp):
    """input -> Conv+Relu -> Q(t1) -> Conv -> Q(t2) -> Flatten -> Q(t3) -> Gemm -> Q(output)."""
    b = q.Builder('per_layer_q')
    i8 = np.int8
    rng = np.random.default_rng(7)

    def qr(shape, lo=-128, hi=127):
        return rng.integers(lo, hi + 1, size=shape).astype(i8)

    x = qr((1, 2, 6, 6))
    xs, xz = 0.05, -3
    w1, w1s = qr((4, 2, 3, 3), -127), rng.uniform(0.01, 0.03, 4).astype(np.float32)
    b1 = rng.integers(-300, 300, 4).astype(np.int32)
    y1s, y1z = 0.04, -128
    t = b.dq('input', xs, np.array(xz, i8))
    w = b.dq(b.const('w', w1), w1s, np.zeros(4, i8), axis=0)
    bb = b.dq(b.const('b', b1), (np.float32(xs) * w1s).astype(np.float32), np.zeros(4, np.int32), axis=0)
    conv1 = b.node('Conv', [t, w, bb], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    t1 = b.q(b.node('Relu', [conv1]), y1s, np.array(y1z, i8))
    r1 = q.ref_conv(x, xs, xz, w1, w1s, 0, y1s, y1z, b1, 1, [1, 1, 1, 1], [1, 1], i8,
                    q.quant_real(0.0, y1s, y1z, i8), 127)
    w2, w2s = qr((4, 4, 3, 3), -127), rng.uniform(0.005, 0.02, 4).astype(np.float32)
    b2 = rng.integers(-300, 300, 4).astype(np.int32)
    y2s, y2z = 0.05, 2
    w = b.dq(b.const('w', w2), w2s, np.zeros(4, i8), axis=0)
    bb = b.dq(b.const('b', b2), (np.float32(y1s) * w2s).astype(np.float32), np.zeros(4, np.int32), axis=0)
    conv2 = b.node('Conv', [b.dq(t1, y1s, np.array(y1z, i8)), w, bb], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    t2 = b.q(conv2, y2s, np.array(y2z, i8))
    r2 = q.ref_conv(r1, y1s, y1z, w2, w2s, 0, y2s, y2z, b2, 1, [1, 1, 1, 1], [1, 1], i8)
    t3 = b.q(b.node('Flatten', [b.dq(t2, y2s, np.array(y2z, i8))], axis=1), y2s, np.array(y2z, i8))
    r3 = r2.reshape(1, 144)
    w3, w3s = qr((5, 144), -127), np.float32(0.004)
    b3 = rng.integers(-300, 300, 5).astype(np.int32)
    y4s, y4z = 0.08, 1
    w = b.dq(b.const('w', w3), w3s, np.array(0, i8))
    bb = b.dq(b.const('b', b3), np.float32(np.float32(y2s) * w3s), np.array(0, np.int32))
    out = b.q(b.node('Gemm', [b.dq(t3, y2s, np.array(y2z, i8)), w, bb], transB=1), y4s, np.array(y4z, i8))
    r4 = q.ref_gemm(r3, y2s, y2z, w3, w3s, 0, y4s, y4z, b3, i8)
    model = b.model(out, TensorProto.INT8, [1, 2, 6, 6], out, TensorProto.INT8, [1, 5])
    for n in model.graph.node:  # node names distinct from tensor names
        n.name = 'layer_' + n.name
    path = os.path.join(tmp, 'per_layer_q.onnx')
    onnx.save(model, path)
    np.save(os.path.join(tmp, 'per_layer_q.input.npy'), x)
    refs = {t1: r1, t2: r2, t3: r3, 'output': r4, 'input': x}
    return path, os.path.join(tmp, 'per_layer_q.input.npy'), refs, {'conv1': conv1, 'conv2': conv2, 't2': t2}


def part_b_int8_npz(tmp):
    print('--- (b) int8 QDQ model against .npz references')
    model, inp, refs, names = build_int8_model(tmp)
    good = os.path.join(tmp, 'good.npz')
    np.savez_compressed(good, **refs)
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', good])
    print(p.stdout, p.stderr[-2000:])
    check(p.returncode == 0, f'int8 model matches its numpy references exactly (exit {p.returncode})')
    s = summary(p.stdout)
    check(s is not None and s[1] == 4 and s[2] == 0, f'int8: 4 tensors compared (3 intermediates + output): {s}')
    check(re.search(r'Flatten.*view', p.stdout) is not None, 'int8: the elided Flatten view is traced')
    check('input' in p.stdout.split('matched no traced tensor')[-1], 'int8: unused reference keys are listed')

    bad_refs = dict(refs)
    r2 = refs[names['t2']].copy()
    r2[0, 1, 2, 3] = np.int8(r2[0, 1, 2, 3] + 1 if r2[0, 1, 2, 3] < 127 else r2[0, 1, 2, 3] - 1)
    bad_refs[names['t2']] = r2
    bad = os.path.join(tmp, 'bad.npz')
    np.savez(bad, **bad_refs)  # stored (uncompressed) members
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', bad])
    print(p.stdout, p.stderr[-2000:])
    check(p.returncode == 1, f'a perturbed intermediate makes verify exit 1 (got {p.returncode})')
    fd = first_divergence(p.stdout) or ''
    # Quantize folding turns Conv 'layer_conv_N' into QLinearConv 'layer_conv_N_q'.
    want = f"node 'layer_{names['conv2']}_q' (QLinearConv), tensor '{names['t2']}': 1 of 144 elements differ"
    check(fd.startswith(want), f'first divergence names the perturbed layer: {fd!r} starts with {want!r}')
    check(re.search(r'\[0,1,2,3\].*abs err 1\b', fd) is not None, 'first divergence shows the element and 1 LSB')
    rows = [l for l in p.stdout.splitlines() if 'DIVERGES' in l]
    check(len(rows) == 1 and names['t2'] in rows[0] and '1 LSB' in rows[0], f'exactly one row diverges: {rows}')

    # The same on an emulated Cortex-M4 (tensors printed over semihosting).
    if shutil.which('arm-none-eabi-gcc') and shutil.which('qemu-system-arm'):
        p = run(['verify', model, '--input', inp, '--per-layer', '--reference', bad, '--target', 'cortex-m4'])
        print(p.stdout[-1500:], p.stderr[-1500:])
        check(p.returncode == 1 and (first_divergence(p.stdout) or '').startswith(want),
              f'cortex-m4: same first divergence, exit 1 (got {p.returncode})')
        check('ran on cortex-m4' in p.stdout, 'cortex-m4: ran under QEMU')
    else:
        print('note: arm-none-eabi-gcc or qemu-system-arm missing (scripts/setup.sh installs them): target case not run')

    # Usage errors.
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', good, '--lsb-tolerance', '-1'])
    check(p.returncode == 2, f'negative --lsb-tolerance: exit 2 ({p.returncode})')
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', bad, '--lsb-tolerance', '1'])
    check(p.returncode == 0 and '1 LSB' in p.stdout, f'--lsb-tolerance 1 accepts the 1-LSB change ({p.returncode})')
    p = run(['verify', model, '--input', inp, '--reference', good])
    check(p.returncode == 2 and '--per-layer' in p.stderr, f'--reference without --per-layer: exit 2 ({p.returncode})')
    junk = os.path.join(tmp, 'junk.npz')
    with open(junk, 'wb') as f:
        f.write(b'PK\x03\x04 this is not a zip archive at all')
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', junk])
    check(p.returncode == 2 and 'junk.npz' in p.stderr, f'corrupt .npz: exit 2 naming the file ({p.returncode}) {p.stderr.strip()}')
    # A deflate member with a damaged CRC.
    crc = os.path.join(tmp, 'crc.npz')
    data = bytearray(open(good, 'rb').read())
    i = data.find(b'PK\x01\x02')
    data[i + 16] ^= 0xFF
    open(crc, 'wb').write(bytes(data))
    p = run(['verify', model, '--input', inp, '--per-layer', '--reference', crc])
    check(p.returncode == 2 and 'CRC' in p.stderr, f'bad CRC in .npz: exit 2 ({p.returncode}) {p.stderr.strip()}')
    return model


def read(d):
    return {f: open(os.path.join(d, f), 'rb').read() for f in sorted(os.listdir(d))}


def strip_trace(c):
    c = re.sub(r'/\* Tensor trace \(compiled with --trace\).*?#endif\n\n', '', c, flags=re.S)
    return ''.join(l for l in c.splitlines(True) if '_TRACE_TENSOR(' not in l)


def part_c_trace_off_identical(tmp, models):
    print('--- (c) compile output without --trace is unchanged')
    for m in models:
        stem = os.path.splitext(os.path.basename(m))[0]
        outs = {}
        for tag, extra in (('a', []), ('b', []), ('t', ['--trace'])):
            d = os.path.join(tmp, f'{stem}-{tag}')
            p = run(['compile', m, '-o', d] + extra)
            check(p.returncode == 0, f'{stem}: compile {" ".join(extra)} exits 0 {p.stderr.strip()[:200]}')
            outs[tag] = read(d)
        check(outs['a'] == outs['b'], f'{stem}: output without --trace is byte-identical across runs')
        c_plain = outs['a'][stem + '.c'].decode()
        c_traced = outs['t'][stem + '.c'].decode()
        check('TRACE' not in c_plain, f'{stem}: no trace hook without --trace')
        check(c_traced.count('_TRACE_TENSOR(') > 3, f'{stem}: --trace emits hooks')
        check(strip_trace(c_traced) == c_plain, f'{stem}: traced .c minus its trace lines == untraced .c')
        for f in (stem + '.h', stem + '_target.h'):
            check(outs['t'][f] == outs['a'][f], f'{stem}: {f} unchanged by --trace')
        # Warning-free C99 with the hook undefined and defined by the user.
        d = os.path.join(tmp, f'{stem}-t')
        P = stem.upper()
        with open(os.path.join(d, 'hook.h'), 'w') as f:
            f.write(f'#include <stddef.h>\nextern size_t traced_bytes;\n'
                    f'#define {P}_TRACE_TENSOR(name, dtype, data, bytes) '
                    f'((void)(name), (void)(dtype), (void)(data), traced_bytes += (bytes))\n')
        for cc in ('gcc', 'clang'):
            if not shutil.which(cc):
                continue
            for extra in ([], [f'-D{P}_CONFIG_HEADER="hook.h"']):
                p = subprocess.run([cc, '-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic', '-c', '-I', d]
                                   + extra + [os.path.join(d, stem + '.c'), '-o', os.path.join(d, 'x.o')],
                                   capture_output=True, text=True)
                check(p.returncode == 0, f'{stem}: traced code builds with {cc} {" ".join(extra)}: {p.stderr[:300]}')


def main():
    tmp = tempfile.mkdtemp(prefix='tmc-per-layer-')
    try:
        part_a_float_vs_ort()
        qmodel = part_b_int8_npz(tmp)
        part_c_trace_off_identical(tmp, [os.path.join(SAMPLES, 'ds_kws.onnx'), qmodel])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'{len(FAILS)} failed' if FAILS else 'all passed')
    for f in FAILS:
        print('FAIL', f)
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())

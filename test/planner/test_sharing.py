#!/usr/bin/env python3
"""End-to-end checks of the memory planner's storage sharing: graphs where
views (Reshape, Slice, Split), concat slots and in-place elementwise ops
share arena bytes are compiled, run and compared with numpy, with gcc under
ASan/UBSan. Also checks from the report that sharing actually happened.

Usage: test_sharing.py PATH/TO/tmc
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TMC = os.path.abspath(sys.argv[1])
FAILS = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        FAILS.append(what)


def model(nodes, inputs, outputs, inits=()):
    g = helper.make_graph(nodes, 'g', inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 8
    return m


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def run_case(tmp, name, m, feeds, expected):
    path = os.path.join(tmp, name + '.onnx')
    onnx.save(m, path)
    args = [TMC, 'verify', path]
    for i, x in enumerate(feeds):
        p = os.path.join(tmp, '%s_in%d.npy' % (name, i))
        np.save(p, x.astype(np.float32))
        args += ['--input', p]
    for i, y in enumerate(expected):
        p = os.path.join(tmp, '%s_out%d.npy' % (name, i))
        np.save(p, y.astype(np.float32))
        args += ['--expected', p]
    args += ['--cc', 'gcc', '--cflags=-fsanitize=address,undefined -fno-sanitize-recover=all']
    r = subprocess.run(args, capture_output=True, text=True)
    check(r.returncode == 0, '%s matches numpy under ASan/UBSan: %s' % (name, (r.stdout + r.stderr)[-300:]))
    out = os.path.join(tmp, name + '_c')
    subprocess.run([TMC, 'compile', path, '-o', out], capture_output=True)
    return json.load(open(os.path.join(out, name + '.report.json')))


def shared(rep, *names):
    for t in rep['tensors']:
        if all(n in t['shares_with'] for n in names):
            return True
    return False


def main():
    tmp = tempfile.mkdtemp(prefix='tmc-share-')
    rng = np.random.default_rng(0)
    try:
        # Concat slots + in-place: a=Relu(x), b=Sigmoid(x), c=Concat(a,b) on axis 1, y=Neg(c)... then Tanh in place.
        x = rng.standard_normal((1, 3, 4, 5)).astype(np.float32)
        m = model([helper.make_node('Mul', ['x', 'two'], ['x2']),
                   helper.make_node('Relu', ['x2'], ['a']),
                   helper.make_node('Sigmoid', ['x2'], ['b']),
                   helper.make_node('Concat', ['a', 'b'], ['c'], axis=1),
                   helper.make_node('Tanh', ['c'], ['d']),
                   helper.make_node('Neg', ['d'], ['y'])],
                  [vi('x', [1, 3, 4, 5])], [vi('y', [1, 6, 4, 5])], [const('two', np.float32(2))])
        x2 = x * 2
        want = -np.tanh(np.concatenate([np.maximum(x2, 0), 1 / (1 + np.exp(-x2))], axis=1))
        rep = run_case(tmp, 'concat_slots', m, [x], [want])
        check(shared(rep, 'a', 'b', 'c'), 'concat inputs are produced in their slots')
        check(shared(rep, 'c', 'd'), 'Tanh runs in place on the concat output')

        # Slice and Split views along the outermost axis, Reshape view.
        x = rng.standard_normal((4, 6)).astype(np.float32)
        m = model([helper.make_node('Abs', ['x'], ['ax']),
                   helper.make_node('Slice', ['ax', 'st', 'en', 'axes'], ['s']),
                   helper.make_node('Split', ['ax'], ['p', 'q'], axis=0),
                   helper.make_node('Reshape', ['s', 'shp'], ['r']),
                   helper.make_node('Add', ['p', 'q'], ['pq']),
                   helper.make_node('Reshape', ['pq', 'shp'], ['pqr']),
                   helper.make_node('Mul', ['r', 'pqr'], ['y'])],
                  [vi('x', [4, 6])], [vi('y', [12])],
                  [const('st', np.array([1], np.int64)), const('en', np.array([3], np.int64)),
                   const('axes', np.array([0], np.int64)), const('shp', np.array([12], np.int64))])
        ax = np.abs(x)
        want = (ax[1:3].reshape(12)) * ((ax[0:2] + ax[2:4]).reshape(12))
        rep = run_case(tmp, 'slice_views', m, [x], [want])
        check(shared(rep, 'ax', 's', 'p', 'q', 'r'), 'Slice, Split and Reshape outputs are views of their input')

        # A view that is still read later blocks in-place reuse of its group.
        x = rng.standard_normal((2, 8)).astype(np.float32)
        m = model([helper.make_node('Exp', ['x'], ['e']),
                   helper.make_node('Reshape', ['e', 'shp'], ['v']),
                   helper.make_node('Relu', ['e'], ['f']),
                   helper.make_node('Reshape', ['f', 'shp'], ['fv']),
                   helper.make_node('Sub', ['v', 'fv'], ['y'])],
                  [vi('x', [2, 8])], [vi('y', [16])], [const('shp', np.array([16], np.int64))])
        e = np.exp(x)
        want = (e - np.maximum(e, 0)).reshape(16)
        rep = run_case(tmp, 'view_blocks_inplace', m, [x], [want])
        check(not shared(rep, 'e', 'f'), 'Relu does not overwrite a tensor whose view is read later')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failure(s)' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Small int8/uint8 models for the ops of quantize-folding's QDQ patterns
(Mul, Sigmoid, Tanh, HardSwish, HardSigmoid, LeakyRelu, Relu, Clip,
ConvTranspose, GlobalMaxPool) and of lower-qoperator (com.microsoft
QLinearAdd, QLinearMul, QLinearAveragePool, QLinearGlobalAveragePool,
QLinearConcat, QLinearLeakyRelu, QLinearSigmoid), with zero points at the
extremes of the range and output scales that saturate.

The ONNX Runtime golden outputs are made by the test (test_qops.py, with
scripts/ort_run.js); this script writes the models, their inputs, the
tolerance of every output against ONNX Runtime (0 = bit exact; 1 = at most one
LSB, where tmc's documented integer arithmetic differs from ONNX Runtime's
float arithmetic, see docs/quantization.md), and golden outputs for
`--int8-semantics tflite` from a numpy model of TFLite's arithmetic.

usage: make_qops_models.py OUTDIR
  -> OUTDIR/<name>.onnx, <name>.in<i>.npy, <name>.tflite<j>.npy, <name>.json
"""
import ctypes
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_qdq_models as q  # noqa: E402  (TFLite integer helpers)

F32 = np.float32
ONNX_T = {np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8}
_libm = ctypes.CDLL("libm.so.6")
for _f in ("expf", "tanhf"):
    getattr(_libm, _f).restype = ctypes.c_float
    getattr(_libm, _f).argtypes = [ctypes.c_float]


def cfun(name, x):
    """float32 libm function (what the compiler's std::exp/std::tanh call)."""
    f = getattr(_libm, name)
    return np.array([f(float(v)) for v in np.ravel(x)], F32).reshape(np.shape(x))


def round_away(x):
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def info(dt):
    return np.iinfo(dt)


class Graph:
    """A graph with several integer inputs and outputs."""

    def __init__(self, name, opset=14, ms=False):
        self.name, self.opset, self.ms = name, opset, ms
        self.nodes, self.inits, self.ins, self.outs = [], [], [], []
        self.count = 0

    def fresh(self, base):
        self.count += 1
        return f"{base}{self.count}"

    def const(self, arr, base="c"):
        n = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def node(self, op, ins, domain="", **attrs):
        out = self.fresh(op.lower() + "_")
        self.nodes.append(helper.make_node(op, ins, [out], name=out, domain=domain, **attrs))
        return out

    def input(self, name, dt, shape):
        self.ins.append(helper.make_tensor_value_info(name, ONNX_T[dt], list(shape)))
        return name

    def dq(self, x, s, z, dt, axis=None):
        kw = {} if axis is None else {"axis": axis}
        return self.node("DequantizeLinear", [x, self.const(np.asarray(s, F32), "s"), self.const(np.asarray(z, dt), "z")],
                         **kw)

    def q(self, x, s, z, dt):
        return self.node("QuantizeLinear", [x, self.const(np.asarray(s, F32), "s"), self.const(np.asarray(z, dt), "z")])

    def output(self, t, dt, shape):
        name = f"out{len(self.outs)}"
        for n in self.nodes:
            if n.output[0] == t:
                n.output[0] = name
        self.outs.append(helper.make_tensor_value_info(name, ONNX_T[dt], list(shape)))
        return name

    def model(self):
        g = helper.make_graph(self.nodes, self.name, self.ins, self.outs, self.inits)
        ops = [helper.make_opsetid("", self.opset)]
        if self.ms:
            ops.append(helper.make_opsetid("com.microsoft", 1))
        m = helper.make_model(g, opset_imports=ops)
        if not self.ms:
            onnx.checker.check_model(m)
        return m


# ---------------------------------------------------------------- TFLite references
def tfl_lut(kind, codes, xs, xz, ys, yz, dt, alpha=0.0, beta=0.0):
    """TFLite's table for an activation, applied to `codes`."""
    lo, hi = info(dt).min, info(dt).max
    d = (codes.astype(np.int64) - xz)
    if kind in ("LeakyRelu", "Relu", "Clip"):
        mi, si = q.tfl_quantize_multiplier(float(F32(xs)) / float(F32(ys)))
        v = yz + q.tfl_mbqm(d, mi, si)
        amin, amax = lo, hi
        if kind == "LeakyRelu":
            ma, sa = q.tfl_quantize_multiplier(float(F32(xs)) * float(F32(alpha)) / float(F32(ys)))
            v = np.where(d < 0, yz + q.tfl_mbqm(d, ma, sa), v)
        if kind == "Relu":
            amin = max(lo, yz)
        if kind == "Clip":
            amin = max(lo, yz + int(round_away(F32(F32(alpha) / F32(ys)))))
            amax = min(hi, yz + int(round_away(F32(F32(beta) / F32(ys)))))
        return np.clip(v, amin, amax).astype(dt)
    x = (F32(xs) * d.astype(F32)).astype(F32)
    if kind == "Sigmoid":
        t = (F32(1) / (F32(1) + cfun("expf", -x))).astype(F32)
    elif kind == "Tanh":
        t = cfun("tanhf", x)
    elif kind == "HardSwish":
        t = ((x * np.minimum(F32(6), np.maximum(F32(0), (x + F32(3)).astype(F32)))).astype(F32) / F32(6)).astype(F32)
    elif kind == "HardSigmoid":
        t = np.clip(((F32(alpha) * x).astype(F32) + F32(beta)).astype(F32), 0, 1).astype(F32)
    elif kind == "Identity":
        t = x
    else:
        raise ValueError(kind)
    r = round_away((t * (F32(1) / F32(ys))).astype(F32)) + yz
    return np.clip(r, lo, hi).astype(dt)


def tfl_mul(a, az, as_, b, bz, bs, ys, yz, dt):
    m, s = q.tfl_quantize_multiplier(float(F32(as_)) * float(F32(bs)) / float(F32(ys)))
    p = (a.astype(np.int64) - az) * (b.astype(np.int64) - bz)
    return q.sat(q.tfl_mbqm(p, m, s) + yz, dt)


def convtranspose_acc(x, xz, w, wz, bias, stride, pads, opad, group):
    """Int32 accumulators of an integer ConvTranspose (2-D), w [C, M/g, kh, kw]."""
    N, C, H, W = x.shape
    _, Mg, KH, KW = w.shape
    M = Mg * group
    OH = stride * (H - 1) + opad + KH - pads[0] - pads[2]
    OW = stride * (W - 1) + opad + KW - pads[1] - pads[3]
    full = np.zeros((N, M, stride * (H - 1) + KH + opad, stride * (W - 1) + KW + opad), np.int64)
    xv = x.astype(np.int64) - xz
    wv = w.astype(np.int64) - np.reshape(wz, (1, -1, 1, 1))
    Cg = C // group
    for ci in range(C):
        g = ci // Cg
        for mo in range(Mg):
            for i in range(H):
                for j in range(W):
                    full[:, g * Mg + mo, i * stride:i * stride + KH, j * stride:j * stride + KW] += \
                        xv[:, ci, i, j][:, None, None] * wv[ci, mo]
    acc = full[:, :, pads[0]:pads[0] + OH, pads[1]:pads[1] + OW]
    if bias is not None:
        acc = acc + bias.reshape(1, M, 1, 1)
    return acc.astype(np.int32)


# ---------------------------------------------------------------- models
rng = np.random.default_rng(20240807)


def qrand(shape, dt, lo=None, hi=None):
    i = info(dt)
    return rng.integers(i.min if lo is None else lo, (i.max if hi is None else hi) + 1, size=shape).astype(dt)


def model_qdq_ops(dt):
    """Mul (broadcast both ways, same shape), the table ops and GlobalMaxPool."""
    i = info(dt)
    sfx = "i8" if dt == np.int8 else "u8"
    g = Graph(f"qdq_ops_{sfx}")
    shp, sshp = (1, 4, 6, 6), (1, 4, 1, 1)
    x, y, s, a = qrand(shp, dt), qrand(shp, dt), qrand(sshp, dt), qrand(shp, dt)
    # zero points at the extremes of the range (x, y, s); activations read a
    # (zero point inside the range) and x
    xs, xz = 0.07, int(i.max)
    ys_, yz_ = 0.05, int(i.min)
    ss, sz = 0.09, int(i.min) + 3
    as_, az = 0.04, int(i.min) + 107
    X = g.dq(g.input("x", dt, shp), xs, xz, dt)
    Y = g.dq(g.input("y", dt, shp), ys_, yz_, dt)
    S = g.dq(g.input("s", dt, sshp), ss, sz, dt)
    A = g.dq(g.input("a", dt, shp), as_, az, dt)
    tfl, tol = [], []

    def out(t, os, oz, shape, ref, tolerance=0):
        g.output(g.q(t, os, oz, dt), dt, shape)
        tfl.append(ref)
        tol.append(tolerance)

    mz = int(i.min) + 20
    out(g.node("Mul", [X, S]), 1.1, mz, shp, tfl_mul(x, xz, xs, s, sz, ss, 1.1, mz, dt))
    out(g.node("Mul", [S, Y]), 0.3, mz, shp, tfl_mul(s, sz, ss, y, yz_, ys_, 0.3, mz, dt))
    out(g.node("Mul", [X, Y]), 0.25, int(i.max), shp, tfl_mul(x, xz, xs, y, yz_, ys_, 0.25, int(i.max), dt))
    oz = int(i.min) if dt == np.uint8 else 0
    acts = [("Sigmoid", {}, 1 / 256, int(i.min)), ("Tanh", {}, 1 / 128, oz), ("HardSwish", {}, 0.03, oz),
            ("HardSigmoid", {"alpha": 0.25, "beta": 0.4}, 1 / 255, int(i.min)),
            ("LeakyRelu", {"alpha": 0.1}, 0.06, oz + 7), ("Relu", {}, 0.02, int(i.min))]
    for op, attrs, os, oz2 in acts:
        for src, v, vs, vz in ((A, a, as_, az), (X, x, xs, xz)):
            ref = tfl_lut(op, v, vs, vz, os, oz2, dt, attrs.get("alpha", 0.0), attrs.get("beta", 0.0))
            out(g.node(op, [src], **attrs), os, oz2, shp, ref)
    # Clip with the input's own parameters: a plain integer clamp.
    lo_, hi_ = -1.0, 2.0
    t = g.node("Clip", [Y, g.const(np.array(lo_, F32)), g.const(np.array(hi_, F32))])
    out(t, ys_, yz_, shp, tfl_lut("Clip", y, ys_, yz_, ys_, yz_, dt, lo_, hi_))
    # GlobalMaxPool with the same parameters: the integer op itself
    out(g.node("GlobalMaxPool", [Y]), ys_, yz_, (1, 4, 1, 1), y.max(axis=(2, 3), keepdims=True))
    return g.model(), [x, y, s, a], tfl, tol


def model_qdq_convtranspose(dt):
    """ConvTranspose (stride 2, pads, output_padding, per-channel weights on
    axis 1, int32 bias) + Relu, a grouped ConvTranspose with per-tensor
    weights and a float bias, then GlobalMaxPool."""
    i = info(dt)
    sfx = "i8" if dt == np.int8 else "u8"
    g = Graph(f"qdq_convtranspose_{sfx}", opset=13)
    wdt = np.int8
    shp = (1, 4, 5, 5)
    x = qrand(shp, dt)
    xs, xz = 0.05, int(i.min) + 5
    X = g.dq(g.input("x", dt, shp), xs, xz, dt)
    tfl, tol = [], []
    # 1) per-channel (axis 1) weights [C=4, M=3, 3, 3], int32 bias, Relu
    w1 = qrand((4, 3, 3, 3), wdt, -127, 127)
    w1s = rng.uniform(0.004, 0.02, 3).astype(F32)
    b1 = rng.integers(-600, 600, 3).astype(np.int32)
    W = g.dq(g.const(w1, "w"), w1s, np.zeros(3, wdt), wdt, axis=1)
    B = g.dq(g.const(b1, "b"), (F32(xs) * w1s).astype(F32), np.zeros(3, np.int32), np.int32, axis=0)
    t = g.node("ConvTranspose", [X, W, B], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1],
               kernel_shape=[3, 3])
    t = g.node("Relu", [t])
    o1s, o1z = 0.03, int(i.min)
    g.output(g.q(t, o1s, o1z, dt), dt, (1, 3, 10, 10))
    acc = convtranspose_acc(x, xz, w1, np.zeros(3, np.int64), b1, 2, [1, 1, 1, 1], 1, 1)
    q.SEM = "tflite"
    tfl.append(np.maximum(q.tfl_requant(acc, xs, w1s, o1s, o1z, dt, (1, 3, 1, 1)), max(o1z, i.min)).astype(dt))
    tol.append(1)
    # 2) grouped (2 groups), per-tensor weights [4, 2, 2, 2] -> M = 4, float bias, stride 1
    w2 = qrand((4, 2, 2, 2), wdt, -127, 127)
    w2s = F32(0.015)
    b2f = rng.uniform(-0.5, 0.5, 4).astype(F32)
    W2 = g.dq(g.const(w2, "w"), w2s, np.array(0, wdt), wdt)
    t2 = g.node("ConvTranspose", [X, W2, g.const(b2f, "bf")], group=2, kernel_shape=[2, 2])
    o2s, o2z = 0.05, int(i.max) - 100
    q2 = g.output(g.q(t2, o2s, o2z, dt), dt, (1, 4, 6, 6))
    b2q = np.rint(b2f.astype(np.float64) / float(F32(F32(xs) * w2s))).astype(np.int32)
    acc2 = convtranspose_acc(x, xz, w2, np.zeros(2, np.int64), b2q, 1, [0, 0, 0, 0], 0, 2)
    r2 = q.tfl_requant(acc2, xs, np.full(4, w2s, F32), o2s, o2z, dt, (1, 4, 1, 1))
    tfl.append(r2)
    tol.append(1)
    # 3) GlobalMaxPool of (2) with the same parameters
    t3 = g.node("GlobalMaxPool", [g.dq(q2, o2s, o2z, dt)])
    g.output(g.q(t3, o2s, o2z, dt), dt, (1, 4, 1, 1))
    tfl.append(r2.max(axis=(2, 3), keepdims=True))
    tol.append(1)
    q.SEM = "onnx"
    return g.model(), [x], tfl, tol


def model_qoperator(dt):
    """com.microsoft QOperator ops, as ONNX Runtime's quantizer writes them."""
    i = info(dt)
    sfx = "i8" if dt == np.int8 else "u8"
    g = Graph(f"qoperator_{sfx}", opset=13, ms=True)
    shp, sshp = (1, 4, 7, 7), (1, 4, 1, 1)
    x, y, s = qrand(shp, dt), qrand(shp, dt), qrand(sshp, dt)
    xs, xz = 0.06, int(i.max) - 2
    ys_, yz_ = 0.045, int(i.min)
    ss, sz = 0.08, int(i.min) + 100
    X, Y, S = g.input("x", dt, shp), g.input("y", dt, shp), g.input("s", dt, sshp)
    tfl, tol = [], []
    c = lambda v, base="p": g.const(np.asarray(v), base)  # noqa: E731
    sc = lambda v: c(np.asarray(v, F32), "s")  # noqa: E731
    zc = lambda v: c(np.asarray(v, dt), "z")  # noqa: E731

    def out(t, shape, ref, tolerance=0):
        g.output(t, dt, shape)
        tfl.append(ref)
        tol.append(tolerance)

    def binop(op, a, ap, b, bp, os, oz):
        return g.node(op, [a, sc(ap[0]), zc(ap[1]), b, sc(bp[0]), zc(bp[1]), sc(os), zc(oz)], domain="com.microsoft")

    q.SEM = "tflite"
    oz = int(i.min) + 60
    out(binop("QLinearAdd", X, (xs, xz), S, (ss, sz), 0.07, oz), shp, q.ref_add(x, xs, xz, s, ss, sz, 0.07, oz, dt))
    out(binop("QLinearAdd", S, (ss, sz), Y, (ys_, yz_), 0.05, oz), shp, q.ref_add(s, ss, sz, y, ys_, yz_, 0.05, oz, dt))
    out(binop("QLinearAdd", X, (xs, xz), Y, (ys_, yz_), 0.04, int(i.max)), shp,
        q.ref_add(x, xs, xz, y, ys_, yz_, 0.04, int(i.max), dt))
    out(binop("QLinearMul", X, (xs, xz), Y, (ys_, yz_), 0.2, oz), shp, tfl_mul(x, xz, xs, y, yz_, ys_, 0.2, oz, dt))
    out(binop("QLinearMul", S, (ss, sz), X, (xs, xz), 0.15, oz), shp, tfl_mul(s, sz, ss, x, xz, xs, 0.15, oz, dt))
    # pools
    pz = int(i.min) + 9
    for cip in (0, 1):
        t = g.node("QLinearAveragePool", [Y, sc(ys_), zc(yz_), sc(0.03), zc(pz)], domain="com.microsoft",
                   kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=cip)
        out(t, (1, 4, 4, 4), q.ref_avgpool(y, ys_, yz_, 0.03, pz, [3, 3], [2, 2], [1, 1, 1, 1], dt, bool(cip)))
    t = g.node("QLinearAveragePool", [X, sc(xs), zc(xz), sc(xs), zc(xz)], domain="com.microsoft",
               kernel_shape=[2, 2], strides=[2, 2])
    out(t, (1, 4, 3, 3), q.ref_avgpool(x, xs, xz, xs, xz, [2, 2], [2, 2], [0, 0, 0, 0], dt))
    t = g.node("QLinearGlobalAveragePool", [Y, sc(ys_), zc(yz_), sc(0.02), zc(pz)], domain="com.microsoft")
    out(t, (1, 4, 1, 1), q.ref_avgpool(y, ys_, yz_, 0.02, pz, [7, 7], [1, 1], [0, 0, 0, 0], dt))
    # concat: x keeps its parameters (copied), y is requantized
    t = g.node("QLinearConcat", [sc(xs), zc(xz), X, sc(xs), zc(xz), Y, sc(ys_), zc(yz_)], domain="com.microsoft",
               axis=1)
    out(t, (1, 8, 7, 7), np.concatenate([x, tfl_lut("Identity", y, ys_, yz_, xs, xz, dt)], axis=1))
    lz = int(i.min) + 40
    t = g.node("QLinearLeakyRelu", [X, sc(xs), zc(xz), sc(0.03), zc(lz)], domain="com.microsoft", alpha=0.2)
    out(t, shp, tfl_lut("LeakyRelu", x, xs, xz, 0.03, lz, dt, 0.2))
    t = g.node("QLinearSigmoid", [Y, sc(ys_), zc(yz_), sc(1 / 256), zc(int(i.min))], domain="com.microsoft")
    out(t, shp, tfl_lut("Sigmoid", y, ys_, yz_, 1 / 256, int(i.min), dt))
    q.SEM = "onnx"
    return g.model(), [x, y, s], tfl, tol


def model_qoperator_chain():
    """A QOperator network as ONNX Runtime's quantizer writes one (uint8
    activations, int8 per-channel weights): float input -> QuantizeLinear ->
    QLinearConv -> QLinearLeakyRelu -> QLinearAveragePool and a second
    QLinearConv -> QLinearConcat -> QLinearAdd -> QLinearGlobalAveragePool ->
    DequantizeLinear -> float output. ONNX Runtime's golden only (the TFLite
    golden is tmc's own tflite result, checked for determinism)."""
    u8, i8 = np.uint8, np.int8
    g = Graph("qoperator_chain", opset=13, ms=True)
    g.ins.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]))
    x = rng.uniform(-1, 1, (1, 3, 8, 8)).astype(F32)
    sc = lambda v: g.const(np.asarray(v, F32), "s")  # noqa: E731
    zu = lambda v: g.const(np.asarray(v, u8), "z")  # noqa: E731
    xs, xz = 2 / 255, 128
    t = g.node("QuantizeLinear", ["x", sc(xs), zu(xz)])
    w1 = qrand((6, 3, 3, 3), i8, -127, 127)
    w1s = rng.uniform(0.003, 0.01, 6).astype(F32)
    b1 = rng.integers(-2000, 2000, 6).astype(np.int32)
    c1s, c1z = 0.04, 120
    t = g.node("QLinearConv", [t, sc(xs), zu(xz), g.const(w1, "w"), g.const(w1s, "ws"), g.const(np.zeros(6, i8), "wz"),
                               sc(c1s), zu(c1z), g.const(b1, "b")], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    l1s, l1z = 0.03, 40
    t = g.node("QLinearLeakyRelu", [t, sc(c1s), zu(c1z), sc(l1s), zu(l1z)], domain="com.microsoft", alpha=0.1)
    p1s, p1z = 0.025, 30
    p = g.node("QLinearAveragePool", [t, sc(l1s), zu(l1z), sc(p1s), zu(p1z)], domain="com.microsoft",
               kernel_shape=[2, 2], strides=[2, 2])
    w2 = qrand((6, 6, 1, 1), i8, -127, 127)
    w2s = rng.uniform(0.005, 0.02, 6).astype(F32)
    c2s, c2z = 0.05, 100
    q2 = g.node("QLinearConv", [p, sc(p1s), zu(p1z), g.const(w2, "w"), g.const(w2s, "ws"),
                                g.const(np.zeros(6, i8), "wz"), sc(c2s), zu(c2z)], kernel_shape=[1, 1])
    cs, cz = 0.05, 100
    cat = g.node("QLinearConcat", [sc(cs), zu(cz), q2, sc(c2s), zu(c2z), p, sc(p1s), zu(p1z)],
                 domain="com.microsoft", axis=1)
    a = g.node("QLinearAdd", [cat, sc(cs), zu(cz), cat, sc(cs), zu(cz), sc(0.08), zu(90)], domain="com.microsoft")
    gp = g.node("QLinearGlobalAveragePool", [a, sc(0.08), zu(90), sc(0.01), zu(128)], domain="com.microsoft")
    y = g.node("DequantizeLinear", [gp, sc(0.01), zu(128)])
    for n in g.nodes:
        if n.output[0] == y:
            n.output[0] = "out0"
    g.outs.append(helper.make_tensor_value_info("out0", TensorProto.FLOAT, [1, 12, 1, 1]))
    return g.model(), [x], [None], [0], ["QLinearConv", "QuantizeLinear", "DequantizeLinear"]


def model_pairs(dt):
    """Every pair of codes through the binary ops: QDQ Mul and Add, QLinearAdd
    and QLinearMul, same shapes and broadcast of a per-row scalar (A or B),
    with two sets of scales each."""
    i = info(dt)
    sfx = "i8" if dt == np.int8 else "u8"
    g = Graph(f"pairs_{sfx}", opset=13, ms=True)
    codes = np.arange(i.min, i.max + 1).astype(dt)
    pa = np.repeat(codes[:, None], 256, 1).reshape(1, 1, 256, 256)
    pb = np.repeat(codes[None, :], 256, 0).reshape(1, 1, 256, 256)
    pc = codes.reshape(1, 1, 256, 1)
    PA, PB, PC = g.input("pa", dt, pa.shape), g.input("pb", dt, pb.shape), g.input("pc", dt, pc.shape)
    full = (1, 1, 256, 256)
    tfl, tol = [], []
    sc = lambda v: g.const(np.asarray(v, F32), "s")  # noqa: E731
    zc = lambda v: g.const(np.asarray(v, dt), "z")  # noqa: E731
    q.SEM = "tflite"
    for k in range(2):
        sa, sb = F32(rng.uniform(0.01, 0.08)), F32(rng.uniform(0.01, 0.08))
        za, zb = int(rng.integers(i.min, i.max + 1)), int(rng.integers(i.min, i.max + 1))
        sy, zy = F32(rng.uniform(0.03, 0.12)), int(rng.integers(i.min, i.max + 1))
        sm = F32(sy * 0.15)
        for (A, a, B, b) in ((PA, pa, PB, pb), (PC, pc, PB, pb), (PB, pb, PC, pc)):
            t = g.node("QLinearAdd", [A, sc(sa), zc(za), B, sc(sb), zc(zb), sc(sy), zc(zy)], domain="com.microsoft")
            g.output(t, dt, full)
            tfl.append(q.ref_add(np.broadcast_to(a, full), sa, za, np.broadcast_to(b, full), sb, zb, sy, zy, dt))
            tol.append(0)
        for (A, a, B, b) in ((PA, pa, PB, pb), (PC, pc, PB, pb)):
            t = g.node("QLinearMul", [A, sc(sa), zc(za), B, sc(sb), zc(zb), sc(sm), zc(zy)], domain="com.microsoft")
            g.output(t, dt, full)
            tfl.append(tfl_mul(np.broadcast_to(a, full), za, sa, np.broadcast_to(b, full), zb, sb, sm, zy, dt))
            tol.append(0)
        for op, os in (("Add", sy), ("Mul", sm)):
            for (A, a, B, b) in ((PA, pa, PB, pb), (PC, pc, PB, pb)):
                t = g.node(op, [g.dq(A, sa, za, dt), g.dq(B, sb, zb, dt)])
                g.output(g.q(t, os, zy, dt), dt, full)
                A_, B_ = np.broadcast_to(a, full), np.broadcast_to(b, full)
                tfl.append(q.ref_add(A_, sa, za, B_, sb, zb, os, zy, dt) if op == "Add"
                           else tfl_mul(A_, za, sa, B_, zb, sb, os, zy, dt))
                tol.append(0)
    q.SEM = "onnx"
    return g.model(), [pa, pb, pc], tfl, tol


MODELS = [lambda: model_qdq_ops(np.int8), lambda: model_qdq_ops(np.uint8),
          lambda: model_qdq_convtranspose(np.int8), lambda: model_qdq_convtranspose(np.uint8),
          lambda: model_qoperator(np.int8), lambda: model_qoperator(np.uint8),
          lambda: model_pairs(np.int8), lambda: model_pairs(np.uint8), model_qoperator_chain]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for fn in MODELS:
        m, ins, tfl, tol, *allowed = fn()
        name = m.graph.name
        onnx.save(m, os.path.join(out, name + ".onnx"))
        for k, x in enumerate(ins):
            np.save(os.path.join(out, f"{name}.in{k}.npy"), x)
        for k, y in enumerate(tfl):
            if y is not None:
                np.save(os.path.join(out, f"{name}.tflite{k}.npy"), y)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"inputs": len(ins), "outputs": len(tol), "tolerance": tol,
                       "tflite_golden": all(y is not None for y in tfl),
                       "allowed_ops": allowed[0] if allowed else []}, f)
        print(name, len(ins), "inputs", len(tol), "outputs")


if __name__ == "__main__":
    main()

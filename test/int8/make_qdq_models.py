#!/usr/bin/env python3
"""Builds small QDQ (QuantizeLinear/DequantizeLinear) int8/uint8 models with
onnx + numpy, with golden outputs from a numpy implementation of ONNX
Runtime's integer semantics (int32 accumulation; requantization in float32:
float(acc) * (x_scale * w_scale / y_scale), round half to even, + zero
point, saturate), and from a numpy implementation of TFLite's reference
integer kernels (`tmc --int8-semantics tflite`: Q31 multipliers with
SaturatingRoundingDoublingHighMul + RoundingDivideByPOT, ADD with <<20 and
three rescalings, AVERAGE_POOL rounding half away from zero, gemmlowp
fixed-point SOFTMAX).

usage: make_qdq_models.py OUTDIR
  -> OUTDIR/<name>.onnx, .input.npy, .expected.npy, .expected_tflite.npy
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
SEED = 20240611
rng = np.random.default_rng(SEED)
SEM = "onnx"  # golden semantics: "onnx" (ONNX Runtime) or "tflite"


class Builder:
    def __init__(self, name):
        self.name = name
        self.nodes, self.inits = [], []
        self.count = 0

    def fresh(self, base):
        self.count += 1
        return f"{base}{self.count}"

    def const(self, base, arr):
        n = self.fresh(base)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def node(self, op, ins, **attrs):
        out = self.fresh(op.lower() + "_")
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def dq(self, q, scale, zp, axis=None):
        s = self.const("s", np.asarray(scale, F32))
        z = self.const("z", zp)
        kw = {} if axis is None else {"axis": axis}
        return self.node("DequantizeLinear", [q, s, z], **kw)

    def q(self, x, scale, zp):
        return self.node("QuantizeLinear", [x, self.const("s", np.asarray(scale, F32)), self.const("z", zp)])

    def model(self, inp, in_dtype, in_shape, out, out_dtype, out_shape):
        for n in self.nodes:  # the last QuantizeLinear writes the graph output
            if n.output[0] == out:
                n.output[0] = "output"
        g = helper.make_graph(self.nodes, self.name,
                              [helper.make_tensor_value_info("input", in_dtype, in_shape)],
                              [helper.make_tensor_value_info("output", out_dtype, out_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        onnx.checker.check_model(m)
        return m


# ---------------------------------------------------------------- reference
def sat(q, dt):
    info = np.iinfo(dt)
    return np.clip(q, info.min, info.max).astype(dt)


def requant(acc, scale32, yzp, dt):
    v = np.rint((acc.astype(F32) * scale32).astype(F32)).astype(np.float64) + yzp
    return sat(v, dt)


# ---------------------------------------------------------------- TFLite arithmetic
I32MIN, I32MAX = -2**31, 2**31 - 1


def wrap32(x):
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


def tfl_quantize_multiplier(m):
    """QuantizeMultiplier: real m (double) -> (Q31 multiplier, shift)."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    qf = int(math.floor(q * 2**31 + 0.5))  # std::round (q > 0 here; the sum is exact in double)
    if qf == 2**31:
        qf //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return qf, shift


def tfl_srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int32 values (numpy int64 arrays)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    n = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r = np.where(n >= 0, n >> 31, -((-n) >> 31))
    return np.where((a == b) & (a == I32MIN), I32MAX, r).astype(np.int64)


def tfl_rdpot(x, e):
    """RoundingDivideByPOT: round half away from zero."""
    x, e = np.asarray(x, np.int64), np.asarray(e, np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def tfl_mbqm(x, m, s):
    """MultiplyByQuantizedMultiplier."""
    s = np.asarray(s, np.int64)
    x = wrap32(np.asarray(x, np.int64) << np.maximum(s, 0))
    return tfl_rdpot(tfl_srdhm(x, m), np.maximum(-s, 0))


def tfl_requant(acc, xs, ws, ys, yz, dt, shape):
    """Per-channel TFLite requantization of int32 `acc`; ws: 1 or C scales,
    broadcast with `shape`."""
    ws = np.atleast_1d(np.asarray(ws, F32))
    ms = [tfl_quantize_multiplier(float(F32(xs)) * float(w) / float(F32(ys))) for w in ws]
    m = np.array([a for a, _ in ms], np.int64).reshape(shape)
    s = np.array([b for _, b in ms], np.int64).reshape(shape)
    return sat(tfl_mbqm(acc, m, s) + yz, dt)


def tfl_exp_neg(a):
    """gemmlowp exp_on_negative_values: Q5.26 input (<= 0) -> Q0.31."""
    a = np.asarray(a, np.int64)
    q = 1 << 24
    amq = (a & (q - 1)) - q
    rem = amq - a
    x = amq * 32 + (1 << 28)
    x2 = tfl_srdhm(x, x)
    x3 = tfl_srdhm(x2, x)
    x4 = tfl_srdhm(x2, x2)
    t = tfl_rdpot(tfl_srdhm(tfl_rdpot(x4, 2) + x3, 715827883) + x2, 1)
    r = 1895147668 + tfl_srdhm(1895147668, x + t)
    for i, c in enumerate([1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242]):
        r = np.where(rem & (1 << (24 + i)), tfl_srdhm(r, c), r)
    return np.where(a == 0, I32MAX, r)


def tfl_sat_shift(x, e):
    """gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0."""
    thr = (1 << (31 - e)) - 1
    return np.where(x > thr, I32MAX, np.where(x < -thr, I32MIN, x << e))


def tfl_recip(s):
    """TFLite GetReciprocal of a Q12.19 sum -> (Q0.31 scale, num_bits_over_unit)."""
    s = int(s)
    hr = 32 - s.bit_length()
    a = int(wrap32((s << hr) - (1 << 31)))
    n = a + I32MAX
    n += 1 if n >= 0 else -1
    hd = n // 2 if n >= 0 else -((-n) // 2)
    x = 1515870810 + int(tfl_srdhm(hd, -1010580540))
    for _ in range(3):
        om = (1 << 29) - int(tfl_srdhm(hd, x))
        x = x + int(tfl_sat_shift(tfl_srdhm(x, om), 2))
    return int(tfl_sat_shift(np.int64(x), 1)), 12 - hr


def tfl_softmax_row(row, xs):
    """TFLite int8 SOFTMAX of one row (output scale 1/256, zero point -128)."""
    mult, ls = tfl_quantize_multiplier(min(float(F32(xs)) * 2.0**26, 2.0**31 - 1.0))
    dmin = -math.floor(31.0 * 2**26 / 2**ls)
    d = row.astype(np.int64) - int(row.max())
    e = tfl_exp_neg(tfl_srdhm(wrap32(d << ls), mult))
    total = int(np.where(d >= dmin, tfl_rdpot(e, 12), 0).sum())
    sc, nb = tfl_recip(total)
    v = tfl_rdpot(tfl_srdhm(sc, e), nb + 23) - 128
    return np.where(d >= dmin, np.clip(v, -128, 127), -128).astype(np.int8)


def quant_real(v, ys, yzp, dt):
    """Q() of a real scalar (for Relu/Clip bounds)."""
    if np.isinf(v):
        info = np.iinfo(dt)
        return info.min if v < 0 else info.max
    return int(sat(np.rint(F32(F32(v) / F32(ys))) + yzp, dt))


def ref_conv(x, xs, xz, w, ws, wz, ys, yz, b, group, pads, strides, dt, lo=None, hi=None):
    N, C, H, W = x.shape
    M, Cg, KH, KW = w.shape
    xp = np.pad(x.astype(np.int64) - xz, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    OH = (xp.shape[2] - KH) // strides[0] + 1
    OW = (xp.shape[3] - KW) // strides[1] + 1
    acc = np.zeros((N, M, OH, OW), np.int64)
    Mg = M // group
    for m in range(M):
        gi = m // Mg
        wm = w[m].astype(np.int64) - (wz[m] if np.ndim(wz) else wz)
        for oh in range(OH):
            for ow in range(OW):
                patch = xp[:, gi * Cg:(gi + 1) * Cg, oh * strides[0]:oh * strides[0] + KH,
                           ow * strides[1]:ow * strides[1] + KW]
                acc[:, m, oh, ow] = (patch * wm).sum(axis=(1, 2, 3))
    if b is not None:
        acc += b.reshape(1, M, 1, 1)
    acc = acc.astype(np.int32)
    wsv = np.broadcast_to(np.asarray(ws, F32), (M,))
    scale = ((F32(xs) * wsv).astype(F32) / F32(ys)).astype(F32).reshape(1, M, 1, 1)
    if SEM == "tflite":
        y = tfl_requant(acc, xs, wsv, ys, yz, dt, (1, M, 1, 1))
    else:
        y = requant(acc, scale, yz, dt)
    if lo is not None:
        y = np.clip(y, lo, hi).astype(dt)
    return y


def ref_gemm(a, as_, az, bNK, bs, bz, ys, yz, bias, dt):
    acc = (a.astype(np.int64) - az) @ (bNK.astype(np.int64) - np.reshape(bz, (-1, 1))).T
    if bias is not None:
        acc += bias.reshape(1, -1)
    N = bNK.shape[0]
    if SEM == "tflite":
        return tfl_requant(acc.astype(np.int32), as_, np.broadcast_to(np.asarray(bs, F32), (N,)), ys, yz, dt, (1, N))
    scale = ((F32(as_) * np.broadcast_to(np.asarray(bs, F32), (N,))).astype(F32) / F32(ys)).astype(F32)
    return requant(acc.astype(np.int32), scale.reshape(1, N), yz, dt)


def ref_avgpool(x, xs, xz, ys, yz, k, s, pads, dt, include_pad=False):
    N, C, H, W = x.shape
    OH = (H + pads[0] + pads[2] - k[0]) // s[0] + 1
    OW = (W + pads[1] + pads[3] - k[1]) // s[1] + 1
    y = np.zeros((N, C, OH, OW), dt)
    ratio = float(F32(xs)) / float(F32(ys))
    for oh in range(OH):
        for ow in range(OW):
            h0, w0 = oh * s[0] - pads[0], ow * s[1] - pads[1]
            hl, wl = max(h0, 0), max(w0, 0)
            hh, wh = min(h0 + k[0], H), min(w0 + k[1], W)
            if include_pad:
                cnt = (min(h0 + k[0], H + pads[2]) - h0) * (min(w0 + k[1], W + pads[3]) - w0)
            else:
                cnt = (hh - hl) * (wh - wl)
            ssum = x[:, :, hl:hh, wl:wh].astype(np.int64).sum(axis=(2, 3))
            if SEM == "tflite" and F32(xs) == F32(ys) and xz == yz:
                # TFLite AVERAGE_POOL: integer mean rounded half away from zero.
                v = np.where(ssum > 0, (ssum + cnt // 2) // cnt, -((-ssum + cnt // 2) // cnt))
                y[:, :, oh, ow] = sat(v, dt)
                continue
            v = np.rint((ssum - cnt * xz).astype(np.float64) * ratio / cnt) + yz
            y[:, :, oh, ow] = sat(v, dt)
    return y


def ref_maxpool(x, k, s):
    N, C, H, W = x.shape
    OH, OW = (H - k) // s + 1, (W - k) // s + 1
    y = np.zeros((N, C, OH, OW), x.dtype)
    for oh in range(OH):
        for ow in range(OW):
            y[:, :, oh, ow] = x[:, :, oh * s:oh * s + k, ow * s:ow * s + k].max(axis=(2, 3))
    return y


def ref_add(a, as_, az, b, bs, bz, ys, yz, dt):
    if SEM == "tflite":
        tm = 2.0 * max(float(F32(as_)), float(F32(bs)))
        ma, sa = tfl_quantize_multiplier(float(F32(as_)) / tm)
        mb, sb = tfl_quantize_multiplier(float(F32(bs)) / tm)
        my, sy = tfl_quantize_multiplier(tm / (2.0**20 * float(F32(ys))))
        va = tfl_mbqm((a.astype(np.int64) - az) << 20, ma, sa)
        vb = tfl_mbqm((b.astype(np.int64) - bz) << 20, mb, sb)
        return sat(tfl_mbqm(va + vb, my, sy) + yz, dt)
    va = (F32(as_) * (a.astype(np.int32) - az).astype(F32)).astype(F32)
    vb = (F32(bs) * (b.astype(np.int32) - bz).astype(F32)).astype(F32)
    return sat(np.rint(((va + vb).astype(F32) / F32(ys)).astype(F32)).astype(np.float64) + yz, dt)


def ref_softmax(x, xs, xz, ys, yz, dt):
    if SEM == "tflite" and dt == np.int8 and F32(ys) == F32(1.0 / 256) and yz == -128:
        rows = x.reshape(-1, x.shape[-1])
        return np.stack([tfl_softmax_row(r, xs) for r in rows]).reshape(x.shape)
    d = (F32(xs) * (x.astype(np.int32) - x.max(axis=-1, keepdims=True)).astype(F32)).astype(F32)
    e = np.exp(d).astype(F32)
    p = (e * (F32(1) / e.sum(axis=-1, keepdims=True, dtype=F32))).astype(F32)
    return sat(np.rint((p / F32(ys)).astype(F32)).astype(np.float64) + yz, dt)


# ---------------------------------------------------------------- models
def qrand(shape, dt, lo=None, hi=None):
    info = np.iinfo(dt)
    return rng.integers(info.min if lo is None else lo, (info.max if hi is None else hi) + 1, size=shape).astype(dt)


def model_cnn():
    """int8: Conv(per-channel, int32 bias)+Relu -> MaxPool -> depthwise Conv
    (float bias) + Clip(non-trivial clamp) -> GlobalAveragePool -> Flatten ->
    Gemm(transB=1, int32 bias) -> Softmax."""
    b = Builder("qdq_cnn")
    i8 = np.int8
    x = qrand((1, 3, 10, 10), i8)
    xs, xz = 0.05, np.array(-3, i8)
    # conv1: 8x3x3x3 per-channel, pads 1
    w1 = qrand((8, 3, 3, 3), i8, -127, 127)
    w1s = (rng.uniform(0.002, 0.02, 8)).astype(F32)
    b1 = rng.integers(-500, 500, 8).astype(np.int32)
    y1s, y1z = 0.04, np.array(-128, i8)
    t = b.dq("input", xs, xz)
    w = b.dq(b.const("w", w1), w1s, np.zeros(8, i8), axis=0)
    bb = b.dq(b.const("b", b1), (F32(xs) * w1s).astype(F32), np.zeros(8, np.int32), axis=0)
    t = b.node("Conv", [t, w, bb], pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    t = b.node("Relu", [t])
    t = b.q(t, y1s, y1z)
    r1 = ref_conv(x, xs, -3, w1, w1s, 0, y1s, -128, b1, 1, [1, 1, 1, 1], [1, 1], i8,
                  quant_real(0.0, y1s, -128, i8), 127)
    # maxpool 2x2 (same parameters)
    t = b.q(b.node("MaxPool", [b.dq(t, y1s, y1z)], kernel_shape=[2, 2], strides=[2, 2]), y1s, y1z)
    r2 = ref_maxpool(r1, 2, 2)
    # depthwise conv 3x3, stride 1, pads 1, float bias, Clip(0, 3) with y zero point 5
    w2 = qrand((8, 1, 3, 3), i8, -127, 127)
    w2s = (rng.uniform(0.005, 0.03, 8)).astype(F32)
    b2f = rng.uniform(-0.5, 0.5, 8).astype(F32)
    y2s, y2z = 0.03, np.array(5, i8)
    t = b.dq(t, y1s, y1z)
    w = b.dq(b.const("w", w2), w2s, np.zeros(8, i8), axis=0)
    t = b.node("Conv", [t, w, b.const("bf", b2f)], pads=[1, 1, 1, 1], group=8, kernel_shape=[3, 3])
    t = b.node("Clip", [t, b.const("lo", np.array(0.0, F32)), b.const("hi", np.array(3.0, F32))])
    t = b.q(t, y2s, y2z)
    b2q = np.rint(b2f.astype(np.float64) / (F32(y1s) * w2s).astype(F32).astype(np.float64)).astype(np.int32)
    r3 = ref_conv(r2, y1s, -128, w2, w2s, 0, y2s, 5, b2q, 8, [1, 1, 1, 1], [1, 1], i8,
                  quant_real(0.0, y2s, 5, i8), quant_real(3.0, y2s, 5, i8))
    # global average pool
    y3s, y3z = 0.02, np.array(-20, i8)
    t = b.q(b.node("GlobalAveragePool", [b.dq(t, y2s, y2z)]), y3s, y3z)
    r4 = ref_avgpool(r3, y2s, 5, y3s, -20, [5, 5], [1, 1], [0, 0, 0, 0], i8)
    # flatten
    t = b.q(b.node("Flatten", [b.dq(t, y3s, y3z)], axis=1), y3s, y3z)
    r5 = r4.reshape(1, 8)
    # gemm 8 -> 6, transB
    w3 = qrand((6, 8), i8, -127, 127)
    w3s = F32(0.01)
    b3 = rng.integers(-300, 300, 6).astype(np.int32)
    y4s, y4z = 0.1, np.array(3, i8)
    w = b.dq(b.const("w", w3), w3s, np.array(0, i8))
    bb = b.dq(b.const("b", b3), F32(F32(y3s) * w3s), np.array(0, np.int32))
    t = b.q(b.node("Gemm", [b.dq(t, y3s, y3z), w, bb], transB=1), y4s, y4z)
    r6 = ref_gemm(r5, y3s, -20, w3, w3s, 0, y4s, 3, b3, i8)
    # softmax
    ys, yz = 1.0 / 256, np.array(-128, i8)
    t = b.q(b.node("Softmax", [b.dq(t, y4s, y4z)], axis=-1), ys, yz)
    r7 = ref_softmax(r6, y4s, 3, ys, -128, i8)
    return b.model(t, TensorProto.INT8, [1, 3, 10, 10], t, TensorProto.INT8, [1, 6]), x, r7


def model_residual_u8():
    """uint8: Conv 1x1 (per-tensor weights, no bias) -> Add(residual) ->
    AveragePool 3x3/2 pads 1 (count_include_pad 0) -> Reshape -> Gemm(transB=0)."""
    b = Builder("qdq_residual_u8")
    u8 = np.uint8
    x = qrand((1, 4, 6, 6), u8)
    xs, xz = 0.03, 128
    w1 = qrand((4, 4, 1, 1), u8)
    w1s, w1z = F32(0.01), 120
    y1s, y1z = 0.05, 100
    t0 = b.dq("input", xs, np.array(xz, u8))
    w = b.dq(b.const("w", w1), w1s, np.array(w1z, u8))
    t = b.q(b.node("Conv", [t0, w], kernel_shape=[1, 1]), y1s, np.array(y1z, u8))
    r1 = ref_conv(x, xs, xz, w1, w1s, w1z, y1s, y1z, None, 1, [0, 0, 0, 0], [1, 1], u8)
    y2s, y2z = 0.06, 90
    t = b.q(b.node("Add", [b.dq(t, y1s, np.array(y1z, u8)), t0]), y2s, np.array(y2z, u8))
    r2 = ref_add(r1, y1s, y1z, x, xs, xz, y2s, y2z, u8)
    y3s, y3z = 0.045, 80
    t = b.q(b.node("AveragePool", [b.dq(t, y2s, np.array(y2z, u8))], kernel_shape=[3, 3], strides=[2, 2],
                   pads=[1, 1, 1, 1]), y3s, np.array(y3z, u8))
    r3 = ref_avgpool(r2, y2s, y2z, y3s, y3z, [3, 3], [2, 2], [1, 1, 1, 1], u8)
    t = b.q(b.node("Reshape", [b.dq(t, y3s, np.array(y3z, u8)), b.const("shape", np.array([1, 36], np.int64))]),
            y3s, np.array(y3z, u8))
    r4 = r3.reshape(1, 36)
    w2 = qrand((36, 5), u8)  # [K, N], transB = 0, per-column scales
    w2s = rng.uniform(0.002, 0.01, 5).astype(F32)
    w2z = qrand((5,), u8, 100, 150)
    b2f = rng.uniform(-1, 1, 5).astype(F32)
    ys, yz = 0.07, 128
    w = b.dq(b.const("w", w2), w2s, w2z, axis=1)
    t = b.q(b.node("Gemm", [b.dq(t, y3s, np.array(y3z, u8)), w, b.const("bf", b2f)]), ys, np.array(yz, u8))
    b2q = np.rint(b2f.astype(np.float64) / (F32(y3s) * w2s).astype(F32).astype(np.float64)).astype(np.int32)
    r5 = ref_gemm(r4, y3s, y3z, w2.T.copy(), w2s, w2z, ys, yz, b2q, u8)
    return b.model(t, TensorProto.UINT8, [1, 4, 6, 6], t, TensorProto.UINT8, [1, 5]), x, r5


def model_tflite_ops():
    """int8, the shapes TFLite int8 models have: AveragePool 3x3/2 pads 1 with
    the same input and output quantization -> Conv 1x1 (per-channel, bias) ->
    Add(pool, conv) with different scales -> Softmax over the last axis with
    output scale 1/256, zero point -128."""
    b = Builder("qdq_tflite_ops")
    i8 = np.int8
    x = qrand((1, 4, 7, 7), i8)
    xs, xz = 0.07, -10
    t0 = b.dq("input", xs, np.array(xz, i8))
    p = b.q(b.node("AveragePool", [t0], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), xs, np.array(xz, i8))
    r1 = ref_avgpool(x, xs, xz, xs, xz, [3, 3], [2, 2], [1, 1, 1, 1], i8)
    w1 = qrand((4, 4, 1, 1), i8, -127, 127)
    w1s = rng.uniform(0.005, 0.02, 4).astype(F32)
    b1 = rng.integers(-400, 400, 4).astype(np.int32)
    y1s, y1z = 0.045, 7
    w = b.dq(b.const("w", w1), w1s, np.zeros(4, i8), axis=0)
    bb = b.dq(b.const("b", b1), (F32(xs) * w1s).astype(F32), np.zeros(4, np.int32), axis=0)
    c = b.q(b.node("Conv", [b.dq(p, xs, np.array(xz, i8)), w, bb], kernel_shape=[1, 1]), y1s, np.array(y1z, i8))
    r2 = ref_conv(r1, xs, xz, w1, w1s, 0, y1s, y1z, b1, 1, [0, 0, 0, 0], [1, 1], i8)
    y2s, y2z = 0.09, -3
    a = b.q(b.node("Add", [b.dq(p, xs, np.array(xz, i8)), b.dq(c, y1s, np.array(y1z, i8))]), y2s, np.array(y2z, i8))
    r3 = ref_add(r1, xs, xz, r2, y1s, y1z, y2s, y2z, i8)
    ys, yz = 1.0 / 256, np.array(-128, i8)
    t = b.q(b.node("Softmax", [b.dq(a, y2s, np.array(y2z, i8))], axis=-1), ys, yz)
    r4 = ref_softmax(r3, y2s, y2z, ys, -128, i8)
    return b.model(t, TensorProto.INT8, [1, 4, 7, 7], t, TensorProto.INT8, [1, 4, 4, 4]), x, r4


MODELS = {"qdq_cnn": model_cnn, "qdq_residual_u8": model_residual_u8, "qdq_tflite_ops": model_tflite_ops}


def model_residual_i8():
    """int8 residual block (fused by fuse-int8-residual-add): Conv 3x3 on 3
    channels (K = 27, not a multiple of 4; 5 output channels, an odd count;
    5x5 output, an odd pixel count) + Relu, Conv 3x3 5 -> 4 channels (K = 45),
    Add with the skip (a 1x1 projection Conv of the input), Flatten, then FC
    100 -> 6 (packed 4-row blocks plus 2 tail rows) and 6 -> 4."""
    b = Builder("qdq_residual_i8")
    i8 = np.int8
    x = qrand((1, 3, 5, 5), i8)
    xs, xz = 0.04, -7
    t0 = b.dq("input", xs, np.array(xz, i8))

    def conv(t, tin, ts, tz, cin, cout, k, pads, ys, yz, relu=False):
        w = qrand((cout, cin, k, k), i8, -127, 127)
        ws = rng.uniform(0.004, 0.02, cout).astype(F32)
        bias = rng.integers(-400, 400, cout).astype(np.int32)
        wd = b.dq(b.const("w", w), ws, np.zeros(cout, i8), axis=0)
        bd = b.dq(b.const("b", bias), (F32(ts) * ws).astype(F32), np.zeros(cout, np.int32), axis=0)
        out = b.node("Conv", [t, wd, bd], pads=pads, kernel_shape=[k, k])
        if relu:
            out = b.node("Relu", [out])
        out = b.q(out, ys, np.array(yz, i8))
        lo = quant_real(0.0, ys, yz, i8) if relu else None
        r = ref_conv(tin, ts, tz, w, ws, 0, ys, yz, bias, 1, pads, [1, 1], i8, lo, 127 if relu else None)
        return out, r

    c1, r1 = conv(t0, x, xs, xz, 3, 5, 3, [1, 1, 1, 1], 0.05, -128, relu=True)
    c2, r2 = conv(b.dq(c1, 0.05, np.array(-128, i8)), r1, 0.05, -128, 5, 4, 3, [1, 1, 1, 1], 0.06, 4)
    sk, rs = conv(t0, x, xs, xz, 3, 4, 1, [0, 0, 0, 0], 0.03, -2)
    ys, yz = 0.07, -10
    t = b.q(b.node("Add", [b.dq(c2, 0.06, np.array(4, i8)), b.dq(sk, 0.03, np.array(-2, i8))]), ys, np.array(yz, i8))
    r3 = ref_add(r2, 0.06, 4, rs, 0.03, -2, ys, yz, i8)
    t = b.q(b.node("Flatten", [b.dq(t, ys, np.array(yz, i8))], axis=1), ys, np.array(yz, i8))
    out = r3.reshape(1, 100)
    prev_s, prev_z = ys, yz
    for n_out, fs, fz in ((6, 0.09, 3), (4, 0.2, -1)):
        w = qrand((n_out, out.shape[1]), i8, -127, 127)
        wsc = F32(0.006)
        bias = rng.integers(-300, 300, n_out).astype(np.int32)
        wd = b.dq(b.const("w", w), wsc, np.array(0, i8))
        bd = b.dq(b.const("b", bias), F32(F32(prev_s) * wsc), np.array(0, np.int32))
        t = b.q(b.node("Gemm", [b.dq(t, prev_s, np.array(prev_z, i8)), wd, bd], transB=1), fs, np.array(fz, i8))
        out = ref_gemm(out, prev_s, prev_z, w, wsc, 0, fs, fz, bias, i8)
        prev_s, prev_z = fs, fz
    return b.model(t, TensorProto.INT8, [1, 3, 5, 5], t, TensorProto.INT8, [1, 4]), x, out


MODELS["qdq_residual_i8"] = model_residual_i8


def main():
    global SEM, rng
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for sem, suffix in (("onnx", ".expected.npy"), ("tflite", ".expected_tflite.npy")):
        # The same models and inputs for both semantics: only the goldens differ.
        SEM = sem
        rng = np.random.default_rng(SEED)
        for name, fn in MODELS.items():
            m, x, y = fn()
            onnx.save(m, os.path.join(out, name + ".onnx"))
            np.save(os.path.join(out, name + ".input.npy"), x)
            np.save(os.path.join(out, name + suffix), y)
            print(name, sem, "output", y.ravel().tolist())


if __name__ == "__main__":
    main()

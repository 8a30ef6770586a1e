#!/usr/bin/env python3
"""Builds small QDQ (QuantizeLinear/DequantizeLinear) int8/uint8 models with
onnx + numpy, with golden outputs from a numpy implementation of ONNX
Runtime's integer semantics (int32 accumulation; requantization in float32:
float(acc) * (x_scale * w_scale / y_scale), round half to even, + zero
point, saturate).

usage: make_qdq_models.py OUTDIR   -> OUTDIR/<name>.onnx, .input.npy, .expected.npy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
rng = np.random.default_rng(20240611)


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
    y = requant(acc, scale, yz, dt)
    if lo is not None:
        y = np.clip(y, lo, hi).astype(dt)
    return y


def ref_gemm(a, as_, az, bNK, bs, bz, ys, yz, bias, dt):
    acc = (a.astype(np.int64) - az) @ (bNK.astype(np.int64) - np.reshape(bz, (-1, 1))).T
    if bias is not None:
        acc += bias.reshape(1, -1)
    N = bNK.shape[0]
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
    va = (F32(as_) * (a.astype(np.int32) - az).astype(F32)).astype(F32)
    vb = (F32(bs) * (b.astype(np.int32) - bz).astype(F32)).astype(F32)
    return sat(np.rint(((va + vb).astype(F32) / F32(ys)).astype(F32)).astype(np.float64) + yz, dt)


def ref_softmax(x, xs, xz, ys, yz, dt):
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


MODELS = {"qdq_cnn": model_cnn, "qdq_residual_u8": model_residual_u8}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    for name, fn in MODELS.items():
        m, x, y = fn()
        onnx.save(m, os.path.join(out, name + ".onnx"))
        np.save(os.path.join(out, name + ".input.npy"), x)
        np.save(os.path.join(out, name + ".expected.npy"), y)
        print(name, "output", y.ravel().tolist())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""End-to-end post-training quantization on a model trained on real data.

samples/digits/digits.onnx (a small CNN trained on scikit-learn's digits) is
quantized with `tmc quantize` on its bundled calibration folder, then the float
and the int8 model are run on the held-out test set (360 images)
  - through ONNX Runtime (scripts/ort_run.js, the whole batch at once), and
  - through tmc's generated C on the host (one NAME_run call per image),
and the test asserts:
  - int8 accuracy >= float accuracy - 1 point, for ONNX Runtime and for tmc's C;
  - tmc lowers the QDQ model to integer kernels (no warning, no float
    Conv/Gemm/MatMul in `tmc inspect`) and its int8 logits match ORT's;
  - int8 weights (NAME.report.json, weights_bytes) <= 0.27 x the float model's;
  - the dynamic mode (--mode dynamic) compiles and matches ORT per sample;
  - `tmc compile --quantize int8 --calibration DIR` gives the same C as
    quantizing first, and bad calibration data fails with exit code 3.

Usage: test_digits.py --tmc build/compiler/tmc [--source-dir .] [--keep DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def run(cmd, expect=0, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if expect is not None and p.returncode != expect:
        print("$ " + " ".join(cmd))
        print(p.stdout[-4000:])
        print(p.stderr[-4000:])
        raise SystemExit(f"command exited {p.returncode}, expected {expect}: {' '.join(cmd[:3])} ...")
    return p


def ort(src, model, out_dir, *inputs):
    run(["node", os.path.join(src, "scripts", "ort_run.js"), model, out_dir, *inputs])
    return np.load(os.path.join(out_dir, "0.npy"))


def build_runner(tmc, src, work, model, name, extra=()):
    out = os.path.join(work, name)
    p = run([tmc, "compile", model, "-o", out, "--name", name, "--input-shape", "input=1x1x8x8", *extra])
    check("tmc: warning" not in p.stderr, f"{name}: tmc compile prints no warning")
    exe = os.path.join(out, "run")
    cc = os.environ.get("CC", "cc")
    run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{out}",
         f"-DTMC_MODEL_HEADER=\"{name}.h\"", f"-DTMC_PREFIX={name}", f"-DTMC_PREFIX_UPPER={name.upper()}",
         os.path.join(src, "test", "quantize", "run_digits.c"), os.path.join(out, f"{name}.c"), "-lm", "-o", exe])
    with open(os.path.join(out, f"{name}.report.json")) as f:
        report = json.load(f)
    return exe, report, p


def run_c(exe, x, work, tag):
    fin, fout = os.path.join(work, f"{tag}.in.f32"), os.path.join(work, f"{tag}.out.f32")
    x.astype(np.float32).tofile(fin)
    run([exe, fin, fout])
    return np.fromfile(fout, dtype=np.float32).reshape(len(x), -1)


def acc(logits, y):
    return float((logits.argmax(1) == y).mean() * 100.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmc", required=True)
    ap.add_argument("--source-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--keep", help="keep the work folder here")
    a = ap.parse_args()
    tmc, src = os.path.abspath(a.tmc), os.path.abspath(a.source_dir)
    sample = os.path.join(src, "samples", "digits")
    fmodel, cal = os.path.join(sample, "digits.onnx"), os.path.join(sample, "calibration")
    work = a.keep or tempfile.mkdtemp(prefix="tmc-digits-")
    os.makedirs(work, exist_ok=True)
    t0 = time.time()
    try:
        data = np.load(os.path.join(sample, "digits_test.npy"))
        x = (data[:, :64].astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
        y = data[:, 64].astype(np.int64)
        xfile = os.path.join(work, "test_x.npy")
        np.save(xfile, x)

        # ---- static int8
        qmodel, rep = os.path.join(work, "digits.int8.onnx"), os.path.join(work, "quant.json")
        p = run([tmc, "quantize", fmodel, "--calibration", cal, "-o", qmodel, "--report", rep])
        print(p.stdout)
        check("calibrate [" in p.stderr and "100/100" in p.stderr, "progress bar on stderr")
        check("tmc: warning" not in p.stderr, "tmc quantize prints no warning")
        with open(rep) as f:
            report = json.load(f)
        acts = [t for t in report["tensors"] if t["kind"] == "activation"]
        weights = [t for t in report["tensors"] if t["kind"] == "weight"]
        check(report["calibration"]["samples"] == 100 and len(acts) >= 5 and len(weights) == 4,
              f"report: {len(acts)} activations, {len(weights)} weights over 100 samples")
        check(all(t["snr_db"] > 10 and t["cosine"] > 0.95 for t in report["tensors"]),
              "report: every tensor SNR > 10 dB, cosine > 0.95: " +
              ", ".join(f"{t['name']} {t['snr_db']:.1f}" for t in report["tensors"]))
        check(all(-128 <= t["zero_point"][0] <= 127 and t["range"][0] <= 0 <= t["range"][1] for t in acts),
              "report: activation zero points int8, ranges contain 0")

        f_ort = ort(src, fmodel, os.path.join(work, "ort_f"), xfile)
        q_ort = ort(src, qmodel, os.path.join(work, "ort_q"), xfile)
        f_exe, f_rep, _ = build_runner(tmc, src, work, fmodel, "digits_f")
        q_exe, q_rep, _ = build_runner(tmc, src, work, qmodel, "digits_q")
        f_c, q_c = run_c(f_exe, x, work, "f"), run_c(q_exe, x, work, "q")

        af_ort, aq_ort, af_c, aq_c = acc(f_ort, y), acc(q_ort, y), acc(f_c, y), acc(q_c, y)
        print(f"accuracy on {len(y)} test images: float ORT {af_ort:.2f}%, int8 ORT {aq_ort:.2f}%, "
              f"float tmc C {af_c:.2f}%, int8 tmc C {aq_c:.2f}%")
        check(af_ort > 90.0, f"float model is trained (ORT accuracy {af_ort:.2f}%)")
        check(np.abs(f_c - f_ort).max() < 1e-4 * max(1.0, np.abs(f_ort).max()), "float: tmc C matches ORT")
        check(aq_ort >= af_ort - 1.0, f"int8 ORT accuracy {aq_ort:.2f}% >= float {af_ort:.2f}% - 1")
        check(aq_c >= af_c - 1.0, f"int8 tmc C accuracy {aq_c:.2f}% >= float {af_c:.2f}% - 1")
        # ORT without graph optimisations runs the QDQ ops literally (float
        # math between fake quantizations): within one output step of tmc.
        out_scale = [t for t in acts if t["name"] == "logits"][0]["scale"][0]
        diff = np.abs(q_c - q_ort).max()
        check(diff <= out_scale * 1.01, f"int8: tmc C logits within one step of ORT's QDQ run (max diff {diff:.3g}, "
              f"step {out_scale:.3g})")
        # With its optimisations ORT fuses the QDQ pairs into integer kernels:
        # tmc follows its integer arithmetic, so the logits are bit-exact.
        os.environ["TMC_ORT_OPT"] = "1"
        try:
            q_ort_int = ort(src, qmodel, os.path.join(work, "ort_q_int"), xfile)
        finally:
            del os.environ["TMC_ORT_OPT"]
        aq_ort_int = acc(q_ort_int, y)
        check(np.array_equal(q_c, q_ort_int), "int8: tmc C logits == ORT integer kernels (bit-exact), accuracy "
              f"{aq_ort_int:.2f}%")

        ins = run([tmc, "inspect", qmodel, "--input-shape", "input=1x1x8x8"])
        ops = [line.split()[1] for line in ins.stdout.splitlines()[1:] if line[:1].isdigit()]
        check(not any(o in ("Conv", "Gemm", "MatMul") for o in ops) and "QLinearConv" in ops,
              "tmc inspect: integer kernels only (" + " ".join(ops) + ")")
        check("tmc: warning" not in ins.stderr, "tmc inspect prints no warning")

        fw, qw = f_rep["weights_bytes"], q_rep["weights_bytes"]
        print(f"weights (flash): float {fw} B, int8 {qw} B, ratio {qw / fw:.4f}")
        check(qw <= 0.27 * fw, f"int8 weights {qw} B <= 0.27 x float {fw} B")

        # ---- the other calibration methods
        for method in ("percentile", "mse"):
            mm = os.path.join(work, f"digits.{method}.onnx")
            run([tmc, "quantize", fmodel, "--calibration", cal, "--calibrate", method, "-o", mm])
            am = acc(ort(src, mm, os.path.join(work, f"ort_{method}"), xfile), y)
            print(f"--calibrate {method}: int8 ORT accuracy {am:.2f}%")
            check(am >= af_ort - 1.0, f"--calibrate {method}: int8 ORT accuracy {am:.2f}% >= float {af_ort:.2f}% - 1")

        # ---- one step: compile --quantize int8 gives the same code.
        one = os.path.join(work, "one")
        p = run([tmc, "compile", fmodel, "-o", one, "--name", "digits_q", "--input-shape", "input=1x1x8x8",
                 "--quantize", "int8", "--calibration", cal])
        check("tmc: warning" not in p.stderr, "compile --quantize: no warning")
        with open(os.path.join(one, "digits_q.c")) as f1, open(os.path.join(work, "digits_q", "digits_q.c")) as f2:
            # The first line names the source file (digits.onnx vs digits.int8.onnx).
            check(f1.read().split("\n", 1)[1] == f2.read().split("\n", 1)[1],
                  "compile --quantize int8 == quantize then compile")

        # ---- dynamic: int8 weights, activations quantized at run time.
        dmodel = os.path.join(work, "digits.dyn.onnx")
        run([tmc, "quantize", fmodel, "--mode", "dynamic", "-o", dmodel])
        d_exe, d_rep, _ = build_runner(tmc, src, work, dmodel, "digits_d")
        d_c = run_c(d_exe, x, work, "d")
        ad_c = acc(d_c, y)
        print(f"dynamic: tmc C accuracy {ad_c:.2f}%, weights {d_rep['weights_bytes']} B")
        check(ad_c >= af_c - 1.0, f"dynamic tmc C accuracy {ad_c:.2f}% >= float {af_c:.2f}% - 1")
        # DynamicQuantizeLinear scales over the whole tensor: compare per sample.
        worst = 0.0
        for i in range(0, len(x), 72):
            xi = os.path.join(work, f"x{i}.npy")
            np.save(xi, x[i:i + 1])
            d_ort = ort(src, dmodel, os.path.join(work, f"ort_d{i}"), xi)
            worst = max(worst, float(np.abs(d_ort - d_c[i:i + 1]).max() / max(1.0, np.abs(d_ort).max())))
        check(worst < 1e-4, f"dynamic: tmc C matches ORT per sample (worst relative diff {worst:.2g})")

        # ---- errors: bad calibration data -> exit 3, nothing written.
        bad = os.path.join(work, "badcal")
        os.makedirs(bad, exist_ok=True)
        np.save(os.path.join(bad, "a.npy"), np.zeros((1, 8, 8), np.float32))
        out = os.path.join(work, "bad.onnx")
        p = run([tmc, "quantize", fmodel, "--calibration", bad, "-o", out], expect=None)
        check(p.returncode == 3 and "does not match the model input 'input'" in p.stderr and not os.path.exists(out),
              f"mismatched calibration shape: exit {p.returncode}: {p.stderr.strip()}")
        p = run([tmc, "quantize", fmodel, "--calibration", os.path.join(work, "nope"), "-o", out], expect=None)
        check(p.returncode == 3 and "does not exist" in p.stderr, f"missing calibration folder: exit {p.returncode}")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{time.time() - t0:.1f} s")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

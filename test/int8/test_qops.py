#!/usr/bin/env python3
"""End-to-end check of the int8 ops of quantize-folding (Mul, table ops,
ConvTranspose, GlobalMaxPool) and lower-qoperator (com.microsoft QLinear*):
builds the models of make_qops_models.py, then for each one
  * runs ONNX Runtime (scripts/ort_run.js) for the golden outputs and requires
    tmc's outputs (default semantics) to equal them bit for bit, or to be
    within the per-output tolerance the generator declares (1 LSB where tmc's
    documented integer arithmetic differs from ONNX Runtime's float one),
  * requires `--int8-semantics tflite` to equal the numpy model of TFLite's
    arithmetic exactly,
  * requires no "tmc: warning:" (no float islands) and no float, QDQ or
    com.microsoft op left in `tmc inspect`.
Exit 77 when node or onnxruntime-node is missing (scripts/setup.sh installs it).

usage: test_qops.py --tmc PATH/TO/tmc [--keep DIR]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(ROOT, "scripts", "ort_run.js")
FLOAT_OPS = r"\b(Conv|ConvTranspose|Gemm|MatMul|Mul|Add|Sigmoid|Tanh|HardSwish|HardSigmoid|LeakyRelu|Relu|Clip|" \
            r"QuantizeLinear|DequantizeLinear|QLinear\w+)\b"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmc", required=True)
    ap.add_argument("--keep", help="keep the models and outputs in this folder")
    args = ap.parse_args()
    if not shutil.which("node"):
        print("test_qops: node is not installed (scripts/setup.sh installs it)")
        return 77
    d = args.keep or tempfile.mkdtemp(prefix="tmc-qops-")
    os.makedirs(d, exist_ok=True)
    failures, names = 0, []
    try:
        subprocess.run([sys.executable, os.path.join(HERE, "make_qops_models.py"), d], check=True,
                       stdout=subprocess.DEVNULL)
        names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".onnx"))
        for name in names:
            base = os.path.join(d, name)
            meta = json.load(open(base + ".json"))
            ins = [f"{base}.in{k}.npy" for k in range(meta["inputs"])]
            msgs = []
            # ONNX Runtime golden outputs
            ort_dir = base + ".ort"
            r = run(["node", ORT_RUN, base + ".onnx", ort_dir] + ins)
            if r.returncode != 0:
                if "Cannot find module" in r.stderr:
                    print("test_qops: onnxruntime-node is not installed (scripts/setup.sh installs it)")
                    return 77
                msgs.append("onnxruntime failed: " + r.stderr.strip()[-300:])
            else:
                ort = [np.load(os.path.join(ort_dir, f"{j}.npy")) for j in range(meta["outputs"])]
                keep = base + ".tmc"
                cmd = [args.tmc, "verify", base + ".onnx", "--keep", keep, "--quiet"]
                for f in ins:
                    cmd += ["--input", f]
                for j in range(meta["outputs"]):
                    cmd += ["--expected", os.path.join(ort_dir, f"{j}.npy")]
                r = run(cmd)
                if r.returncode not in (0, 1):
                    msgs.append(f"verify failed (exit {r.returncode}): " + (r.stdout + r.stderr).strip()[-400:])
                else:
                    if "tmc: warning:" in r.stderr:
                        msgs.append("warnings: " + " | ".join(l for l in r.stderr.splitlines() if "warning" in l))
                    for j, want in enumerate(ort):
                        got = np.fromfile(os.path.join(keep, f"out{j}.bin"), dtype=want.dtype).reshape(want.shape)
                        if want.dtype.kind == "f":  # a dequantized output: equal or not
                            diff = (got != want).astype(np.int32) * (meta["tolerance"][j] + 1)
                        else:
                            diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
                        tol = meta["tolerance"][j]
                        if diff.max(initial=0) > tol:
                            msgs.append(f"output {j}: {int((diff > tol).sum())} of {diff.size} elements differ from "
                                        f"ONNX Runtime by more than {tol} (max {int(diff.max())})")
                        elif tol == 0 and diff.any():
                            msgs.append(f"output {j}: not bit exact")
            # TFLite semantics against the numpy model (or, without one, it must compile and run)
            cmd = [args.tmc, "verify", base + ".onnx", "--int8-semantics", "tflite", "--quiet"]
            for f in ins:
                cmd += ["--input", f]
            for j in range(meta["outputs"]):
                golden = f"{base}.tflite{j}.npy" if meta["tflite_golden"] else os.path.join(ort_dir, f"{j}.npy")
                cmd += ["--expected", golden]
            r = run(cmd)
            if r.returncode != 0 and (meta["tflite_golden"] or r.returncode != 1):
                msgs.append("verify --int8-semantics tflite failed: " + (r.stdout + r.stderr).strip()[-600:])
            ins_out = run([args.tmc, "inspect", base + ".onnx"])
            left = sorted(set(re.findall(FLOAT_OPS, ins_out.stdout)) - set(meta.get("allowed_ops", [])))
            if ins_out.returncode != 0:
                msgs.append("inspect failed: " + ins_out.stderr.strip()[-300:])
            elif left:
                msgs.append("float/QDQ/QOperator ops left: " + ", ".join(left))
            print(f"{name}: {'ok' if not msgs else 'FAIL'}")
            for m in msgs:
                print("  " + m)
            failures += bool(msgs)
    finally:
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
    print(f"{len(names) - failures}/{len(names)} int8 op models passed")
    return 1 if failures or not names else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""End-to-end check of int8 (QDQ) models: builds the models of
make_qdq_models.py in a temporary directory, then for each one
  * `tmc verify` must match the golden output exactly (integer outputs are
    compared exactly), and `tmc verify --int8-semantics tflite` the TFLite
    golden (numpy emulation of TFLite's integer kernels), and
  * `tmc inspect` must show no float Conv/Gemm/MatMul and no
    QuantizeLinear/DequantizeLinear left (every op was lowered to integer ops),
  * compilation must print no "tmc: warning:" (no float islands).

usage: test_qdq_models.py --tmc PATH/TO/tmc
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmc", required=True)
    ap.add_argument("--target", default="",
                    help="also verify on this emulated core (e.g. cortex-m4: the DSP assembly micro-kernels)")
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="tmc-int8-") as d:
        subprocess.run([sys.executable, os.path.join(HERE, "make_qdq_models.py"), d], check=True,
                       stdout=subprocess.DEVNULL)
        names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".onnx"))
        for name in names:
            base = os.path.join(d, name)
            msgs = []
            for sem, golden in (("onnx", ".expected.npy"), ("tflite", ".expected_tflite.npy")):
                for tgt in [""] + ([args.target] if args.target else []):
                    cmd = [args.tmc, "verify", base + ".onnx", "--input", base + ".input.npy", "--expected",
                           base + golden, "--int8-semantics", sem] + (["--target", tgt] if tgt else [])
                    r = subprocess.run(cmd, capture_output=True, text=True)
                    ok = r.returncode == 0 and "PASS" in r.stdout + r.stderr
                    if not ok:
                        msgs.append(f"verify ({sem}{', ' + tgt if tgt else ''}) failed: " +
                                    (r.stdout + r.stderr).strip().splitlines()[-1:][0])
            if "tmc: warning:" in r.stderr:
                msgs.append("warnings: " + " | ".join(l for l in r.stderr.splitlines() if "warning" in l))
            ins = subprocess.run([args.tmc, "inspect", base + ".onnx"], capture_output=True, text=True)
            left = sorted(set(re.findall(r"\b(Conv|Gemm|MatMul|QuantizeLinear|DequantizeLinear)\b", ins.stdout)))
            if ins.returncode != 0:
                msgs.append("inspect failed")
            elif left:
                msgs.append("float ops left: " + ", ".join(left))
            if name == "qdq_residual_i8" and "QLinearConvAdd" not in ins.stdout:
                msgs.append("the residual add was not fused into the convolution (no QLinearConvAdd)")
            print(f"{name}: {'ok' if not msgs else 'FAIL'}")
            for m in msgs:
                print("  " + m)
            failures += bool(msgs)
    print(f"{len(names) - failures}/{len(names)} int8 models passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

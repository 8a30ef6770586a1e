#!/usr/bin/env python3
"""Installs tmc into a temporary prefix, builds the native consumer project
(test/firmware/consumer) with find_package(tmc) + tmc_add_model, runs it and
compares with the golden outputs; checks that the generated code is rebuilt
when the model or tmc changes and not otherwise.
  test_package.py --build-dir BUILD --source-dir SRC [--keep DIR]"""
import argparse
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
from fwtest_util import compare, fail, have_generator, install, run


def touch_later(path):
    t = time.time() + 5
    os.utime(path, (t, t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="tmc-package-")
    os.makedirs(tmp, exist_ok=True)
    try:
        prefix = os.path.join(tmp, "prefix")
        install(a.build_dir, prefix)
        # Private copies of the models, so they can be touched.
        models = os.path.join(tmp, "models")
        os.makedirs(models, exist_ok=True)
        src_models = os.path.join(a.source_dir, "samples", "models")
        for f in ["mlp_ae.onnx", "mlp_ae.input.npy", "cnn_bn.onnx", "cnn_bn.input.npy"]:
            shutil.copy2(os.path.join(src_models, f), models)
        consumer = os.path.join(a.source_dir, "test", "firmware", "consumer")
        ok = True
        variants = [("Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"),
                    ("Unix Makefiles", f"-Dtmc_DIR={prefix}/lib/cmake/tmc")]
        for gen, how in variants:
            if not have_generator(gen):
                print(f"(no {gen}: variant skipped)")
                continue
            b = os.path.join(tmp, "build-" + gen.replace(" ", "-"))
            shutil.rmtree(b, ignore_errors=True)
            run(["cmake", "-S", consumer, "-B", b, "-G", gen, how, f"-DMODELS={models}"])
            run(["cmake", "--build", b, "-j", "2"])
            _, out = run([os.path.join(b, "consumer")])
            values = {"mlp": [], "cnn": []}
            for line in out.splitlines():
                m = re.match(r"(mlp|cnn) 0 (\d+) (\S+)$", line)
                if m:
                    values[m.group(1)].append(float(m.group(3)))
            ok &= compare(f"{gen}: mlp (mlp_ae)", values["mlp"], os.path.join(src_models, "mlp_ae.expected.npy"))
            ok &= compare(f"{gen}: cnn (cnn_bn)", values["cnn"], os.path.join(src_models, "cnn_bn.expected.npy"))
            if gen != "Ninja":
                continue
            # Dependencies: nothing to do; a model change reruns tmc for that
            # model only; a new tmc reruns it for both.
            _, out = run(["cmake", "--build", b, "-j", "2"])
            if "no work to do" not in out:
                print(out)
                ok = fail_soft("an up-to-date build did work")
            touch_later(os.path.join(models, "mlp_ae.onnx"))
            _, out = run(["cmake", "--build", b, "-j", "2"])
            if "-> mlp.c" not in out or "-> cnn.c" in out:
                print(out)
                ok = fail_soft("touching mlp_ae.onnx should regenerate mlp only")
            touch_later(os.path.join(prefix, "bin", "tmc"))
            _, out = run(["cmake", "--build", b, "-j", "2"])
            if "-> mlp.c" not in out or "-> cnn.c" not in out:
                print(out)
                ok = fail_soft("a newer tmc should regenerate both models")
        if not ok:
            fail("see above")
        print("PASS")
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def fail_soft(msg):
    print("FAIL: " + msg)
    return False


if __name__ == "__main__":
    main()

"""Shared helpers for the firmware integration tests."""
import os
import shutil
import subprocess
import sys

import numpy as np

SKIP = 77  # ctest SKIP_RETURN_CODE


def run(cmd, cwd=None, timeout=900, check=True, env=None):
    """Runs cmd, echoing it; returns (rc, combined output)."""
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout, env=env)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        print(out)
        raise SystemExit(f"FAIL: exit {p.returncode}: {' '.join(str(c) for c in cmd)}")
    return p.returncode, out


def have_generator(name):
    return shutil.which("ninja") is not None if name == "Ninja" else shutil.which("make") is not None


def compare(label, got, expected_path, rtol=1e-4, atol=1e-5):
    """Compares a list of floats with a float32 .npy file; returns True if close."""
    exp = np.load(expected_path).astype(np.float32).ravel()
    got = np.asarray(got, dtype=np.float32)
    if got.shape != exp.shape:
        print(f"{label}: MISMATCH: got {got.size} values, expected {exp.size}")
        return False
    bad = ~np.isclose(got, exp, rtol=rtol, atol=atol)
    worst = float(np.max(np.abs(got - exp))) if got.size else 0.0
    if bad.any():
        i = int(np.argmax(bad))
        print(f"{label}: MISMATCH in {int(bad.sum())} of {got.size}: [{i}] got {got[i]!r}, expected {exp[i]!r}")
        return False
    print(f"{label}: ok ({got.size} values, max abs err {worst:.3g})")
    return True


def install(build_dir, prefix):
    run(["cmake", "--install", build_dir, "--prefix", prefix])
    for f in ["bin/tmc", "lib/cmake/tmc/tmcConfig.cmake", "lib/cmake/tmc/TmcAddModel.cmake",
              "share/tmc/runtime-stubs/cortex-m/startup.c"]:
        if not os.path.exists(os.path.join(prefix, f)):
            raise SystemExit(f"FAIL: the install lacks {f}")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

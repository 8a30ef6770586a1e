#!/usr/bin/env python3
"""Cross-builds samples/firmware (two models in one image) with
samples/firmware/arm-none-eabi.cmake for the Cortex-M4 (mps2-an386), M7
(mps2-an500) and M33 (mps2-an505), runs each under qemu-system-arm and
compares the printed outputs with the golden .npy files.
Variants: tmc added with add_subdirectory + TMC_EXECUTABLE, and (with
--build-dir) find_package(tmc) from an installed prefix. Also checks that the
two model libraries define only symbols with their own prefix.
  test_sample_firmware.py --tmc TMC --source-dir SRC [--build-dir BUILD] [--keep DIR]
Exit 77 (skip) without arm-none-eabi-gcc or qemu-system-arm."""
import argparse
import os
import re
import shutil
import struct
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
from fwtest_util import SKIP, compare, fail, have_generator, install, run

LINE = re.compile(r"^\s*(net_[ab])\.(\w+)\[(\d+)\] = (\S+) \(0x([0-9a-f]{8})\)$")


def check_prefixes(build):
    ok = True
    for lib, prefix in [("libnet_a.a", "net_a_"), ("libnet_b.a", "net_b_")]:
        _, out = run(["arm-none-eabi-nm", "-g", "--defined-only", os.path.join(build, lib)])
        names = [l.split()[-1] for l in out.splitlines() if len(l.split()) == 3]
        bad = [n for n in names if not n.startswith(prefix)]
        if not names or bad:
            print(f"{lib}: external symbols without the '{prefix}' prefix: {bad or '(none defined)'}")
            ok = False
        else:
            print(f"{lib}: {len(names)} external symbols, all '{prefix}*'")
    return ok


CORES = [  # core, QEMU machine, cross-compiler flags
    ("cortex-m4", "mps2-an386", "-mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard"),
    ("cortex-m7", "mps2-an500", "-mthumb -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard"),
    ("cortex-m33", "mps2-an505", "-mthumb -mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard"),
]


def build_and_run(src, build, extra, gen, core=CORES[0]):
    shutil.rmtree(build, ignore_errors=True)
    sample = os.path.join(src, "samples", "firmware")
    name, machine, flags = core
    print(f"== {name} ({machine})")
    run(["cmake", "-S", sample, "-B", build, "-G", gen,
         f"-DCMAKE_TOOLCHAIN_FILE={os.path.join(sample, 'arm-none-eabi.cmake')}",
         f"-DTMC_ARM_CPU_FLAGS={flags}", f"-DTMC_SAMPLE_CORE={name}", f"-DTMC_SAMPLE_MACHINE={machine}"] + extra)
    run(["cmake", "--build", build, "-j", "2"])
    rc, out = run(["timeout", "60", "qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
                   "-serial", "null", "-semihosting-config", "enable=on,target=native",
                   "-kernel", os.path.join(build, "firmware.elf")], check=False)
    print(out)
    if rc != 0:
        print(f"FAIL: the firmware exited with {rc}" + (" (timeout)" if rc == 124 else ""))
        return False
    values = {"net_a": [], "net_b": []}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            values[m.group(1)].append(struct.unpack("<f", struct.pack("<I", int(m.group(5), 16)))[0])
    models = os.path.join(src, "samples", "models")
    ok = compare("net_a (cnn_bn)", values["net_a"], os.path.join(models, "cnn_bn.expected.npy"))
    ok &= compare("net_b (mlp_ae)", values["net_b"], os.path.join(models, "mlp_ae.expected.npy"))
    ok &= check_prefixes(build)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmc", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--build-dir")
    ap.add_argument("--keep")
    a = ap.parse_args()
    for tool in ["arm-none-eabi-gcc", "qemu-system-arm"]:
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (scripts/setup.sh installs it)")
            sys.exit(SKIP)
    gen = "Ninja" if have_generator("Ninja") else "Unix Makefiles"
    tmp = a.keep or tempfile.mkdtemp(prefix="tmc-fw-sample-")
    os.makedirs(tmp, exist_ok=True)
    try:
        ok = True
        for core in CORES:
            ok &= build_and_run(a.source_dir, os.path.join(tmp, "subdir-" + core[0]),
                                [f"-DTMC_EXECUTABLE={os.path.abspath(a.tmc)}"], gen, core)
        if a.build_dir:
            prefix = os.path.join(tmp, "prefix")
            install(a.build_dir, prefix)
            ok &= build_and_run(a.source_dir, os.path.join(tmp, "package"), [f"-DCMAKE_PREFIX_PATH={prefix}"], gen)
        if not ok:
            fail("see above")
        print("PASS")
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

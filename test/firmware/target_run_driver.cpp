// Test driver for compiler/target_run: compiles a model for each given core,
// runs it under QEMU through run_on_target and compares the outputs with
// golden .npy files (float32 with rtol/atol, other types exactly).
//   tmc_target_run_test MODEL.onnx --input X.npy... --expected Y.npy... CORE...
// Exit: 0 pass, 1 mismatch or failure, 77 cross tools missing (skip).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "compiler/driver.h"
#include "compiler/target_run.h"
#include "compiler/tensor_io.h"

namespace fs = std::filesystem;
using namespace tmc;

int main(int argc, char **argv) {
  std::string model;
  std::vector<std::string> ins, exps, cores;
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--input" && i + 1 < argc) ins.push_back(argv[++i]);
    else if (a == "--expected" && i + 1 < argc) exps.push_back(argv[++i]);
    else if (a == "--keep" && i + 1 < argc) keep = argv[++i];
    else if (model.empty()) model = a;
    else cores.push_back(a);
  }
  if (model.empty() || cores.empty()) {
    std::cerr << "usage: " << argv[0] << " MODEL --input X.npy... --expected Y.npy... [--keep DIR] CORE...\n";
    return 2;
  }
  if (std::system("arm-none-eabi-gcc --version >/dev/null 2>&1") != 0 ||
      std::system("qemu-system-arm --version >/dev/null 2>&1") != 0) {
    std::cout << "SKIP: arm-none-eabi-gcc or qemu-system-arm is not installed\n";
    return 77;
  }
  std::vector<std::vector<uint8_t>> inputs;
  std::vector<driver::Tensor> expected;
  for (auto &p : ins) {
    auto t = driver::load_tensor_file(p);
    inputs.emplace_back(t.data->begin(), t.data->end());
  }
  for (auto &p : exps) expected.push_back(driver::load_tensor_file(p));

  fs::path root = keep.empty() ? fs::temp_directory_path() / ("tmc-target-run-" + std::to_string(getpid())) : fs::path(keep);
  int failures = 0;
  for (auto &core : cores) {
    driver::CompileOptions o;
    o.model_path = model;
    o.name = "m";
    o.target = core;
    driver::CompileResult cr = driver::compile(o);
    fs::path dir = root / core;
    fs::create_directories(dir);
    std::vector<std::string> c_files;
    for (auto &f : cr.files) {
      FILE *fp = std::fopen((dir / f.filename).c_str(), "wb");
      std::fwrite(f.content.data(), 1, f.content.size(), fp);
      std::fclose(fp);
      if (f.filename.size() > 2 && f.filename.compare(f.filename.size() - 2, 2, ".c") == 0) c_files.push_back(f.filename);
    }
    std::vector<size_t> out_bytes;
    for (auto *v : cr.graph->outputs) out_bytes.push_back((size_t)v->nbytes());
    auto r = driver::run_on_target(core, dir.string(), cr.name, c_files, inputs, out_bytes, 120);
    if (!r.ok) {
      std::cout << core << ": FAIL: " << r.error << "\n--- log ---\n" << r.log;
      ++failures;
      continue;
    }
    bool ok = r.outputs.size() == expected.size();
    for (size_t j = 0; ok && j < expected.size(); ++j) {
      const auto &e = expected[j];
      const auto &got = r.outputs[j];
      if (got.size() != e.data->size()) {
        std::cout << core << ": output " << j << " has " << got.size() << " bytes, expected " << e.data->size() << "\n";
        ok = false;
        break;
      }
      if (e.dtype == ir::DType::F32) {
        size_t n = got.size() / 4, bad = 0;
        double worst = 0;
        for (size_t i = 0; i < n; ++i) {
          float a, b;
          std::memcpy(&a, got.data() + 4 * i, 4);
          std::memcpy(&b, e.data->data() + 4 * i, 4);
          double d = std::fabs((double)a - b);
          worst = std::max(worst, d);
          if (!(d <= 1e-5 + 1e-4 * std::fabs(b))) ++bad;
        }
        std::cout << core << ": output " << j << ": " << n << " floats, max abs err " << worst
                  << (bad ? ", MISMATCH in " + std::to_string(bad) : ", ok") << "\n";
        if (bad) ok = false;
      } else if (std::memcmp(got.data(), e.data->data(), got.size()) != 0) {
        std::cout << core << ": output " << j << ": MISMATCH\n";
        ok = false;
      }
    }
    std::cout << core << (ok ? ": PASS\n" : ": FAIL\n");
    if (!ok) {
      std::cout << "--- log ---\n" << r.log;
      ++failures;
    }
  }
  if (keep.empty()) {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  return failures ? 1 : 0;
}

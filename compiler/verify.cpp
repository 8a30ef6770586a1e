#include "compiler/verify.h"

#include <cmath>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sys/wait.h>

#include "compiler/process.h"
#include "compiler/target_run.h"
#include "compiler/tensor_io.h"
#include "ir/graph.h"

namespace fs = std::filesystem;

namespace tmc::driver {

using ir::DType;



template <typename T> static T get(const ir::Bytes &b, int64_t i) {
  T v;
  std::memcpy(&v, b.data() + i * (int64_t)sizeof(T), sizeof(T));
  return v;
}

static double f16_to_double(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v;
  if (e == 0) v = std::ldexp((double)m, -24);
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = std::ldexp((double)(m | 0x400), e - 25);
  return s ? -v : v;
}

static double element(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case DType::F32: return get<float>(*t.data, i);
  case DType::F64: return get<double>(*t.data, i);
  case DType::F16: return f16_to_double(get<uint16_t>(*t.data, i));
  case DType::BF16: {
    uint32_t bits = (uint32_t)get<uint16_t>(*t.data, i) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case DType::I8: return get<int8_t>(*t.data, i);
  case DType::I16: return get<int16_t>(*t.data, i);
  case DType::I32: return get<int32_t>(*t.data, i);
  case DType::I64: return (double)get<int64_t>(*t.data, i);
  case DType::U8: case DType::Bool: return get<uint8_t>(*t.data, i);
  case DType::U16: return get<uint16_t>(*t.data, i);
  case DType::U32: return get<uint32_t>(*t.data, i);
  case DType::U64: return (double)get<uint64_t>(*t.data, i);
  default: return 0;
  }
}

static std::string index_str(const ir::Shape &shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  std::string r = "[";
  for (size_t d = 0; d < idx.size(); ++d) r += (d ? "," : "") + std::to_string(idx[d]);
  return r + "]";
}

/// ONNX's test data stores bfloat16 tensors with data type UINT16; accept
/// 16-bit storage types for each other and read them with the model's type.
static bool same_storage(DType file, DType model) {
  if (file == model) return true;
  auto is16 = [](DType t) { return t == DType::U16 || t == DType::BF16 || t == DType::F16; };
  return is16(file) && is16(model) && (file == DType::U16 || model == DType::U16);
}

int run_verify(const VerifyOptions &o) {
  CompileResult cr;
  try {
    cr = compile(o.compile);
  } catch (const ir::CompileError &e) {
    std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
    return kExitModelError;
  }
  const ir::Graph &g = *cr.graph;
  std::vector<Tensor> ins, exps;
  try {
    for (auto &p : o.inputs) ins.push_back(load_tensor_file(p));
    for (auto &p : o.expected) exps.push_back(load_tensor_file(p));
  } catch (const ir::CompileError &e) {
    std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
    return kExitUsage;
  }
  if (ins.size() != g.inputs.size()) {
    std::cerr << fmt::format("tmc verify: error: the model has {} inputs but {} --input files were given\n",
                             g.inputs.size(), ins.size());
    return kExitUsage;
  }
  if (exps.size() != g.outputs.size()) {
    std::cerr << fmt::format("tmc verify: error: the model has {} outputs but {} --expected files were given\n",
                             g.outputs.size(), exps.size());
    return kExitUsage;
  }
  for (size_t i = 0; i < ins.size(); ++i) {
    const ir::Value *v = g.inputs[i];
    if (!same_storage(ins[i].dtype, v->dtype) || ir::shape_numel(ins[i].shape) != v->numel()) {
      std::cerr << fmt::format("tmc verify: error: input {} ('{}') is {}[{}] but the model wants {}[{}]\n", i,
                               o.inputs[i], ir::dtype_name(ins[i].dtype), ir::shape_str(ins[i].shape),
                               ir::dtype_name(v->dtype), ir::shape_str(v->shape));
      return kExitUsage;
    }
  }

  // Build folder.
  std::unique_ptr<WorkDir> work;
  try {
    work = std::make_unique<WorkDir>("tmc-verify", o.keep_dir);
  } catch (const std::exception &e) {
    std::cerr << "tmc verify: error: " << e.what() << "\n";
    return kExitBuildOrRunError;
  }
  const fs::path dir = work->path();

  if (o.compile.target != "host") {
    // On the target: cross-compile with a bare-metal harness and run under QEMU.
    const TargetCore *tc = find_target_core(o.compile.target);
    if (!tc) {
      std::cerr << "tmc verify: error: --target " << o.compile.target
                << " cannot run here (QEMU runs cortex-m4, cortex-m7, cortex-m33 and their mps2 boards)\n";
      return kExitUsage;
    }
    for (auto &f : cr.files) std::ofstream(dir / f.filename, std::ios::binary) << f.content;
    std::vector<std::vector<uint8_t>> in_bytes;
    for (auto &t : ins) in_bytes.emplace_back(t.data->begin(), t.data->end());
    std::vector<size_t> out_bytes;
    for (auto *v : g.outputs) out_bytes.push_back((size_t)v->nbytes());
    TargetRunResult tr = run_on_target(tc->core, dir.string(), cr.name, {cr.name + ".c"}, in_bytes, out_bytes,
                                       o.timeout_seconds, o.cflags);
    if (!tr.ok) {
      std::cerr << "tmc verify: error: " << tr.error << "\n";
      return kExitBuildOrRunError;
    }
    if (!o.quiet) std::cout << fmt::format("tmc verify: ran on {} under QEMU\n", tc->core);
    for (size_t j = 0; j < tr.outputs.size(); ++j)
      std::ofstream(dir / fmt::format("out{}.bin", j), std::ios::binary)
          .write((const char *)tr.outputs[j].data(), (std::streamsize)tr.outputs[j].size());
  } else {
    codegen::CodegenOptions co;
    co.name = cr.name;
    auto files = cr.files;
    files.push_back(codegen::generate_host_harness(co));
    for (auto &f : files) std::ofstream(dir / f.filename, std::ios::binary) << f.content;
    for (size_t i = 0; i < ins.size(); ++i)
      std::ofstream(dir / fmt::format("in{}.bin", i), std::ios::binary)
          .write((const char *)ins[i].data->data(), (std::streamsize)ins[i].data->size());

    std::string cc = o.cc;
    if (cc.empty()) cc = std::getenv("CC") ? std::getenv("CC") : "cc";
    std::string d = shell_quote(dir.string());
    std::string build = fmt::format("{} -std=c99 -O1 -Wall -Wextra -Werror -pedantic {} -I{} {}/{}.c {}/{}_harness.c -o {}/run -lm",
                                    cc, o.cflags, d, d, cr.name, d, cr.name, d);
    std::string out;
    int rc = run_command(build, &out);
    if (rc != 0) {
      std::cerr << "tmc verify: error: the generated C did not build:\n" << build << "\n" << out;
      return kExitBuildOrRunError;
    }
    std::string run = fmt::format("cd {} && timeout {} ./run", d, o.timeout_seconds);
    for (size_t i = 0; i < ins.size(); ++i) run += fmt::format(" in{}.bin", i);
    run += " --";
    for (size_t i = 0; i < exps.size(); ++i) run += fmt::format(" out{}.bin", i);
    out.clear();
    rc = run_command(run, &out);
    if (rc != 0) {
      std::cerr << fmt::format("tmc verify: error: the generated program failed (exit {}):\n{}", rc, out);
      return kExitBuildOrRunError;
    }
  }

  bool all_ok = true;
  for (size_t j = 0; j < exps.size(); ++j) {
    const ir::Value *v = g.outputs[j];
    Tensor e = exps[j];
    std::string label = fmt::format("output {} '{}'", j, v->name);
    if (same_storage(e.dtype, v->dtype)) e.dtype = v->dtype;
    if (e.dtype != v->dtype || ir::shape_numel(e.shape) != v->numel()) {
      std::cout << fmt::format("{}: MISMATCH: expected {}[{}], the model gives {}[{}]\n", label,
                               ir::dtype_name(e.dtype), ir::shape_str(e.shape), ir::dtype_name(v->dtype),
                               ir::shape_str(v->shape));
      all_ok = false;
      continue;
    }
    std::ifstream f(dir / fmt::format("out{}.bin", j), std::ios::binary);
    Tensor got;
    got.dtype = v->dtype;
    got.shape = v->shape;
    auto bytes = std::make_shared<ir::Bytes>((size_t)v->nbytes());
    f.read((char *)bytes->data(), (std::streamsize)bytes->size());
    got.data = bytes;
    bool is_float = ir::dtype_is_float(v->dtype);
    int64_t worst = -1, nbad = 0;
    double worst_excess = -1, worst_abs = 0;
    for (int64_t i = 0; i < v->numel(); ++i) {
      double a = element(got, i), b = element(e, i);
      bool ok;
      double diff;
      if (is_float) {
        if (std::isnan(b) || std::isnan(a)) {
          ok = std::isnan(a) && std::isnan(b);
          diff = ok ? 0 : INFINITY;
        } else if (std::isinf(b) || std::isinf(a)) {
          ok = a == b;
          diff = ok ? 0 : INFINITY;
        } else {
          diff = std::fabs(a - b);
          ok = diff <= o.atol + o.rtol * std::fabs(b);
        }
      } else {
        ok = std::memcmp(got.data->data() + i * (int64_t)ir::dtype_size(v->dtype),
                         e.data->data() + i * (int64_t)ir::dtype_size(v->dtype), ir::dtype_size(v->dtype)) == 0;
        diff = std::fabs(a - b);
      }
      double excess = is_float ? diff - (o.atol + o.rtol * std::fabs(b)) : diff;
      if (!ok) ++nbad;
      if (worst < 0 || excess > worst_excess) {
        worst = i;
        worst_excess = excess;
        worst_abs = diff;
      }
    }
    if (nbad) all_ok = false;
    if (!o.quiet || nbad) {
      if (worst < 0)
        std::cout << fmt::format("{}: {} (empty)\n", label, nbad ? "MISMATCH" : "ok");
      else
        std::cout << fmt::format("{}: {}{} worst element {}: got {:.9g}, expected {:.9g} (abs err {:.3g})\n",
                                 label, nbad ? "MISMATCH" : "ok",
                                 nbad ? fmt::format(" ({} of {} elements)", nbad, v->numel()) : "",
                                 index_str(v->shape, worst), element(got, worst), element(e, worst), worst_abs);
    }
  }
  return all_ok ? kExitOk : kExitMismatch;
}

} // namespace tmc::driver

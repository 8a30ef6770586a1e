#include "compiler/verify.h"

#include <cctype>
#include <cmath>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sys/wait.h>

#include "compiler/per_layer.h"
#include "compiler/process.h"
#include "compiler/target_run.h"
#include "compiler/tensor_io.h"
#include "ir/graph.h"

namespace fs = std::filesystem;

namespace tmc::driver {

using ir::DType;

static std::string upper_name(const std::string &s) {
  std::string r;
  for (char c : s) r += (char)std::toupper((unsigned char)c);
  return r;
}



int run_verify(const VerifyOptions &o) {
  if (!o.per_layer && !o.reference.empty()) {
    std::cerr << "tmc verify: error: --reference needs --per-layer\n";
    return kExitUsage;
  }
  CompileResult cr;
  try {
    CompileOptions co = o.compile;
    co.trace = co.trace || o.per_layer;
    cr = compile(co);
  } catch (const ir::CompileError &e) {
    std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
    return kExitModelError;
  }
  const ir::Graph &g = *cr.graph;
  std::vector<Tensor> ins, exps;
  ReferenceSet refs;
  try {
    for (auto &p : o.inputs) ins.push_back(load_tensor_file(p));
    for (auto &p : o.expected) exps.push_back(load_tensor_file(p));
    if (!o.reference.empty())
      for (auto &[k, t] : load_npz(o.reference)) refs.emplace(k, t);
  } catch (const ir::CompileError &e) {
    std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
    return kExitUsage;
  }
  if (ins.size() != g.inputs.size()) {
    std::cerr << fmt::format("tmc verify: error: the model has {} inputs but {} --input files were given\n",
                             g.inputs.size(), ins.size());
    return kExitUsage;
  }
  const bool check_outputs = !(o.per_layer && exps.empty());
  if (check_outputs && exps.size() != g.outputs.size()) {
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
  std::vector<TraceRecord> trace;

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
    std::vector<std::string> c_files{cr.name + ".c"};
    std::string cflags = o.cflags;
    if (o.per_layer) {
      // The trace hook prints every tensor over semihosting.
      codegen::CodegenOptions co;
      co.name = cr.name;
      auto hook = codegen::generate_trace_hook_header(co);
      std::ofstream(dir / hook.filename, std::ios::binary) << hook.content;
      std::ofstream(dir / (cr.name + "_trace_hook.c"), std::ios::binary) << target_trace_hook_source(cr.name);
      c_files.push_back(cr.name + "_trace_hook.c");
      cflags += " " + shell_quote(fmt::format("-D{}_CONFIG_HEADER=\"{}\"", upper_name(cr.name), hook.filename));
    }
    TargetRunResult tr = run_on_target(tc->core, dir.string(), cr.name, c_files, in_bytes, out_bytes,
                                       o.timeout_seconds, cflags);
    if (!tr.ok) {
      std::cerr << "tmc verify: error: " << tr.error << "\n";
      return kExitBuildOrRunError;
    }
    if (o.per_layer) {
      try {
        trace = parse_target_trace(tr.log);
      } catch (const ir::CompileError &e) {
        std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
        return kExitBuildOrRunError;
      }
    }
    if (!o.quiet) std::cout << fmt::format("tmc verify: ran on {} under QEMU\n", tc->core);
    for (size_t j = 0; j < tr.outputs.size(); ++j)
      std::ofstream(dir / fmt::format("out{}.bin", j), std::ios::binary)
          .write((const char *)tr.outputs[j].data(), (std::streamsize)tr.outputs[j].size());
  } else {
    codegen::CodegenOptions co;
    co.name = cr.name;
    co.trace = o.per_layer;
    auto files = cr.files;
    files.push_back(codegen::generate_host_harness(co));
    std::string trace_flags;
    if (o.per_layer) {
      files.push_back(codegen::generate_trace_hook_header(co));
      trace_flags = " " + shell_quote(fmt::format("-D{}_CONFIG_HEADER=\"{}_trace_hook.h\"", upper_name(cr.name), cr.name));
    }
    for (auto &f : files) std::ofstream(dir / f.filename, std::ios::binary) << f.content;
    for (size_t i = 0; i < ins.size(); ++i)
      std::ofstream(dir / fmt::format("in{}.bin", i), std::ios::binary)
          .write((const char *)ins[i].data->data(), (std::streamsize)ins[i].data->size());

    std::string cc = o.cc;
    if (cc.empty()) cc = std::getenv("CC") ? std::getenv("CC") : "cc";
    std::string d = shell_quote(dir.string());
    std::string build = fmt::format("{} -std=c99 -O1 -Wall -Wextra -Werror -pedantic {}{} -I{} {}/{}.c {}/{}_harness.c -o {}/run -lm",
                                    cc, o.cflags, trace_flags, d, d, cr.name, d, cr.name, d);
    std::string out;
    int rc = run_command(build, &out);
    if (rc != 0) {
      std::cerr << "tmc verify: error: the generated C did not build:\n" << build << "\n" << out;
      return kExitBuildOrRunError;
    }
    std::string run = fmt::format("cd {} && timeout {} ./run", d, o.timeout_seconds);
    for (size_t i = 0; i < ins.size(); ++i) run += fmt::format(" in{}.bin", i);
    run += " --";
    for (size_t i = 0; i < g.outputs.size(); ++i) run += fmt::format(" out{}.bin", i);
    if (o.per_layer) run += " --trace trace.bin";
    out.clear();
    rc = run_command(run, &out);
    if (rc != 0) {
      std::cerr << fmt::format("tmc verify: error: the generated program failed (exit {}):\n{}", rc, out);
      return kExitBuildOrRunError;
    }
    if (o.per_layer) {
      try {
        trace = read_host_trace((dir / "trace.bin").string());
      } catch (const ir::CompileError &e) {
        std::cerr << "tmc verify: error: " << printable(e.what()) << "\n";
        return kExitBuildOrRunError;
      }
    }
  }

  bool all_ok = true;
  for (size_t j = 0; check_outputs && j < exps.size(); ++j) {
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
    CompareStats s = compare_tensors(got, e, o.rtol, o.atol, o.lsb_tolerance);
    if (s.bad) all_ok = false;
    if (!o.quiet || s.bad) {
      if (s.worst < 0)
        std::cout << fmt::format("{}: {} (empty)\n", label, s.bad ? "MISMATCH" : "ok");
      else
        std::cout << fmt::format("{}: {}{} worst element {}: got {:.9g}, expected {:.9g} (abs err {:.3g})\n",
                                 label, s.bad ? "MISMATCH" : "ok",
                                 s.bad ? fmt::format(" ({} of {} elements)", s.bad, v->numel()) : "",
                                 index_str(v->shape, s.worst), s.worst_got, s.worst_want, s.worst_abs);
    }
  }

  if (o.per_layer) {
    PerLayerOptions po;
    po.rtol = o.rtol;
    po.atol = o.atol;
    po.lsb_tolerance = o.lsb_tolerance;
    po.quiet = o.quiet;
    if (o.reference.empty()) {
      // ONNX Runtime on a copy of the model with every traced tensor as an output.
      std::vector<std::pair<std::string, int>> wanted;
      for (auto &t : traced_tensors(g))
        for (auto &k : reference_candidates(*t.value))
          wanted.emplace_back(k.name, ir::dtype_to_onnx(t.value->dtype));
      std::vector<std::string> in_names;
      for (auto *v : g.inputs) in_names.push_back(v->name);
      std::string log;
      std::string err = ort_references(o.compile.model_path, wanted, in_names, ins, dir.string(),
                                       o.timeout_seconds, &refs, &log);
      if (!err.empty()) {
        std::cerr << "tmc verify: error: " << printable(err) << "\n";
        return kExitBuildOrRunError;
      }
      po.reference_label = "ONNX Runtime";
      bool tflite = false, folded = false;
      for (auto &n : g.nodes()) {
        if (n->attr_string("tmc_int8_semantics", "") == "tflite") tflite = true;
        if (n->op == "QLinearConv" || n->op == "QLinearMatMul" || n->domain == "tmc") folded = true;
      }
      if (tflite)
        std::cout << "note: the reference is ONNX Runtime, whose integer arithmetic is not --int8-semantics "
                     "tflite's: expect differences of a few LSB (compare with a TFLite .npz via --reference)\n";
      else if (folded && o.lsb_tolerance == 0)
        std::cout << "note: ONNX Runtime runs the QDQ model as written (DequantizeLinear -> float op -> "
                     "QuantizeLinear: tensors that are graph outputs stop its integer fusion), so integer tensors "
                     "may differ by 1 LSB at rounding ties; --lsb-tolerance 1 accepts that\n";
    } else {
      po.reference_label = o.reference;
    }
    if (!compare_per_layer(g, trace, refs, po, std::cout)) all_ok = false;
  }
  return all_ok ? kExitOk : kExitMismatch;
}

} // namespace tmc::driver

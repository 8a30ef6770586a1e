// tmc: the Tiny Model Compiler command line.
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/raw_ostream.h>
#include <sstream>

#include "compiler/bench.h"
#include "compiler/driver.h"
#include "compiler/inspect.h"
#include "compiler/quantize.h"
#include "compiler/verify.h"
#include "frontend/onnx_importer.h"
#include "targets/target.h"

namespace cl = llvm::cl;
using namespace tmc;

static cl::SubCommand CompileCmd("compile", "Compile an ONNX model to C");
static cl::SubCommand InspectCmd("inspect", "Show the model's layers, MACs, parameters and memory plan");
static cl::SubCommand VerifyCmd("verify", "Compile, build with the host C compiler, run and compare with golden outputs");
static cl::SubCommand BenchCmd("bench", "Measure one inference on an emulated Cortex-M: exact instructions, flash, RAM");
static cl::SubCommand QuantizeCmd("quantize", "Post-training quantization: float ONNX -> int8 QDQ (or dynamic) ONNX");

static cl::OptionCategory Cat("tmc options");

static cl::opt<std::string> Model(cl::Positional, cl::desc("<model.onnx>"), cl::Required, cl::sub(CompileCmd),
                                  cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::sub(QuantizeCmd),
                                  cl::cat(Cat));
static cl::opt<std::string> OutDir("o", cl::desc("Output folder"), cl::value_desc("dir"), cl::sub(CompileCmd),
                                   cl::cat(Cat));
static cl::opt<std::string> Name("name", cl::desc("C prefix for every symbol (default: the model file's stem)"),
                                 cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> Target("target", cl::desc("Target core or board"), cl::init("host"),
                                   cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::list<std::string> InputShape("input-shape", cl::desc("Fix an input's shape: NAME=1x3x96x96"),
                                        cl::value_desc("name=shape"), cl::sub(CompileCmd), cl::sub(InspectCmd),
                                        cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::sub(QuantizeCmd), cl::cat(Cat));
static cl::list<std::string> DumpIR("dump-ir-after",
                                    cl::desc("Print the IR after the named pass ('import', a pass name, or 'all')"),
                                    cl::CommaSeparated, cl::sub(CompileCmd), cl::sub(InspectCmd), cl::cat(Cat));
static cl::list<std::string> DisablePass("disable-pass", cl::desc("Skip the named pass(es)"), cl::CommaSeparated,
                                         cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> NoFusion("no-fusion", cl::desc("Skip the fusion and simplification passes"),
                              cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<driver::Layout> LayoutOpt(
    "layout", cl::desc("Data layout of convolution and pooling kernels"), cl::init(driver::Layout::Auto),
    cl::values(clEnumValN(driver::Layout::Auto, "auto", "channels-last unless it grows the arena (default)"),
               clEnumValN(driver::Layout::NCHW, "nchw", "keep the graph's NCHW layout"),
               clEnumValN(driver::Layout::NHWC, "nhwc", "channels-last wherever possible")),
    cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<std::string> Int8Semantics("int8-semantics",
                                          cl::desc("Integer arithmetic of quantized ops: onnx (ONNX Runtime, default) or "
                                                   "tflite (TFLite reference kernels)"),
                                          cl::init("onnx"), cl::sub(CompileCmd), cl::sub(InspectCmd),
                                          cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> WeightsStorage("weights",
                                           cl::desc("Storage of float weights: float32 (default) or float16 (IEEE "
                                                    "half in flash, widened per layer at run time)"),
                                           cl::value_desc("float32|float16"), cl::init("float32"), cl::sub(CompileCmd), cl::sub(InspectCmd),
                                          cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> DumpIRFinal("dump-ir", cl::desc("Print the final IR"), cl::sub(CompileCmd),
                                 cl::sub(InspectCmd), cl::cat(Cat));
static cl::opt<bool> IOInArena("io-in-arena", cl::desc("Place graph inputs and outputs in the arena"),
                               cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<unsigned> Align("align", cl::desc("Arena buffer alignment in bytes"), cl::init(8),
                               cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> WeightsSection("weights-section",
                                           cl::desc("Linker section of the weights (default .rodata.NAME_weights; '' = none)"),
                                           cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> ArenaSection("arena-section",
                                         cl::desc("Linker section for a static arena (default .bss.NAME_arena; '' = none)"),
                                         cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> Profile("profile", cl::desc("Emit per-layer NAME_PROFILE_BEGIN/END hooks"), cl::sub(CompileCmd),
                             cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<int64_t> FlashBudget("flash-budget", cl::desc("Flash budget in bytes (overrides the board's)"),
                                   cl::init(-1), cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(InspectCmd),
                                   cl::cat(Cat));
static cl::opt<int64_t> RamBudget("ram-budget", cl::desc("RAM budget in bytes (overrides the board's)"), cl::init(-1),
                                 cl::sub(CompileCmd), cl::sub(VerifyCmd), cl::sub(InspectCmd), cl::cat(Cat));
static cl::opt<bool> ListTargets("list-targets", cl::desc("List the known targets and exit"), cl::cat(Cat));
static cl::opt<bool> Timings("time-passes", cl::desc("Print the time of each pass"), cl::sub(CompileCmd),
                             cl::cat(Cat));
static cl::list<std::string> Inputs("input", cl::desc("Input tensor (.npy or .pb), in graph order"),
                                    cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::list<std::string> Expected("expected", cl::desc("Expected output (.npy or .pb), in graph order"),
                                      cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<double> Rtol("rtol", cl::desc("Relative tolerance for float outputs"), cl::init(1e-4),
                            cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<double> Atol("atol", cl::desc("Absolute tolerance for float outputs"), cl::init(1e-5),
                            cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<int64_t> LsbTolerance("lsb-tolerance",
                                     cl::desc("Integer tensors may differ by up to N (default 0: exactly)"),
                                     cl::value_desc("N"), cl::init(0), cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<std::string> CC("cc", cl::desc("Host C compiler (default: $CC or cc)"), cl::sub(VerifyCmd),
                               cl::cat(Cat));
static cl::opt<std::string> CFlags("cflags", cl::desc("Extra flags for the C compiler (the cross compiler with --target)"),
                                   cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> KeepDir("keep", cl::desc("Keep the generated sources and binary in this folder"),
                                    cl::value_desc("dir"), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> PerLayer("per-layer",
                              cl::desc("bench: also count the instructions of each layer; verify: compare every "
                                       "intermediate tensor with a reference and name the first diverging layer"),
                              cl::sub(BenchCmd), cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<std::string> Reference("reference",
                                      cl::desc("verify --per-layer: reference tensors (.npz keyed by ONNX tensor "
                                               "name; default: run ONNX Runtime)"),
                                      cl::value_desc("file.npz"), cl::sub(VerifyCmd), cl::cat(Cat));
static cl::opt<bool> Trace("trace", cl::desc("Emit NAME_TRACE_TENSOR hooks after every layer"), cl::sub(CompileCmd),
                           cl::cat(Cat));
static cl::opt<std::string> BenchJson("json", cl::desc("Write the measurements as JSON to this file"),
                                      cl::value_desc("file"), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> Quiet("quiet", cl::desc("Only print mismatches"), cl::sub(VerifyCmd), cl::cat(Cat));

// Post-training quantization (tmc quantize; tmc compile --quantize).
static cl::opt<std::string> QuantOut("o", cl::desc("Output model file"), cl::value_desc("file"), cl::sub(QuantizeCmd),
                                     cl::cat(Cat));
static cl::opt<std::string> QuantizeOpt("quantize", cl::desc("Quantize first: int8 (static QDQ, needs --calibration) or dynamic"),
                                        cl::value_desc("int8|dynamic"), cl::sub(CompileCmd), cl::sub(QuantizeCmd),
                                        cl::cat(Cat));
static cl::opt<std::string> QuantMode("mode", cl::desc("static (int8 QDQ, default) or dynamic"), cl::init("static"),
                                      cl::sub(QuantizeCmd), cl::cat(Cat));
static cl::opt<std::string> Calibration("calibration",
                                        cl::desc("Folder of calibration inputs: one .npy per sample (SAMPLE.K.npy, K the "
                                                 "input index, for multi-input models)"),
                                        cl::value_desc("dir"), cl::sub(QuantizeCmd), cl::sub(CompileCmd), cl::cat(Cat));
static cl::opt<std::string> Calibrate("calibrate", cl::desc("Activation ranges: minmax (default), percentile or mse"),
                                      cl::init("minmax"), cl::sub(QuantizeCmd), cl::sub(CompileCmd), cl::cat(Cat));
static cl::opt<double> Percentile("percentile", cl::desc("Percentile kept in each tail by --calibrate percentile"),
                                  cl::init(99.99), cl::sub(QuantizeCmd), cl::sub(CompileCmd), cl::cat(Cat));
static cl::opt<bool> PerChannel("per-channel", cl::desc("Per-output-channel weight scales (default; =false: per tensor)"),
                                cl::init(true), cl::sub(QuantizeCmd), cl::sub(CompileCmd), cl::cat(Cat));
static cl::opt<std::string> QuantReport("report", cl::desc("Write the per-tensor quantization report as JSON"),
                                        cl::value_desc("file"), cl::sub(QuantizeCmd), cl::cat(Cat));

/// Options of tmc quantize / compile --quantize. `mode` is "int8" or "dynamic".
static driver::QuantizeOptions quantize_options(const std::string &mode) {
  driver::QuantizeOptions q;
  q.model_path = Model;
  if (mode != "int8" && mode != "dynamic")
    throw ir::CompileError("--quantize expects int8 or dynamic (--mode static or dynamic); got '" + mode + "'");
  q.dynamic = mode == "dynamic";
  q.calibration_dir = Calibration;
  if (!q.dynamic && q.calibration_dir.empty())
    throw ir::CompileError("static int8 quantization needs --calibration DIR (a folder of .npy inputs)");
  q.method = driver::calib::parse_method(Calibrate);
  q.percentile = Percentile;
  q.per_channel = PerChannel;
  for (auto &s : InputShape) {
    auto eq = s.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw ir::CompileError("--input-shape expects NAME=DIMS, e.g. input=1x3x96x96; got '" + s + "'");
    q.input_shapes[s.substr(0, eq)] = frontend::parse_shape(s.substr(eq + 1));
  }
  return q;
}

/// Usage errors of the quantization options (exit code 2): "" if none.
static std::string quantize_usage_error(bool quantize_cmd) {
  std::string mode = QuantizeOpt;
  if (quantize_cmd && mode.empty()) {
    if (QuantMode != "static" && QuantMode != "dynamic")
      return "--mode expects static or dynamic; got '" + QuantMode.getValue() + "'";
    mode = QuantMode == "dynamic" ? "dynamic" : "int8";
  }
  if (mode.empty()) return Calibration.empty() ? "" : "--calibration needs --quantize int8";
  if (mode != "int8" && mode != "dynamic") return "--quantize expects int8 or dynamic; got '" + mode + "'";
  if (mode == "int8" && Calibration.empty()) return "--calibration DIR is required for int8 (static) quantization";
  if (Calibrate != "minmax" && Calibrate != "percentile" && Calibrate != "mse")
    return "--calibrate expects minmax, percentile or mse; got '" + Calibrate.getValue() + "'";
  if (!(Percentile > 0.0 && Percentile <= 100.0)) return fmt::format("--percentile {} is not in (0, 100]", Percentile.getValue());
  return "";
}

static driver::CompileOptions common_options() {
  driver::CompileOptions o;
  o.model_path = Model;
  o.name = Name;
  o.target = Target;
  o.io_in_arena = IOInArena;
  o.alignment = Align;
  if (o.alignment == 0 || (o.alignment & (o.alignment - 1)))
    throw ir::CompileError(fmt::format("--align {} is not a power of two", o.alignment));
  for (auto &s : InputShape) {
    auto eq = s.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw ir::CompileError("--input-shape expects NAME=DIMS, e.g. input=1x3x96x96; got '" + s + "'");
    o.input_shapes[s.substr(0, eq)] = frontend::parse_shape(s.substr(eq + 1));
  }
  for (auto &d : DumpIR) o.dump_ir_after.insert(d);
  for (auto &d : DisablePass) o.disabled_passes.insert(d);
  if (NoFusion)
    for (auto &d : passes::fusion_pass_names()) o.disabled_passes.insert(d);
  if (WeightsSection.getNumOccurrences()) o.weights_section = WeightsSection.getValue();
  if (ArenaSection.getNumOccurrences()) o.arena_section = ArenaSection.getValue();
  o.profiling = Profile;
  o.trace = Trace;
  o.layout = LayoutOpt;
  if (Int8Semantics != "onnx" && Int8Semantics != "tflite")
    throw ir::CompileError("--int8-semantics expects onnx or tflite; got '" + Int8Semantics.getValue() + "'");
  o.int8_semantics = Int8Semantics;
  if (WeightsStorage != "float32" && WeightsStorage != "float16")
    throw ir::CompileError("--weights expects float32 or float16; got '" + WeightsStorage.getValue() + "'");
  o.weights_f16 = WeightsStorage == "float16";
  o.flash_budget = FlashBudget;
  o.ram_budget = RamBudget;
  if (!o.dump_ir_after.empty()) o.dump_os = &std::cout;
  if (!QuantizeOpt.empty()) {
    o.quantize = std::make_shared<driver::QuantizeOptions>(quantize_options(QuantizeOpt));
    o.quantize_report_os = &std::cout;
  } else if (!Calibration.empty()) {
    throw ir::CompileError("--calibration needs --quantize int8");
  }
  return o;
}

static int do_compile() {
  if (OutDir.empty()) {
    std::cerr << "tmc compile: error: -o DIR is required\n";
    return driver::kExitUsage;
  }
  if (std::string e = quantize_usage_error(false); !e.empty()) {
    std::cerr << "tmc compile: error: " << e << "\n";
    return driver::kExitUsage;
  }
  auto t0 = std::chrono::steady_clock::now();
  driver::CompileOptions o = common_options();
  driver::CompileResult r = driver::compile(o);
  if (DumpIRFinal) std::cout << ir::print(*r.graph);
  driver::write_files_atomically(OutDir, r.files);
  auto t1 = std::chrono::steady_clock::now();
  if (Timings)
    for (auto &t : r.timings) std::cout << fmt::format("  pass {:<22} {:8.3f} ms\n", t.name, t.millis);
  std::cout << fmt::format("tmc: compiled {} -> {}/{}.c, {}.h in {:.0f} ms\n", o.model_path, OutDir.getValue(), r.name,
                           r.name, std::chrono::duration<double, std::milli>(t1 - t0).count());
  std::cout << "tmc: memory: " << driver::memory_summary(r) << "\n";
  return driver::kExitOk;
}

static int do_quantize() {
  if (QuantOut.empty()) {
    std::cerr << "tmc quantize: error: -o FILE (the quantized model) is required\n";
    return driver::kExitUsage;
  }
  if (std::string e = quantize_usage_error(true); !e.empty()) {
    std::cerr << "tmc quantize: error: " << e << "\n";
    return driver::kExitUsage;
  }
  std::string mode = !QuantizeOpt.empty() ? QuantizeOpt.getValue() : QuantMode == "dynamic" ? "dynamic" : "int8";
  auto t0 = std::chrono::steady_clock::now();
  driver::QuantizeOptions q = quantize_options(mode);
  driver::QuantizeResult r = driver::quantize_model(q);
  driver::write_file_atomically(QuantOut, r.model_bytes);
  if (!QuantReport.empty()) driver::write_file_atomically(QuantReport, driver::quantize_report_json(r, q));
  auto t1 = std::chrono::steady_clock::now();
  std::cout << fmt::format("tmc: quantized {} -> {} ({}; {} nodes quantized) in {:.0f} ms\n", q.model_path,
                           QuantOut.getValue(), r.mode_text, r.quantized_nodes,
                           std::chrono::duration<double, std::milli>(t1 - t0).count());
  std::cout << driver::quantize_table(r);
  for (auto &f : r.float_nodes) std::cout << "tmc: note: " << f << " stays float (not a pattern tmc quantizes)\n";
  return driver::kExitOk;
}

static int do_inspect() {
  driver::CompileOptions o = common_options();
  std::cout << driver::inspect(o);
  return driver::kExitOk;
}

static int do_verify() {
  driver::VerifyOptions v;
  v.compile = common_options();
  v.inputs = Inputs;
  v.expected = Expected;
  v.rtol = Rtol;
  v.atol = Atol;
  if (LsbTolerance < 0) {
    std::cerr << "tmc verify: error: --lsb-tolerance must be >= 0\n";
    return driver::kExitUsage;
  }
  v.lsb_tolerance = LsbTolerance;
  v.cc = CC;
  v.cflags = CFlags;
  v.keep_dir = KeepDir;
  v.quiet = Quiet;
  v.per_layer = PerLayer;
  v.reference = Reference;
  int rc = driver::run_verify(v);
  if (!Quiet || rc != 0)
    std::cout << (rc == 0 ? "tmc verify: PASS\n" : rc == 1 ? "tmc verify: FAIL\n" : "");
  return rc;
}

static int do_bench() {
  driver::BenchOptions b;
  b.compile = common_options();
  b.inputs = Inputs;
  b.per_layer = PerLayer;
  b.json_path = BenchJson;
  b.keep_dir = KeepDir;
  b.cflags = CFlags;
  return driver::run_bench(b);
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(Cat);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) { os << "tmc 0.1.0\n"; });
  if (!cl::ParseCommandLineOptions(argc, argv,
                                   "tmc: the Tiny Model Compiler (ONNX -> dependency-free C)\n\n"
                                   "  tmc compile MODEL -o DIR\n  tmc inspect MODEL\n"
                                   "  tmc verify MODEL --input X.npy --expected Y.npy\n"
                                   "  tmc verify MODEL --input X.npy --per-layer [--reference REFS.npz]\n"
                                   "  tmc bench MODEL --target cortex-m4 [--input X.npy] [--per-layer] [--json F]\n"
                                   "  tmc quantize MODEL --calibration DIR -o MODEL.int8.onnx [--calibrate minmax|percentile|mse]\n",
                                   &llvm::errs()))
    return driver::kExitUsage;
  try {
    if (ListTargets) {
      for (auto &t : targets::target_names()) std::cout << targets::describe(targets::get_target(t)) << "\n";
      return driver::kExitOk;
    }
    if (CompileCmd) return do_compile();
    if (InspectCmd) return do_inspect();
    if (VerifyCmd) return do_verify();
    if (BenchCmd) return do_bench();
    if (QuantizeCmd) return do_quantize();
    std::cerr << "tmc: error: no subcommand given (compile, inspect, verify, bench, quantize); see tmc --help\n";
    return driver::kExitUsage;
  } catch (const ir::CompileError &e) {
    std::cerr << "tmc: error: " << driver::printable(e.what()) << "\n";
    return driver::kExitModelError;
  } catch (const std::bad_alloc &) {
    std::cerr << "tmc: error: out of memory\n";
    return driver::kExitInternal;
  } catch (const std::exception &e) {
    std::cerr << "tmc: internal error: " << driver::printable(e.what()) << "\n";
    return driver::kExitInternal;
  }
}

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
#include "compiler/verify.h"
#include "frontend/onnx_importer.h"
#include "targets/target.h"

namespace cl = llvm::cl;
using namespace tmc;

static cl::SubCommand CompileCmd("compile", "Compile an ONNX model to C");
static cl::SubCommand InspectCmd("inspect", "Show the model's layers, MACs, parameters and memory plan");
static cl::SubCommand VerifyCmd("verify", "Compile, build with the host C compiler, run and compare with golden outputs");
static cl::SubCommand BenchCmd("bench", "Measure one inference on an emulated Cortex-M: exact instructions, flash, RAM");

static cl::OptionCategory Cat("tmc options");

static cl::opt<std::string> Model(cl::Positional, cl::desc("<model.onnx>"), cl::Required, cl::sub(CompileCmd),
                                  cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> OutDir("o", cl::desc("Output folder"), cl::value_desc("dir"), cl::sub(CompileCmd),
                                   cl::cat(Cat));
static cl::opt<std::string> Name("name", cl::desc("C prefix for every symbol (default: the model file's stem)"),
                                 cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> Target("target", cl::desc("Target core or board"), cl::init("host"),
                                   cl::sub(CompileCmd), cl::sub(InspectCmd), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::list<std::string> InputShape("input-shape", cl::desc("Fix an input's shape: NAME=1x3x96x96"),
                                        cl::value_desc("name=shape"), cl::sub(CompileCmd), cl::sub(InspectCmd),
                                        cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
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
static cl::opt<std::string> CC("cc", cl::desc("Host C compiler (default: $CC or cc)"), cl::sub(VerifyCmd),
                               cl::cat(Cat));
static cl::opt<std::string> CFlags("cflags", cl::desc("Extra flags for the C compiler (the cross compiler with --target)"),
                                   cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> KeepDir("keep", cl::desc("Keep the generated sources and binary in this folder"),
                                    cl::value_desc("dir"), cl::sub(VerifyCmd), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> PerLayer("per-layer", cl::desc("Also count the instructions of each layer (node function)"),
                              cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<std::string> BenchJson("json", cl::desc("Write the measurements as JSON to this file"),
                                      cl::value_desc("file"), cl::sub(BenchCmd), cl::cat(Cat));
static cl::opt<bool> Quiet("quiet", cl::desc("Only print mismatches"), cl::sub(VerifyCmd), cl::cat(Cat));

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
  o.layout = LayoutOpt;
  if (Int8Semantics != "onnx" && Int8Semantics != "tflite")
    throw ir::CompileError("--int8-semantics expects onnx or tflite; got '" + Int8Semantics.getValue() + "'");
  o.int8_semantics = Int8Semantics;
  o.flash_budget = FlashBudget;
  o.ram_budget = RamBudget;
  if (!o.dump_ir_after.empty()) o.dump_os = &std::cout;
  return o;
}

static int do_compile() {
  if (OutDir.empty()) {
    std::cerr << "tmc compile: error: -o DIR is required\n";
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
  v.cc = CC;
  v.cflags = CFlags;
  v.keep_dir = KeepDir;
  v.quiet = Quiet;
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
                                   "  tmc bench MODEL --target cortex-m4 [--input X.npy] [--per-layer] [--json F]\n",
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
    std::cerr << "tmc: error: no subcommand given (compile, inspect, verify, bench); see tmc --help\n";
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

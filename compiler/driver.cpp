#include "compiler/driver.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <llvm/Support/JSON.h>
#include <llvm/Support/raw_ostream.h>
#include <random>
#include <unistd.h>

#include "codegen/kernel.h"
#include "compiler/memory_svg.h"
#include "compiler/process.h"
#include "compiler/quantize.h"
#include "frontend/onnx_importer.h"
#include "passes/eval/evaluator.h"

namespace fs = std::filesystem;

namespace tmc::driver {

std::string memory_line(const CompileResult &r);

/// Before any pass runs: every node must have a kernel, or be an op the
/// passes remove (Identity, Dropout, Shape, Size), or be constant-foldable.
/// All offenders are reported in one error.
static void check_ops_known(const ir::Graph &g, const std::string &model) {
  std::string errors;
  int nerr = 0;
  for (auto &n : g.nodes()) {
    if (codegen::KernelRegistry::instance().find(*n)) continue;
    if (passes::op_removed_by_passes(*n)) continue;
    bool all_const = true;
    for (auto *v : n->inputs)
      if (v && !v->is_constant()) all_const = false;
    if (all_const && passes::eval::can_evaluate(*n)) continue;
    errors += fmt::format("\n  {} (domain '{}', opset {}) node '{}': no kernel for this op", n->op,
                          n->domain.empty() ? "ai.onnx" : n->domain, n->opset, n->name);
    ++nerr;
  }
  if (nerr)
    throw ir::CompileError(fmt::format("{}: {} unsupported node{}:{}", model, nerr, nerr > 1 ? "s" : "", errors));
}

std::unique_ptr<ir::Graph> load_and_optimize(const CompileOptions &opts,
                                             std::vector<passes::PassTiming> *timings) {
  {
    passes::PassManager probe;
    passes::add_default_pipeline(probe);
    auto known = probe.names();
    for (auto &d : opts.disabled_passes)
      if (std::find(known.begin(), known.end(), d) == known.end())
        throw ir::CompileError("--disable-pass: no pass named '" + d + "'");
  }
  frontend::ImportOptions io;
  io.input_shapes = opts.input_shapes;
  io.has_kernel = [](const std::string &domain, const std::string &op) {
    ir::Node probe;
    probe.domain = domain;
    probe.op = op;
    return codegen::KernelRegistry::instance().find(probe) != nullptr || passes::op_removed_by_passes(probe);
  };
  auto g = frontend::import_onnx_file(opts.model_path, io);
  if (opts.dump_os && (opts.dump_ir_after.count("all") || opts.dump_ir_after.count("import")))
    *opts.dump_os << "// ----- IR after import\n" << ir::print(*g);
  check_ops_known(*g, opts.model_path);
  // Run the pipeline; when folding made more shapes computable, refine them
  // with ONNX shape inference and run the pipeline again.
  for (int round = 0; round < 4; ++round) {
    passes::PassManager pm;
    passes::add_default_pipeline(pm, opts.int8_semantics);
    pm.disable(opts.disabled_passes);
    pm.dump_after(opts.dump_ir_after, opts.dump_os);
    pm.run(*g);
    if (timings) timings->insert(timings->end(), pm.timings().begin(), pm.timings().end());
    if (frontend::refine_shapes(*g) == 0) break;
  }
  if (opts.weights_f16) {
    // Once, after the pipeline's last round: constant folding must not widen
    // the half weights back.
    passes::PassManager pm;
    pm.add(passes::create_store_weights_f16_pass());
    pm.disable(opts.disabled_passes);
    pm.dump_after(opts.dump_ir_after, opts.dump_os);
    pm.run(*g);
    if (timings) timings->insert(timings->end(), pm.timings().begin(), pm.timings().end());
  }
  return g;
}

static std::string model_stem(const std::string &path) { return fs::path(path).stem().string(); }

static CompileResult compile_once(const CompileOptions &opts);

CompileResult compile(const CompileOptions &opts) {
  if (opts.quantize) {
    // Quantize to a temporary file with the model's own file name (so the C
    // prefix and the report's model name stay the same), then compile it.
    QuantizeOptions q = *opts.quantize;
    q.model_path = opts.model_path;
    for (auto &[k, v] : opts.input_shapes) q.input_shapes[k] = v;
    QuantizeResult qr = quantize_model(q);
    if (opts.quantize_report_os)
      *opts.quantize_report_os << "tmc: quantized " << opts.model_path << " (" << qr.mode_text << ")\n"
                               << quantize_table(qr);
    WorkDir tmp("tmc-quantize", "");
    CompileOptions o = opts;
    o.quantize = nullptr;
    o.model_path = (tmp.path() / fs::path(opts.model_path).filename()).string();
    write_file_atomically(o.model_path, qr.model_bytes);
    return compile(o);
  }
  if (opts.layout != Layout::Auto) {
    CompileOptions o = opts;
    if (opts.layout == Layout::NCHW) o.disabled_passes.insert("layout-channels-last");
    return compile_once(o);
  }
  // Auto: channels-last kernels are faster, but the layout conversions at the
  // graph boundary can cost arena. RAM is the hard limit on an MCU, so keep
  // channels-last only when it does not grow the arena.
  CompileResult fast = compile_once(opts);
  bool converted = false;
  for (auto &n : fast.graph->nodes())
    if (n->has_attr("tmc_layout")) converted = true;
  if (!converted || opts.disabled_passes.count("layout-channels-last")) return fast;
  CompileOptions o = opts;
  o.disabled_passes.insert("layout-channels-last");
  o.dump_os = nullptr;
  CompileResult small = compile_once(o);
  return small.plan.arena_bytes < fast.plan.arena_bytes ? std::move(small) : std::move(fast);
}

static CompileResult compile_once(const CompileOptions &opts) {
  CompileResult r;
  r.name = opts.name.empty() ? codegen::make_c_identifier(model_stem(opts.model_path)) : opts.name;
  if (r.name != codegen::make_c_identifier(r.name))
    throw ir::CompileError(fmt::format("--name '{}' is not a valid C identifier", r.name));
  const targets::TargetInfo *target = targets::find_target(opts.target);
  if (!target) {
    try {
      targets::get_target(opts.target);
    } catch (const std::invalid_argument &e) {
      throw ir::CompileError(std::string("--target: ") + e.what());
    }
  }
  r.graph = load_and_optimize(opts, &r.timings);
  ir::Graph &g = *r.graph;

  // Every node must have a kernel before anything is planned or written.
  std::string errors;
  int nerr = 0;
  for (auto &n : g.nodes()) {
    std::string why = codegen::check_supported(*n);
    if (!why.empty()) {
      errors += fmt::format("\n  {} (domain '{}', opset {}) node '{}': {}", n->op,
                            n->domain.empty() ? "ai.onnx" : n->domain, n->opset, n->name, why);
      ++nerr;
    }
  }
  if (nerr)
    throw ir::CompileError(fmt::format("{}: {} unsupported node{}:{}", opts.model_path, nerr,
                                       nerr > 1 ? "s" : "", errors));
  ir::verify(g, true);

  for (auto &n : g.nodes()) {
    n->scratch_bytes = codegen::kernel_scratch_bytes(*n);
    n->output_view_offsets = codegen::kernel_view_offsets(*n);
    n->input_slot_offsets = codegen::kernel_concat_slots(*n);
    n->inplace_inputs = codegen::kernel_inplace_inputs(*n);
  }
  passes::PassManager mem;
  passes::memory::PlanOptions po;
  po.alignment = std::max<int64_t>(opts.alignment, (int64_t)target->alignment);
  po.io_in_arena = opts.io_in_arena;
  mem.add(passes::memory::create_memory_planning_pass(po, &r.plan));
  mem.dump_after(opts.dump_ir_after, opts.dump_os);
  mem.run(g);
  for (auto &t : mem.timings()) r.timings.push_back(t);

  for (auto &v : g.values())
    if (v->is_constant()) r.weight_bytes += v->nbytes();

  // Budgets: weights + estimated code against flash, arena + estimated stack
  // against RAM. The code estimate counts a fixed runtime plus a per-kernel
  // cost; the stack estimate is the deepest kernel frame plus the entry call.
  BudgetReport &b = r.budget;
  b.flash_budget = opts.flash_budget >= 0 ? opts.flash_budget : (int64_t)target->flash_bytes;
  b.ram_budget = opts.ram_budget >= 0 ? opts.ram_budget : (int64_t)target->ram_bytes;
  b.code_estimate = 1024 + 640 * (int64_t)g.num_nodes();
  b.stack_estimate = 512;
  b.flash_needed = r.weight_bytes + b.code_estimate;
  b.ram_needed = r.plan.arena_bytes + b.stack_estimate;
  std::string over;
  if (b.flash_budget > 0 && b.flash_needed > b.flash_budget)
    over += fmt::format("\n  flash: weights {} B + code (estimate) {} B = {} B > budget {} B (over by {} B)",
                        r.weight_bytes, b.code_estimate, b.flash_needed, b.flash_budget,
                        b.flash_needed - b.flash_budget);
  if (b.ram_budget > 0 && b.ram_needed > b.ram_budget)
    over += fmt::format("\n  RAM: arena {} B + stack (estimate) {} B = {} B > budget {} B (over by {} B)",
                        r.plan.arena_bytes, b.stack_estimate, b.ram_needed, b.ram_budget, b.ram_needed - b.ram_budget);
  if (!over.empty())
    throw ir::CompileError(fmt::format("{}: the model does not fit target '{}':{}", opts.model_path, target->name, over));

  codegen::CodegenOptions co;
  co.name = r.name;
  co.target = target->name;
  co.target_info = target;
  co.header.weights_section = opts.weights_section;
  co.header.arena_section = opts.arena_section;
  co.header.profiling = opts.profiling;
  co.trace = opts.trace;
  co.source_model = model_stem(opts.model_path) + fs::path(opts.model_path).extension().string();
  r.files = codegen::generate_c(g, co);

  // Report.
  llvm::json::Array tensors;
  for (size_t i = 0; i < r.plan.buffers.size(); ++i) {
    auto &b = r.plan.buffers[i];
    llvm::json::Array members;
    for (auto *v : b.values) members.push_back(v->name);
    tensors.push_back(llvm::json::Object{{"name", b.name},
                                         {"shares_with", std::move(members)},
                                         {"offset", r.plan.offsets[i]},
                                         {"size", b.size},
                                         {"first_step", b.first},
                                         {"last_step", b.last},
                                         {"kind", b.value ? "activation" : "scratch"}});
  }
  llvm::json::Object rep{{"model", co.source_model},
                         {"name", r.name},
                         {"target", opts.target},
                         {"arena_bytes", r.plan.arena_bytes},
                         {"arena_alignment", po.alignment},
                         {"lower_bound_bytes", r.plan.lower_bound},
                         {"best_lower_bound_bytes", r.plan.best_lower_bound},
                         {"arena_over_lower_bound", r.plan.lower_bound ? (double)r.plan.arena_bytes / (double)r.plan.lower_bound : 1.0},
                         {"arena_over_naive", r.plan.naive_bytes ? (double)r.plan.arena_bytes / (double)r.plan.naive_bytes : 1.0},
                         {"schedule", r.plan.schedule},
                         {"schedules_tried", r.plan.schedules_tried},
                         {"naive_bytes", r.plan.naive_bytes},
                         {"greedy_by_size_bytes", r.plan.greedy_bytes},
                         {"planner", r.plan.algorithm},
                         {"weights_bytes", r.weight_bytes},
                         {"budget", llvm::json::Object{{"flash_budget_bytes", b.flash_budget},
                                                       {"ram_budget_bytes", b.ram_budget},
                                                       {"code_estimate_bytes", b.code_estimate},
                                                       {"stack_estimate_bytes", b.stack_estimate},
                                                       {"flash_needed_bytes", b.flash_needed},
                                                       {"ram_needed_bytes", b.ram_needed},
                                                       {"flash_headroom_bytes", b.flash_budget ? b.flash_budget - b.flash_needed : 0},
                                                       {"ram_headroom_bytes", b.ram_budget ? b.ram_budget - b.ram_needed : 0}}},
                         {"nodes", (int64_t)g.num_nodes()},
                         {"tensors", std::move(tensors)}};
  std::string js;
  llvm::raw_string_ostream os(js);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(rep)));
  os.flush();
  r.report_json = js + "\n";
  r.files.push_back({r.name + ".report.json", r.report_json});
  r.files.push_back({r.name + ".memory.svg", memory_map_svg(r)});
  return r;
}

std::string printable(const std::string &s) {
  std::string r;
  for (unsigned char c : s) {
    if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) r += (char)c;
    else r += fmt::format("\\x{:02x}", c);
  }
  return r;
}

std::string memory_summary(const CompileResult &r) {
  std::string budget;
  if (r.budget.flash_budget > 0 || r.budget.ram_budget > 0)
    budget = fmt::format("; headroom: flash {} B of {} B, RAM {} B of {} B (code and stack estimated)",
                         r.budget.flash_budget - r.budget.flash_needed, r.budget.flash_budget,
                         r.budget.ram_budget - r.budget.ram_needed, r.budget.ram_budget);
  return budget.empty() ? memory_line(r) : memory_line(r) + budget;
}

std::string memory_line(const CompileResult &r) {
  return fmt::format(
      "arena {} B = {:.3f}x lower bound {} B (best over {} schedules {} B); greedy-by-size {} B; naive {} B "
      "({:.1f}%); weights {} B; {} nodes",
      r.plan.arena_bytes, r.plan.lower_bound ? (double)r.plan.arena_bytes / (double)r.plan.lower_bound : 1.0,
      r.plan.lower_bound, r.plan.schedules_tried, r.plan.best_lower_bound, r.plan.greedy_bytes, r.plan.naive_bytes,
      r.plan.naive_bytes ? 100.0 * (double)r.plan.arena_bytes / (double)r.plan.naive_bytes : 100.0, r.weight_bytes,
      r.graph ? r.graph->num_nodes() : 0);
}

void write_files_atomically(const std::string &dir, const std::vector<codegen::GeneratedFile> &files) {
  fs::path target = fs::absolute(fs::path(dir)).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  fs::path parent = target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw ir::CompileError(fmt::format("cannot create '{}': {}", parent.string(), ec.message()));
  if (fs::exists(target) && !fs::is_directory(target))
    throw ir::CompileError(fmt::format("output path '{}' exists and is not a directory", target.string()));
  std::string tag = fmt::format(".{}.tmp-{}", target.filename().string(), (long)getpid());
  fs::path tmp = parent / tag;
  fs::remove_all(tmp, ec);
  try {
    fs::create_directory(tmp);
    for (auto &f : files) {
      std::ofstream o(tmp / f.filename, std::ios::binary);
      o << f.content;
      o.close();
      if (!o) throw ir::CompileError(fmt::format("cannot write '{}'", (tmp / f.filename).string()));
    }
    fs::path old = parent / (tag + ".old");
    bool had_old = fs::exists(target);
    if (had_old) fs::rename(target, old);
    fs::rename(tmp, target);
    if (had_old) fs::remove_all(old);
  } catch (const fs::filesystem_error &e) {
    fs::remove_all(tmp, ec);
    throw ir::CompileError(fmt::format("cannot write output folder '{}': {}", target.string(), e.what()));
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

} // namespace tmc::driver

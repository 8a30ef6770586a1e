#include "compiler/memory_svg.h"

#include <algorithm>
#include <fmt/format.h>

namespace tmc::driver {

static std::string xml_escape(const std::string &s) {
  std::string r;
  for (char c : s) {
    switch (c) {
    case '<': r += "&lt;"; break;
    case '>': r += "&gt;"; break;
    case '&': r += "&amp;"; break;
    case '"': r += "&quot;"; break;
    default: r += (unsigned char)c >= 32 ? std::string(1, c) : std::string("?");
    }
  }
  return r;
}

std::string memory_map_svg(const CompileResult &r) {
  const auto &plan = r.plan;
  int steps = 1;
  for (auto &b : plan.buffers) steps = std::max(steps, b.last + 1);
  if (r.graph) steps = std::max(steps, (int)r.graph->num_nodes());
  const int64_t total = std::max<int64_t>(plan.arena_bytes, 1);
  const double W = 960, H = 540, left = 90, top = 60, right = 20, bottom = 70;
  const double pw = W - left - right, ph = H - top - bottom;
  auto X = [&](double step) { return left + pw * step / steps; };
  auto Y = [&](double off) { return top + ph - ph * off / (double)total; };

  // Peak step: where the sum of live bytes is largest.
  std::vector<int64_t> live((size_t)steps + 1, 0);
  for (auto &b : plan.buffers)
    for (int s = b.first; s <= b.last; ++s) live[(size_t)s] += b.size;
  int peak = (int)(std::max_element(live.begin(), live.end()) - live.begin());

  std::string s;
  s += fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                   "font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
  s += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}: arena {} B "
                   "(lower bound {} B, greedy-by-size {} B, naive {} B)</text>\n",
                   left, xml_escape(r.name), plan.arena_bytes, plan.lower_bound, plan.greedy_bytes, plan.naive_bytes);
  s += fmt::format("<text x=\"{}\" y=\"40\" fill=\"#555\">schedule {}, placement {}, weights {} B. "
                   "x: operator step, y: arena offset. Hover a block for details.</text>\n",
                   left, xml_escape(plan.schedule), xml_escape(plan.algorithm), r.weight_bytes);
  // Axes.
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f7f7f7\" stroke=\"#999\"/>\n", left,
                   top, pw, ph);
  for (int i = 0; i <= 4; ++i) {
    int64_t off = total * i / 4;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} B</text>\n", left - 6, Y((double)off) + 4, off);
  }
  int tick = std::max(1, steps / 12);
  for (int st = 0; st < steps; st += tick)
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", X(st + 0.5), top + ph + 16, st);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">operator step</text>\n", left + pw / 2,
                   top + ph + 34);
  // Peak marker.
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#a60\" font-weight=\"bold\">peak: step {} "
                   "({} B live)</text>\n", X(peak + 0.5), top + ph + 52, peak, live[(size_t)peak]);
  // Buffers.
  static const char *colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                 "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const auto &b = plan.buffers[i];
    double x0 = X(b.first), x1 = X(b.last + 1);
    double y0 = Y((double)(plan.offsets[i] + b.size)), y1 = Y((double)plan.offsets[i]);
    const char *col = b.scratch_of ? "#999999" : colors[i % 10];
    std::string label = b.name;
    if (b.values.size() > 1) label += fmt::format(" (+{} shared)", b.values.size() - 1);
    s += fmt::format("<g><title>{} | {} B at offset {} | steps {}..{}</title>"
                     "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                     "fill-opacity=\"0.8\" stroke=\"#222\" stroke-width=\"0.5\"/>",
                     xml_escape(label), b.size, plan.offsets[i], b.first, b.last, x0, y0,
                     std::max(1.0, x1 - x0), std::max(1.0, y1 - y0), col);
    if (y1 - y0 >= 11 && x1 - x0 >= 40) {
      std::string txt = label.size() > (size_t)((x1 - x0) / 6.5) ? label.substr(0, (size_t)((x1 - x0) / 6.5)) : label;
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#fff\">{}</text>", x0 + 3, (y0 + y1) / 2 + 4,
                       xml_escape(txt));
    }
    s += "</g>\n";
  }
  // Peak marker, drawn on top.
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#d62\" "
                   "stroke-width=\"2.5\" stroke-dasharray=\"6 4\"/>\n", X(peak), top, X(peak + 1) - X(peak), ph);
  s += "</svg>\n";
  return s;
}

} // namespace tmc::driver

// The serving plan's chart: tokens/s per GPU against tokens/s per user, decode flat out at each
// batch limit. Each deployment is one line over its batch limits (larger batches: more per GPU,
// less per user), so the chart shows the trade-off curve; the Pareto front is joined in red and
// the chosen option ringed.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/plan/plan.hpp"
#include "sim/plan/serving_plan.hpp"

namespace moesim::sim {
namespace {

constexpr double kWidth = 760, kHeight = 500, kLeft = 80, kRight = 20, kTop = 40, kBottom = 60;

// The smallest 1, 2 or 5 x 10^k at least `raw`: ticks read at a glance.
double round_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double mantissa : {1.0, 2.0, 5.0})
    if (mantissa * power >= raw) return mantissa * power;
  return 10 * power;
}

struct Axes {
  double max_x = 1, max_y = 1;
  double step_x = 1, step_y = 1;
  // About five round steps per axis, the axis ending on a tick at or above the largest value.
  void round_up() {
    step_x = round_step(max_x / 5);
    step_y = round_step(max_y / 5);
    max_x = step_x * std::ceil(max_x / step_x);
    max_y = step_y * std::ceil(max_y / step_y);
  }
  double px(double x) const { return kLeft + x / max_x * (kWidth - kLeft - kRight); }
  double py(double y) const { return kHeight - kBottom - y / max_y * (kHeight - kTop - kBottom); }
};

std::string frame(const Axes& a, const std::string& title) {
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"10\" y=\"24\" font-size=\"13\">{}</text>\n",
      kWidth, kHeight, title);
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/><line x1=\"{0}\" "
      "y1=\"{3}\" x2=\"{0}\" y2=\"{1}\" stroke=\"black\"/>\n",
      kLeft, kHeight - kBottom, kWidth - kRight, kTop);
  // Half a step of slack keeps the last tick when rounding leaves it a hair past the end.
  for (double fx = 0; fx <= a.max_x + a.step_x / 2; fx += a.step_x)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>\n",
                       a.px(fx), kHeight - kBottom + 18, fx);
  for (double fy = 0; fy <= a.max_y + a.step_y / 2; fy += a.step_y)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n",
                       kLeft - 6, a.py(fy) + 4, fy);
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">output tokens/s per user</text>\n"
      "<text x=\"18\" y=\"{:.1f}\" transform=\"rotate(-90 18 {:.1f})\" "
      "text-anchor=\"middle\">output tokens/s per GPU</text>\n",
      (kLeft + kWidth - kRight) / 2, kHeight - 16, (kTop + kHeight - kBottom) / 2,
      (kTop + kHeight - kBottom) / 2);
  return svg;
}

std::string escape_xml(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

// The chosen option ringed, and the colour key.
std::string choice_and_legend(const Axes& axes, const ServingPlanResult& result) {
  std::string svg;
  if (!result.outcomes.empty() && result.outcomes.front().verdict == ServingVerdict::Feasible) {
    const auto& chosen = result.outcomes.front();
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"8\" fill=\"none\" stroke=\"black\" "
        "stroke-width=\"1.5\"><title>chosen: {}</title></circle>\n",
        axes.px(chosen.curve_tokens_per_s_per_user), axes.py(chosen.curve_tokens_per_s_per_gpu),
        escape_xml(chosen.label));
  }
  svg += fmt::format(
      "<text x=\"{0}\" y=\"{1}\" fill=\"#d62728\">red: Pareto front</text><text x=\"{0}\" "
      "y=\"{2}\" fill=\"#1f77b4\">blue: meets the SLA</text><text x=\"{0}\" y=\"{3}\" "
      "fill=\"#888\">grey: rejected</text><text x=\"{0}\" y=\"{4}\">ring: cheapest</text>\n",
      kWidth - 170, kTop + 10, kTop + 26, kTop + 42, kTop + 58);
  return svg;
}

}  // namespace

std::string serving_plan_svg(const PlanSpec& plan, const ServingPlanResult& result) {
  Axes axes;
  for (const auto& o : result.outcomes) {
    axes.max_x = std::max(axes.max_x, o.curve_tokens_per_s_per_user * 1.05);
    axes.max_y = std::max(axes.max_y, o.curve_tokens_per_s_per_gpu * 1.05);
  }
  axes.round_up();
  std::string svg =
      frame(axes, escape_xml(fmt::format("moesim plan {}: decode throughput per GPU against "
                                         "speed per user, over batch limits",
                                         plan.name)));
  // One line per deployment, its points in batch order.
  std::map<int, std::vector<const ServingPlanOutcome*>> curves;
  for (const auto& o : result.outcomes)
    if (o.curve_tokens_per_s_per_gpu > 0) curves[o.candidate].push_back(&o);
  for (auto& [candidate, points] : curves) {
    std::sort(points.begin(), points.end(),
              [](auto* a, auto* b) { return a->max_batch_per_rank < b->max_batch_per_rank; });
    svg += "<polyline fill=\"none\" stroke=\"#9ab\" stroke-width=\"1\" points=\"";
    for (const auto* p : points)
      svg += fmt::format("{:.1f},{:.1f} ", axes.px(p->curve_tokens_per_s_per_user),
                         axes.py(p->curve_tokens_per_s_per_gpu));
    svg += "\"/>\n";
  }
  std::vector<const ServingPlanOutcome*> front;
  for (const auto& o : result.outcomes) {
    if (o.curve_tokens_per_s_per_gpu <= 0) continue;
    const char* colour = o.verdict == ServingVerdict::Feasible ? "#1f77b4" : "#aaaaaa";
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.8\"><title>{} "
        "({})</title></circle>\n",
        axes.px(o.curve_tokens_per_s_per_user), axes.py(o.curve_tokens_per_s_per_gpu),
        o.pareto ? 4.5 : 3, o.pareto ? "#d62728" : colour, escape_xml(o.label),
        verdict_name(o.verdict));
    if (o.pareto) front.push_back(&o);
  }
  std::sort(front.begin(), front.end(), [](auto* a, auto* b) {
    return a->curve_tokens_per_s_per_user < b->curve_tokens_per_s_per_user;
  });
  if (front.size() > 1) {
    svg += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"";
    std::string last;
    for (const auto* o : front) {  // equal options (say, two placements alike) draw one point
      const auto point = fmt::format("{:.1f},{:.1f} ", axes.px(o->curve_tokens_per_s_per_user),
                                     axes.py(o->curve_tokens_per_s_per_gpu));
      if (point != last) svg += point;
      last = point;
    }
    svg += "\"/>\n";
  }
  svg += choice_and_legend(axes, result);
  return svg + "</svg>\n";
}

}  // namespace moesim::sim

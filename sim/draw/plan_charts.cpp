#include "sim/draw/plan_charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace moesim::sim {
namespace {

constexpr Rgb kFrontRed{214, 39, 40};
constexpr Rgb kMeetsBlue{31, 119, 180};
constexpr Rgb kMissGrey{170, 170, 170};
constexpr Rgb kCurveGrey{153, 170, 187};

// Misses first, then options that meet the target, the front last: the best stay visible where
// points coincide.
void order_points(std::vector<ChartPoint>& points) {
  const auto rank = [](const ChartPoint& p) {
    return p.colour == kFrontRed ? 2 : p.colour == kMeetsBlue ? 1 : 0;
  };
  std::stable_sort(points.begin(), points.end(),
                   [&](const ChartPoint& a, const ChartPoint& b) { return rank(a) < rank(b); });
}

// The front as a line, left to right; equal options (two placements alike) add one point.
ChartLine front_line(std::vector<std::pair<double, double>> front) {
  std::sort(front.begin(), front.end());
  front.erase(std::unique(front.begin(), front.end()), front.end());
  return {std::move(front), kFrontRed, 2};
}

}  // namespace

ScatterChart plan_chart(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes) {
  ScatterChart chart;
  // A prefill has no users' token stream: its speed is the step that serves the prompts (the
  // front is the same, the faster step being the higher prompt rate per sequence).
  const bool prefill = plan_is_prefill(plan);
  chart.title = fmt::format("moesim plan {}: throughput per GPU against {}", plan.name,
                            prefill ? "prefill step time" : "speed per user");
  chart.x_label = prefill ? "prefill step, ms" : "tokens/s per user";
  chart.y_label = prefill ? "prompt tokens/s per GPU" : "tokens/s per GPU";
  std::vector<std::pair<double, double>> front;
  for (const auto& o : outcomes) {
    if (!o.fits) continue;
    const double x = prefill ? o.report.step_time_s * 1e3 : o.tokens_per_s_per_user;
    const ChartPoint point{x, o.report.tokens_per_s() / o.report.gpus,
                           o.pareto ? kFrontRed : (o.meets_latency ? kMeetsBlue : kMissGrey),
                           o.pareto ? 5.0 : 3.0};
    chart.points.push_back(point);
    if (o.pareto) front.emplace_back(point.x, point.y);
  }
  order_points(chart.points);
  chart.lines.push_back(front_line(std::move(front)));
  chart.legend = {
      {"Pareto front", kFrontRed}, {"meets latency", kMeetsBlue}, {"too slow", kMissGrey}};
  return chart;
}

ScatterChart serving_plan_chart(const PlanSpec& plan, const ServingPlanResult& result) {
  ScatterChart chart;
  chart.title = fmt::format(
      "moesim plan {}: decode flat out, throughput per GPU against speed per user, over batch "
      "limits",
      plan.name);
  chart.x_label = "output tokens/s per user";
  chart.y_label = "output tokens/s per GPU";
  // One line per deployment, its points in batch order.
  // A pair whose prefill pool takes another shape repeats its decode shape's points: drawn once.
  const auto own = [](const ServingPlanOutcome& o) {
    return o.curve_tokens_per_s_per_gpu > 0 &&
           (o.prefill_candidate < 0 || o.prefill_candidate == o.candidate);
  };
  std::map<int, std::vector<const ServingPlanOutcome*>> curves;
  for (const auto& o : result.outcomes)
    if (own(o)) curves[o.candidate].push_back(&o);
  for (auto& [candidate, points] : curves) {
    std::sort(points.begin(), points.end(),
              [](auto* a, auto* b) { return a->max_batch_per_rank < b->max_batch_per_rank; });
    ChartLine line{{}, kCurveGrey, 1};
    for (const auto* p : points)
      line.points.emplace_back(p->curve_tokens_per_s_per_user, p->curve_tokens_per_s_per_gpu);
    chart.lines.push_back(std::move(line));
  }
  std::vector<std::pair<double, double>> front;
  for (const auto& o : result.outcomes) {
    if (!own(o)) continue;
    const bool meets = o.verdict == ServingVerdict::Feasible;
    const ChartPoint point{o.curve_tokens_per_s_per_user, o.curve_tokens_per_s_per_gpu,
                           o.pareto ? kFrontRed : (meets ? kMeetsBlue : kMissGrey),
                           o.pareto ? 4.5 : 3.0};
    chart.points.push_back(point);
    if (o.pareto) front.emplace_back(point.x, point.y);
  }
  order_points(chart.points);
  chart.lines.push_back(front_line(std::move(front)));
  if (!result.outcomes.empty() && result.outcomes.front().verdict == ServingVerdict::Feasible)
    chart.ring = std::pair{result.outcomes.front().curve_tokens_per_s_per_user,
                           result.outcomes.front().curve_tokens_per_s_per_gpu};
  // Every point is a deployment flat out at its batch limit (its capacity curve), not the load
  // the table reports at; the ring marks the chosen one's point on that curve.
  chart.legend = {{"Pareto front", kFrontRed},
                  {"meets the SLA", kMeetsBlue},
                  {"rejected or not simulated", kMissGrey},
                  {"chosen (flat out)", {0, 0, 0}, true}};
  return chart;
}

}  // namespace moesim::sim

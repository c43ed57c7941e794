// The plan's ranked table, CSV, JSON and SVG scatter plot.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/plan/plan.hpp"

namespace moesim::sim {
namespace {

constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;

double headroom_gib(const PlanOutcome& o) {
  return (o.report.device_memory_bytes - o.report.memory.total()) / kGiBytes;
}

std::string verdict(const PlanOutcome& o) {
  if (!o.fits) return "rejected";
  if (!o.meets_latency) return "too slow";
  if (!o.pareto) return "ok";
  return o.network_model == "flow" ? "ok, pareto, flow" : "ok, pareto";
}

}  // namespace

std::string plan_table_text(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes,
                            int max_rows) {
  std::string text;
  if (plan.target_tokens_per_s || plan.max_latency_ms)
    text += fmt::format(
        "target: {}{}\n",
        plan.target_tokens_per_s ? fmt::format("{:.0f} tokens/s", *plan.target_tokens_per_s) : "",
        plan.max_latency_ms ? fmt::format("  latency <= {} ms", *plan.max_latency_ms) : "");
  // Prefill has no per-user token rate or per-token latency: its rows show the step instead.
  const bool prefill = plan_is_prefill(plan);
  // The candidate column as wide as the longest label shown, so the figures line up.
  std::size_t width = 9, shown_rows = 0;
  for (const auto& o : outcomes)
    if (o.fits && shown_rows++ < static_cast<std::size_t>(max_rows))
      width = std::max(width, o.candidate.label.size());
  text += fmt::format(
      "{:>4}  {:<{}} {:>5} {:>5} {:>11} {:>9} {:>9} {:>9} {:>6} {:>8} {:>9} {:>8} {:>8}  {}\n",
      "rank", "candidate", width, "GPUs", "nodes", "tokens/s", "tok/s/GPU",
      prefill ? "" : "tok/s/usr", prefill ? "step" : "TPOT", "imbal", "drop%", "headroom",
      plan.target_tokens_per_s ? "$/h@tgt" : "$/hour", "$/Mtok", "verdict");
  int rank = 0, rejected = 0;
  for (const auto& o : outcomes) {
    if (!o.fits) {
      ++rejected;
      continue;
    }
    if (rank >= max_rows) continue;
    ++rank;
    const auto& r = o.report;
    const double gpus_per_node =
        static_cast<double>(r.gpus) / o.candidate.scenario["cluster"]["nodes"].get<double>();
    text += fmt::format(
        "{:>4}  {:<{}} {:>5} {:>5} {:>11.0f} {:>9.1f} {:>9} {:>7.2f}ms {:>6.3f} {:>8.4f} "
        "{:>6.1f}GiB {:>8.2f} {:>8.4f}  {}{}\n",
        rank, o.candidate.label, width, r.gpus, static_cast<int>(r.gpus / gpus_per_node),
        r.tokens_per_s(), r.tokens_per_s() / r.gpus,
        prefill ? "" : fmt::format("{:.2f}", o.tokens_per_s_per_user), r.step_time_s * 1e3,
        r.imbalance, r.routed_tokens > 0 ? 100 * r.dropped_tokens / r.routed_tokens : 0.0,
        headroom_gib(o), plan.target_tokens_per_s ? o.usd_per_hour_at_target() : o.usd_per_hour(),
        o.usd_per_million_tokens().value_or(0), verdict(o),
        plan.target_tokens_per_s ? fmt::format(" (x{} for target)", o.replicas_needed) : "");
  }
  if (rejected > 0) {
    text += fmt::format("{} candidates rejected, e.g.:\n", rejected);
    int shown = 0;
    for (const auto& o : outcomes)
      if (!o.fits && shown++ < 3) text += fmt::format("  {}: {}\n", o.candidate.label, o.rejection);
  }
  return text;
}

std::string plan_csv(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes) {
  const bool prefill = plan_is_prefill(plan);  // no users' stream: its cell stays empty
  std::string csv =
      "candidate,fits,gpus,tokens_per_s,tokens_per_s_per_gpu,tokens_per_s_per_user,latency_ms,"
      "imbalance,drop_rate,"
      "memory_headroom_gib,usd_per_hour,usd_per_million_tokens,replicas_needed,pareto,meets_"
      "latency,rejection\n";
  for (const auto& o : outcomes) {
    const auto& r = o.report;
    std::string rejection = o.rejection;
    std::replace(rejection.begin(), rejection.end(), '"', '\'');
    csv += fmt::format(
        "\"{}\",{},{},{:.3f},{:.3f},{},{:.4f},{:.4f},{:.6f},{:.3f},{:.3f},{:.6f},{},{},{},\"{}"
        "\"\n",
        o.candidate.label, o.fits ? 1 : 0, r.gpus, r.tokens_per_s(),
        r.gpus ? r.tokens_per_s() / r.gpus : 0.0,
        prefill ? "" : fmt::format("{:.4f}", o.tokens_per_s_per_user), r.step_time_s * 1e3,
        r.imbalance, r.routed_tokens > 0 ? r.dropped_tokens / r.routed_tokens : 0.0,
        o.fits ? headroom_gib(o) : 0.0, o.fits ? o.usd_per_hour() : 0.0,
        o.usd_per_million_tokens().value_or(0), o.replicas_needed, o.pareto ? 1 : 0,
        o.meets_latency ? 1 : 0, rejection);
  }
  return csv;
}

nlohmann::json plan_json(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& o : outcomes) {
    nlohmann::json row{
        {"candidate", o.candidate.label}, {"fits", o.fits}, {"scenario", o.candidate.scenario}};
    if (!o.fits) {
      row["rejection"] = o.rejection;
    } else {
      const auto& r = o.report;
      const auto cost = o.usd_per_million_tokens();
      row.update(
          {{"gpus", r.gpus},
           {"tokens_per_s", r.tokens_per_s()},
           {"tokens_per_s_per_gpu", r.tokens_per_s() / r.gpus},
           {"tokens_per_s_per_user", o.tokens_per_s_per_user},
           {"latency_ms", r.step_time_s * 1e3},
           {"imbalance_max_over_mean", r.imbalance},
           {"drop_rate", r.routed_tokens > 0 ? r.dropped_tokens / r.routed_tokens : 0.0},
           {"memory_headroom_gib", headroom_gib(o)},
           {"usd_per_hour", o.usd_per_hour()},
           {"usd_per_hour_at_target", o.usd_per_hour_at_target()},
           {"usd_per_million_tokens", cost ? nlohmann::json(*cost) : nlohmann::json(nullptr)},
           {"price_date", o.candidate.price_date},
           {"replicas_needed", o.replicas_needed},
           {"pareto", o.pareto},
           {"network_model", o.network_model},
           {"meets_latency", o.meets_latency}});
    }
    if (o.fits && plan_is_prefill(plan)) row.erase("tokens_per_s_per_user");  // no users' stream
    rows.push_back(std::move(row));
  }
  return {{"schema_version", 1},
          {"plan", plan.name},
          {"target",
           {{"tokens_per_s", plan.target_tokens_per_s ? nlohmann::json(*plan.target_tokens_per_s)
                                                      : nlohmann::json(nullptr)},
            {"max_latency_ms", plan.max_latency_ms ? nlohmann::json(*plan.max_latency_ms)
                                                   : nlohmann::json(nullptr)}}},
          {"feasible", !plan_nearest_miss(plan, outcomes).has_value()},
          {"nearest_miss", plan_nearest_miss(plan, outcomes).value_or("")},
          {"candidates", rows}};
}

}  // namespace moesim::sim

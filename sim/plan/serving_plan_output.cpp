// The serving plan's ranked table, CSV, JSON and chart (serving_plan.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/plan/plan.hpp"
#include "sim/plan/serving_plan.hpp"
#include "sim/serving/serving_output.hpp"

namespace moesim::sim {
namespace {

std::string instances_text(const ServingPlanOutcome& o, bool disaggregated) {
  return disaggregated ? fmt::format("{}P+{}D", o.prefill_instances, o.decode_instances)
                       : std::to_string(o.decode_instances);
}

std::string sla_text(const SlaSpec& sla) {
  std::string text;
  if (sla.ttft_p90_s) text += fmt::format("  TTFT p90 <= {} ms", *sla.ttft_p90_s * 1e3);
  if (sla.tpot_p90_s) text += fmt::format("  TPOT p90 <= {} ms", *sla.tpot_p90_s * 1e3);
  if (sla.e2e_p90_s) text += fmt::format("  E2E p90 <= {} ms", *sla.e2e_p90_s * 1e3);
  return text;
}

}  // namespace

std::string_view verdict_name(ServingVerdict verdict) {
  switch (verdict) {
    case ServingVerdict::Feasible:
      return "feasible";
    case ServingVerdict::Memory:
      return "memory";
    case ServingVerdict::Sla:
      return "SLA";
    case ServingVerdict::Throughput:
      return "throughput";
    case ServingVerdict::Price:
      return "price";
    case ServingVerdict::Budget:
      return "budget";
  }
  return "price";
}

std::string budget_caveat(const ServingPlanResult& r) {
  const bool answered =
      !r.outcomes.empty() && r.outcomes.front().verdict == ServingVerdict::Feasible;
  const double answer = answered ? r.outcomes.front().usd_per_hour : 0;
  std::size_t unsimulated = 0, cheaper = 0;
  double cheapest_bound = 0;
  for (const auto& o : r.outcomes) {
    if (o.verdict != ServingVerdict::Budget) continue;
    ++unsimulated;
    if (answered && o.usd_per_hour >= answer) continue;
    cheapest_bound = cheaper++ == 0 ? o.usd_per_hour : std::min(cheapest_bound, o.usd_per_hour);
  }
  const std::string fix = "expected less traffic (duration_s or rate_per_s) or a shorter search";
  if (!answered && unsimulated > 0)
    return fmt::format(
        "the traffic spent the sweep's budget after {} of {} options, none meeting the SLA, and {} "
        "were never simulated; {}",
        r.simulated, r.outcomes.size(), unsimulated, fix);
  if (cheaper > 0)
    return fmt::format(
        "the traffic spent the sweep's budget after {} of {} options; {} never simulated cost from "
        "${:.2f}/hour, below the ${:.2f}/hour of the first row, so it may not be the cheapest; {}",
        r.simulated, r.outcomes.size(), cheaper, cheapest_bound, answer, fix);
  return "";
}

std::string serving_plan_table_text(const PlanSpec& plan, const ServingPlanResult& result,
                                    int max_rows) {
  const ServingPlanSpec& s = *plan.serving;
  std::string text =
      fmt::format("traffic: {:.2f} requests/s ({}){}\n", result.offered_requests_per_s,
                  s.disaggregated ? "prefill/decode pools" : "aggregated", sla_text(s.sla));
  // The candidate column as wide as the longest label shown, so the figures line up.
  std::size_t width = 9, shown = 0;
  for (const auto& o : result.outcomes)
    if (o.verdict == ServingVerdict::Feasible && shown++ < static_cast<std::size_t>(max_rows))
      width = std::max(width, o.label.size());
  text += fmt::format("{:>4}  {:<{}} {:>9} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "rank",
                      "candidate", width, "instances", "GPUs", "$/hour", "TTFT p90", "TPOT p90",
                      "tok/s/GPU", "tok/s/usr");
  int rank = 0;
  for (const auto& o : result.outcomes) {
    if (o.verdict != ServingVerdict::Feasible || rank >= max_rows) continue;
    ++rank;
    text += fmt::format(
        "{:>4}  {:<{}} {:>9} {:>5} {:>9.2f} {:>7.1f}ms {:>7.1f}ms {:>9.1f} {:>9.1f}{}\n", rank,
        o.label, width, instances_text(o, s.disaggregated), o.gpus, o.usd_per_hour,
        o.metrics.ttft.p90 * 1e3, o.metrics.tpot.p90 * 1e3, o.metrics.output_tokens_per_s_per_gpu,
        o.metrics.output_tokens_per_s_per_user, o.pareto ? "  pareto" : "");
  }
  if (rank == 0) text += "  no option meets the SLA\n";
  std::map<ServingVerdict, std::vector<const ServingPlanOutcome*>> rejected;
  for (const auto& o : result.outcomes)
    if (o.verdict != ServingVerdict::Feasible) rejected[o.verdict].push_back(&o);
  for (const auto& [verdict, list] : rejected) {
    text += fmt::format("{} rejected for {}, e.g.:\n", list.size(), verdict_name(verdict));
    for (std::size_t i = 0; i < std::min<std::size_t>(2, list.size()); ++i)
      text += fmt::format("  {}: {}\n", list[i]->label, list[i]->reason);
  }
  return text;
}

std::string serving_plan_csv(const ServingPlanResult& result) {
  std::string csv =
      "candidate,max_batch_per_rank,verdict,prefill_instances,decode_instances,gpus,usd_per_hour,"
      "ttft_p90_ms,tpot_p90_ms,e2e_p90_ms,output_tokens_per_s_per_gpu,output_tokens_per_s_per_"
      "user,curve_tokens_per_s_per_gpu,curve_tokens_per_s_per_user,pareto,reason\n";
  // Options never simulated (price, budget, refused at sizing) have no measured figures: empty.
  const auto measured = [](const ServingPlanOutcome& o, double value) {
    return o.simulated ? fmt::format("{:.3f}", value) : std::string();
  };
  for (const auto& o : result.outcomes) {
    std::string reason = o.reason;
    std::replace(reason.begin(), reason.end(), '"', '\'');
    const auto& m = o.metrics;
    csv += fmt::format("\"{}\",{},{},{},{},{},{:.3f},{},{},{},{},{},{:.3f},{:.3f},{},\"{}\"\n",
                       o.label, o.max_batch_per_rank, verdict_name(o.verdict), o.prefill_instances,
                       o.decode_instances, o.gpus, o.usd_per_hour, measured(o, m.ttft.p90 * 1e3),
                       measured(o, m.tpot.p90 * 1e3), measured(o, m.e2e.p90 * 1e3),
                       measured(o, m.output_tokens_per_s_per_gpu),
                       measured(o, m.output_tokens_per_s_per_user), o.curve_tokens_per_s_per_gpu,
                       o.curve_tokens_per_s_per_user, o.pareto ? 1 : 0, reason);
  }
  return csv;
}

nlohmann::json serving_plan_json(const PlanSpec& plan, const ServingPlanResult& result) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& o : result.outcomes) {
    nlohmann::json row{
        {"candidate", o.label},
        {"max_batch_per_rank", o.max_batch_per_rank},
        {"verdict", verdict_name(o.verdict)},
        {"reason", o.reason},
        {"prefill_instances", o.prefill_instances},
        {"decode_instances", o.decode_instances},
        {"gpus", o.gpus},
        {"usd_per_hour", o.usd_per_hour},
        {"simulated", o.simulated},
        {"curve_tokens_per_s_per_gpu", o.curve_tokens_per_s_per_gpu},
        {"curve_tokens_per_s_per_user", o.curve_tokens_per_s_per_user},
        {"pareto", o.pareto},
        {"scenario", plan.candidates[static_cast<std::size_t>(o.candidate)].scenario}};
    if (plan.serving->disaggregated) {
      // "scenario" is the decode pool's shape; the prefill pool's may differ.
      const auto prefill = o.prefill_candidate >= 0 ? o.prefill_candidate : o.candidate;
      row["prefill_scenario"] = plan.candidates[static_cast<std::size_t>(prefill)].scenario;
      row["prefill_gpus_per_instance"] = o.prefill_gpus_per_instance;
      row["decode_gpus_per_instance"] = o.gpus_per_instance;
    }
    if (o.simulated)
      row["metrics"] = {{"ttft_ms", percentiles_json(o.metrics.ttft)},
                        {"tpot_ms", percentiles_json(o.metrics.tpot)},
                        {"e2e_ms", percentiles_json(o.metrics.e2e)},
                        {"queueing_ms", percentiles_json(o.metrics.queueing)},
                        {"output_tokens_per_s", o.metrics.output_tokens_per_s},
                        {"output_tokens_per_s_per_gpu", o.metrics.output_tokens_per_s_per_gpu},
                        {"output_tokens_per_s_per_user", o.metrics.output_tokens_per_s_per_user}};
    rows.push_back(std::move(row));
  }
  const bool feasible =
      !result.outcomes.empty() && result.outcomes.front().verdict == ServingVerdict::Feasible;
  return {{"schema_version", 1},
          {"plan", plan.name},
          {"mode", plan.serving->disaggregated ? "disaggregated" : "aggregated"},
          {"offered_requests_per_s", result.offered_requests_per_s},
          {"feasible", feasible},
          {"simulated", result.simulated},
          {"candidates", rows}};
}

}  // namespace moesim::sim

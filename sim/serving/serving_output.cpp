#include "sim/serving/serving_output.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace moesim::sim {
namespace {

std::string ms_row(const char* name, const Percentiles& p) {
  return fmt::format("  {:<10} p50 {:>9.2f}  p90 {:>9.2f}  p99 {:>9.2f}  mean {:>9.2f} ms\n", name,
                     p.p50 * 1e3, p.p90 * 1e3, p.p99 * 1e3, p.mean * 1e3);
}

double per_gpu(const PoolCapacity& c, double rate) {
  return c.gpus_per_instance > 0 ? rate / c.gpus_per_instance : 0.0;
}

// A pool's figures; a prefill pool has no decode figures and a decode pool no prefill figures
// (an aggregated pool has both).
nlohmann::json pool_json(const PoolResult& p) {
  const PoolCapacity& c = p.capacity;
  nlohmann::json j{{"role", p.role},
                   {"instances", p.instances},
                   {"gpus_per_instance", c.gpus_per_instance},
                   {"attention_data_parallel", c.data_parallel_ranks},
                   {"kv_capacity_tokens_per_instance", c.kv_capacity_tokens},
                   {"capacity_requests_per_s_per_instance", c.requests_per_s},
                   {"steps", p.steps},
                   {"busy_fraction", p.busy_fraction},
                   {"step_shapes_simulated", p.shapes_simulated},
                   {"usd_per_gpu_hour", p.usd_per_gpu_hour}};
  if (p.role != "decode")
    j.update(
        {{"prefill_requests_per_s_per_instance", c.prefill_requests_per_s},
         // Flat-out rates per node, as published P/D deployments report them, and per GPU,
         // as GB200 NVL72 deployments do (a node there is a 4-GPU tray).
         {"prefill_input_tokens_per_s_per_node", c.prefill_tokens_per_s / c.nodes_per_instance},
         {"prefill_input_tokens_per_s_per_gpu", per_gpu(c, c.prefill_tokens_per_s)},
         // The busiest GPU over the mean the flat-out step was priced at.
         {"prefill_imbalance_max_over_mean", c.prefill_imbalance}});
  if (p.role != "prefill")
    j.update({{"decode_requests_per_s_per_instance", c.decode_requests_per_s},
              {"decode_batch_per_rank_at_capacity", c.decode_batch_per_rank},
              {"decode_output_tokens_per_s_per_node", c.decode_tokens_per_s / c.nodes_per_instance},
              {"decode_output_tokens_per_s_per_gpu", per_gpu(c, c.decode_tokens_per_s)},
              {"decode_imbalance_max_over_mean", c.decode_imbalance},
              {"mean_decode_batch_per_rank", p.mean_decode_batch}});
  return j;
}

double arrival_span_s(const std::vector<RequestRecord>& records) {
  if (records.empty()) return 0;
  const auto [first, last] = std::minmax_element(
      records.begin(), records.end(),
      [](const RequestRecord& a, const RequestRecord& b) { return a.arrival_s < b.arrival_s; });
  return last->arrival_s - first->arrival_s;
}

// The limits and whether they were met, or that none was set.
std::string sla_line(const ServingOutcome& o) {
  if (o.sla.empty()) {  // requests that never fit fail the run all the same
    std::string text = "  SLA: none set\n";
    for (const auto& f : o.sla_failures) text += "  failed: " + f + "\n";
    return text;
  }
  std::string limits;
  const auto term = [&](const std::optional<double>& limit, const char* name) {
    if (limit)
      limits += fmt::format("{}{} p90 <= {:g} ms", limits.empty() ? "" : ", ", name, *limit * 1e3);
  };
  term(o.sla.ttft_p90_s, "TTFT");
  term(o.sla.tpot_p90_s, "TPOT");
  term(o.sla.e2e_p90_s, "E2E");
  std::string text = fmt::format("  SLA {} ({})\n", o.meets_sla() ? "met" : "missed", limits);
  for (const auto& f : o.sla_failures) text += "  SLA missed: " + f + "\n";
  return text;
}

// The busiest GPU over the mean that the pool's flat-out steps were priced at (its role's).
std::string imbalance_line(const PoolResult& p) {
  const PoolCapacity& c = p.capacity;
  const std::string prefill = fmt::format("prefill {:.3f}", c.prefill_imbalance);
  const std::string decode = fmt::format("decode {:.3f}", c.decode_imbalance);
  return fmt::format("  {:<10} busiest GPU over the mean, flat out: {}\n", "",
                     p.role == "prefill"  ? prefill
                     : p.role == "decode" ? decode
                                          : prefill + ", " + decode);
}

}  // namespace

nlohmann::json percentiles_json(const Percentiles& p) {
  return {{"p50", p.p50 * 1e3}, {"p90", p.p90 * 1e3}, {"p99", p.p99 * 1e3}, {"mean", p.mean * 1e3}};
}

std::string serving_text(const ServingOutcome& o) {
  std::string text = fmt::format("serving {} ({})\n", o.name,
                                 o.disaggregated ? "prefill/decode disaggregated" : "aggregated");
  for (const auto& p : o.pools) {
    text += fmt::format(
        "  {:<10} {} x {} GPUs (DP {}), KV {:.0f} tokens/instance, capacity {:.2f} req/s/instance, "
        "busy {:.0f}%{}\n",
        p.role, p.instances, p.capacity.gpus_per_instance, p.capacity.data_parallel_ranks,
        p.capacity.kv_capacity_tokens, p.capacity.requests_per_s, 100 * p.busy_fraction,
        p.role == "prefill"
            ? ""
            : fmt::format(", mean decode batch {:.1f} on the busiest rank", p.mean_decode_batch));
    text += imbalance_line(p);
  }
  if (!o.rejection.empty()) return text + "  rejected: " + o.rejection + "\n";
  if (o.disaggregated)
    text += fmt::format(
        "  prefill:decode instances {:.3g} (rate-matched {:.3g}); KV transfer {:.2f} ms/request\n",
        o.prefill_per_decode, o.rate_matched_prefill_per_decode, o.kv_transfer_s * 1e3);
  const ServingMetrics& m = o.metrics;
  // Two windows, each said: arrivals (offered) and first arrival to last finish (completed).
  text += fmt::format(
      "  {} of {} requests completed, {:.2f} req/s over {:.3f} s from the first "
      "arrival to the last finish{}\n",
      m.completed, m.requests, m.requests_per_s, m.window_s,
      o.offered_requests_per_s > 0
          ? fmt::format(" (offered {:.2f} req/s; {} arrivals over {:.3f} s)",
                        o.offered_requests_per_s, o.records.size(), arrival_span_s(o.records))
          : "");
  text += ms_row("TTFT", m.ttft) + ms_row("TPOT", m.tpot) + ms_row("E2E", m.e2e) +
          ms_row("queueing", m.queueing);
  text += fmt::format(
      "  throughput {:.0f} output tokens/s ({:.1f}/GPU over {} GPUs), {:.1f} tokens/s per user\n",
      m.output_tokens_per_s, m.output_tokens_per_s_per_gpu, o.gpus, m.output_tokens_per_s_per_user);
  if (o.priced) text += fmt::format("  price ${:.2f}/hour\n", o.usd_per_hour);
  if (o.oversized_prompts > 0)
    text += fmt::format("  {} prompts over the token budget were prefilled alone\n",
                        o.oversized_prompts);
  return text + sla_line(o);
}

nlohmann::json serving_json(const ServingOutcome& o) {
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& p : o.pools) pools.push_back(pool_json(p));
  const ServingMetrics& m = o.metrics;
  nlohmann::json j{{"schema_version", 1},
                   {"name", o.name},
                   {"mode", o.disaggregated ? "disaggregated" : "aggregated"},
                   {"pools", pools},
                   {"gpus", o.gpus},
                   {"usd_per_hour", o.priced ? nlohmann::json(o.usd_per_hour) : nlohmann::json()},
                   {"rejection", o.rejection},
                   {"offered_requests_per_s", o.offered_requests_per_s}};
  if (o.disaggregated)
    j.update({{"prefill_per_decode_instances", o.prefill_per_decode},
              {"rate_matched_prefill_per_decode", o.rate_matched_prefill_per_decode},
              {"kv_transfer_ms_mean", o.kv_transfer_s * 1e3}});
  if (!o.rejection.empty()) return j;
  j["summary"] = {{"requests", m.requests},
                  {"completed", m.completed},
                  {"window_s", m.window_s},
                  {"ttft_ms", percentiles_json(m.ttft)},
                  {"tpot_ms", percentiles_json(m.tpot)},
                  {"e2e_ms", percentiles_json(m.e2e)},
                  {"queueing_ms", percentiles_json(m.queueing)},
                  {"requests_per_s", m.requests_per_s},
                  {"output_tokens_per_s", m.output_tokens_per_s},
                  {"input_tokens_per_s", m.input_tokens_per_s},
                  {"output_tokens_per_s_per_gpu", m.output_tokens_per_s_per_gpu},
                  {"output_tokens_per_s_per_user", m.output_tokens_per_s_per_user},
                  {"oversized_prompts", o.oversized_prompts},
                  {"never_fit", o.never_fit}};
  // No SLA set and nothing failed: nothing was met or missed.
  const bool unjudged = o.sla.empty() && o.sla_failures.empty();
  j["sla"] = {{"met", unjudged ? nlohmann::json() : nlohmann::json(o.meets_sla())},
              {"failures", o.sla_failures}};
  return j;
}

std::string requests_csv(const ServingOutcome& o) {
  std::string csv =
      "id,arrival_s,input_tokens,output_tokens,cached_tokens,queueing_s,ttft_s,e2e_s\n";
  for (const auto& r : o.records) {
    const bool done = r.finish_s >= 0;
    csv += fmt::format("{},{:.6f},{},{},{},{},{},{}\n", r.id, r.arrival_s, r.input_tokens,
                       r.output_tokens, r.cached_tokens,
                       r.scheduled_s >= 0 ? fmt::format("{:.6f}", r.scheduled_s - r.arrival_s) : "",
                       done ? fmt::format("{:.6f}", r.first_token_s - r.arrival_s) : "",
                       done ? fmt::format("{:.6f}", r.finish_s - r.arrival_s) : "");
  }
  return csv;
}

}  // namespace moesim::sim

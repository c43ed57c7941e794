#include "sim/report/report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/report/milliseconds.hpp"
#include "sim/report/provenance.hpp"
#include "sim/report/step_account.hpp"
#include "sim/report/training_report.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

Json phases_to_json(const PhaseTimes& p) {
  return Json{{"dense_ms", ms(p.dense)},
              {"gate_ms", ms(p.gate)},
              {"dispatch_ms", ms(p.dispatch)},
              {"count_exchange_ms", ms(p.count_exchange)},
              {"dispatch_fixed_ms", ms(p.dispatch_fixed)},
              {"tp_all_reduce_ms", ms(p.tp_all_reduce)},
              {"cp_kv_exchange_ms", ms(p.cp_kv_exchange)},
              {"moe_tp_all_gather_ms", ms(p.moe_tp_all_gather)},
              {"experts_ms", ms(p.experts)},
              {"moe_tp_reduce_scatter_ms", ms(p.moe_tp_reduce_scatter)},
              {"combine_ms", ms(p.combine)},
              {"total_ms", ms(p.total)}};
}

// Tokens that reach no expert, as a share of the tokens entering MoE layers in a step.
double unrouted_rate(const Report& r) {
  const auto moe_layers =
      std::count_if(r.layers.begin(), r.layers.end(), [](const LayerResult& l) { return l.moe; });
  const double entering = r.tokens_per_step * static_cast<double>(moe_layers);
  return entering > 0 ? r.unrouted_tokens / entering : 0.0;
}

// The index and value of the largest entry, for "most drops at ..." lines.
std::pair<std::size_t, double> largest(const std::vector<double>& values) {
  const auto it = std::max_element(values.begin(), values.end());
  return it == values.end()
             ? std::pair<std::size_t, double>{0, 0.0}
             : std::pair<std::size_t, double>{static_cast<std::size_t>(it - values.begin()), *it};
}

// What the imbalance line was priced from, when batch-to-batch variation applied.
std::string load_variation_text(const Report& r) {
  const LoadVariationUse& v = r.load_variation;
  if (!v.applied) return "";
  return fmt::format(
      " (the busiest GPU of a batch: {:.3f} from the expected loads, batch-to-batch spread "
      "sigma {:.2f}{})",
      v.expected_imbalance, v.sigma, v.sampling_noise ? " + sampling noise" : "");
}

Json step_extras_to_json(const StepExtras& x) {
  return Json{{"lm_head_and_sampling_ms", ms(x.lm_head)},
              {"mtp_drafts_ms", ms(x.mtp_drafts)},
              {"launch_floor_ms", ms(x.launch_floor)},
              {"launch_fixed_ms", ms(x.launch_fixed)},
              {"kernel_overhead_ms", ms(x.kernel_overhead)},
              {"kernels", x.kernels},
              {"cuda_graphs", x.cuda_graphs},
              {"accepted_tokens_per_sequence", x.accepted_tokens_per_sequence},
              {"prefill_tokens_per_step", x.prefill_tokens},
              {"mixed_prefill_ms", ms(x.mixed_prefill)}};
}

// How the busiest GPU was priced: imbalance_max_over_mean with the variation, and without it.
Json load_variation_to_json(const LoadVariationUse& v) {
  if (!v.applied) return Json{{"applied", false}};
  return Json{{"applied", true},
              {"batch_load_sigma", v.sigma},
              {"sampling_noise", v.sampling_noise},
              {"expected_loads_imbalance_max_over_mean", v.expected_imbalance}};
}

constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;

Json summary_to_json(const Report& r, const StepAccount& account) {
  const auto cost = r.cost_per_million_tokens();
  return Json{
      {"step_time_ms", ms(r.step_time_s)},
      {"tokens_per_s", r.tokens_per_s()},
      {"tokens_per_s_per_gpu", r.gpus > 0 ? r.tokens_per_s() / r.gpus : 0.0},
      {"imbalance_max_over_mean", r.imbalance},
      {"load_variation", load_variation_to_json(r.load_variation)},
      {"dropped_tokens", r.dropped_tokens},
      {"drop_rate", r.routed_tokens > 0 ? r.dropped_tokens / r.routed_tokens : 0.0},
      {"unrouted_tokens", r.unrouted_tokens},
      {"unrouted_rate", unrouted_rate(r)},
      {"unrouted_estimated", r.unrouted_estimated},
      {"routing", r.routing},
      {"peak_memory_gib_per_gpu", r.memory.total() / kGiBytes},
      {"cost_per_million_tokens_usd", cost ? Json(*cost) : Json(nullptr)},
      {"profile_source", r.profile_source},
      {"profile", r.profile_name.empty() ? Json(nullptr) : Json(r.profile_name)},
      {"error_band", r.calibrated_phases.empty()
                         ? Json(nullptr)
                         : Json{{"relative", r.error_band},
                                {"stack", r.calibration_stack},
                                {"calibrated_phases", r.calibrated_phases}}},
      {"network_model", r.network_model},
      {"dispatch", r.dispatch},
      {"collective_costs", r.collective_costs},
      {"dedup", r.dedup},
      {"tokens_per_step", r.tokens_per_step},
      {"gpus", r.gpus},
      {"time_per_output_token_ms", ms(r.time_per_output_token_s())},
      {"step_extras", step_extras_to_json(r.extras)},
      {"pricing_notes", r.pricing_notes},
      {"micro_batches", r.micro_batches},
      {"step_account", step_account_to_json(r, account)},
  };
}

Json layer_to_json(const Report& r, const LayerResult& layer, const ExposedPhases& exposed) {
  Json entry = phases_to_json(layer.phases);
  entry["exposed"] = exposed_to_json(exposed);
  entry["layer"] = layer.layer;
  entry["moe"] = layer.moe;
  if (layer.phases.calibrated > 0) {
    entry["calibrated_ms"] = ms(layer.phases.calibrated);
    entry["error_band_relative"] = layer.phases.band;
  }
  entry["imbalance_max_over_mean"] = layer.imbalance;
  if (r.load_variation.applied)
    entry["expected_loads_imbalance_max_over_mean"] = layer.expected_imbalance;
  entry["dropped_tokens"] = layer.dropped_tokens;
  entry["dropped_per_expert"] = layer.dropped_per_expert;
  entry["dropped_per_gpu"] = layer.dropped_per_gpu;
  entry["unrouted_tokens"] = layer.unrouted_tokens;
  entry["unrouted_per_gpu"] = layer.unrouted_per_gpu;
  entry["tokens_per_expert"] = layer.tokens_per_expert;
  if (r.training) entry["backward"] = backward_to_json(layer.backward);
  return entry;
}

Json per_gpu_to_json(const Report& r) {
  Json gpus = Json::array();
  for (const auto& gpu : r.per_gpu)
    gpus.push_back({{"gpu", gpu.gpu},
                    {"compute_ms", ms(gpu.compute_s)},
                    {"communication_ms", ms(gpu.communication_s)},
                    {"idle_ms", ms(gpu.idle_s)},
                    {"expert_tokens", gpu.expert_tokens},
                    {"dropped_tokens", gpu.dropped_tokens},
                    {"unrouted_tokens", gpu.unrouted_tokens}});
  return gpus;
}

Json memory_to_json(const Report& r) {
  return Json{{"weights", r.memory.weights / kGiBytes},
              {"gradients", r.memory.gradients / kGiBytes},
              {"optimizer", r.memory.optimizer / kGiBytes},
              {"kv_cache", r.memory.kv_cache / kGiBytes},
              {"activations", r.memory.activations / kGiBytes},
              {"total", r.memory.total() / kGiBytes},
              {"device_capacity", r.device_memory_bytes / kGiBytes}};
}

}  // namespace

Json report_to_json(const Report& r) {
  const StepAccount account = account_step(r);
  Json layers = Json::array();
  for (std::size_t i = 0; i < r.layers.size(); ++i)
    layers.push_back(layer_to_json(r, r.layers[i], account.layers[i]));
  Json links = Json::array();
  for (const auto& link : r.links)
    links.push_back({{"kind", link.kind},
                     {"bytes_per_step", link.bytes_per_step},
                     {"utilisation", link.utilisation}});
  Json busiest = Json::array();
  for (const auto& link : r.busiest_links)
    busiest.push_back({{"link", link.name},
                       {"kind", link.kind},
                       {"bytes_per_step", link.bytes_per_step},
                       {"utilisation", link.utilisation}});
  return Json{
      {"schema_version", kReportSchemaVersion},
      {"scenario", r.scenario},
      {"provenance", provenance_to_json(r.provenance)},
      {"model", r.model},
      {"cluster", r.cluster},
      {"workload", r.workload},
      {"summary", summary_to_json(r, account)},
      {"memory_gib_per_gpu", memory_to_json(r)},
      {"price", r.usd_per_gpu_hour
                    ? Json{{"usd_per_gpu_hour", *r.usd_per_gpu_hour}, {"date", r.price_date}}
                    : Json(nullptr)},
      {"training", r.training ? training_to_json(*r.training) : Json(nullptr)},
      {"layers", layers},
      {"per_gpu", per_gpu_to_json(r)},
      {"links", links},
      {"busiest_links", busiest},
      {"ep_groups_played", r.ep_groups_played},
  };
}

std::string report_to_csv(const Report& r) {
  std::string csv =
      "layer,moe,dense_ms,gate_ms,dispatch_ms,experts_ms,combine_ms,total_ms,imbalance_max_over_"
      "mean,"
      "dropped_tokens,unrouted_tokens,tp_all_reduce_ms,moe_tp_all_gather_ms,moe_tp_reduce_"
      "scatter_ms,backward_ms,exposed_dense_ms,exposed_gate_ms,exposed_dispatch_ms,"
      "exposed_experts_ms,exposed_combine_ms,exposed_wait_ms,cp_kv_exchange_ms,backward_dense_ms,"
      "backward_gate_ms,backward_dispatch_ms,backward_experts_ms,backward_combine_ms\n";
  constexpr int kColumns = 27;
  const StepAccount account = account_step(r);
  for (std::size_t i = 0; i < r.layers.size(); ++i) {
    const auto& l = r.layers[i];
    const auto& p = l.phases;
    const auto& e = account.layers[i];
    const auto& b = l.backward;  // zero unless training
    csv += fmt::format(
        "{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.1f},{:.1f},{:.6f},{:.6f},{:.6f},"
        "{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},"
        "{:.6f}\n",
        l.layer, l.moe ? 1 : 0, ms(p.dense), ms(p.gate), ms(p.dispatch), ms(p.experts),
        ms(p.combine), ms(p.total), l.imbalance, l.dropped_tokens, l.unrouted_tokens,
        ms(p.tp_all_reduce), ms(p.moe_tp_all_gather), ms(p.moe_tp_reduce_scatter),
        ms(l.backward.total), ms(e.dense), ms(e.gate), ms(e.dispatch), ms(e.experts), ms(e.combine),
        ms(e.wait), ms(p.cp_kv_exchange), ms(b.dense), ms(b.gate), ms(b.dispatch), ms(b.experts),
        ms(b.combine));
  }
  return csv + step_items_csv(r, account, kColumns);
}

std::string report_summary_text(const Report& r) {
  const auto cost = r.cost_per_million_tokens();
  std::string text;
  text += fmt::format("scenario  {}  ({} on {}, {} GPUs, {})\n", r.scenario, r.model, r.cluster,
                      r.gpus, r.workload);
  text += fmt::format("costs     {}{}\n", r.profile_source,
                      r.profile_source == "roofline"
                          ? " (device datasheet x efficiency; no measured profile)"
                          : fmt::format(" (profile {})", r.profile_name));
  text += fmt::format("routing   {}\n", r.routing);
  text += provenance_text(r.provenance);
  text += fmt::format(
      "network   {}\n",
      r.network_model == "flow"
          ? fmt::format("flow-level max-min sharing over the cluster graph, {} EP group{} at once",
                        r.ep_groups_played, r.ep_groups_played == 1 ? "" : "s")
          : std::string("analytic per-GPU bandwidth bounds"));
  text += fmt::format("dispatch  {}{}; scale-up bandwidth from {}\n", r.dispatch,
                      r.dedup ? ", tokens deduplicated per destination" : "", r.collective_costs);
  text += r.calibrated_phases.empty()
              ? fmt::format("step      {:.3f} ms\n", ms(r.step_time_s))
              : fmt::format("step      {:.3f} ms ± {:.0f}%  (band from calibration of {}: {})\n",
                            ms(r.step_time_s), 100 * r.error_band, r.calibration_stack,
                            fmt::join(r.calibrated_phases, ", "));
  if (r.workload == "decode")
    text += fmt::format("TPOT      {:.3f} ms  ({:.2f} tokens per sequence per step)\n",
                        ms(r.time_per_output_token_s()), r.extras.accepted_tokens_per_sequence);
  if (r.extras.lm_head + r.extras.mtp_drafts + r.extras.launch_fixed > 0)
    text += fmt::format(
        "  + step  LM head and sampling {:.3f} ms, MTP drafts {:.3f} ms, small-kernel overhead "
        "{:.3f} ms, launch {:.3f} ms ({} kernels, {}; floor {:.3f} ms)\n",
        ms(r.extras.lm_head), ms(r.extras.mtp_drafts), ms(r.extras.kernel_overhead),
        ms(r.extras.launch_fixed), r.extras.kernels, r.extras.cuda_graphs ? "CUDA graph" : "eager",
        ms(r.extras.launch_floor));
  if (r.extras.prefill_tokens > 0)
    text += fmt::format("  + step  {:.1f} prompt tokens a rank prefills a step: {:.3f} ms\n",
                        r.extras.prefill_tokens, ms(r.extras.mixed_prefill));
  for (const auto& note : r.pricing_notes) text += fmt::format("note      {}\n", note);
  text += fmt::format("tokens/s  {:.0f}  ({:.1f} per GPU)\n", r.tokens_per_s(),
                      r.gpus > 0 ? r.tokens_per_s() / r.gpus : 0.0);
  text += fmt::format("imbalance {:.3f} max/mean{}\n", r.imbalance, load_variation_text(r));
  text += fmt::format("dropped   {:.0f} tokens ({:.4f}%)\n", r.dropped_tokens,
                      r.routed_tokens > 0 ? 100.0 * r.dropped_tokens / r.routed_tokens : 0.0);
  if (r.dropped_tokens > 0) {
    // Where drops pile up: summed over layers, the expert and the EP rank that lose the most.
    std::vector<double> per_expert, per_rank;
    for (const auto& l : r.layers) {
      per_expert.resize(std::max(per_expert.size(), l.dropped_per_expert.size()), 0.0);
      per_rank.resize(std::max(per_rank.size(), l.dropped_per_gpu.size()), 0.0);
      for (std::size_t e = 0; e < l.dropped_per_expert.size(); ++e)
        per_expert[e] += l.dropped_per_expert[e];
      for (std::size_t g = 0; g < l.dropped_per_gpu.size(); ++g)
        per_rank[g] += l.dropped_per_gpu[g];
    }
    const auto [expert, expert_drops] = largest(per_expert);
    const auto [rank, rank_drops] = largest(per_rank);
    text += fmt::format(
        "          most at expert {} ({:.0f} over all layers) and EP rank {} ({:.0f} per GPU)\n",
        expert, expert_drops, rank, rank_drops);
  }
  text +=
      fmt::format("unrouted  {:.0f} tokens ({:.4f}% of tokens into MoE layers; residual only){}\n",
                  r.unrouted_tokens, 100.0 * unrouted_rate(r),
                  r.unrouted_estimated ? ", sampled estimate" : "");
  text += fmt::format("memory    {:.1f} of {:.1f} GiB per GPU\n", r.memory.total() / (1 << 30),
                      r.device_memory_bytes / (1 << 30));
  text += cost ? fmt::format("cost      ${:.3f} per million tokens (at ${}/GPU-hour, {})\n", *cost,
                             *r.usd_per_gpu_hour, r.price_date)
               : std::string("cost      no price given\n");
  text += step_account_text(r, account_step(r));
  if (r.training) text += training_summary(*r.training);
  for (std::size_t i = 0; i < std::min<std::size_t>(3, r.busiest_links.size()); ++i) {
    const auto& link = r.busiest_links[i];
    text += fmt::format("{}{:5.1f}%  {} ({})\n", i == 0 ? "links     " : "          ",
                        100 * link.utilisation, link.name, link.kind);
  }
  return text;
}

}  // namespace moesim::sim

#include "sim/run/inputs.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/config_error.hpp"
#include "sim/cost/device_scaled_profile.hpp"
#include "sim/cost/fp8_ratio_source.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/routing/expert_load.hpp"
#include "sim/routing/trace_policy.hpp"
#include "sim/spec/builtin_profiles.hpp"

namespace moesim::sim {

namespace {

// A profile names the device it was measured on; pricing another device from it is refused unless
// the scenario says so (the report then says so too).
void check_profile_device(const ScenarioSpec& s, const MeasuredProfile& profile) {
  const std::string measured_on = profile.device_preset();
  if (measured_on.empty() || measured_on == s.cluster.device.name || s.profile.allow_other_device)
    return;
  throw ConfigError(
      s.source,
      {{"/profile",
        fmt::format("profile {} was measured on {} ({}), but the cluster's device is {}; "
                    "measure this device, or set profile.allow_other_device to price "
                    "it from these measurements anyway",
                    s.profile.source, profile.gpu_name(), measured_on, s.cluster.device.name)}});
}

}  // namespace

MeasuredProfile load_named_profile(const ScenarioSpec& s) {
  try {
    return load_profile(s.profile.source);
  } catch (const ConfigError& error) {
    if (s.profile.field.empty()) throw;
    throw ConfigError(s.source, {{s.profile.field, error.what()}});
  }
}

std::optional<MeasuredProfile> resolve_profile(const ScenarioSpec& s) {
  const ModelSpec& m = s.model;
  std::optional<MeasuredProfile> profile;
  if (s.profile.source == "auto") {
    if (const auto name = builtin_profile_for_device(s.cluster.device.name)) {
      profile = load_profile(*name);
    } else if (const auto measured_on = nearest_measured_device(s.cluster.device)) {
      // No profile of its own: the nearest measured device's, scaled by the datasheets.
      profile = scale_profile_to_device(load_profile(*builtin_profile_for_device(*measured_on)),
                                        *find_device(*measured_on), s.cluster.device);
    }
    if (profile && profile->curves_for_shape(m) == nullptr) profile.reset();
  } else if (s.profile.source != "roofline") {
    profile = load_named_profile(s);
    check_profile_device(s, *profile);
    // Calibrated phase curves price any shape (and say how far they extrapolate).
    if (profile->curves_for_shape(m) == nullptr && profile->calibrated_phases() == nullptr)
      throw ConfigError(
          s.source,
          {{"/profile",
            fmt::format("profile {} holds no measurements at {}'s shape (hidden {}, expert_ffn {}, "
                        "{} experts, top-{}; it measured: {}); measure it with moesim-profile "
                        "or use \"roofline\"",
                        s.profile.source, m.name, m.hidden, m.expert_ffn, m.experts, m.top_k,
                        fmt::join(profile->model_names(), ", "))}});
  }
  if (profile)
    if (const DeviceSpec* measured_on = find_device(profile->device_preset()))
      adopt_same_chip_ratios(*measured_on, *profile);
  return profile;
}

void check_scenario_inputs(const ScenarioSpec& scenario) {
  ensure_fits(scenario);
  resolve_profile(scenario);
  scenario_placements(scenario, expert_loads(scenario));
}

RunInputs resolve_inputs(ScenarioSpec scenario, SimulationOverrides overrides) {
  check_overrides(scenario, overrides);
  RunInputs inputs{std::move(scenario), std::nullopt, std::move(overrides)};
  inputs.profile = resolve_profile(inputs.scenario);
  return inputs;
}

SimulationOverrides trace_overrides(const std::string& path, const ScenarioSpec& s,
                                    const TraceReplayOptions& options) {
  auto source = open_trace_for(path, s.model);
  SimulationOverrides overrides;
  overrides.expert_popularity = trace_expert_popularity(*source, path, s.model, options);
  // A layer whose blocks route no token leaves nothing to price: the trace's fault, not the
  // scenario's (trace-format.md allows empty blocks, not an empty layer).
  ProblemList problems;
  for (std::size_t l = 0; l < overrides.expert_popularity.size(); ++l) {
    const auto& row = overrides.expert_popularity[l];
    if (std::accumulate(row.begin(), row.end(), 0.0) <= 0)
      problems.add(fmt::format("layer {}", l), "expected routed tokens in some block, got none");
  }
  problems.throw_if_any(path);
  overrides.placements = scenario_placements(s, expert_loads(s, overrides));
  source->rewind();  // the second pass counts the policy's drops token by token
  overrides.routing_outcomes = trace_routing_outcomes(*source, s, overrides.placements, path);
  return overrides;
}

double tokens_per_gpu_per_micro_batch(const ScenarioSpec& s) {
  // Under MTP every sequence sends its drafted tokens through the verify pass too; a training
  // pipeline plays one of its micro-batches.
  // A prompt chunk prefilled in the step (aggregated serving, in-flight) adds its rows.
  const WorkloadSpec& w = s.workload;
  return (static_cast<double>(w.tokens_per_gpu) * w.queries_per_sequence() + w.step_prompt_tokens) /
         s.parallelism.attention_tensor_parallel / s.parallelism.micro_batches /
         s.parallelism.pipeline.micro_batches;
}

void check_overrides(const ScenarioSpec& s, const SimulationOverrides& o) {
  ProblemList problems;
  const ModelSpec& m = s.model;
  const auto layers = static_cast<std::size_t>(m.moe_layers);
  if (!o.expert_popularity.empty() && o.expert_popularity.size() != layers)
    problems.add("routing", fmt::format("expected loads for {} MoE layers, got {}", layers,
                                        o.expert_popularity.size()));
  for (std::size_t l = 0; l < o.expert_popularity.size(); ++l) {
    const auto& row = o.expert_popularity[l];
    double total = 0;
    bool valid = row.size() == static_cast<std::size_t>(m.experts);
    for (double v : row) {
      valid = valid && std::isfinite(v) && v >= 0;
      total += v;
    }
    if (!valid || total <= 0)
      problems.add(fmt::format("routing/layer {}", l),
                   fmt::format("expected {} finite non-negative expert loads with a positive sum",
                               m.experts));
  }
  if (!o.placements.empty() && o.placements.size() != layers)
    problems.add("placement", fmt::format("expected placements for {} MoE layers, got {}", layers,
                                          o.placements.size()));
  for (std::size_t l = 0; l < o.placements.size(); ++l) {
    const auto& p = o.placements[l];
    bool valid = p.gpus == s.parallelism.expert_parallel &&
                 p.replicas.size() == static_cast<std::size_t>(m.experts) &&
                 p.slots.size() == static_cast<std::size_t>(p.gpus);
    for (std::size_t e = 0; valid && e < p.replicas.size(); ++e) {
      valid = !p.replicas[e].empty();
      for (int gpu : p.replicas[e]) valid = valid && gpu >= 0 && gpu < p.gpus;
    }
    if (!valid)
      problems.add(fmt::format("placement/layer {}", l),
                   fmt::format("expected every one of {} experts on at least one of {} GPUs",
                               m.experts, s.parallelism.expert_parallel));
  }
  if (!o.routing_outcomes.empty() && o.routing_outcomes.size() != layers)
    problems.add("routing", fmt::format("expected policy outcomes for {} MoE layers, got {}",
                                        layers, o.routing_outcomes.size()));
  for (std::size_t l = 0; l < o.routing_outcomes.size(); ++l) {
    const auto& outcome = o.routing_outcomes[l];
    if (outcome.tokens <= 0 || outcome.kept.size() != static_cast<std::size_t>(m.experts) ||
        outcome.dropped_per_gpu.size() != static_cast<std::size_t>(s.parallelism.expert_parallel) ||
        outcome.unrouted_per_rank.size() != static_cast<std::size_t>(s.parallelism.expert_parallel))
      problems.add(fmt::format("routing/layer {}", l),
                   fmt::format("expected a policy outcome over {} experts and {} GPUs with tokens",
                               m.experts, s.parallelism.expert_parallel));
  }
  problems.throw_if_any(s.source);
}

std::vector<std::vector<double>> expert_loads(const ScenarioSpec& s, const SimulationOverrides& o) {
  const ModelSpec& m = s.model;
  const double tokens_per_group = tokens_per_gpu_per_micro_batch(s) * s.parallelism.expert_parallel;
  std::vector<std::vector<double>> loads;
  for (int layer = 0; layer < m.moe_layers; ++layer) {
    auto popularity = o.expert_popularity.empty()
                          ? expert_popularity(s.workload.routing, m.experts, layer)
                          : o.expert_popularity[layer];
    const double total = std::accumulate(popularity.begin(), popularity.end(), 0.0);
    for (double& p : popularity) p /= total;
    loads.push_back(expected_expert_load(popularity, tokens_per_group, m.top_k));
  }
  return loads;
}

namespace {

// Per MoE layer, the placement the scenario's strategy makes of that layer's loads.
std::vector<Placement> place_layers(const ScenarioSpec& s,
                                    const std::vector<std::vector<double>>& loads) {
  std::vector<Placement> placements;
  const int ep = s.parallelism.expert_parallel;
  const bool simple = s.placement.strategy == PlacementStrategy::Contiguous ||
                      s.placement.strategy == PlacementStrategy::RoundRobin;
  for (std::size_t layer = 0; layer < loads.size(); ++layer) {
    const auto& load = loads[layer];
    if (simple) {
      placements.push_back(make_placement(s.placement, s.model.experts, ep, load));
      continue;
    }
    // Load-aware strategies place each layer by its own load, as EPLB rebalances per layer.
    PlacementInputs inputs;
    inputs.experts = s.model.experts;
    inputs.gpus = ep;
    inputs.nodes = std::max(1, ep / s.cluster.system.gpus_per_node);
    inputs.redundant = s.placement.redundant_experts;
    inputs.expert_load = load;
    inputs.groups = s.model.expert_groups > 1 ? s.model.expert_groups : 0;
    inputs.placement_file = s.placement.file;
    inputs.layer = static_cast<int>(layer);
    inputs.moe_layers = static_cast<int>(loads.size());
    inputs.map_layer = static_cast<int>(layer);  // an expert map's row per MoE layer
    placements.push_back(place_experts(s.placement.strategy, inputs));
  }
  return placements;
}

}  // namespace

std::vector<Placement> scenario_placements(const ScenarioSpec& s,
                                           const std::vector<std::vector<double>>& loads) {
  try {
    return place_layers(s, loads);
  } catch (const ConfigError& error) {
    // a bad placement file is reported at the scenario's field, its own message kept inside
    if (s.placement.file.empty() || error.source() != s.placement.file) throw;
    throw ConfigError(s.source, {{"/placement/file", error.what()}});
  }
}

}  // namespace moesim::sim

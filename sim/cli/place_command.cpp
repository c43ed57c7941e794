// moesim place: compute an expert placement from a trace or load matrix; print per-GPU load.
#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "sim/cli/commands.hpp"
#include "sim/network/dispatch_traffic.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/stats.hpp"

namespace moesim::cli {
namespace {

struct PlaceOptions {
  std::string input;
  std::string strategy = "eplb";
  int gpus = 0;
  int nodes = 1;
  int redundant = 0;
  int groups = 0;
  std::string placement_file;
  int map_layer = -1;
  std::string replica_choice = "round-robin";
  sim::ImportOptions import{.refuse_unused = true};  // options the user gave: none ignored
  bool json = false;
};

std::string describe_loads(const std::vector<double>& loads) {
  std::string text;
  for (std::size_t g = 0; g < loads.size(); ++g)
    text += fmt::format("{}{:.0f}", g ? " " : "", loads[g]);
  return text;
}

double max_over_mean(const std::vector<double>& loads) {
  const double mean =
      std::accumulate(loads.begin(), loads.end(), 0.0) / static_cast<double>(loads.size());
  return mean > 0 ? *std::max_element(loads.begin(), loads.end()) / mean : 1.0;
}

// CLI11 admits only the table's names (one_of_choices), so the lookup always finds one.
template <typename Enum>
Enum parsed_choice(const std::string& name) {
  return sim::choice_from_name<Enum>(name).value();
}

// --groups asks for DeepSeek's hierarchical EPLB; when it cannot apply, EPLB would silently fall
// back to global packing, so say why instead (the conditions of strategies.cpp's hierarchical
// check).
void check_groups_apply(const PlaceOptions& options, int experts) {
  if (options.groups == 0) return;
  const auto refuse = [](const std::string& why) { throw ConfigError("--groups", {{"", why}}); };
  if (options.strategy != "eplb")
    refuse(fmt::format("expert groups apply to --strategy eplb only, not {}", options.strategy));
  if (experts % options.groups != 0)
    refuse(fmt::format("{} groups do not divide the {} experts", options.groups, experts));
  if (options.groups % options.nodes != 0)
    refuse(
        fmt::format("{} groups do not divide over {} nodes (hierarchical EPLB puts whole groups "
                    "on nodes)",
                    options.groups, options.nodes));
  if ((experts + options.redundant) % options.nodes != 0)
    refuse(fmt::format("{} expert slots ({} + {} redundant) do not divide over {} nodes",
                       experts + options.redundant, experts, options.redundant, options.nodes));
}

int place(const PlaceOptions& options) {
  auto source = sim::open_routing(options.input, options.import);
  const auto stats = sim::compute_trace_stats(*source);
  const auto experts = static_cast<int>(stats.shape.experts);
  // placement time grows with the square of the slots (docs/limits.md)
  if (experts + options.redundant > sim::kMaxExpertSlots)
    throw ConfigError(
        "--redundant",
        {{"", fmt::format("expected experts + redundant <= {} expert slots, got {} + {}",
                          sim::kMaxExpertSlots, experts, options.redundant)}});
  check_groups_apply(options, experts);
  // the placement serves every layer: load and co-activation summed over layers
  sim::PlacementInputs inputs{.experts = experts,
                              .gpus = options.gpus,
                              .nodes = options.nodes,
                              .redundant = options.redundant,
                              .expert_load = std::vector<double>(experts, 0.0),
                              .groups = options.groups,
                              .coactivation = {},
                              .placement_file = options.placement_file,
                              .map_layer = options.map_layer};
  for (const auto& layer : stats.layers) {
    for (int e = 0; e < experts; ++e)
      inputs.expert_load[e] += static_cast<double>(layer.tokens_per_expert[e]);
    if (layer.coactivation.empty()) continue;
    inputs.coactivation.resize(layer.coactivation.size(), 0.0);
    for (std::size_t i = 0; i < layer.coactivation.size(); ++i)
      inputs.coactivation[i] += static_cast<double>(layer.coactivation[i]);
  }
  const bool contiguous_fits = options.gpus > 0 && experts % options.gpus == 0;
  const auto after =
      sim::place_experts(parsed_choice<sim::PlacementStrategy>(options.strategy), inputs);
  // Which replica a copy reaches changes each GPU's load; one node = one scale-up domain here.
  const int domain = options.nodes > 0 ? std::max(1, options.gpus / options.nodes) : options.gpus;
  const auto after_loads = sim::replica_gpu_loads(
      after, inputs.expert_load, parsed_choice<sim::ReplicaChoice>(options.replica_choice), domain);
  const double after_imbalance = max_over_mean(after_loads);
  std::vector<double> before_loads;
  double before_imbalance = 0;
  if (contiguous_fits) {
    auto baseline = inputs;
    baseline.redundant = 0;
    const auto before = sim::place_experts(sim::PlacementStrategy::Contiguous, baseline);
    before_loads = sim::gpu_loads(before, inputs.expert_load);
    before_imbalance = sim::placement_imbalance(before, inputs.expert_load);
  }
  if (options.json) {
    nlohmann::json out{{"strategy", options.strategy},
                       {"replica_choice", options.replica_choice},
                       {"gpus", after.gpus},
                       {"slots", after.slots},
                       {"gpu_load_after", after_loads},
                       {"imbalance_after", after_imbalance}};
    if (contiguous_fits)
      out["gpu_load_before"] = before_loads, out["imbalance_before"] = before_imbalance;
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  if (contiguous_fits)
    fmt::print("before (contiguous, no replicas): imbalance {:.3f}\n  per-GPU load: {}\n",
               before_imbalance, describe_loads(before_loads));
  fmt::print("after ({}, {} redundant, replica choice {}): imbalance {:.3f}\n  per-GPU load: {}\n",
             options.strategy, options.redundant, options.replica_choice, after_imbalance,
             describe_loads(after_loads));
  for (int g = 0; g < after.gpus; ++g) {
    std::string slots;
    for (int e : after.slots[g]) slots += fmt::format("{}{}", slots.empty() ? "" : " ", e);
    fmt::print("  gpu {}: {}\n", g, slots);
  }
  return kExitOk;
}

}  // namespace

void add_place_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<PlaceOptions>();
  auto* command =
      app.add_subcommand("place", "Compute an expert placement from a trace or load matrix");
  command->add_option("input", options->input, "routing file (.mtrace, .npy, .json, .csv)")
      ->required();
  command->add_option("--strategy", options->strategy, sim::choice_list<sim::PlacementStrategy>())
      ->check(one_of_choices<sim::PlacementStrategy>())
      ->capture_default_str();
  command->add_option("--gpus", options->gpus, "GPUs in the expert-parallel group")
      ->required()
      ->check(CLI::Range(std::int64_t{1}, sim::kMaxGpus));
  command->add_option("--nodes", options->nodes, "nodes the GPUs split over")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, sim::kMaxGpus));
  command->add_option("--redundant", options->redundant, "redundant expert slots")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, sim::kMaxRedundantExperts));
  command->add_option("--groups", options->groups, "expert groups for hierarchical EPLB (n_group)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, sim::kMaxExperts));
  command->add_option("--placement-file", options->placement_file,
                      "for --strategy explicit: {\"gpus\": ...} JSON, or an SGLang/vLLM "
                      "physical-to-logical map (.pt, .npy, .json)");
  command
      ->add_option("--map-layer", options->map_layer,
                   "the map's MoE layer to place by (default: its layers must be alike)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--replica-choice", options->replica_choice,
                   "which replica a token copy reaches: " + sim::choice_list<sim::ReplicaChoice>())
      ->check(one_of_choices<sim::ReplicaChoice>())
      ->capture_default_str();
  command->add_option("--experts", options->import.experts, "experts per layer (id arrays)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--top-k", options->import.top_k, "top-k (count matrices that do not say)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--counts", options->import.counts,
                    "the .npy is a [layers, experts] count matrix");
  command->add_flag("--json", options->json, "print JSON");
  command->callback([&action, options] { action = [options] { return place(*options); }; });
}

}  // namespace moesim::cli

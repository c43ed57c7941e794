// moesim place: an expert placement per layer from a trace or load matrix, as EPLB computes it;
// prints each layer's imbalance before and after, and the worst layer.
#include <fmt/core.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
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
  std::string out;  // every layer's placement, as strategy explicit reads it
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

// One layer's placement, and its per-GPU load before (contiguous, no replicas) and after.
struct LayerPlacement {
  std::int64_t layer = 0;
  sim::Placement after;
  std::vector<double> after_loads;
  double after_imbalance = 1;
  std::vector<double> before_loads;  // empty when contiguous does not fit
  double before_imbalance = 0;
};

LayerPlacement place_layer(const PlaceOptions& options, const sim::LayerStats& stats, int moe_index,
                           int moe_layers, int experts) {
  sim::PlacementInputs inputs{.experts = experts,
                              .gpus = options.gpus,
                              .nodes = options.nodes,
                              .redundant = options.redundant,
                              .expert_load = std::vector<double>(experts, 0.0),
                              .groups = options.groups,
                              .coactivation = {},
                              .placement_file = options.placement_file,
                              .layer = moe_index,
                              .moe_layers = moe_layers,
                              .map_layer = options.map_layer};
  for (int e = 0; e < experts; ++e)
    inputs.expert_load[e] = static_cast<double>(stats.tokens_per_expert[e]);
  inputs.coactivation.assign(stats.coactivation.begin(), stats.coactivation.end());
  LayerPlacement out;
  out.layer = stats.layer;
  out.after = sim::place_experts(parsed_choice<sim::PlacementStrategy>(options.strategy), inputs);
  // Which replica a copy reaches changes each GPU's load; one node = one scale-up domain here.
  const int domain = options.nodes > 0 ? std::max(1, options.gpus / options.nodes) : options.gpus;
  out.after_loads =
      sim::replica_gpu_loads(out.after, inputs.expert_load,
                             parsed_choice<sim::ReplicaChoice>(options.replica_choice), domain);
  out.after_imbalance = max_over_mean(out.after_loads);
  if (options.gpus > 0 && experts % options.gpus == 0) {
    auto baseline = inputs;
    baseline.redundant = 0;
    const auto before = sim::place_experts(sim::PlacementStrategy::Contiguous, baseline);
    out.before_loads = sim::gpu_loads(before, inputs.expert_load);
    out.before_imbalance = sim::placement_imbalance(before, inputs.expert_load);
  }
  return out;
}

// Placement time grows with the square of the slots and linearly with the layers, so both are
// bounded as a scenario's are (docs/limits.md); the input alone obeys the cell limit, so
// --redundant is what pushes it past unless the input is to blame.
void check_slot_limits(const PlaceOptions& options, int experts, std::int64_t layers) {
  if (experts + options.redundant > sim::kMaxExpertSlots)
    throw ConfigError(
        "--redundant",
        {{"", fmt::format("expected experts + redundant <= {} expert slots, got {} + {}",
                          sim::kMaxExpertSlots, experts, options.redundant)}});
  const std::int64_t slots = std::int64_t{experts} + options.redundant;
  if (layers * slots > sim::kMaxLayerExpertCells)
    throw ConfigError(
        options.redundant > 0 ? "--redundant" : options.input,
        {{"", fmt::format("expected MoE layers x expert slots <= {} (docs/limits.md), got {} x ({} "
                          "+ {} redundant) = {}",
                          sim::kMaxLayerExpertCells, layers, experts, options.redundant,
                          layers * slots)}});
}

std::vector<LayerPlacement> place_every_layer(const PlaceOptions& options) {
  auto source = sim::open_routing(options.input, options.import);
  const auto stats = sim::compute_trace_stats(*source);
  const auto experts = static_cast<int>(stats.shape.experts);
  check_slot_limits(options, experts, static_cast<std::int64_t>(stats.layers.size()));
  check_groups_apply(options, experts);
  // Each layer is placed by its own load, as DeepSeek's EPLB rebalances every layer.
  std::vector<LayerPlacement> layers;
  const int count = static_cast<int>(stats.layers.size());
  for (int i = 0; i < count; ++i)
    layers.push_back(place_layer(options, stats.layers[i], i, count, experts));
  return layers;
}

double mean_of(const std::vector<LayerPlacement>& layers, double LayerPlacement::*field) {
  double sum = 0;
  for (const auto& l : layers) sum += l.*field;
  return layers.empty() ? 0.0 : sum / static_cast<double>(layers.size());
}

std::size_t worst_layer(const std::vector<LayerPlacement>& layers) {
  std::size_t worst = 0;
  for (std::size_t i = 1; i < layers.size(); ++i)
    if (layers[i].after_imbalance > layers[worst].after_imbalance) worst = i;
  return worst;
}

nlohmann::json placement_file_json(const std::vector<LayerPlacement>& layers) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& l : layers) entries.push_back({{"layer", l.layer}, {"gpus", l.after.slots}});
  return {{"layers", entries}};
}

void print_json(const PlaceOptions& options, const std::vector<LayerPlacement>& layers) {
  const bool before = !layers.front().before_loads.empty();
  nlohmann::json per_layer = nlohmann::json::array();
  std::vector<double> summed(layers.front().after_loads.size(), 0.0);
  for (const auto& l : layers) {
    nlohmann::json entry{{"layer", l.layer},
                         {"imbalance_after", l.after_imbalance},
                         {"gpu_load_after", l.after_loads},
                         {"slots", l.after.slots}};
    if (before) entry["imbalance_before"] = l.before_imbalance;
    per_layer.push_back(std::move(entry));
    for (std::size_t g = 0; g < summed.size(); ++g) summed[g] += l.after_loads[g];
  }
  const auto worst = worst_layer(layers);
  nlohmann::json out{{"strategy", options.strategy},
                     {"replica_choice", options.replica_choice},
                     {"gpus", layers.front().after.gpus},
                     {"imbalance_after", mean_of(layers, &LayerPlacement::after_imbalance)},
                     {"gpu_load_after", summed},
                     {"worst_layer", layers[worst].layer},
                     {"layers", per_layer}};
  if (before) out["imbalance_before"] = mean_of(layers, &LayerPlacement::before_imbalance);
  if (layers.size() == 1) out["slots"] = layers.front().after.slots;
  fmt::print("{}\n", out.dump(2));
}

void print_text(const PlaceOptions& options, const std::vector<LayerPlacement>& layers) {
  const bool before = !layers.front().before_loads.empty();
  fmt::print(
      "imbalance (max/mean tokens per GPU) per layer: {}after ({}, {} redundant, replica "
      "choice {})\n",
      before ? "before (contiguous, no replicas) -> " : "", options.strategy, options.redundant,
      options.replica_choice);
  for (const auto& l : layers)
    fmt::print("  layer {:>3}: {}{:.3f}\n", l.layer,
               before ? fmt::format("{:.3f} -> ", l.before_imbalance) : "", l.after_imbalance);
  fmt::print(
      "mean over {} layers: {}{:.3f}\n", layers.size(),
      before ? fmt::format("{:.3f} -> ", mean_of(layers, &LayerPlacement::before_imbalance)) : "",
      mean_of(layers, &LayerPlacement::after_imbalance));
  const auto& worst = layers[worst_layer(layers)];
  fmt::print("worst layer {}: {}{:.3f}\n  per-GPU load: {}\n", worst.layer,
             before ? fmt::format("{:.3f} -> ", worst.before_imbalance) : "", worst.after_imbalance,
             describe_loads(worst.after_loads));
  for (int g = 0; g < worst.after.gpus; ++g) {
    std::string slots;
    for (int e : worst.after.slots[g]) slots += fmt::format("{}{}", slots.empty() ? "" : " ", e);
    fmt::print("  gpu {}: {}\n", g, slots);
  }
  if (options.out.empty() && layers.size() > 1)
    fmt::print("(--out FILE writes every layer's placement, for strategy explicit)\n");
}

// Options that only strategy explicit reads are refused elsewhere, not ignored; and the placement
// may not be written over the routing or map it was computed from.
void check_outputs_and_map_options(const PlaceOptions& options) {
  for (const auto& [given, name] : {std::pair{options.map_layer >= 0, "--map-layer"},
                                    std::pair{!options.placement_file.empty(), "--placement-file"}})
    if (given && options.strategy != "explicit")
      throw ConfigError(
          name,
          {{"", fmt::format("applies to --strategy explicit only, not {}", options.strategy)}});
  if (!options.out.empty())
    refuse_output_over_input(options.out,
                             std::vector<std::string>{options.input, options.placement_file});
}

int place(const PlaceOptions& options) {
  check_outputs_and_map_options(options);
  const auto layers = place_every_layer(options);
  if (layers.empty()) throw ConfigError(options.input, {{"/", "expected at least one layer"}});
  if (!options.out.empty()) write_text_file(options.out, placement_file_json(layers).dump() + "\n");
  if (options.json)
    print_json(options, layers);
  else
    print_text(options, layers);
  if (!options.out.empty() && !options.json)
    fmt::print("wrote {} ({} layers; use it as strategy explicit's file)\n",
               escape_for_terminal(options.out), layers.size());
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
      ->check(CLI::Range(std::int64_t{0}, sim::kMaxLayers - 1));
  command
      ->add_option("--replica-choice", options->replica_choice,
                   "which replica a token copy reaches: " + sim::choice_list<sim::ReplicaChoice>())
      ->check(one_of_choices<sim::ReplicaChoice>())
      ->capture_default_str();
  command->add_option("--experts", options->import.experts, "experts per layer (id arrays)");
  command->add_option("--top-k", options->import.top_k, "top-k (count matrices that do not say)");
  command->add_flag("--counts", options->import.counts,
                    "the .npy is a [layers, experts] count matrix");
  command->add_flag("--json", options->json, "print JSON");
  command->add_option("--out", options->out,
                      "write every layer's placement here ({\"layers\": [{\"gpus\": ...}]}, "
                      "the file of strategy explicit)");
  command->callback([&action, options] { action = [options] { return place(*options); }; });
}

}  // namespace moesim::cli

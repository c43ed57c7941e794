#include "sim/placement/strategies.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "sim/traces/import_stacks.hpp"

namespace moesim::sim {
namespace {

Placement from_slots(std::vector<std::vector<int>> slots, int experts) {
  Placement placement;
  placement.gpus = static_cast<int>(slots.size());
  placement.replicas.assign(experts, {});
  for (int g = 0; g < placement.gpus; ++g)
    for (int e : slots[g]) placement.replicas[e].push_back(g);
  placement.slots = std::move(slots);
  return placement;
}

std::vector<int> by_weight_descending(const std::vector<double>& weights) {
  std::vector<int> order(weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return weights[a] > weights[b]; });
  return order;
}

// Replicas of `experts` (with counts from replicate_experts) onto the GPUs `gpu_ids`, heaviest
// first to the least-loaded GPU with a free slot, preferring one that does not already hold the
// expert.
void pack_replicas(const std::vector<int>& experts, const std::vector<int>& counts,
                   const std::vector<double>& load, const std::vector<int>& gpu_ids,
                   int slots_per_gpu, std::vector<std::vector<int>>& slots) {
  std::vector<std::pair<int, double>> items;
  for (std::size_t i = 0; i < experts.size(); ++i)
    for (int r = 0; r < counts[i]; ++r)
      items.emplace_back(experts[i], load[experts[i]] / counts[i]);
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<double> gpu_load(slots.size(), 0.0);
  for (const auto& [expert, weight] : items) {
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass)
      for (int g : gpu_ids) {
        if (static_cast<int>(slots[g].size()) >= slots_per_gpu) continue;
        if (pass == 0 && std::find(slots[g].begin(), slots[g].end(), expert) != slots[g].end())
          continue;
        if (best < 0 || gpu_load[g] < gpu_load[best]) best = g;
      }
    slots[best].push_back(expert);
    gpu_load[best] += weight;
  }
}

void require(ProblemList& problems, bool ok, std::string where, std::string message) {
  if (!ok) problems.add(std::move(where), std::move(message));
}

// A deployed map's slots: every expert placed, ids in range. A map may hold two replicas on one
// GPU, as EPLB's packing can leave them.
void check_map_slots(const std::vector<std::vector<int>>& slots, int experts,
                     ProblemList& problems) {
  const std::string prefix = "physical_to_logical_map";
  std::vector<bool> seen(experts, false);
  for (std::size_t g = 0; g < slots.size(); ++g)
    for (std::size_t s = 0; s < slots[g].size(); ++s) {
      const int expert = slots[g][s];
      if (expert < 0 || expert >= experts) {
        problems.add(fmt::format("{}/{}/{}", prefix, g, s),
                     fmt::format("expected an expert id in [0, {}), got {}", experts, expert));
        continue;
      }
      seen[expert] = true;
    }
  for (int e = 0; e < experts; ++e)
    if (!seen[e])
      problems.add(prefix, fmt::format("expected every expert placed; expert {} is on no GPU", e));
}

// One placement's "gpus" array, each problem named under `prefix` ("" or "/layers/3").
std::vector<std::vector<int>> explicit_slots(const nlohmann::json& gpus, const std::string& prefix,
                                             const PlacementInputs& in, ProblemList& problems) {
  std::vector<std::vector<int>> slots;
  if (in.gpus > 0 && static_cast<int>(gpus.size()) != in.gpus)
    problems.add(prefix + "/gpus",
                 fmt::format("expected {} GPUs (--gpus), got {}", in.gpus, gpus.size()));
  std::vector<bool> seen(in.experts, false);
  for (std::size_t g = 0; g < gpus.size(); ++g) {
    auto& gpu = slots.emplace_back();
    const std::string where = fmt::format("{}/gpus/{}", prefix, g);
    if (!gpus[g].is_array() || gpus[g].size() != gpus[0].size()) {
      problems.add(where, fmt::format("expected an array of {} expert ids (as many as GPU 0)",
                                      gpus[0].size()));
      continue;
    }
    for (std::size_t s = 0; s < gpus[g].size(); ++s) {
      const auto& id = gpus[g][s];
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
          id.get<std::int64_t>() >= in.experts) {
        problems.add(fmt::format("{}/{}", where, s),
                     fmt::format("expected an expert id in [0, {}), got {}", in.experts,
                                 describe_json_value(id)));
        continue;
      }
      const int expert = id.get<int>();
      if (std::find(gpu.begin(), gpu.end(), expert) != gpu.end())
        problems.add(fmt::format("{}/{}", where, s),
                     fmt::format("expected each expert once per GPU, got {} again", expert));
      gpu.push_back(expert);
      seen[expert] = true;
    }
  }
  for (int e = 0; e < in.experts; ++e)
    if (!seen[e])
      problems.add(prefix + "/gpus",
                   fmt::format("expected every expert placed; expert {} is on no GPU", e));
  return slots;
}

// SGLang's or vLLM's physical-to-logical map: one layer's slots, `gpus` equal runs of them
// (slot p on EP rank p / slots per rank, as both stacks lay them out).
std::vector<std::vector<int>> slots_from_expert_map(const PlacementInputs& in) {
  const auto& path = in.placement_file;
  const auto map = read_expert_map(path);
  const auto& rows = map.physical_to_logical;
  const auto layers = static_cast<int>(rows.size());
  int layer = layers == 1 ? 0 : in.map_layer;  // one row places every layer
  if (layer < 0) {
    layer = 0;
    for (int l = 1; l < layers; ++l)
      if (rows[l] != rows[0])
        throw ConfigError(path, {{fmt::format("layer {}", l),
                                  fmt::format("expected every layer's map alike (moesim places all "
                                              "MoE layers the same way), but layer {} differs from "
                                              "layer 0; choose one with --map-layer",
                                              l)}});
  }
  if (layer >= layers)
    throw ConfigError(path,
                      {{"physical_to_logical_map",
                        fmt::format("expected a row for MoE layer {} (one row, or one per MoE "
                                    "layer), got {} rows",
                                    layer, layers)}});
  const auto slots_total = static_cast<int>(rows[layer].size());
  if (in.gpus < 1 || slots_total % in.gpus != 0)
    throw ConfigError(path, {{"gpus", fmt::format("expected the EP size (GPUs) to divide the map's "
                                                  "{} physical slots, got {}",
                                                  slots_total, in.gpus)}});
  std::vector<std::vector<int>> slots(in.gpus);
  for (int p = 0; p < slots_total; ++p)
    slots[p / (slots_total / in.gpus)].push_back(static_cast<int>(rows[layer][p]));
  return slots;
}

bool non_empty_array(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_array() &&
         !object[key].empty();
}

// A placement file says "gpus" or "layers", never both, and nothing else: a field it does not
// know, or the one of the two that would lose, must not be dropped without a word.
void check_placement_fields(const nlohmann::json& json, const std::string& path) {
  if (!json.is_object()) return;  // the shape checks below name what was expected
  ProblemList problems;
  for (const auto& [key, value] : json.items())
    if (key != "gpus" && key != "layers")
      problems.add(json_pointer_child("", key), "unknown field; expected gpus or layers");
  if (json.contains("gpus") && json.contains("layers"))
    problems.add("/layers",
                 "expected gpus (every layer) or layers (one entry per MoE layer), "
                 "not both");
  problems.throw_if_any(path);
}

// {"gpus": [[expert, ...], ...]} for every layer, or {"layers": [{"gpus": ...}, ...]} with one
// entry per MoE layer (as `moesim place --out` writes), or a deployed SGLang/vLLM expert map.
Placement place_explicit(const PlacementInputs& in) {
  const auto& path = in.placement_file;
  if (path.empty())
    throw ConfigError("placement", {{"file",
                                     "expected a placement file for strategy \"explicit\" (hint: "
                                     "--placement-file FILE, or placement.file in a scenario)"}});
  if (is_expert_map_file(path)) {
    ProblemList problems;
    auto slots = slots_from_expert_map(in);
    check_map_slots(slots, in.experts, problems);
    problems.throw_if_any(path);
    return from_slots(std::move(slots), in.experts);
  }
  const auto json = parse_strict_json(read_text_file(path), path);
  check_placement_fields(json, path);
  ProblemList problems;
  if (non_empty_array(json, "layers")) {
    const auto& layers = json["layers"];
    if (in.moe_layers > 0 && static_cast<int>(layers.size()) != in.moe_layers)
      throw ConfigError(path,
                        {{"/layers", fmt::format("expected one entry per MoE layer ({}), got {}",
                                                 in.moe_layers, layers.size())}});
    const auto index = static_cast<std::size_t>(std::max(0, in.layer));
    if (index >= layers.size())
      throw ConfigError(path, {{"/layers", fmt::format("expected an entry for MoE layer {}, got {}",
                                                       index, layers.size())}});
    const std::string prefix = fmt::format("/layers/{}", index);
    if (!non_empty_array(layers[index], "gpus"))
      throw ConfigError(path,
                        {{prefix + "/gpus", "expected a non-empty array with each GPU's experts"}});
    auto slots = explicit_slots(layers[index]["gpus"], prefix, in, problems);
    problems.throw_if_any(path);
    return from_slots(std::move(slots), in.experts);
  }
  if (!non_empty_array(json, "gpus"))
    throw ConfigError(path, {{"/gpus",
                              "expected a non-empty array with each GPU's experts (or "
                              "/layers, one such object per MoE layer)"}});
  auto slots = explicit_slots(json["gpus"], "", in, problems);
  problems.throw_if_any(path);
  return from_slots(std::move(slots), in.experts);
}

// Sizes every strategy but "explicit" needs: whole nodes, and slots that divide over the GPUs.
void check_grid_inputs(const PlacementInputs& in, ProblemList& problems) {
  require(problems, in.gpus >= 1, "gpus", fmt::format("expected >= 1, got {}", in.gpus));
  require(problems, in.nodes >= 1 && in.gpus % std::max(1, in.nodes) == 0, "nodes",
          fmt::format("expected a divisor of gpus = {}, got {}", in.gpus, in.nodes));
  require(
      problems,
      in.redundant >= 0 && in.gpus >= 1 && (in.experts + in.redundant) % std::max(1, in.gpus) == 0,
      "redundant",
      fmt::format("expected experts + redundant ({} + {}) to divide evenly over {} GPUs",
                  in.experts, in.redundant, in.gpus));
}

// Per node: replicate its experts into its slots, then pack the replicas onto its GPUs.
void fill_nodes(const PlacementInputs& in, int slots_per_gpu,
                const std::vector<std::vector<int>>& node_experts,
                std::vector<std::vector<int>>& slots) {
  const int gpus_per_node = in.gpus / in.nodes;
  for (int node = 0; node < in.nodes; ++node) {
    std::vector<double> local(node_experts[node].size());
    for (std::size_t i = 0; i < local.size(); ++i) local[i] = in.expert_load[node_experts[node][i]];
    const int extra = slots_per_gpu * gpus_per_node - static_cast<int>(local.size());
    std::vector<int> node_gpus(gpus_per_node);
    std::iota(node_gpus.begin(), node_gpus.end(), node * gpus_per_node);
    pack_replicas(node_experts[node], replicate_experts(local, extra), in.expert_load, node_gpus,
                  slots_per_gpu, slots);
  }
}

// DeepSeek's hierarchical EPLB applies when expert groups divide evenly over the nodes.
bool hierarchical_eplb_applies(PlacementStrategy strategy, const PlacementInputs& in) {
  return strategy == PlacementStrategy::Eplb && in.groups > 0 && in.experts % in.groups == 0 &&
         in.groups % in.nodes == 0 && (in.experts + in.redundant) % in.nodes == 0;
}

// DeepSeek EPLB's first level: expert groups -> nodes by balanced packing of the group loads.
std::vector<std::vector<int>> nodes_by_group_load(const PlacementInputs& in) {
  const int group_size = in.experts / in.groups;
  std::vector<double> group_load(in.groups, 0.0);
  for (int e = 0; e < in.experts; ++e) group_load[e / group_size] += in.expert_load[e];
  const auto node_of_group = balanced_packing(group_load, in.nodes);
  std::vector<std::vector<int>> node_experts(in.nodes);
  for (int e = 0; e < in.experts; ++e) node_experts[node_of_group[e / group_size]].push_back(e);
  return node_experts;
}

void check_topology_aware_inputs(const PlacementInputs& in, ProblemList& problems) {
  require(problems, in.experts % in.nodes == 0 && in.redundant % in.nodes == 0, "nodes",
          fmt::format("expected experts ({}) and redundant ({}) divisible by nodes ({})",
                      in.experts, in.redundant, in.nodes));
  require(problems,
          in.coactivation.empty() || in.coactivation.size() == std::size_t(in.experts) * in.experts,
          "coactivation", fmt::format("expected {} x {} entries", in.experts, in.experts));
}

// How often `expert` is co-activated with the experts already on a node, both directions.
double coactivation_affinity(const PlacementInputs& in, int expert,
                             const std::vector<int>& node_experts) {
  double affinity = 0;
  if (in.coactivation.empty()) return affinity;
  for (int other : node_experts)
    affinity += in.coactivation[std::size_t(expert) * in.experts + other] +
                in.coactivation[std::size_t(other) * in.experts + expert];
  return affinity;
}

// Heaviest expert first, to the node (with room) whose experts it is most often co-activated with,
// so the dispatch of a token that picks both stays inside one node; ties to the lightest node.
std::vector<std::vector<int>> nodes_by_coactivation(const PlacementInputs& in) {
  std::vector<std::vector<int>> node_experts(in.nodes);
  std::vector<double> node_load(in.nodes, 0.0);
  const int per_node = in.experts / in.nodes;
  for (int e : by_weight_descending(in.expert_load)) {
    int best = -1;
    double best_affinity = -1;
    for (int node = 0; node < in.nodes; ++node) {
      if (static_cast<int>(node_experts[node].size()) >= per_node) continue;
      const double affinity = coactivation_affinity(in, e, node_experts[node]);
      if (best < 0 || affinity > best_affinity ||
          (affinity == best_affinity && node_load[node] < node_load[best]))
        best = node, best_affinity = affinity;
    }
    node_experts[best].push_back(e);
    node_load[best] += in.expert_load[e];
  }
  return node_experts;
}

// lpt, and global EPLB (no groups, or groups that do not divide the nodes): replicate by max
// load per replica over all experts, then pack every replica over every GPU.
void pack_globally(const PlacementInputs& in, int slots_per_gpu,
                   std::vector<std::vector<int>>& slots) {
  std::vector<int> all(in.experts);
  std::iota(all.begin(), all.end(), 0);
  std::vector<int> gpu_ids(in.gpus);
  std::iota(gpu_ids.begin(), gpu_ids.end(), 0);
  pack_replicas(all, replicate_experts(in.expert_load, in.redundant), in.expert_load, gpu_ids,
                slots_per_gpu, slots);
}

}  // namespace

std::vector<int> balanced_packing(const std::vector<double>& weights, int packs) {
  const int per_pack = static_cast<int>(weights.size()) / packs;
  std::vector<int> pack_of(weights.size(), -1);
  std::vector<double> pack_load(packs, 0.0);
  std::vector<int> pack_items(packs, 0);
  for (int item : by_weight_descending(weights)) {
    int best = -1;
    for (int p = 0; p < packs; ++p)
      if (pack_items[p] < per_pack && (best < 0 || pack_load[p] < pack_load[best])) best = p;
    pack_of[item] = best;
    pack_load[best] += weights[item];
    ++pack_items[best];
  }
  return pack_of;
}

std::vector<int> replicate_experts(const std::vector<double>& load, int extra) {
  std::vector<int> counts(load.size(), 1);
  for (int r = 0; r < extra; ++r) {
    std::size_t hottest = 0;
    for (std::size_t e = 1; e < load.size(); ++e)
      if (load[e] / counts[e] > load[hottest] / counts[hottest]) hottest = e;
    ++counts[hottest];
  }
  return counts;
}

double placement_imbalance(const Placement& placement, const std::vector<double>& expert_load) {
  const auto loads = gpu_loads(placement, expert_load);
  const double mean =
      std::accumulate(loads.begin(), loads.end(), 0.0) / static_cast<double>(loads.size());
  return mean > 0 ? *std::max_element(loads.begin(), loads.end()) / mean : 1.0;
}

Placement place_experts(PlacementStrategy strategy, const PlacementInputs& in) {
  ProblemList problems;
  require(problems, in.experts >= 1, "experts", fmt::format("expected >= 1, got {}", in.experts));
  require(problems, static_cast<int>(in.expert_load.size()) == in.experts, "expert_load",
          fmt::format("expected {} loads, got {}", in.experts, in.expert_load.size()));
  if (strategy == PlacementStrategy::Explicit) {
    problems.throw_if_any("placement");
    return place_explicit(in);
  }
  check_grid_inputs(in, problems);
  problems.throw_if_any("placement");
  const int slots_per_gpu = (in.experts + in.redundant) / in.gpus;
  if (strategy == PlacementStrategy::Contiguous || strategy == PlacementStrategy::RoundRobin) {
    require(problems, in.experts % in.gpus == 0, "experts",
            fmt::format("expected experts ({}) divisible by gpus ({}) for {}", in.experts, in.gpus,
                        choice_name(strategy)));
    problems.throw_if_any("placement");
    return make_placement(PlacementSpec{strategy, in.redundant, {}}, in.experts, in.gpus,
                          in.expert_load);
  }
  std::vector<std::vector<int>> slots(in.gpus);
  if (hierarchical_eplb_applies(strategy, in)) {
    fill_nodes(in, slots_per_gpu, nodes_by_group_load(in), slots);
  } else if (strategy == PlacementStrategy::TopologyAware) {
    check_topology_aware_inputs(in, problems);
    problems.throw_if_any("placement");
    fill_nodes(in, slots_per_gpu, nodes_by_coactivation(in), slots);
  } else {
    pack_globally(in, slots_per_gpu, slots);
  }
  return from_slots(std::move(slots), in.experts);
}

}  // namespace moesim::sim

#include "sim/spec/scenario_sections.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <filesystem>
#include <limits>
#include <numeric>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/cluster_presets.hpp"
#include "sim/spec/hf_import.hpp"
#include "sim/spec/limits.hpp"
#include "sim/spec/model_dtypes.hpp"
#include "sim/spec/model_presets.hpp"
#include "sim/spec/scenario_paths.hpp"
#include "topology/topology_json.hpp"

namespace moesim::sim::scenario_sections {
namespace {

std::vector<std::string> names_of(auto const& items) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.name);
  return names;
}

// A node of the same system with fewer GPUs (a 2-GPU H200 box): its NICs shrink in proportion
// (rounded up), and a scale-up domain that spanned the node spans the smaller node.
void resize_node(topology::NodeSystem& system, int gpus_per_node) {
  const int before = system.gpus_per_node;
  if (system.gpus_per_scale_up_domain == before) system.gpus_per_scale_up_domain = gpus_per_node;
  system.nics_per_node = std::max(1, (system.nics_per_node * gpus_per_node + before - 1) / before);
  system.gpus_per_node = gpus_per_node;
}

// A preset name given where a preset is expected; an unknown one gets a suggestion.
template <class Item>
const Item* resolve_preset(const std::string& name, const std::string& path, const char* what,
                           const Item* found, const std::vector<std::string>& names,
                           ProblemList& problems) {
  if (found != nullptr) return found;
  const auto suggestion = did_you_mean(name, names);
  std::string listed;
  for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
  problems.add(
      path,
      fmt::format("unknown {} \"{}\"{}; expected one of: {}", what, name,
                  suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : "", listed));
  return nullptr;
}

// The attention block's shape (docs/scenario.schema.json, model.attention*): every field optional,
// a preset's shape is the default.
AttentionShape read_attention(FieldReader& r, AttentionShape a) {
  auto width = [&](const char* key, int current, std::int64_t max) {
    return static_cast<int>(r.integer(key, 0, max, current));
  };
  a.kind = read_choice(r, "attention", a.kind);
  a.heads = width("attention_heads", a.heads, kMaxAttentionHeads);
  a.kv_heads = width("kv_heads", a.kv_heads, kMaxAttentionHeads);
  a.head_dim = width("head_dim", a.head_dim, kMaxHeadWidth);
  a.kv_lora_rank = width("kv_lora_rank", a.kv_lora_rank, kMaxHeadWidth);
  a.qk_nope_head_dim = width("qk_nope_head_dim", a.qk_nope_head_dim, kMaxHeadWidth);
  a.qk_rope_head_dim = width("qk_rope_head_dim", a.qk_rope_head_dim, kMaxHeadWidth);
  a.v_head_dim = width("v_head_dim", a.v_head_dim, kMaxHeadWidth);
  a.q_lora_rank = width("q_lora_rank", a.q_lora_rank, kMaxHeadWidth);
  if (a.kind == AttentionKind::Gqa && a.kv_heads == 0) a.kv_heads = a.heads;
  return a;
}

}  // namespace

// {"hf_config": "path/config.json"}: the model a HuggingFace config describes (import-hf's).
ModelSpec read_hf_model(const Json& value, ProblemList& problems, const std::string& source) {
  constexpr std::string_view kFields[] = {"hf_config"};
  FieldReader r(value, "/model", problems, kFields);
  const std::string config = r.string("hf_config");
  r.finish();
  if (config.empty()) {
    problems.add("/model/hf_config", "expected the path of a HuggingFace config.json, got \"\"");
    return {};
  }
  // An unreadable config is reported at the scenario's field, its own message kept inside.
  const std::string path = resolve_scenario_path(source, config);
  try {
    ModelSpec model = import_hf_config_file(path);
    model.hf_config = path;  // for the report's provenance
    return model;
  } catch (const ConfigError& error) {
    problems.add("/model/hf_config", error.what());
    return {};
  }
}

// import-hf --json adds the parameter counts; a model that carries them must agree with them.
void check_derived_counts(FieldReader& r, const ModelSpec& m, const std::string& path,
                          ProblemList& problems) {
  const std::pair<const char*, std::int64_t> derived[] = {{"total_params", m.total_params()},
                                                          {"active_params", m.active_params()}};
  for (const auto& [key, value] : derived) {
    if (!r.has(key)) continue;
    const std::int64_t given = r.integer(key, 0, std::numeric_limits<std::int64_t>::max());
    if (given != value)
      problems.add(
          path + "/" + key,
          fmt::format("expected {} (derived from the fields above), got {}", value, given));
  }
}

ModelSpec read_model(const Json& value, ProblemList& problems, const std::string& source) {
  const std::string path = "/model";
  const auto names = names_of(model_presets());
  if (value.is_object() && value.contains("hf_config"))
    return read_hf_model(value, problems, source);
  if (value.is_string()) {
    const auto name = value.get<std::string>();
    const ModelSpec* preset =
        resolve_preset(name, path, "model", find_model(name), names, problems);
    return preset ? *preset : ModelSpec{};
  }
  FieldReader r(value, path, problems, kModelFields);
  ModelSpec m;
  const ModelSpec* preset = nullptr;
  if (r.has("preset")) {
    const auto name = r.string("preset");
    preset = resolve_preset(name, r.path_of("preset"), "model", find_model(name), names, problems);
    if (preset) m = *preset;
  }
  // With a preset every field is an optional override; without one the structure is required.
  // Every integer is range-checked against its limit (sim/spec/limits.hpp) before it is narrowed.
  auto int_field = [&](const char* key, std::int64_t current, std::int64_t min, std::int64_t max) {
    return r.integer(key, min, max, preset ? std::optional(current) : std::nullopt);
  };
  auto opt_int = [&](const char* key, std::int64_t current, std::int64_t min, std::int64_t max) {
    return r.integer(key, min, max, current);
  };
  m.name = r.string("name", preset ? m.name : std::string("custom"));
  m.layers = static_cast<int>(int_field("layers", m.layers, 1, kMaxLayers));
  m.moe_layers = static_cast<int>(int_field("moe_layers", m.moe_layers, 1, kMaxLayers));
  m.hidden = int_field("hidden", m.hidden, 1, kMaxHidden);
  m.vocab = opt_int("vocab", m.vocab, 0, kMaxVocab);
  m.experts = static_cast<int>(int_field("experts", m.experts, 1, kMaxExperts));
  m.top_k = static_cast<int>(int_field("top_k", m.top_k, 1, kMaxTopK));
  m.shared_experts = static_cast<int>(opt_int("shared_experts", m.shared_experts, 0, kMaxExperts));
  m.expert_ffn = int_field("expert_ffn", m.expert_ffn, 1, kMaxFfnWidth);
  m.shared_expert_ffn =
      opt_int("shared_expert_ffn", m.shared_expert_ffn ? m.shared_expert_ffn : m.expert_ffn, 0,
              kMaxFfnWidth);
  m.dense_ffn = opt_int("dense_ffn", m.dense_ffn ? m.dense_ffn : m.expert_ffn, 0, kMaxFfnWidth);
  m.gated_ffn = r.boolean("gated_ffn", m.gated_ffn);
  m.gating = read_choice(r, "gating", preset ? m.gating : Gating::Softmax);
  m.expert_groups = static_cast<int>(opt_int("expert_groups", m.expert_groups, 1, kMaxExperts));
  m.topk_groups = static_cast<int>(opt_int("topk_groups", m.topk_groups, 1, kMaxExperts));
  m.attention_params_per_layer = opt_int("attention_params_per_layer", m.attention_params_per_layer,
                                         0, kMaxAttentionParamsPerLayer);
  m.kv_cache_bytes_per_token_per_layer =
      opt_int("kv_cache_bytes_per_token_per_layer", m.kv_cache_bytes_per_token_per_layer, 0,
              kMaxKvBytesPerTokenPerLayer);
  read_model_dtypes(r, m);
  m.tied_embeddings = r.boolean("tied_embeddings", m.tied_embeddings);
  m.attention = read_attention(r, m.attention);
  check_derived_counts(r, m, path, problems);
  r.finish();
  check_model_consistency(m, path, problems);
  return m;
}

namespace {

// The link kind names a cluster's links go by: its scale-up links and its NICs' fabric.
std::string_view scale_up_link_name(topology::ScaleUpKind kind) {
  switch (kind) {
    case topology::ScaleUpKind::NvSwitch:
      return "nvlink";
    case topology::ScaleUpKind::Pcie:
      return "pcie";
    case topology::ScaleUpKind::InfinityFabric:
      return "xgmi";
  }
  return "nvlink";
}

LinkOverride read_link_override(const Json& value, const std::string& path, ProblemList& problems) {
  static constexpr std::string_view kFields[] = {"bandwidth", "efficiency"};
  FieldReader r(value, path, problems, kFields);
  LinkOverride link;
  // 1 MB/s and 1%: below them a collective's time passes what the event engine can hold.
  link.bandwidth = r.optional_number("bandwidth", 1e6, 1e15).value_or(0);
  link.efficiency = r.optional_number("efficiency", 0.01, 1).value_or(0);
  r.finish();
  return link;
}

// cluster.links: {"nvlink": {bandwidth, efficiency}, "ib": {...}}; only the kinds the cluster has.
void read_link_overrides(const Json& value, const std::string& path, ClusterSpec& c,
                         ProblemList& problems) {
  if (!value.is_object()) {
    problems.add(path, "expected an object of link kinds, got " + describe_json_value(value));
    return;
  }
  const std::string scale_up(scale_up_link_name(c.system.scale_up_kind));
  const std::string nic = c.fabric == FabricKind::None   ? ""
                          : c.fabric == FabricKind::Roce ? "roce"
                                                         : "ib";
  for (const auto& [kind, entry] : value.items()) {
    if (kind == scale_up) {
      c.scale_up_link = read_link_override(entry, path + "/" + kind, problems);
      if (c.scale_up_link.bandwidth > 0) c.system.scale_up_bandwidth = c.scale_up_link.bandwidth;
    } else if (!nic.empty() && kind == nic) {
      c.nic_link = read_link_override(entry, path + "/" + kind, problems);
      if (c.nic_link.bandwidth > 0) c.nic.bandwidth = c.nic_link.bandwidth;
    } else {
      problems.add(
          path + "/" + kind,
          fmt::format("expected a link kind of this cluster: \"{}\" (its scale-up "
                      "links){}",
                      scale_up, nic.empty() ? "" : fmt::format(" or \"{}\" (its NICs)", nic)));
    }
  }
}

// cluster.topology: a topology file whose GPUs must be the cluster's, in rank order.
void read_topology_file(const std::string& file, const std::string& path, std::int64_t gpus,
                        ProblemList& problems) {
  try {
    const auto graph = load_scenario_topology(file);
    if (static_cast<std::int64_t>(graph.gpus().size()) != gpus)
      problems.add(path, fmt::format("expected a topology of the cluster's {} GPUs, got {} in {}",
                                     gpus, graph.gpus().size(), file));
  } catch (const ConfigError& error) {
    problems.add(path, error.what());
  }
}

}  // namespace

ClusterSpec read_cluster(const Json& value, ProblemList& problems, const std::string& source) {
  const std::string path = "/cluster";
  ClusterSpec c;
  const ClusterPreset* preset = nullptr;
  const Json* object = &value;
  static const Json kEmpty = Json::object();
  if (value.is_string()) {
    const auto name = value.get<std::string>();
    preset = resolve_preset(name, path, "cluster", find_cluster_preset(name),
                            names_of(cluster_presets()), problems);
    object = &kEmpty;
  }
  FieldReader r(*object, path, problems, kClusterFields);
  if (r.has("preset")) {
    const auto name = r.string("preset");
    preset = resolve_preset(name, r.path_of("preset"), "cluster", find_cluster_preset(name),
                            names_of(cluster_presets()), problems);
  }
  c.name = preset ? preset->name : "custom";
  const bool have_preset = preset != nullptr || value.is_string();
  auto fallback = [&](std::string text) {
    return have_preset ? std::optional(text) : std::nullopt;
  };

  const auto system_name =
      r.string("system", preset ? std::optional(preset->system) : fallback("hgx-h100"));
  if (const auto* system = resolve_preset(system_name, r.path_of("system"), "node system",
                                          topology::find_node_system(system_name),
                                          names_of(topology::node_systems()), problems))
    c.system = *system;
  c.nodes = static_cast<int>(r.integer(
      "nodes", 1, kMaxGpus, preset ? std::optional<std::int64_t>(preset->nodes) : std::nullopt));
  const int full_node = c.system.gpus_per_node;
  const auto per_node = r.integer("gpus_per_node", 1, full_node, full_node);
  if (per_node != full_node) resize_node(c.system, static_cast<int>(per_node));
  const auto device_name = r.string("device", c.system.default_device);
  if (const auto* device =
          resolve_preset(device_name, r.path_of("device"), "device", find_device(device_name),
                         names_of(device_presets()), problems))
    c.device = *device;
  const auto nic_name = r.string("nic", c.system.default_nic);
  if (const auto* nic =
          resolve_preset(nic_name, r.path_of("nic"), "NIC", topology::find_nic(nic_name),
                         names_of(topology::nic_presets()), problems))
    c.nic = *nic;
  c.fabric = read_choice(r, "fabric", preset ? preset->fabric : FabricKind::InfinibandFatTree);
  c.oversubscription = r.number("oversubscription", 1, 64, preset ? preset->oversubscription : 1.0);
  c.roce_efficiency = r.number("roce_efficiency", 0.01, 1, 0.9);
  if (const Json* links = r.child("links"))
    read_link_overrides(*links, r.path_of("links"), c, problems);
  if (r.has("topology"))
    c.topology_file = resolve_scenario_path(source, r.string("topology"), true);
  r.finish();
  const std::int64_t gpus = std::int64_t{c.nodes} * c.system.gpus_per_node;
  if (!c.topology_file.empty() && gpus <= kMaxGpus)
    read_topology_file(c.topology_file, path + "/topology", gpus, problems);
  if (gpus > kMaxGpus)
    problems.add(
        path + "/nodes",
        fmt::format("expected at most {} GPUs ({} nodes of {} GPUs), got {} nodes = {} GPUs",
                    kMaxGpus, kMaxGpus / std::max(1, c.system.gpus_per_node),
                    c.system.gpus_per_node, c.nodes, gpus));
  else if (c.fabric == FabricKind::None &&
           c.nodes * c.system.gpus_per_node > c.system.gpus_per_scale_up_domain)
    problems.add(path + "/fabric",
                 fmt::format("expected a scale-out fabric for {} nodes of {} (one scale-up domain "
                             "holds {} GPUs), got \"none\"",
                             c.nodes, c.system.name, c.system.gpus_per_scale_up_domain));
  return c;
}

ParallelismSpec read_parallelism(const Json* value, int gpus, const ModelSpec& model, int redundant,
                                 ProblemList& problems) {
  static const Json kEmpty = Json::object();
  FieldReader r(value ? *value : kEmpty, "/parallelism", problems, kParallelismFields);
  ParallelismSpec p;
  read_parallel_groups(r, p);  // pipeline, data parallel, MoE TP, rank order: read first
  const int stage = std::max(1, gpus / p.pipeline.size);
  // By default experts spread over as many GPUs as both a stage's MoE TP groups and the slots
  // divide into.
  const int slots = model.experts + redundant;
  const int default_ep =
      std::max(1, std::gcd(std::max(stage / p.moe_tensor_parallel, 1), std::max(slots, 1)));
  p.expert_parallel = static_cast<int>(r.integer("expert_parallel", 1, kMaxGpus, default_ep));
  p.attention_tensor_parallel =
      static_cast<int>(r.integer("attention_tensor_parallel", 1, 1024, 1));
  const int default_dp =
      p.data_parallel_size > 0
          ? p.data_parallel_size
          : std::max(1, stage / std::max(1, p.attention_tensor_parallel * p.context_parallel));
  p.attention_data_parallel =
      static_cast<int>(r.integer("attention_data_parallel", 1, kMaxGpus, default_dp));
  p.micro_batches = static_cast<int>(r.integer("micro_batches", 1, 64, 1));
  p.overlap = read_choice(r, "overlap", Overlap::None);
  r.finish();
  if (gpus <= 0) return p;  // the cluster was invalid and has been reported
  if (stage % p.moe_group() != 0)
    problems.add(r.path_of("expert_parallel"),
                 p.moe_group() == p.expert_parallel && stage == gpus
                     ? fmt::format("expected a divisor of the cluster's {} GPUs, got {}", gpus,
                                   p.expert_parallel)
                     : fmt::format("expected moe_tensor_parallel x expert_parallel to divide the "
                                   "{} GPUs of a pipeline stage, got {} x {}",
                                   stage, p.moe_tensor_parallel, p.expert_parallel));
  if (model.experts > 0 && slots % p.expert_parallel != 0)
    problems.add(
        r.path_of("expert_parallel"),
        fmt::format("expected a divisor of the {} expert slots ({} experts + {} redundant), got {}",
                    slots, model.experts, redundant, p.expert_parallel));
  if (p.weight_replicas() * p.attention_tensor_parallel * p.pipeline.size != gpus)
    problems.add(r.path_of("attention_data_parallel"),
                 p.context_parallel == 1
                     ? fmt::format("expected attention_data_parallel x attention_tensor_parallel x "
                                   "pipeline_parallel.size = {} GPUs, got {} x {} x {}",
                                   gpus, p.attention_data_parallel, p.attention_tensor_parallel,
                                   p.pipeline.size)
                     : fmt::format("expected attention_data_parallel x context_parallel x "
                                   "attention_tensor_parallel x pipeline_parallel.size = {} GPUs, "
                                   "got {} x {} x {} x {}",
                                   gpus, p.attention_data_parallel, p.context_parallel,
                                   p.attention_tensor_parallel, p.pipeline.size));
  if (p.overlap == Overlap::TwoMicroBatch && p.micro_batches < 2)
    problems.add(r.path_of("micro_batches"), "expected >= 2 with overlap \"two-micro-batch\"");
  return p;
}

}  // namespace moesim::sim::scenario_sections

#pragma once
// The scenario parser's parts (scenario.cpp puts them together): the fields each section accepts
// and one reader per section, which reads it into its typed spec and adds every problem with its
// JSON path. Internal to sim/spec/.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/json_fields.hpp"
#include "sim/spec/choices.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim::scenario_sections {

inline constexpr std::string_view kRootFields[] = {
    "schema_version", "name",   "description", "model",   "cluster", "parallelism",
    "placement",      "policy", "workload",    "profile", "network", "price"};
inline constexpr std::string_view kModelFields[] = {
    "preset", "name", "layers", "moe_layers", "hidden", "vocab", "experts", "top_k",
    "shared_experts", "expert_ffn", "shared_expert_ffn", "dense_ffn", "gated_ffn", "gating",
    "expert_groups", "topk_groups", "attention_params_per_layer",
    "kv_cache_bytes_per_token_per_layer", "weight_bytes", "dispatch_bytes", "combine_bytes",
    "tied_embeddings", "attention", "attention_heads", "kv_heads", "head_dim", "kv_lora_rank",
    "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "q_lora_rank", "attention_weight_bytes",
    "weight_scale_block",
    // import-hf --json's derived counts, checked
    "total_params", "active_params"};
inline constexpr std::string_view kClusterFields[] = {
    "preset", "system",           "nodes",           "gpus_per_node", "device",  "nic",
    "fabric", "oversubscription", "roce_efficiency", "links",         "topology"};
inline constexpr std::string_view kParallelismFields[] = {
    "expert_parallel",           "moe_tensor_parallel", "attention_data_parallel",
    "attention_tensor_parallel", "micro_batches",       "overlap",
    "pipeline_parallel",         "data_parallel",       "rank_order",
    "context_parallel"};
inline constexpr std::string_view kPipelineFields[] = {"size", "schedule", "micro_batches",
                                                       "virtual_stages"};
inline constexpr std::string_view kDataParallelFields[] = {"size", "zero_stage"};
inline constexpr std::string_view kPlacementFields[] = {"strategy", "redundant_experts", "file"};
inline constexpr std::string_view kPolicyFields[] = {
    "capacity_factor", "drop", "pad_to_capacity", "min_capacity", "routing", "replica_choice"};
inline constexpr std::string_view kWorkloadFields[] = {
    "kind",        "tokens_per_gpu",   "context_tokens",      "steps",        "routing",
    "cuda_graphs", "mtp_draft_tokens", "mtp_acceptance_rate", "mixed_prefill"};
inline constexpr std::string_view kMixedPrefillFields[] = {"input_tokens", "output_tokens",
                                                           "scheduling", "chunk_tokens"};
inline constexpr std::string_view kRoutingFields[] = {"generator", "zipf_exponent", "seed",
                                                      "batch_load_sigma", "sampling_noise"};
inline constexpr std::string_view kProfileFields[] = {"source", "compute_efficiency",
                                                      "memory_efficiency", "network_efficiency",
                                                      "allow_other_device"};
inline constexpr std::string_view kPriceFields[] = {"usd_per_gpu_hour", "date"};
inline constexpr std::string_view kNetworkFields[] = {"model", "dispatch", "dedup", "all_to_all"};

// A choice read through its name table; an unknown name is already a problem in `problems`.
template <typename Enum>
Enum read_choice(FieldReader& reader, std::string_view key, Enum fallback) {
  const auto name = reader.choice(key, kChoiceNames<Enum>, std::string(choice_name(fallback)));
  return choice_from_name<Enum>(name).value_or(fallback);
}

using Json = nlohmann::json;

// `source`: the scenario's file (or built-in name); files it names resolve against it
// (scenario_paths.hpp).
ModelSpec read_model(const Json& value, ProblemList& problems, const std::string& source = "");
ClusterSpec read_cluster(const Json& value, ProblemList& problems, const std::string& source = "");
// Experts + redundant slots against the limits, once the model is known.
void check_expert_slots(const ModelSpec& model, int redundant, ProblemList& problems);
// Fields of a model that must fit together (moe_layers within layers, top_k within the experts and
// the groups a token may pick from, ...), each problem under `path`.
void check_model_consistency(const ModelSpec& model, const std::string& path,
                             ProblemList& problems);
ParallelismSpec read_parallelism(const Json* value, int gpus, const ModelSpec& model, int redundant,
                                 ProblemList& problems);
// The training and MoE-TP fields of /parallelism (scenario_parallel.cpp); `p` holds the rest.
void read_parallel_groups(FieldReader& reader, ParallelismSpec& p);
// Every group against the cluster, the model and the workload, once all are read.
void check_parallel_groups(const ScenarioSpec& s, ProblemList& problems);
WorkloadSpec read_workload(const Json* value, const ModelSpec& model, ProblemList& problems);
PolicySpec read_policy(const Json* value, const ModelSpec& model, ProblemList& problems);
// `scenario_source`: the scenario's file (or label), beside which a profile file resolves.
ProfileSpec read_profile(const Json* value, const std::string& scenario_source,
                         ProblemList& problems);
PriceSpec read_price(const Json* value, ProblemList& problems);
// What /network/all_to_all implies (scenario_network.cpp): DeepEP's normal kernels are hierarchical
// and deduplicated, its low-latency kernels direct per copy, both priced analytically; a field of
// /network that contradicts the kernels named is a problem.
void apply_all_to_all_kind(const Json& network, FieldReader& reader, NetworkSpec& spec,
                           ProblemList& problems);

}  // namespace moesim::sim::scenario_sections

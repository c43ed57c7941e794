#pragma once
// Routing as serving and training stacks record it, read natively (docs/trace-format.md, "What
// the stacks write"): SGLang's expert-distribution recorder (.pt, stat and per_pass modes), vLLM's
// returned routed experts ([tokens, MoE layers, top_k] with numpy.save or numpy.savez), Megatron-
// Core's router trace (JSON Lines), and the physical-to-logical expert maps SGLang and vLLM deploy.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/traces/import.hpp"
#include "sim/traces/torch_archive.hpp"

namespace moesim::sim {

// Per step, a [layers][experts] count matrix; replayed one (step, layer) block at a time, each made
// by tokens_from_counts, so a long record never holds all its tokens at once.
std::unique_ptr<RoutingSource> make_count_steps_source(std::vector<CountMatrix> steps,
                                                       std::uint32_t top_k, std::string source);

// SGLang's recorder dump: a dict with logical_count (stat) or records (per_pass).
std::unique_ptr<RoutingSource> open_sglang_record(const TorchArchive& archive,
                                                  const ImportOptions& options);

// vLLM's routed experts: one [tokens, layers, top_k] array (one step of `layers` blocks).
std::unique_ptr<RoutingSource> open_vllm_routed_experts(const NpyArray& array,
                                                        const std::string& source,
                                                        const ImportOptions& options);
// The same saved per request with numpy.savez: the requests' tokens form one step, in the
// archive's order.
std::unique_ptr<RoutingSource> open_vllm_routed_experts_npz(const std::string& path,
                                                            const ImportOptions& options);
std::unique_ptr<RoutingSource> parse_vllm_routed_experts_npz(std::span<const std::byte> bytes,
                                                             const std::string& source,
                                                             const ImportOptions& options);

// Megatron-Core's router_trace_rank<r>.jsonl: one record per step, block and layer.
std::unique_ptr<RoutingSource> open_megatron_router_trace(const std::string& source,
                                                          const std::string& text,
                                                          const ImportOptions& options);

// SGLang's and vLLM's physical-to-logical expert map: row l gives, for each physical expert slot
// of MoE layer l, the logical expert it holds; slot p sits on EP rank p / (slots / ranks).
struct ExpertMap {
  std::vector<std::vector<std::int64_t>> physical_to_logical;  // [layers][physical slots]
};

// From a .pt (a tensor, or a dict with physical_to_logical_map or last_physical_to_logical_map), a
// .npy ([layers, slots] or [slots]) or a .json ({"physical_to_logical_map": [[...], ...]}).
ExpertMap read_expert_map(const std::string& path);
ExpertMap expert_map_from_torch(const TorchArchive& archive);
// True when `path` is one of those rather than moesim's {"gpus": ...} placement file.
bool is_expert_map_file(const std::string& path);

}  // namespace moesim::sim

#pragma once
// Every named choice of a scenario, plan or command, with one name table each. The scenario
// parser, the plan parser, the CLI's option checks, the GUI's menus and the report all read these
// tables; an unknown name is an error (choice_from_name returns nullopt), never the first value.
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "sim/spec/model_spec.hpp"
#include "topology/cluster_builders.hpp"

namespace moesim::sim {

// The scale-out fabric is the topology's own enum; its names are listed here with the rest.
using topology::FabricKind;
enum class Overlap { None, CommCompute, TwoMicroBatch, SingleBatch };
enum class WorkloadKind { Training, Prefill, Decode };
enum class DropPolicy { Probs, Position };
enum class RoutingMode { TokenChoice, ExpertChoice };
enum class ReplicaChoice { RoundRobin, SameNodeFirst, LeastLoaded };
// How a scenario's synthetic expert popularity is drawn (workload.routing.generator).
enum class PopularityKind { Uniform, Zipf };
enum class NetworkModelKind { Auto, Flow, Analytic };
// Direct: every GPU sends each token copy straight to the GPU holding the expert.
// Hierarchical (DeepEP's internode mode): a copy for another scale-up domain crosses the fabric to
// the GPU there with the sender's local index (same rail), which forwards it over NVLink.
enum class DispatchKind { Direct, Hierarchical };
// Which kernels run a MoE layer's dispatch and combine (sim/network/deepep_cost.hpp): NCCL's
// all-to-all, DeepEP's normal (NVLink-forwarded, deduplicated) or low-latency (per-copy RDMA).
enum class AllToAllKind { Nccl, DeepEpNormal, DeepEpLowLatency };
// What `moesim trace gen` draws token by token (sim/routing/generators.hpp).
enum class TraceGeneratorKind { Uniform, Zipf, GroupLimited };
enum class PlacementStrategy { Contiguous, RoundRobin, Lpt, Eplb, TopologyAware, Explicit };
// A training pipeline's schedule (Narayanan et al. 2021): 1F1B, or interleaved over virtual stages.
enum class PipelineSchedule { OneFOneB, Interleaved };
// How ranks are numbered over the groups, innermost first (Megatron's order string): "tp-dp-pp"
// keeps each tensor-parallel group on consecutive ranks, so inside a node.
enum class RankOrder { TpDpPp, TpPpDp, DpTpPp, DpPpTp, PpTpDp, PpDpTp };
// Aggregated serving (workload.mixed_prefill): prompts prefilled inside the decode step (in-flight
// batching, chunked prefill) or as prefill passes between decode steps.
enum class PrefillScheduling { InFlight, Separate };

template <typename Enum>
struct Choice {
  Enum value;
  std::string_view name;
};

// Specialised once per choice below: `entries` in the order names are listed to users.
template <typename Enum>
struct ChoiceTable;

#define MOESIM_CHOICE_TABLE(Enum, ...)                                          \
  template <>                                                                   \
  struct ChoiceTable<Enum> {                                                    \
    static constexpr auto entries = std::to_array<Choice<Enum>>({__VA_ARGS__}); \
  }

MOESIM_CHOICE_TABLE(Gating, {Gating::Softmax, "softmax"}, {Gating::Sigmoid, "sigmoid"});
MOESIM_CHOICE_TABLE(AttentionKind, {AttentionKind::Gqa, "gqa"}, {AttentionKind::Mla, "mla"});
MOESIM_CHOICE_TABLE(FabricKind, {FabricKind::InfinibandFatTree, "ib-fat-tree"},
                    {FabricKind::Roce, "roce"}, {FabricKind::None, "none"});
MOESIM_CHOICE_TABLE(Overlap, {Overlap::None, "none"}, {Overlap::CommCompute, "comm-compute"},
                    {Overlap::TwoMicroBatch, "two-micro-batch"},
                    {Overlap::SingleBatch, "single-batch"});
MOESIM_CHOICE_TABLE(WorkloadKind, {WorkloadKind::Training, "training"},
                    {WorkloadKind::Prefill, "prefill"}, {WorkloadKind::Decode, "decode"});
MOESIM_CHOICE_TABLE(DropPolicy, {DropPolicy::Probs, "probs"}, {DropPolicy::Position, "position"});
MOESIM_CHOICE_TABLE(RoutingMode, {RoutingMode::TokenChoice, "token-choice"},
                    {RoutingMode::ExpertChoice, "expert-choice"});
MOESIM_CHOICE_TABLE(ReplicaChoice, {ReplicaChoice::RoundRobin, "round-robin"},
                    {ReplicaChoice::SameNodeFirst, "same-node-first"},
                    {ReplicaChoice::LeastLoaded, "least-loaded"});
MOESIM_CHOICE_TABLE(PopularityKind, {PopularityKind::Uniform, "uniform"},
                    {PopularityKind::Zipf, "zipf"});
MOESIM_CHOICE_TABLE(NetworkModelKind, {NetworkModelKind::Auto, "auto"},
                    {NetworkModelKind::Flow, "flow"}, {NetworkModelKind::Analytic, "analytic"});
MOESIM_CHOICE_TABLE(DispatchKind, {DispatchKind::Direct, "direct"},
                    {DispatchKind::Hierarchical, "hierarchical"});
MOESIM_CHOICE_TABLE(PrefillScheduling, {PrefillScheduling::InFlight, "in-flight"},
                    {PrefillScheduling::Separate, "separate"});
MOESIM_CHOICE_TABLE(AllToAllKind, {AllToAllKind::Nccl, "nccl"},
                    {AllToAllKind::DeepEpNormal, "deepep-normal"},
                    {AllToAllKind::DeepEpLowLatency, "deepep-low-latency"});
MOESIM_CHOICE_TABLE(PlacementStrategy, {PlacementStrategy::Contiguous, "contiguous"},
                    {PlacementStrategy::RoundRobin, "round-robin"}, {PlacementStrategy::Lpt, "lpt"},
                    {PlacementStrategy::Eplb, "eplb"},
                    {PlacementStrategy::TopologyAware, "topology-aware"},
                    {PlacementStrategy::Explicit, "explicit"});

MOESIM_CHOICE_TABLE(TraceGeneratorKind, {TraceGeneratorKind::Uniform, "uniform"},
                    {TraceGeneratorKind::Zipf, "zipf"},
                    {TraceGeneratorKind::GroupLimited, "group-limited"});
MOESIM_CHOICE_TABLE(PipelineSchedule, {PipelineSchedule::OneFOneB, "1f1b"},
                    {PipelineSchedule::Interleaved, "interleaved"});
MOESIM_CHOICE_TABLE(RankOrder, {RankOrder::TpDpPp, "tp-dp-pp"}, {RankOrder::TpPpDp, "tp-pp-dp"},
                    {RankOrder::DpTpPp, "dp-tp-pp"}, {RankOrder::DpPpTp, "dp-pp-tp"},
                    {RankOrder::PpTpDp, "pp-tp-dp"}, {RankOrder::PpDpTp, "pp-dp-tp"});

#undef MOESIM_CHOICE_TABLE

// The names alone, in table order: what a parser offers and a CLI option accepts.
template <typename Enum>
inline constexpr auto kChoiceNames = [] {
  constexpr auto& entries = ChoiceTable<Enum>::entries;
  std::array<std::string_view, entries.size()> names{};
  for (std::size_t i = 0; i < entries.size(); ++i) names[i] = entries[i].name;
  return names;
}();

template <typename Enum>
constexpr std::string_view choice_name(Enum value) {
  for (const auto& entry : ChoiceTable<Enum>::entries)
    if (entry.value == value) return entry.name;
  return "?";  // unreachable while every enumerator has an entry (tests/sim/spec/choices_test.cpp)
}

template <typename Enum>
constexpr std::optional<Enum> choice_from_name(std::string_view name) {
  for (const auto& entry : ChoiceTable<Enum>::entries)
    if (entry.name == name) return entry.value;
  return std::nullopt;
}

// "a, b or c", for help texts; quoted ("\"a\", \"b\" or \"c\"") for messages about a file's value.
template <typename Enum>
std::string choice_list(std::string_view quote = "") {
  std::string listed;
  const auto& names = kChoiceNames<Enum>;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) listed += i + 1 == names.size() ? " or " : ", ";
    listed.append(quote).append(names[i]).append(quote);
  }
  return listed;
}

}  // namespace moesim::sim

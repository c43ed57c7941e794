#pragma once
// How much a run's dispatch and combine cost to simulate, bounded so that the largest valid
// scenario finishes in seconds and well under 2 GB (docs/limits.md, "Network work"). Every MoE
// layer plans its all-to-all GPU pair by pair; the flow model also keeps a route per pair and plays
// a flow class per pair group, about four times the analytic model's work a pair and a kilobyte of
// routes (measured on the 2-core development box: EP 2,048, 2^22 pairs, 4.2 s and 1 GB before the
// first layer, 0.2 s a layer; the analytic model 0.05 s a layer and no routes).
#include <cstdint>

#include "base/config_error.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// MoE layers x EP x max(EP, expert slots): what any run may cost, its pairs and its per-rank
// expert tables (EP 2,048 x 128 layers of 2,048 experts, 2^29: 6.4 s analytic alone, 9-11 s
// beside a build, as was 2,048 x 8,192 slots x 32 layers; so half that).
inline constexpr std::int64_t kMaxRankWork = std::int64_t{1} << 28;
// The flow model's pairs (routes held at once): EP 2,048.
inline constexpr std::int64_t kMaxFlowPairs = std::int64_t{1} << 22;
// The flow model's MoE layers x pairs: EP 2,048 x 16 layers (7 s), EP 256 x 1,024 layers.
inline constexpr std::int64_t kMaxFlowPairLayers = std::int64_t{1} << 26;

// The flow model's MoE layers x cluster GPUs: each collective walks every link of the cluster
// (131,072 GPUs x 61 layers took 11.8 s; 32 layers fit).
inline constexpr std::int64_t kMaxFlowGpuLayers = std::int64_t{1} << 22;

// The report's pricing note where a run that asked for flows ("auto", or "flow" set after parsing,
// as the GUI's toolbar does) is priced analytically because flows do not fit.
inline constexpr const char* kPastFlowBoundsNote =
    "network: analytic, past the flow model's bounds (docs/limits.md, \"Network work\")";

// The GPU pairs a flow replay plays: every EP group on a cluster of at most 64 GPUs, else one.
std::int64_t flow_pairs(const ScenarioSpec& s);
// Whether flows fit the three bounds; "auto" plays flows only when they do.
bool flow_work_fits(const ScenarioSpec& s);
// The run's bounds: kMaxRankWork, and "flow" chosen where flows do not fit, are refused.
void check_network_work(const ScenarioSpec& s, ProblemList& problems);

}  // namespace moesim::sim

#pragma once
// A grouped expert GEMM runs a GPU's active experts in one launch. With few experts in the launch
// it fills the GPU less well, so each expert costs more: at EP = 2 Mixtral-8x7B decode puts 4
// experts on a GPU, and the executor's experts phase took 504 us where 4 x the 8-expert curve gave
// 394 us (docs/accuracy.md). Profiles therefore hold the grouped curve at fewer active experts too
// (`experts.by_active.grouped`, docs/profile-format.md), and a GPU's experts are priced at its
// active count.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cost/measured_profile.hpp"

namespace moesim {
class ProblemList;
}

namespace moesim::sim {

// Per-expert grouped GEMM time at `tokens_per_expert` rows each when `active_experts` experts share
// the launch: the full-group curve at or above the model's experts, the fewest measured count's
// curve at or below it, and between two measured counts linear in log(active_experts), as the
// counts are measured by halving. Without fewer-active curves, the full-group curve.
double grouped_per_expert_us(const ModelCurves& curves, double tokens_per_expert,
                             double active_experts);

// `experts/by_active/grouped` under the model entry at `model_pointer`, when present: entries
// {active_experts, tokens_per_expert, per_expert_us, time}, grouped by active_experts, tokens
// increasing within a group. Anything malformed is recorded in `problems` with its JSON path.
std::vector<ActiveExpertsCurve> read_fewer_active_curves(const nlohmann::json& document,
                                                         const std::string& model_pointer,
                                                         int model_experts, ProblemList& problems);

}  // namespace moesim::sim

#pragma once
// Built-in models, each with its source (docs/presets.md has the table).
#include <span>
#include <string_view>
#include <vector>

#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

// DeepSeek-V3's batch-to-batch spread of expert shares (workload.routing.batch_load_sigma),
// derived from LMSYS's "Effects of Scale and EPLB to Balancedness" figure (2025-05-05): the
// least-squares fit of moesim's balancedness under EPLB to the figure's four points, 8 to 72
// GPUs (docs/capacity-policy.md, "Batch-to-batch load variation"; docs/validation/routing/).
inline constexpr double kDeepSeekV3BatchLoadSigma = 0.23;

const std::vector<ModelSpec>& model_presets();
const ModelSpec* find_model(std::string_view name);

}  // namespace moesim::sim

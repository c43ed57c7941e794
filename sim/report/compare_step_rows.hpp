#pragma once
// The rows `compare` adds after the summary's: each step item (lm_head_and_sampling,
// pipeline_bubble, ...), a training step's backward exposed per phase, its phases and its
// pipeline's shape; a row for every name any report holds, empty where a report has none.
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/report/compare.hpp"

namespace moesim::sim {

void append_step_rows(const std::vector<nlohmann::json>& reports, std::vector<ComparedRow>& rows);

}  // namespace moesim::sim

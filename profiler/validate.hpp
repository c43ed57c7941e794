#pragma once
// --validate: runs the real MoE-layer executor on a fixed set of cases and compares each phase
// and the whole layer with what sim::MeasuredProfile predicts from a profile.
#include <nlohmann/json.hpp>
#include <string>

#include "profiler/measurements.hpp"
#include "profiler/validation_report.hpp"  // accuracy_markdown

namespace moesim::profiler {

nlohmann::json run_validation(const nlohmann::json& profile, int runs, const Progress& progress);

}  // namespace moesim::profiler

#pragma once
// The accuracy report of `moesim-profile --validate`: per-phase entries, the summary over cases
// and the Markdown tables of docs/accuracy.md. CPU only, so CI tests it without a GPU.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moesim::profiler {

// One phase of one case: the median of the measured samples (us), the prediction, the spread of
// the samples and error = (predicted - measured) / measured (0 when nothing was measured).
nlohmann::json phase_entry(const std::vector<double>& measured_samples_us, double predicted_us);

// {"cases": cases, "summary": {median_abs_layer_error, max_abs_layer_error}} over the cases'
// layer errors (the median of an even count is the mean of the middle two).
nlohmann::json validation_result(nlohmann::json cases);

// The accuracy tables (per layer, then per phase) in Markdown, with the summary line.
std::string accuracy_markdown(const nlohmann::json& validation);

// The EP=ranks cases (measured only: the slowest rank's median per phase) in Markdown, ms.
std::string ep_markdown(const nlohmann::json& ep_cases);

// The moesim-executor-timings document: every executor timing of a --validate run, EP=1 (with
// the profile's prediction) and EP=ranks, for the simulator side to compare against.
nlohmann::json executor_timings(const nlohmann::json& provenance, const nlohmann::json& ep1,
                                const nlohmann::json& ep_cases);

}  // namespace moesim::profiler

#pragma once
// The report of a run (DESIGN.md's report contract) drawn from run/run_result.hpp's Report.
// report.json is the source; CSV, the Perfetto timeline and the terminal summary are derived from
// it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"

namespace moesim::sim {

inline constexpr int kReportSchemaVersion = 1;

nlohmann::json report_to_json(const Report& report);
std::string report_to_csv(const Report& report);
// Chrome trace JSON (ui.perfetto.dev): pid = GPU, tid = stream, ts/dur in microseconds; every
// micro-batch laid out under the scenario's overlap; one process of counters for link load.
nlohmann::json report_to_timeline(const Report& report, int max_gpus = 64);
std::string report_summary_text(const Report& report);

}  // namespace moesim::sim

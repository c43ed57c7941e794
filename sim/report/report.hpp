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
// The GPUs a timeline draws: every GPU up to `limit`; beyond it the hottest half of `limit` (most
// compute, then most expert tokens) and an evenly spaced sample of the rest (timeline.cpp).
inline constexpr int kTimelineGpuLimit = 256;
struct TimelineGpus {
  std::vector<int> gpus;  // ascending
  int hottest = 0;        // how many of them were kept for being hottest
  std::string note;       // one line for the CLI: which GPUs and why
};
TimelineGpus select_timeline_gpus(const Report& report, int limit = kTimelineGpuLimit);
// Chrome trace JSON (ui.perfetto.dev): pid = GPU, tid = stream, ts/dur in microseconds; every
// micro-batch laid out under the scenario's overlap; one process of counters for link load, one
// counter per phase (dispatch, combine) and scale (up, out).
nlohmann::json report_to_timeline(const Report& report, int limit = kTimelineGpuLimit);
std::string report_summary_text(const Report& report);

}  // namespace moesim::sim

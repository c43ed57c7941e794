#pragma once
// timeline.json written as text: the same bytes as report_to_timeline(report, limit).dump(), made
// without building a JSON tree. A DeepSeek-V3 run over 256 GPUs draws about 150,000 blocks; as a
// tree they cost more than the simulation itself (docs/performance.md).
#include <string>

#include "sim/report/report.hpp"

namespace moesim::sim {

std::string report_timeline_text(const Report& report, int limit = kTimelineGpuLimit);

}  // namespace moesim::sim

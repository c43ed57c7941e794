#pragma once
// The timeline's process names and link counters, built once for both writers: the JSON tree
// (timeline.cpp: the GUI, Python) and the text writer (timeline_text.cpp: timeline.json), which
// tests/sim/report/timeline_text_test.cpp holds byte for byte. `add` appends one event.
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/cost/layer_result.hpp"

namespace moesim::sim {

using AddTimelineEvent = std::function<void(nlohmann::json)>;

// Names each drawn GPU's process and its three streams (compute, dispatch, combine), then the
// links' process.
void add_process_names(const std::vector<int>& gpus, int links_pid, const AddTimelineEvent& add);

// Link load of one EP group while a collective runs, one counter per phase: dispatch and combine
// carry different bytes (FP8 out, BF16 back is common), so they are never averaged together.
void add_link_counters(int links_pid, double layer_start, const LayerResult& layer,
                       const MicroBatchTimes& at, const AddTimelineEvent& add);

}  // namespace moesim::sim

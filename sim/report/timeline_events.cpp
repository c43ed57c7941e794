#include "sim/report/timeline_events.hpp"

#include <fmt/format.h>

namespace moesim::sim {

void add_process_names(const std::vector<int>& gpus, int links_pid, const AddTimelineEvent& add) {
  const char* streams[] = {"compute", "dispatch", "combine"};
  for (const int gpu : gpus) {
    add({{"ph", "M"},
         {"pid", gpu},
         {"name", "process_name"},
         {"args", {{"name", fmt::format("GPU {}", gpu)}}}});
    for (int tid = 0; tid < 3; ++tid)
      add({{"ph", "M"},
           {"pid", gpu},
           {"tid", tid},
           {"name", "thread_name"},
           {"args", {{"name", streams[tid]}}}});
  }
  add({{"ph", "M"}, {"pid", links_pid}, {"name", "process_name"}, {"args", {{"name", "links"}}}});
}

void add_link_counters(int links_pid, double layer_start, const LayerResult& layer,
                       const MicroBatchTimes& at, const AddTimelineEvent& add) {
  const auto& p = layer.phases;
  auto counter = [&](const char* phase, double at_s, double up, double out) {
    add({{"ph", "C"},
         {"pid", links_pid},
         {"name", fmt::format("{} link load GB/s (one EP group)", phase)},
         {"ts", at_s * 1e6},
         {"args", {{"scale_up", up / 1e9}, {"scale_out", out / 1e9}}}});
  };
  const double share[] = {layer.dispatch_byte_share, 1 - layer.dispatch_byte_share};
  const double starts[] = {at.dispatch, at.combine};
  const double durations[] = {p.dispatch, p.combine};
  const char* names[] = {"dispatch", "combine"};
  for (int phase = 0; phase < 2; ++phase) {
    if (durations[phase] <= 0) continue;
    const double up = layer.scale_up_bytes * share[phase] / durations[phase];
    const double out = layer.scale_out_bytes * share[phase] / durations[phase];
    counter(names[phase], layer_start + starts[phase], up, out);
    counter(names[phase], layer_start + starts[phase] + durations[phase], 0, 0);
  }
}

}  // namespace moesim::sim

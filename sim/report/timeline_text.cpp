// timeline.json as text. The event order and fields follow report_to_timeline (timeline.cpp)
// exactly; tests/sim/report/timeline_text_test.cpp holds the two byte for byte, so a change to
// one that the other lacks fails there. Keys are written in nlohmann's order (sorted).
#include "sim/report/timeline_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "sim/report/training_report.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// A double as nlohmann's dump() writes it (shortest round trip, "null" when not finite).
void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  const char* end = nlohmann::detail::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

// Appends one event of the array, comma first unless it is the first.
class EventList {
 public:
  explicit EventList(std::string& out) : out_(out) {}
  void add(const Json& event) {
    separate();
    out_ += event.dump();
  }
  // {"dur":..,"name":..,"ph":"X","pid":..,"tid":..,"ts":..} from the text around the pid
  // (block_text): a phase's block differs between GPUs only in its pid.
  void add_block(int pid, const std::string& before_pid, const std::string& after_pid) {
    separate();
    out_ += before_pid;
    out_ += fmt::format_int(pid).c_str();
    out_ += after_pid;
  }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

void process_name_events(EventList& events, const std::vector<int>& gpus, int links_pid) {
  const char* streams[] = {"compute", "dispatch", "combine"};
  for (const int gpu : gpus) {
    events.add({{"ph", "M"},
                {"pid", gpu},
                {"name", "process_name"},
                {"args", {{"name", fmt::format("GPU {}", gpu)}}}});
    for (int tid = 0; tid < 3; ++tid)
      events.add({{"ph", "M"},
                  {"pid", gpu},
                  {"tid", tid},
                  {"name", "thread_name"},
                  {"args", {{"name", streams[tid]}}}});
  }
  events.add(
      {{"ph", "M"}, {"pid", links_pid}, {"name", "process_name"}, {"args", {{"name", "links"}}}});
}

void link_counter_events(EventList& events, int links_pid, double layer_start,
                         const LayerResult& layer, const MicroBatchTimes& at) {
  const auto& p = layer.phases;
  auto counter = [&](const char* phase, double at_s, double up, double out) {
    events.add({{"ph", "C"},
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

// A block's text before and after its pid; `quoted_name` is already JSON. Empty when the
// block lasts no time (it is not drawn).
struct BlockText {
  std::string before_pid, after_pid;
};
BlockText block_text(int tid, const std::string& quoted_name, double start_s, double duration_s) {
  BlockText text;
  if (!(duration_s > 0)) return text;
  text.before_pid = "{\"dur\":";
  append_number(text.before_pid, duration_s * 1e6);
  text.before_pid += ",\"name\":" + quoted_name + ",\"ph\":\"X\",\"pid\":";
  text.after_pid = ",\"tid\":";
  text.after_pid += fmt::format_int(tid).c_str();
  text.after_pid += ",\"ts\":";
  append_number(text.after_pid, start_s * 1e6);
  text.after_pid += '}';
  return text;
}

// One micro-batch of one layer: every drawn GPU's blocks, then the link counters. Only the
// experts' block differs between GPUs beyond the pid, so the others are formatted once.
void micro_batch_blocks(EventList& events, const Report& r, const std::vector<int>& gpus,
                        const LayerResult& layer, int mb, double t) {
  const auto& p = layer.phases;
  const int ep = std::max<int>(1, static_cast<int>(layer.gpu_experts.size()));
  const auto& at = layer.schedule.micro_batches[static_cast<std::size_t>(mb)];
  const std::string tag = r.micro_batches > 1 ? fmt::format("L{} mb{} ", layer.layer, mb)
                                              : fmt::format("L{} ", layer.layer);
  const std::string experts = Json(tag + "experts").dump();
  const BlockText dense = block_text(0, Json(tag + "dense").dump(), t + at.dense, p.dense),
                  gate = block_text(0, Json(tag + "gate").dump(), t + at.dense + p.dense, p.gate),
                  dispatch =
                      block_text(1, Json(tag + "dispatch").dump(), t + at.dispatch, p.dispatch),
                  combine = block_text(2, Json(tag + "combine").dump(), t + at.combine, p.combine);
  const auto emit = [&](int gpu, const BlockText& block) {
    if (!block.before_pid.empty()) events.add_block(gpu, block.before_pid, block.after_pid);
  };
  for (const int gpu : gpus) {
    const double own = layer.gpu_experts.empty() ? p.experts : layer.gpu_experts[gpu % ep];
    emit(gpu, dense);
    emit(gpu, gate);
    emit(gpu, dispatch);
    emit(gpu, block_text(0, experts, t + at.experts, own));
    emit(gpu, combine);
  }
  link_counter_events(events, static_cast<int>(r.per_gpu.size()), t, layer, at);
}

}  // namespace

std::string report_timeline_text(const Report& r, int limit) {
  const TimelineGpus selection = select_timeline_gpus(r, limit);
  const Json other{{"scenario", r.scenario},
                   {"gpus_shown", selection.gpus.size()},
                   {"gpus", r.gpus},
                   {"gpus_listed", selection.gpus},
                   {"selection", selection.note}};
  std::string out =
      "{\"displayTimeUnit\":\"ms\",\"otherData\":" + other.dump() + ",\"traceEvents\":[";
  // About 100 bytes a block, five blocks per GPU and micro-batch: reserving them saves copying
  // a timeline of 15 MB (DeepSeek-V3 on 256 GPUs) as it grows.
  std::size_t blocks = 0;
  for (const auto& layer : r.layers) blocks += layer.schedule.micro_batches.size();
  out.reserve(out.size() + blocks * selection.gpus.size() * 5 * 100);
  EventList events(out);
  process_name_events(events, selection.gpus, static_cast<int>(r.per_gpu.size()));
  double t = 0;
  for (const auto& layer : r.layers) {
    for (int mb = 0; mb < static_cast<int>(layer.schedule.micro_batches.size()); ++mb)
      micro_batch_blocks(events, r, selection.gpus, layer, mb, t);
    t += layer.phases.total;
  }
  if (r.training) {
    Json training = Json::array();
    append_training_timeline(*r.training, selection.gpus, training);
    for (const Json& event : training) events.add(event);
  }
  out += "]}";
  return out;
}

}  // namespace moesim::sim

// timeline.json as text. The event order and fields follow report_to_timeline (timeline.cpp)
// exactly; tests/sim/report/timeline_text_test.cpp holds the two byte for byte, so a change to
// one that the other lacks fails there. Keys are written in nlohmann's order (sorted).
#include "sim/report/timeline_text.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "sim/report/timeline_blocks.hpp"
#include "sim/report/timeline_events.hpp"
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

// One block's text but for its pid, kept while its start and duration keep their bits from GPU
// to GPU (only the expert time is the GPU's own): formatting them was 7% of a DeepSeek-V3 run
// over 256 GPUs (callgrind). Bits, not ==: -0.0 prints otherwise than 0.0.
class BlockText {
 public:
  // {"dur":..,"name":..,"ph":"X","pid":..,"tid":..,"ts":..}; `quoted_name` is already JSON.
  void append(std::string& out, int pid, const std::string& quoted_name, int tid, double ts,
              double dur) {
    const auto dur_bits = std::bit_cast<std::uint64_t>(dur);
    const auto ts_bits = std::bit_cast<std::uint64_t>(ts);
    if (head_.empty() || dur_bits != dur_bits_) {
      dur_bits_ = dur_bits;
      head_ = "{\"dur\":";
      append_number(head_, dur);
      head_ += ",\"name\":";
      head_ += quoted_name;
      head_ += ",\"ph\":\"X\",\"pid\":";
    }
    if (tail_.empty() || ts_bits != ts_bits_) {
      ts_bits_ = ts_bits;
      tail_ = ",\"tid\":";
      tail_ += fmt::format_int(tid).c_str();
      tail_ += ",\"ts\":";
      append_number(tail_, ts);
      tail_ += '}';
    }
    const fmt::format_int pid_text(pid);
    out += head_;
    out.append(pid_text.data(), pid_text.size());
    out += tail_;
  }

 private:
  std::uint64_t dur_bits_ = 0, ts_bits_ = 0;
  std::string head_, tail_;
};

// Appends one event of the array, comma first unless it is the first.
class EventList {
 public:
  explicit EventList(std::string& out) : out_(out) {}
  void add(const Json& event) {
    separate();
    out_ += event.dump();
  }
  void add_block(int pid, int tid, const std::string& quoted_name, double ts, double dur,
                 BlockText& text) {
    separate();
    text.append(out_, pid, quoted_name, tid, ts, dur);
  }

 private:
  void separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

// One micro-batch of one layer: every drawn GPU's blocks, then (forward) the link counters.
void pass_blocks(EventList& events, const Report& r, const std::vector<int>& gpus,
                 const TimelinePass& pass) {
  // The names quoted once per micro-batch, not once per GPU.
  const auto shape = micro_batch_timeline_blocks(pass.layer_start, pass.at, pass.phases, 0);
  std::array<std::string, std::tuple_size_v<decltype(shape)>> names;
  for (std::size_t b = 0; b < shape.size(); ++b) names[b] = Json(pass.tag + shape[b].name).dump();
  std::array<BlockText, std::tuple_size_v<decltype(shape)>> texts;
  for (const int gpu : gpus) {
    const auto blocks =
        micro_batch_timeline_blocks(pass.layer_start, pass.at, pass.phases, pass.own_experts(gpu));
    for (std::size_t b = 0; b < blocks.size(); ++b)
      if (blocks[b].duration > 0)
        events.add_block(gpu, blocks[b].stream, names[b], blocks[b].start * 1e6,
                         blocks[b].duration * 1e6, texts[b]);
  }
  if (!pass.backward)
    add_link_counters(static_cast<int>(r.per_gpu.size()), pass.layer_start, pass.layer, pass.at,
                      [&events](const Json& event) { events.add(event); });
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
  add_process_names(selection.gpus, static_cast<int>(r.per_gpu.size()),
                    [&events](const Json& event) { events.add(event); });
  for_each_timeline_pass(
      r, [&](const TimelinePass& pass) { pass_blocks(events, r, selection.gpus, pass); });
  if (r.training) {
    Json training = Json::array();
    append_training_timeline(*r.training, selection.gpus, training);
    for (const Json& event : training) events.add(event);
  }
  out += "]}";
  return out;
}

}  // namespace moesim::sim

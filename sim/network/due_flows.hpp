#pragma once
// Which flows of a flow network are due for completion at an event, without scanning every flow
// in flight: 13,410 of the 14,848 events of a DeepSeek-V3 run over 256 GPUs retire a few flows
// and change no rate, and a scan of the ~200 flows in flight at each was 9% of the run
// (docs/performance.md). A flow's due time is fixed when its rate is set, so two lazy min-heaps,
// by due time and by projected finish, answer "who is due now" and "when is the next finish".
#include <cstdint>
#include <queue>
#include <vector>

#include "sim/engine/event_queue.hpp"

namespace moesim::sim {

// Whether a flow that joined the sharing at `join` and is projected to finish at `finish`
// completes at `now`: it finishes by then, or (tolerance > 0) its remaining time is at most
// `tolerance` x its time in the sharing (FlowNetworkOptions::completion_tolerance).
inline bool completes_at(SimTime now, SimTime join, SimTime finish, double tolerance) {
  return finish <= now || (tolerance > 0 && static_cast<double>((finish - now).ns()) <=
                                                tolerance * static_cast<double>((now - join).ns()));
}

// The first nanosecond from `join` at which completes_at holds: it holds from there on, as its
// left side only falls with `now` and its right side only rises (rounding included). Never, as
// SimTime::max(), for a flow that never finishes.
SimTime due_time(SimTime join, SimTime finish, double tolerance);

// A min-heap of (time, flow) whose entries go stale: an entry counts while the flow's `stamp`
// equals the one it was pushed with. Ties by flow id, so pops are in a fixed order.
class FlowTimeHeap {
 public:
  void push(SimTime time, std::uint32_t flow, std::uint32_t stamp) {
    heap_.push(Entry{time, flow, stamp});
  }
  // Drops stale entries from the top; `live(flow, stamp)` says whether an entry counts.
  template <class Live>
  void clean(const Live& live) {
    while (!heap_.empty() && !live(heap_.top().flow, heap_.top().stamp)) heap_.pop();
  }
  bool empty() const { return heap_.empty(); }
  SimTime top_time() const { return heap_.top().time; }
  std::uint32_t top_flow() const { return heap_.top().flow; }
  void pop() { heap_.pop(); }

 private:
  struct Entry {
    SimTime time;
    std::uint32_t flow;
    std::uint32_t stamp;
    bool operator>(const Entry& other) const {
      return time != other.time ? time > other.time : flow > other.flow;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

}  // namespace moesim::sim

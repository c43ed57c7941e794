#include "sim/engine/event_queue.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace moesim::sim {

namespace {

// Min-heap on (time, sequence): std::push_heap builds a max-heap, so compare "later than".
struct Later {
  template <class Entry>
  bool operator()(const Entry& a, const Entry& b) const {
    if (a.time != b.time) return a.time > b.time;
    return a.sequence > b.sequence;
  }
};

}  // namespace

SimTime SimTime::from_seconds(double seconds) {
  return SimTime(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

EventId EventQueue::schedule_at(SimTime time, EventCallback callback) {
  if (time < now_) throw std::invalid_argument("EventQueue::schedule_at: time is in the past");
  if (!callback) throw std::invalid_argument("EventQueue::schedule_at: empty callback");
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  const std::uint64_t sequence = next_sequence_++;
  slots_[slot] = Slot{std::move(callback), sequence, true};
  heap_.push_back(Entry{time, sequence, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  ++pending_;
  return EventId{slot, sequence};
}

EventId EventQueue::schedule_after(SimTime delay, EventCallback callback) {
  if (delay < SimTime::zero())
    throw std::invalid_argument("EventQueue::schedule_after: negative delay");
  return schedule_at(now_ + delay, std::move(callback));
}

bool EventQueue::cancel(EventId id) {
  if (id.slot >= slots_.size()) return false;
  Slot& slot = slots_[id.slot];
  if (!slot.live || slot.sequence != id.sequence) return false;
  slot.live = false;
  slot.callback = nullptr;  // release captured state now, not when the entry surfaces
  --pending_;
  return true;
}

void EventQueue::pop_top() {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  heap_.pop_back();
}

void EventQueue::skip_cancelled() {
  while (!heap_.empty() && !slots_[heap_.front().slot].live) {
    free_slots_.push_back(heap_.front().slot);
    pop_top();
  }
}

SimTime EventQueue::next_time() {
  skip_cancelled();
  return heap_.empty() ? SimTime::max() : heap_.front().time;
}

bool EventQueue::step() {
  skip_cancelled();
  if (heap_.empty()) return false;
  const Entry top = heap_.front();
  pop_top();
  // Move the callback out and free the slot before calling: the callback may schedule events,
  // which can grow slots_ and would invalidate a reference into it.
  EventCallback callback = std::move(slots_[top.slot].callback);
  slots_[top.slot].live = false;
  slots_[top.slot].callback = nullptr;
  free_slots_.push_back(top.slot);
  --pending_;
  now_ = top.time;
  callback();
  return true;
}

std::size_t EventQueue::run() {
  std::size_t fired = 0;
  while (step()) ++fired;
  return fired;
}

std::size_t EventQueue::run_until(SimTime until) {
  std::size_t fired = 0;
  while (next_time() <= until && step()) ++fired;
  if (now_ < until) now_ = until;
  return fired;
}

}  // namespace moesim::sim

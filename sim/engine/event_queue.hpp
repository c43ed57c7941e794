#pragma once
// The discrete-event engine: one clock, one min-heap of events keyed on (time, sequence), so
// events at equal times fire in the order they were scheduled and every run is reproducible bit
// for bit. Models never keep their own clock; they ask the queue for now().
#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace moesim::sim {

// Simulated time in integer nanoseconds: additions are exact, so no drift over long runs.
class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ns(std::int64_t nanoseconds) { return SimTime(nanoseconds); }
  // Rounds to the nearest nanosecond.
  static SimTime from_seconds(double seconds);
  static constexpr SimTime zero() { return SimTime(0); }
  // "Never": later than any time a simulation reaches.
  static constexpr SimTime max() { return SimTime(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }

  friend constexpr SimTime operator+(SimTime a, SimTime b) { return SimTime(a.ns_ + b.ns_); }
  friend constexpr SimTime operator-(SimTime a, SimTime b) { return SimTime(a.ns_ - b.ns_); }
  constexpr SimTime& operator+=(SimTime other) {
    ns_ += other.ns_;
    return *this;
  }
  friend constexpr auto operator<=>(SimTime a, SimTime b) = default;

 private:
  constexpr explicit SimTime(std::int64_t nanoseconds) : ns_(nanoseconds) {}
  std::int64_t ns_ = 0;
};

// Handle of a scheduled event; only good for cancel(). A default-constructed id names no event.
struct EventId {
  std::uint32_t slot = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t sequence = 0;
  friend bool operator==(const EventId&, const EventId&) = default;
};

using EventCallback = std::function<void()>;

class EventQueue {
 public:
  SimTime now() const { return now_; }

  // Throws std::invalid_argument for a time in the past or an empty callback.
  EventId schedule_at(SimTime time, EventCallback callback);
  EventId schedule_after(SimTime delay, EventCallback callback);
  // Returns whether a pending event was cancelled (false if it already fired or was cancelled).
  // The heap entry stays and is skipped when it reaches the top.
  bool cancel(EventId id);

  // Fires events until none are left; returns how many fired.
  std::size_t run();
  // Fires every event at or before `until`, then sets the clock to `until` (never backwards).
  std::size_t run_until(SimTime until);
  // Fires the next event, if any; returns whether one fired.
  bool step();

  // Events scheduled and neither fired nor cancelled.
  std::size_t pending() const { return pending_; }
  bool empty() const { return pending_ == 0; }
  // The time of the next live event, or SimTime::max() when none.
  SimTime next_time();

 private:
  struct Entry {
    SimTime time;
    std::uint64_t sequence;
    std::uint32_t slot;
  };
  struct Slot {
    EventCallback callback;
    std::uint64_t sequence = 0;
    bool live = false;
  };
  // Drops cancelled entries from the top of the heap.
  void skip_cancelled();
  void pop_top();

  SimTime now_;
  std::uint64_t next_sequence_ = 1;
  std::size_t pending_ = 0;
  std::vector<Entry> heap_;
  // Callbacks live in slots, not in the heap, so heap moves stay cheap; a slot is reused only
  // after its heap entry is popped, so a stale entry never meets a newer event.
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
};

}  // namespace moesim::sim

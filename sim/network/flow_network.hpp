#pragma once
// A fluid network on the event queue: flows share link bandwidth max-min fairly (max_min.hpp),
// rates are re-solved only when the set of flows changes, and one "next change" event is kept
// scheduled: the earliest of the next completion and the next flow to join. A flow waits its
// latency before it joins the sharing, then moves its bytes at whatever rate the solver gives it.
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <vector>

#include "sim/engine/event_queue.hpp"
#include "sim/network/due_flows.hpp"
#include "sim/network/max_min.hpp"

namespace moesim::sim {

using FlowId = std::uint32_t;

struct FlowNetworkOptions {
  // 0: every flow completes at its exact finish (to the nanosecond). Above 0: when the network
  // updates, a flow whose remaining time is at most this fraction of the time it has been moving
  // bytes completes with the flows finishing now. Completions close in time then cost one
  // re-solve instead of one each (a skewed all-to-all has as many finish times as flows); each
  // such flow finishes at most that fraction of its transfer time early.
  double completion_tolerance = 0;
  // After completions, re-solve only the flows whose rates they can change (flow_network.cpp
  // says why that is exact). false: a full re-solve every time, for tests to compare against.
  bool incremental = true;
};

class FlowNetwork {
 public:
  // Called once per flow, at its finish time (queue.now() == finish).
  using CompletionCallback = std::function<void(FlowId, SimTime finish)>;

  // `link_capacity` in bytes/s by link id, already scaled by any protocol efficiency.
  // The queue must outlive the network.
  FlowNetwork(EventQueue& queue, std::vector<BytesPerSecond> link_capacity,
              FlowNetworkOptions options = {});
  FlowNetwork(const FlowNetwork&) = delete;
  FlowNetwork& operator=(const FlowNetwork&) = delete;

  // A flow of `bytes` starting now; it joins the sharing at now + latency and completes when its
  // last byte is through. A zero-byte flow completes when it joins. Throws std::invalid_argument
  // for a negative size or latency, or a path the solver would reject.
  FlowId add_flow(FlowPath path, Bytes bytes, SimTime latency, CompletionCallback on_complete = {});
  // As add_flow for a path the caller keeps alive as long as the network and has already passed
  // through validate_flow_path for these links: neither copied, checked nor freed here (a stored
  // class plan, played collective after collective: copying and checking its paths each time was
  // 3% of a DeepSeek-V3 run over 256 GPUs).
  FlowId add_borrowed_flow(const FlowPath& path, Bytes bytes, SimTime latency,
                           CompletionCallback on_complete = {});

  bool finished(FlowId flow) const { return flows_.at(flow).state == State::Done; }
  SimTime start_time(FlowId flow) const { return flows_.at(flow).start; }
  // SimTime::max() until the flow has finished.
  SimTime finish_time(FlowId flow) const { return flows_.at(flow).finish; }
  // The rate since the last change of the flow set; 0 before the flow joins and after it ends.
  BytesPerSecond rate(FlowId flow) const;
  // Bytes still to move as of now.
  Bytes remaining_bytes(FlowId flow) const;

  std::size_t flow_count() const { return flows_.size(); }
  // Times the rates were re-solved: a measure of the simulation's cost.
  std::size_t solve_count() const { return solves_; }
  const std::vector<BytesPerSecond>& link_capacity() const { return capacity_; }
  // Bytes each link has carried up to now, for utilisation: bytes / (capacity * elapsed time).
  std::vector<Bytes> link_bytes() const;

 private:
  enum class State : std::uint8_t { Waiting, Active, Done };
  struct Flow {
    const FlowPath* path = nullptr;  // owned_paths_'s or the caller's
    FlowPath* owned = nullptr;       // the copy add_flow keeps, freed when the flow ends
    Bytes bytes = 0;
    Bytes remaining = 0;  // as of `settled`
    BytesPerSecond rate = 0;
    LinkId bottleneck = kNoBottleneckLink;  // the link that froze it in the last solve
    SimTime start, join, finish = SimTime::max();
    SimTime settled;  // when `remaining` and its link bytes were last brought up to date
    SimTime projected_finish = SimTime::max();  // at the current rate
    SimTime due = SimTime::max();               // from then on it completes (due_flows.hpp)
    CompletionCallback on_complete;
    std::uint32_t stamp = 0;  // bumped when its times change: older heap entries are stale
    State state = State::Waiting;
  };
  struct Join {
    SimTime time;
    FlowId flow;
    bool operator>(const Join& other) const {
      return time != other.time ? time > other.time : flow > other.flow;
    }
  };

  // The event body: retire finished flows, admit joiners, re-solve.
  void update();
  FlowId add_checked_flow(const FlowPath* path, FlowPath* owned, Bytes bytes, SimTime latency,
                          CompletionCallback on_complete);
  // Marks the flows due now done, in the order they joined, into `done`.
  void retire_due(SimTime now, std::vector<FlowId>& done);
  // Drops finished flows from active_, keeping the order of the rest.
  void compact_active();
  void set_bottleneck(Flow& flow, LinkId bottleneck);
  void settle(Flow& flow, SimTime now);
  void solve(SimTime now);
  // After completions alone: re-solves only the flows whose rates they can change (see .cpp);
  // false when there were none.
  bool solve_after_completions(SimTime now, const std::vector<FlowId>& done);
  void assign_rates(SimTime now, const std::vector<FlowId>& solved,
                    const std::vector<BytesPerSecond>& rates);
  void schedule_next(SimTime at);
  void complete(FlowId flow, SimTime now);
  Bytes moved_since_update(const Flow& flow, SimTime now) const;

  EventQueue& queue_;
  std::vector<BytesPerSecond> capacity_;
  FlowNetworkOptions options_;
  std::vector<Flow> flows_;
  std::deque<FlowPath> owned_paths_;  // a deque: a flow's pointer survives later additions
  // In the order they joined (the solver's input order); may still hold flows marked done since
  // the last compact_active().
  std::vector<FlowId> active_;
  std::vector<std::uint64_t> joined_as_;  // by flow: its place in the join order
  std::priority_queue<Join, std::vector<Join>, std::greater<Join>> joins_;
  std::vector<Bytes> link_bytes_;  // as of each flow's `settled`
  EventId next_event_;
  SimTime next_event_time_ = SimTime::max();
  std::size_t solves_ = 0;
  std::uint64_t joins_seen_ = 0;
  std::size_t live_ = 0;             // active flows not yet done
  FlowTimeHeap by_due_, by_finish_;  // active flows by due time and by projected finish
  // By link: how many active flows it holds (is their bottleneck), and a mark for the links the
  // flows finishing now crossed.
  std::vector<std::uint32_t> held_;
  std::vector<std::uint32_t> crossed_mark_;
  std::uint32_t event_ = 0;
  std::vector<LinkId> bottleneck_scratch_;
};

}  // namespace moesim::sim

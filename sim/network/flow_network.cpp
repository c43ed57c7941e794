#include "sim/network/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace moesim::sim {

namespace {

const FlowPath kNoPath;  // a finished flow's

void check_flow_size(Bytes bytes, SimTime latency) {
  if (!(bytes >= 0) || std::isinf(bytes))
    throw std::invalid_argument("FlowNetwork::add_flow: bytes must be finite and >= 0");
  if (latency < SimTime::zero())
    throw std::invalid_argument("FlowNetwork::add_flow: negative latency");
}

// When a flow with `remaining` bytes at `rate` is through, counted from `now`. Rounded up to the
// nanosecond, less a picosecond of slack so that an exact 10 ms does not become 10 ms + 1 ns
// through the last bit of a division.
SimTime projected_finish(SimTime now, Bytes remaining, BytesPerSecond rate) {
  if (remaining <= 0 || std::isinf(rate)) return now;
  if (rate <= 0) return SimTime::max();
  const double delay_ns = std::ceil(remaining / rate * 1e9 - 1e-3);
  const double room = static_cast<double>(SimTime::max().ns() - now.ns());
  if (delay_ns >= room) return SimTime::max();
  return now + SimTime::from_ns(static_cast<std::int64_t>(std::max(delay_ns, 0.0)));
}

}  // namespace

FlowNetwork::FlowNetwork(EventQueue& queue, std::vector<BytesPerSecond> link_capacity,
                         FlowNetworkOptions options)
    : queue_(queue),
      capacity_(std::move(link_capacity)),
      options_(options),
      link_bytes_(capacity_.size(), 0.0),
      held_(capacity_.size(), 0),
      crossed_mark_(capacity_.size(), 0) {
  // Let the solver reject bad capacities now rather than at the first flow.
  validate_link_capacities(capacity_);
  if (!(options_.completion_tolerance >= 0 && options_.completion_tolerance < 1))
    throw std::invalid_argument("FlowNetwork: completion tolerance must be in [0, 1)");
}

FlowId FlowNetwork::add_flow(FlowPath path, Bytes bytes, SimTime latency,
                             CompletionCallback on_complete) {
  check_flow_size(bytes, latency);
  validate_flow_path(capacity_.size(), path);
  FlowPath& owned = owned_paths_.emplace_back(std::move(path));
  return add_checked_flow(&owned, &owned, bytes, latency, std::move(on_complete));
}

FlowId FlowNetwork::add_borrowed_flow(const FlowPath& path, Bytes bytes, SimTime latency,
                                      CompletionCallback on_complete) {
  check_flow_size(bytes, latency);
  return add_checked_flow(&path, nullptr, bytes, latency, std::move(on_complete));
}

FlowId FlowNetwork::add_checked_flow(const FlowPath* path, FlowPath* owned, Bytes bytes,
                                     SimTime latency, CompletionCallback on_complete) {
  const auto id = static_cast<FlowId>(flows_.size());
  Flow flow;
  flow.path = path;
  flow.owned = owned;
  flow.bytes = bytes;
  flow.remaining = bytes;
  flow.start = queue_.now();
  flow.join = queue_.now() + latency;
  flow.on_complete = std::move(on_complete);
  flows_.push_back(std::move(flow));
  joined_as_.push_back(0);
  joins_.push(Join{flows_.back().join, id});
  if (flows_.back().join < next_event_time_) schedule_next(flows_.back().join);
  return id;
}

void FlowNetwork::schedule_next(SimTime at) {
  if (at == next_event_time_) return;
  if (next_event_time_ != SimTime::max()) queue_.cancel(next_event_);
  next_event_time_ = at;
  if (at != SimTime::max()) next_event_ = queue_.schedule_at(at, [this] { update(); });
}

Bytes FlowNetwork::moved_since_update(const Flow& flow, SimTime now) const {
  if (flow.state != State::Active) return 0;
  if (std::isinf(flow.rate)) return flow.remaining;
  return std::min(flow.remaining, flow.rate * (now - flow.settled).seconds());
}

// Books what a flow moved at its rate since it was last settled. Only a flow whose rate is about
// to change needs it (an incremental re-solve leaves most rates alone), so an event costs the
// flows it touches, not every flow in flight.
void FlowNetwork::settle(Flow& flow, SimTime now) {
  const Bytes moved = moved_since_update(flow, now);
  flow.settled = now;
  if (moved <= 0) return;
  flow.remaining -= moved;
  flow.path->for_each_hop([&](LinkId link, double share) {
    link_bytes_[static_cast<std::size_t>(link)] += moved * share;
  });
}

void FlowNetwork::complete(FlowId id, SimTime now) {
  Flow& flow = flows_[id];
  // Book the rounding residue so that every link ends with exactly bytes * share.
  for (std::size_t hop = 0; hop < flow.path->links.size(); ++hop)
    link_bytes_[static_cast<std::size_t>(flow.path->links[hop])] +=
        flow.remaining * flow.path->share(hop);
  flow.remaining = 0;
  flow.rate = 0;
  flow.finish = now;
  flow.state = State::Done;
  if (flow.owned != nullptr) *flow.owned = FlowPath{};  // long runs retire millions of flows
  flow.path = &kNoPath;
}

void FlowNetwork::set_bottleneck(Flow& flow, LinkId bottleneck) {
  if (flow.bottleneck != kNoBottleneckLink) --held_[static_cast<std::size_t>(flow.bottleneck)];
  flow.bottleneck = bottleneck;
  if (bottleneck != kNoBottleneckLink) ++held_[static_cast<std::size_t>(bottleneck)];
}

void FlowNetwork::assign_rates(SimTime now, const std::vector<FlowId>& solved,
                               const std::vector<BytesPerSecond>& rates) {
  ++solves_;
  for (std::size_t i = 0; i < solved.size(); ++i) {
    Flow& flow = flows_[solved[i]];
    settle(flow, now);  // at the old rate, up to now
    flow.rate = rates[i];
    set_bottleneck(flow, bottleneck_scratch_[i]);
    const SimTime finish = projected_finish(now, flow.remaining, flow.rate);
    if (finish == flow.projected_finish) continue;  // its heap entries still hold
    flow.projected_finish = finish;
    flow.due = due_time(flow.join, finish, options_.completion_tolerance);
    ++flow.stamp;
    if (finish == SimTime::max()) continue;  // never finishes: in neither heap
    by_due_.push(flow.due, solved[i], flow.stamp);
    by_finish_.push(finish, solved[i], flow.stamp);
  }
}

void FlowNetwork::compact_active() {
  std::erase_if(active_, [&](FlowId id) { return flows_[id].state != State::Active; });
}

void FlowNetwork::solve(SimTime now) {
  compact_active();
  std::vector<const FlowPath*> paths;
  paths.reserve(active_.size());
  for (FlowId id : active_) paths.push_back(flows_[id].path);
  // add_flow validated each path and the constructor the capacities.
  assign_rates(now, active_, solve_max_min(capacity_, paths, true, &bottleneck_scratch_));
}

// Progressive filling freezes flows in rising order of rate. Removing flows only lowers the load
// of the links they crossed, so every freeze below the lowest rate `floor` of a remaining flow
// frozen by one of those links happens again as before: flows below `floor` keep their rates
// (each still has its saturated bottleneck, where it is the fastest), and only the flows at or
// above it are re-solved, on the capacity the kept ones leave. When no remaining flow was frozen
// by those links, nothing changes and there is no solve at all. The rates are those of a full
// re-solve (up to the order of floating-point sums); tests/sim/network/flow_network_test.cpp
// compares the two.
bool FlowNetwork::solve_after_completions(SimTime now, const std::vector<FlowId>& done) {
  // Most completions free links that hold no remaining flow: then nothing changes, found at the
  // cost of the finished paths. Else the floor is the lowest rate among remaining flows held by a
  // link a finished flow crossed.
  ++event_;
  bool held = false;
  for (FlowId id : done)
    for (LinkId link : flows_[id].path->links) {
      crossed_mark_[static_cast<std::size_t>(link)] = event_;
      held |= held_[static_cast<std::size_t>(link)] > 0;
    }
  if (!held) return false;  // every remaining flow keeps its bottleneck and its rate
  compact_active();
  double floor = std::numeric_limits<double>::infinity();
  for (FlowId id : active_) {
    const Flow& flow = flows_[id];
    if (flow.bottleneck != kNoBottleneckLink &&
        crossed_mark_[static_cast<std::size_t>(flow.bottleneck)] == event_)
      floor = std::min(floor, flow.rate);
  }
  if (std::isinf(floor)) return false;
  std::vector<BytesPerSecond> residual = capacity_;
  std::vector<FlowId> solved;
  std::vector<const FlowPath*> paths;
  for (FlowId id : active_) {
    const Flow& flow = flows_[id];
    if (flow.rate >= floor) {
      solved.push_back(id);
      paths.push_back(flow.path);
      continue;
    }
    const double rate = flow.rate;  // a local: the stores below could alias the member
    flow.path->for_each_hop([&](LinkId link, double share) {
      residual[static_cast<std::size_t>(link)] -= rate * share;
    });
  }
  // Rounding can leave a link a few ulps below zero; the solver refuses negative capacities.
  for (double& capacity : residual) capacity = std::max(capacity, 0.0);
  assign_rates(now, solved, solve_max_min(residual, paths, true, &bottleneck_scratch_));
  return true;
}

void FlowNetwork::retire_due(SimTime now, std::vector<FlowId>& done) {
  const auto live = [this](std::uint32_t id, std::uint32_t stamp) {
    return flows_[id].state == State::Active && flows_[id].stamp == stamp;
  };
  for (by_due_.clean(live); !by_due_.empty() && by_due_.top_time() <= now; by_due_.clean(live)) {
    const FlowId id = by_due_.top_flow();
    by_due_.pop();
    // Done from here on: out of the solves, the heaps and the links' counts. complete() books it.
    flows_[id].state = State::Done;
    set_bottleneck(flows_[id], kNoBottleneckLink);
    --live_;
    done.push_back(id);
  }
  // In the order they joined, as a scan of active_ would find them: the order of the link sums.
  std::sort(done.begin(), done.end(),
            [this](FlowId a, FlowId b) { return joined_as_[a] < joined_as_[b]; });
}

void FlowNetwork::update() {
  const SimTime now = queue_.now();
  next_event_time_ = SimTime::max();  // this event has fired

  std::vector<FlowId> done;
  retire_due(now, done);
  bool joined = false;
  while (!joins_.empty() && joins_.top().time <= now) {
    const FlowId id = joins_.top().flow;
    joins_.pop();
    if (flows_[id].bytes == 0) {
      done.push_back(id);
    } else {
      flows_[id].state = State::Active;
      flows_[id].settled = now;
      joined_as_[id] = joins_seen_++;
      active_.push_back(id);
      ++live_;
      joined = true;
    }
  }
  // Completions alone re-solve incrementally; they need the finished paths, which complete() drops.
  if (joined && live_ > 0)
    solve(now);
  else if (!done.empty() && live_ > 0 && options_.incremental)
    solve_after_completions(now, done);
  else if (!done.empty() && live_ > 0)
    solve(now);
  for (FlowId id : done) complete(id, now);
  // Finished flows leave active_ in bulk, not one erase per event.
  if (active_.size() > 2 * live_ + 64) compact_active();

  SimTime next = joins_.empty() ? SimTime::max() : joins_.top().time;
  by_finish_.clean([this](std::uint32_t id, std::uint32_t stamp) {
    return flows_[id].state == State::Active && flows_[id].stamp == stamp;
  });
  if (!by_finish_.empty()) next = std::min(next, by_finish_.top_time());
  schedule_next(next);

  // Callbacks last: the network is consistent, and a callback may add flows (even at now).
  std::sort(done.begin(), done.end());
  for (FlowId id : done)
    if (flows_[id].on_complete) {
      // Moved out: the callback may add flows, which can reallocate flows_.
      CompletionCallback callback = std::move(flows_[id].on_complete);
      callback(id, now);
    }
}

BytesPerSecond FlowNetwork::rate(FlowId flow) const {
  const Flow& record = flows_.at(flow);
  return record.state == State::Active ? record.rate : 0.0;
}

Bytes FlowNetwork::remaining_bytes(FlowId flow) const {
  const Flow& record = flows_.at(flow);
  return record.remaining - moved_since_update(record, queue_.now());
}

std::vector<Bytes> FlowNetwork::link_bytes() const {
  std::vector<Bytes> bytes = link_bytes_;
  const SimTime now = queue_.now();
  for (FlowId id : active_) {
    const Flow& flow = flows_[id];
    const Bytes moved = moved_since_update(flow, now);
    for (std::size_t hop = 0; hop < flow.path->links.size(); ++hop)
      bytes[static_cast<std::size_t>(flow.path->links[hop])] += moved * flow.path->share(hop);
  }
  return bytes;
}

}  // namespace moesim::sim

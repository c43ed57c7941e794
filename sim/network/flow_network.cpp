#include "sim/network/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace moesim::sim {

namespace {

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
      link_bytes_(capacity_.size(), 0.0) {
  // Let the solver reject bad capacities now rather than at the first flow.
  validate_link_capacities(capacity_);
  if (!(options_.completion_tolerance >= 0 && options_.completion_tolerance < 1))
    throw std::invalid_argument("FlowNetwork: completion tolerance must be in [0, 1)");
}

FlowId FlowNetwork::add_flow(FlowPath path, Bytes bytes, SimTime latency,
                             CompletionCallback on_complete) {
  if (!(bytes >= 0) || std::isinf(bytes))
    throw std::invalid_argument("FlowNetwork::add_flow: bytes must be finite and >= 0");
  if (latency < SimTime::zero())
    throw std::invalid_argument("FlowNetwork::add_flow: negative latency");
  validate_flow_path(capacity_.size(), path);
  const auto id = static_cast<FlowId>(flows_.size());
  Flow flow;
  flow.path = std::move(path);
  flow.bytes = bytes;
  flow.remaining = bytes;
  flow.start = queue_.now();
  flow.join = queue_.now() + latency;
  flow.on_complete = std::move(on_complete);
  flows_.push_back(std::move(flow));
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
  for (std::size_t hop = 0; hop < flow.path.links.size(); ++hop)
    link_bytes_[static_cast<std::size_t>(flow.path.links[hop])] += moved * flow.path.share(hop);
}

void FlowNetwork::complete(FlowId id, SimTime now) {
  Flow& flow = flows_[id];
  // Book the rounding residue so that every link ends with exactly bytes * share.
  for (std::size_t hop = 0; hop < flow.path.links.size(); ++hop)
    link_bytes_[static_cast<std::size_t>(flow.path.links[hop])] +=
        flow.remaining * flow.path.share(hop);
  flow.remaining = 0;
  flow.rate = 0;
  flow.finish = now;
  flow.state = State::Done;
  flow.path = FlowPath{};  // long runs retire millions of flows: keep only their times
}

void FlowNetwork::assign_rates(SimTime now, const std::vector<FlowId>& solved,
                               const std::vector<BytesPerSecond>& rates) {
  ++solves_;
  for (std::size_t i = 0; i < solved.size(); ++i) {
    Flow& flow = flows_[solved[i]];
    settle(flow, now);  // at the old rate, up to now
    flow.rate = rates[i];
    flow.bottleneck = bottleneck_scratch_[i];
    flow.projected_finish = projected_finish(now, flow.remaining, flow.rate);
  }
}

void FlowNetwork::solve(SimTime now) {
  std::vector<const FlowPath*> paths;
  paths.reserve(active_.size());
  for (FlowId id : active_) paths.push_back(&flows_[id].path);
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
  // The lowest rate among remaining flows held by a link a finished flow crossed, from the
  // per-link lowest rates the due scan noted (retire_due).
  double floor = std::numeric_limits<double>::infinity();
  for (FlowId id : done)
    for (LinkId link : flows_[id].path.links)
      if (kept_stamp_[static_cast<std::size_t>(link)] == scan_)
        floor = std::min(floor, kept_floor_[static_cast<std::size_t>(link)]);
  if (std::isinf(floor)) return false;  // every remaining flow keeps its bottleneck and its rate
  std::vector<BytesPerSecond> residual = capacity_;
  std::vector<FlowId> solved;
  std::vector<const FlowPath*> paths;
  for (FlowId id : active_) {
    const Flow& flow = flows_[id];
    if (flow.rate >= floor) {
      solved.push_back(id);
      paths.push_back(&flow.path);
      continue;
    }
    for (std::size_t hop = 0; hop < flow.path.links.size(); ++hop)
      residual[static_cast<std::size_t>(flow.path.links[hop])] -= flow.rate * flow.path.share(hop);
  }
  // Rounding can leave a link a few ulps below zero; the solver refuses negative capacities.
  for (double& capacity : residual) capacity = std::max(capacity, 0.0);
  assign_rates(now, solved, solve_max_min(residual, paths, true, &bottleneck_scratch_));
  return true;
}

SimTime FlowNetwork::retire_due(SimTime now, std::vector<FlowId>& done) {
  if (kept_stamp_.size() != capacity_.size()) {
    kept_stamp_.assign(capacity_.size(), 0);
    kept_floor_.assign(capacity_.size(), 0.0);
  }
  ++scan_;
  const double tolerance = options_.completion_tolerance;
  SimTime next_kept = SimTime::max();
  std::erase_if(active_, [&](FlowId id) {
    const Flow& flow = flows_[id];
    const bool due = flow.projected_finish <= now ||
                     (tolerance > 0 && static_cast<double>((flow.projected_finish - now).ns()) <=
                                           tolerance * static_cast<double>((now - flow.join).ns()));
    if (due) {
      done.push_back(id);
      return true;
    }
    next_kept = std::min(next_kept, flow.projected_finish);
    if (flow.bottleneck != kNoBottleneckLink) {
      const auto link = static_cast<std::size_t>(flow.bottleneck);
      const bool first = kept_stamp_[link] != scan_;
      kept_floor_[link] = first ? flow.rate : std::min(kept_floor_[link], flow.rate);
      kept_stamp_[link] = scan_;
    }
    return false;
  });
  return next_kept;
}

void FlowNetwork::update() {
  const SimTime now = queue_.now();
  next_event_time_ = SimTime::max();  // this event has fired

  std::vector<FlowId> done;
  const SimTime next_kept = retire_due(now, done);
  bool joined = false;
  while (!joins_.empty() && joins_.top().time <= now) {
    const FlowId id = joins_.top().flow;
    joins_.pop();
    if (flows_[id].bytes == 0) {
      done.push_back(id);
    } else {
      flows_[id].state = State::Active;
      flows_[id].settled = now;
      active_.push_back(id);
      joined = true;
    }
  }
  // Completions alone re-solve incrementally; they need the finished paths, which complete() drops.
  bool rates_changed = !active_.empty() && (joined || !done.empty());
  if (joined && !active_.empty())
    solve(now);
  else if (!done.empty() && !active_.empty() && options_.incremental)
    rates_changed = solve_after_completions(now, done);
  else if (!done.empty() && !active_.empty())
    solve(now);
  for (FlowId id : done) complete(id, now);

  SimTime next = joins_.empty() ? SimTime::max() : joins_.top().time;
  if (rates_changed)
    for (FlowId id : active_) next = std::min(next, flows_[id].projected_finish);
  else
    next = std::min(next, next_kept);
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
    for (std::size_t hop = 0; hop < flow.path.links.size(); ++hop)
      bytes[static_cast<std::size_t>(flow.path.links[hop])] += moved * flow.path.share(hop);
  }
  return bytes;
}

}  // namespace moesim::sim

#include "sim/cost/layer_schedule.hpp"

#include <algorithm>

namespace moesim::sim {

namespace {

// One micro-batch after another, starting at `t`; returns when the last one ends.
double schedule_in_turn(const PhaseTimes& p, Overlap overlap, std::vector<MicroBatchTimes>& mbs) {
  const double front = p.dense + p.gate;
  // Single-batch: the dispatch leaves once the gate has run, before the shared experts (which run
  // beside it); the combine sends each block the down GEMM finishes, so it overlaps the down GEMM
  // and ends no earlier than it.
  const bool single = overlap == Overlap::SingleBatch;
  const double shared = single ? std::min(p.shared_experts, p.dense) : 0.0;
  const double down = single ? std::min({p.experts_down, p.experts, p.combine}) : 0.0;
  double t = 0;
  for (auto& mb : mbs) {
    mb.dense = t;
    mb.dispatch = t + front - shared;
    if (overlap == Overlap::CommCompute) {
      mb.experts = mb.dispatch;
      mb.combine = mb.dispatch + std::max(p.dispatch, p.experts - p.combine);
    } else {
      mb.experts = std::max(mb.dispatch + p.dispatch, t + front);
      mb.combine = mb.experts + p.experts - down;
    }
    t = std::max(mb.combine + p.combine, mb.experts + p.experts);
  }
  return t;
}

}  // namespace

LayerSchedule schedule_layer(const PhaseTimes& p, int micro_batches, Overlap overlap) {
  const double front = p.dense + p.gate;
  LayerSchedule schedule;
  schedule.micro_batches.resize(std::max(1, micro_batches));
  auto& mbs = schedule.micro_batches;
  const int count = static_cast<int>(mbs.size());
  if (overlap != Overlap::TwoMicroBatch) {
    schedule.makespan = schedule_in_turn(p, overlap, mbs);
    return schedule;
  }
  // Two streams. Compute: A0 A1 E0 A2 E1 ... E(n-1); communication: D0 D1 C0 D2 C1 ... C(n-1).
  double compute_free = 0, comm_free = 0;
  std::vector<double> front_end(count), dispatch_end(count), experts_end(count);
  auto run_front = [&](int i) {
    mbs[i].dense = compute_free;
    compute_free = front_end[i] = mbs[i].dense + front;
  };
  auto run_experts = [&](int i) {
    mbs[i].experts = std::max(compute_free, dispatch_end[i]);
    compute_free = experts_end[i] = mbs[i].experts + p.experts;
  };
  auto run_dispatch = [&](int i) {
    mbs[i].dispatch = std::max(comm_free, front_end[i]);
    comm_free = dispatch_end[i] = mbs[i].dispatch + p.dispatch;
  };
  auto run_combine = [&](int i) {
    mbs[i].combine = std::max(comm_free, experts_end[i]);
    comm_free = mbs[i].combine + p.combine;
  };
  run_front(0);
  run_dispatch(0);
  for (int i = 1; i < count; ++i) {
    run_front(i);
    run_dispatch(i);
    run_experts(i - 1);
    run_combine(i - 1);
  }
  run_experts(count - 1);
  run_combine(count - 1);
  schedule.makespan = std::max(comm_free, compute_free);
  return schedule;
}

}  // namespace moesim::sim

#include "sim/report/step_account.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "sim/report/training_report.hpp"
#include "sim/run/training_step.hpp"

namespace moesim::sim {
namespace {

// The phases a schedule lays out, in the order an instant is attributed: the compute stream
// first (a phase there is on the critical path whenever it runs), then communication.
enum PhaseIndex { kDense, kGate, kExperts, kDispatch, kCombine, kPhaseCount };

struct Interval {
  double start = 0;
  double end = 0;
  PhaseIndex phase = kDense;
};

std::vector<Interval> schedule_intervals(const PhaseTimes& p, const LayerSchedule& schedule) {
  std::vector<Interval> intervals;
  auto add = [&](double start, double duration, PhaseIndex phase) {
    if (duration > 0) intervals.push_back({start, start + duration, phase});
  };
  for (const auto& mb : schedule.micro_batches) {
    add(mb.dense, p.dense, kDense);
    add(mb.dense + p.dense, p.gate, kGate);
    add(mb.experts, p.experts, kExperts);
    add(mb.dispatch, p.dispatch, kDispatch);
    add(mb.combine, p.combine, kCombine);
  }
  return intervals;
}

double& slot(ExposedPhases& e, PhaseIndex phase) {
  switch (phase) {
    case kDense:
      return e.dense;
    case kGate:
      return e.gate;
    case kExperts:
      return e.experts;
    case kDispatch:
      return e.dispatch;
    default:
      return e.combine;
  }
}

void add_phases(ExposedPhases& sum, const ExposedPhases& e) {
  sum.dense += e.dense;
  sum.gate += e.gate;
  sum.dispatch += e.dispatch;
  sum.experts += e.experts;
  sum.combine += e.combine;
  sum.wait += e.wait;
}

}  // namespace

ExposedPhases exposed_phases(const PhaseTimes& p, const LayerSchedule& schedule) {
  const auto intervals = schedule_intervals(p, schedule);
  std::vector<double> cuts{0.0, schedule.makespan};
  for (const auto& i : intervals) cuts.insert(cuts.end(), {i.start, i.end});
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  ExposedPhases exposed;
  for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
    const double from = cuts[c], to = cuts[c + 1];
    if (to > schedule.makespan) break;
    std::array<bool, kPhaseCount> active{};
    for (const auto& i : intervals) active[i.phase] |= i.start <= from && i.end >= to;
    const auto owner = std::find(active.begin(), active.end(), true);
    if (owner == active.end())
      exposed.wait += to - from;
    else
      slot(exposed, static_cast<PhaseIndex>(owner - active.begin())) += to - from;
  }
  return exposed;
}

double StepAccount::accounted() const {
  double total = phase_sums.total() + backward_sums.total();
  for (const auto& item : step_items) total += item.seconds;
  return total;
}

namespace {

void add_scaled(ExposedPhases& sum, const ExposedPhases& e, double times) {
  sum.dense += e.dense * times;
  sum.gate += e.gate * times;
  sum.dispatch += e.dispatch * times;
  sum.experts += e.experts * times;
  sum.combine += e.combine * times;
  sum.wait += e.wait * times;
}

// A training step (run/training_step.hpp) runs the slowest pipeline stage's blocks forward and
// backward for every micro-batch (m F + m B), then the pipeline's messages and bubble, the
// gradient collectives, the optimizer and the weight gathers, each an item.
void account_training(const Report& r, const TrainingPhases& t, StepAccount& account) {
  const StageBlocks blocks =
      stage_blocks(static_cast<int>(r.layers.size()), t.stages, t.slowest_stage);
  const double m = t.micro_batches;
  for (int l = blocks.first; l < blocks.end; ++l) {
    const LayerResult& layer = r.layers[static_cast<std::size_t>(l)];
    add_scaled(account.phase_sums, account.layers[static_cast<std::size_t>(l)], m);
    add_scaled(account.backward_sums, exposed_phases(layer.backward, layer.backward_schedule), m);
  }
  account.blocks_scope =
      t.stages > 1 ? fmt::format("pipeline stage {}, the slowest: blocks {}-{} x {} micro-batches",
                                 t.slowest_stage, blocks.first, blocks.end - 1, t.micro_batches)
                   : fmt::format("all {} blocks x {} micro-batch{}", r.layers.size(),
                                 t.micro_batches, t.micro_batches == 1 ? "" : "es");
  for (const auto& phase : training_step_phases(t))
    if (phase.name != "forward" && phase.name != "backward" && phase.seconds > 0)
      account.step_items.push_back({phase.name, phase.seconds});
}

}  // namespace

StepAccount account_step(const Report& r) {
  StepAccount account;
  for (const auto& layer : r.layers)
    account.layers.push_back(exposed_phases(layer.phases, layer.schedule));
  if (r.training) {
    account_training(r, *r.training, account);
    return account;
  }
  double blocks = 0;
  for (std::size_t l = 0; l < r.layers.size(); ++l) {
    add_phases(account.phase_sums, account.layers[l]);
    blocks += r.layers[l].phases.total;
  }
  account.blocks_scope = fmt::format("all {} blocks x {} micro-batch{}", r.layers.size(),
                                     r.micro_batches, r.micro_batches == 1 ? "" : "es");
  const StepExtras& x = r.extras;
  // The step is max(blocks + LM head + drafts + overhead, launch floor) + fixed launch cost
  // (run/simulate.cpp); the floor shows only as the wait beyond the work.
  const double work = blocks + x.lm_head + x.mtp_drafts + x.kernel_overhead;
  for (const StepItem& item :
       {StepItem{"lm_head_and_sampling", x.lm_head}, StepItem{"mtp_drafts", x.mtp_drafts},
        StepItem{"kernel_overhead", x.kernel_overhead},
        StepItem{"launch_wait", std::max(0.0, x.launch_floor - work)},
        StepItem{"launch_fixed", x.launch_fixed}, StepItem{"mixed_prefill", x.mixed_prefill}})
    if (item.seconds > 0) account.step_items.push_back(item);
  return account;
}

}  // namespace moesim::sim

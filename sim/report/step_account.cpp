#include "sim/report/step_account.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "sim/report/training_report.hpp"

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

// The EP rank whose own expert GEMMs take longest over the step: it gates every combine.
int slowest_expert_rank(const Report& r) {
  std::vector<double> per_rank;
  for (const auto& l : r.layers) {
    per_rank.resize(std::max(per_rank.size(), l.gpu_experts.size()), 0.0);
    for (std::size_t g = 0; g < l.gpu_experts.size(); ++g) per_rank[g] += l.gpu_experts[g];
  }
  if (per_rank.empty()) return 0;
  return static_cast<int>(std::max_element(per_rank.begin(), per_rank.end()) - per_rank.begin());
}

std::string network_where(const Report& r) {
  if (r.busiest_links.empty()) return "no link recorded";
  const auto& link = r.busiest_links.front();
  return fmt::format("busiest link {} ({}, {:.1f}% utilised over the step)", link.name, link.kind,
                     100 * link.utilisation);
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
  double total = phase_sums.total();
  for (const auto& item : step_items) total += item.seconds;
  return total;
}

namespace {

// A training step (run/training_step.hpp) is its own phases, not the blocks: the layers hold one
// micro-batch's forward through every block, the step runs the slowest stage's forward for every
// micro-batch, then backward, the pipeline's messages and bubble, the gradient collectives and
// the optimizer. Each is an item; the forward beyond the one pass the layers show is the rest.
void add_training_items(const TrainingPhases& t, double step, StepAccount& account) {
  for (const auto& phase : training_step_phases(t))
    if (phase.name != "forward" && phase.seconds > 0)
      account.step_items.push_back({phase.name, phase.seconds});
  // Negative only when a pipeline runs fewer micro-batches than stages (one pass is more).
  account.step_items.push_back({"forward_other_micro_batches", step - account.accounted()});
}

}  // namespace

StepAccount account_step(const Report& r) {
  StepAccount account;
  double blocks = 0;
  for (const auto& layer : r.layers) {
    account.layers.push_back(exposed_phases(layer.phases, layer.schedule));
    add_phases(account.phase_sums, account.layers.back());
    blocks += layer.phases.total;
  }
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
  if (r.training) add_training_items(*r.training, r.step_time_s, account);
  return account;
}

Bottleneck find_bottleneck(const Report& r, const StepAccount& a) {
  const ExposedPhases& s = a.phase_sums;
  const std::array<std::pair<const char*, double>, 6> phases{{{"dense", s.dense},
                                                              {"gate", s.gate},
                                                              {"dispatch", s.dispatch},
                                                              {"experts", s.experts},
                                                              {"combine", s.combine},
                                                              {"wait", s.wait}}};
  Bottleneck b;
  for (const auto& [name, seconds] : phases)
    if (seconds > b.seconds) b = {name, "", "", seconds, 0};
  for (const auto& item : a.step_items)
    if (item.seconds > b.seconds) b = {item.name, "step", "outside the blocks", item.seconds, 0};
  if (b.phase == "experts") {
    b.resource = "GPU compute";
    b.where = fmt::format("GPU {} (EP rank with the slowest expert GEMMs)", slowest_expert_rank(r));
  } else if (b.phase == "dense" || b.phase == "gate") {
    b.resource = "GPU compute";
    b.where = "every GPU alike (attention and dense part)";
  } else if (b.phase == "dispatch" || b.phase == "combine") {
    b.resource = "network";
    b.where = network_where(r);
  } else if (b.phase == "wait") {
    b.resource = "dependencies";
    b.where = "streams idle between phases";
  }
  b.share = r.step_time_s > 0 ? b.seconds / r.step_time_s : 0.0;
  return b;
}

}  // namespace moesim::sim

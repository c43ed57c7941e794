#pragma once
// Where the step's time goes: per layer, the time each phase is exposed (on the critical stream)
// after overlap, plus what the step adds outside its blocks; the parts sum to the step time.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"

namespace moesim::sim {

// Exposed time of one layer's phases, seconds. Compute owns an instant when the compute stream is
// busy; communication owns it only when nothing computes; `wait` when neither stream is busy.
struct ExposedPhases {
  double dense = 0;
  double gate = 0;
  double dispatch = 0;
  double experts = 0;
  double combine = 0;
  double wait = 0;
  double total() const { return dense + gate + dispatch + experts + combine + wait; }
};

// One piece of the step outside its blocks ("lm_head_and_sampling", "launch_wait", ...).
struct StepItem {
  std::string name;
  double seconds = 0;
};

// What limits the step: the phase with the most exposed time, the resource it uses and where.
struct Bottleneck {
  std::string phase;     // "experts", "combine", ... or a step item's name
  std::string resource;  // "GPU compute", "network", "step"
  std::string where;     // the GPU or link that sets the pace
  double seconds = 0;
  double share = 0;  // of the step time
};

struct StepAccount {
  std::vector<ExposedPhases> layers;  // one per report layer, same order: one micro-batch's forward
  // The step's forward through its blocks: every layer (inference), or under training the slowest
  // pipeline stage's blocks for each of its micro-batches (that stage paces the pipeline).
  ExposedPhases phase_sums;
  ExposedPhases backward_sums;       // training: the same blocks' backward; zero otherwise
  std::string blocks_scope;          // which blocks the sums cover, said in words
  std::vector<StepItem> step_items;  // outside the blocks
  // phase_sums + backward_sums + step items: equals the step time.
  double accounted() const;
};

// The exposed time of each phase in a layer's schedule; sums to the schedule's makespan.
ExposedPhases exposed_phases(const PhaseTimes& per_micro_batch, const LayerSchedule& schedule);
StepAccount account_step(const Report& report);
Bottleneck find_bottleneck(const Report& report, const StepAccount& account);

// Outputs (step_account_output.cpp): milliseconds, as the report's other fields.
nlohmann::json exposed_to_json(const ExposedPhases& exposed);
nlohmann::json step_account_to_json(const Report& report, const StepAccount& account);
// CSV rows after the layers (`columns` wide): one per step item, its time in the total_ms column;
// a training step's `forward` and `backward` blocks first (the layer rows hold one micro-batch).
std::string step_items_csv(const Report& report, const StepAccount& account, int columns);
// The summary's "work", "exposed" and "bottleneck" lines.
std::string step_account_text(const Report& report, const StepAccount& account);

}  // namespace moesim::sim

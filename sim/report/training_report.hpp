#pragma once
// The training step's parts in each of the report's forms (docs/parallelism.md): the JSON's
// `training` section, the step account's items (CSV rows), the summary's lines and the timeline's
// phases. Every exposed part is its own named phase; they sum to the step time.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"

namespace moesim::sim {

// One exposed part of the training step.
struct TrainingStepPhase {
  std::string name;
  double seconds;
  bool communication;     // the timeline's category
  bool pipeline = false;  // played op by op on the timeline (pipeline_timeline.cpp)
};
// The exposed parts in step order; their sum is the step time.
std::vector<TrainingStepPhase> training_step_phases(const TrainingPhases& training);

nlohmann::json training_to_json(const TrainingPhases& training);
// A block's backward phases, as the layers' `backward` objects.
nlohmann::json backward_to_json(const PhaseTimes& backward);
std::string training_summary(const TrainingPhases& training);
// The step on a "training step" track of each shown GPU, from 0 to the step time: its pipeline
// stage's forward and backward micro-batches, messages and bubbles op by op, then the
// data-parallel phases and the optimizer end to end.
void append_training_timeline(const TrainingPhases& training, const std::vector<int>& gpus,
                              nlohmann::json& events);
// The pipeline part of that track, op by op (pipeline_timeline.cpp); false when the schedule has
// more ops than a timeline should hold (then the pipeline's phases are drawn end to end).
bool append_pipeline_ops(const TrainingPhases& training, const std::vector<int>& gpus, int track,
                         nlohmann::json& events);

}  // namespace moesim::sim

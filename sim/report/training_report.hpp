#pragma once
// The training step's parts in each of the report's forms (docs/parallelism.md): the JSON's
// `training` section, the CSV's step rows, the summary's lines and the timeline's phases. Every
// exposed part is its own named phase; they sum to the step time.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/run/run_result.hpp"

namespace moesim::sim {

nlohmann::json training_to_json(const TrainingPhases& training);
// A block's backward phases, as the layers' `backward` objects.
nlohmann::json backward_to_json(const PhaseTimes& backward);
// One CSV row per step-level phase: "step:<phase>" in the layer column, its ms in total_ms.
std::string training_csv_rows(const TrainingPhases& training, int columns);
std::string training_summary(const TrainingPhases& training);
// The step's phases laid end to end on a "training step" track of each shown GPU, from 0 to the
// step time.
void append_training_timeline(const TrainingPhases& training, int shown_gpus,
                              nlohmann::json& events);

}  // namespace moesim::sim

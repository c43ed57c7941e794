#pragma once
// A training step from its forward layers (docs/parallelism.md): each block's backward as its own
// phases, the pipeline (1F1B or interleaved) with its bubble and stage-to-stage messages, the
// gradient collectives overlapped with the last backward, the ZeRO weight gathers and the
// optimizer step. No closed formula beyond the schedule's: every part is a named phase.
#include <vector>

#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/layer_result.hpp"
#include "sim/run/run_result.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Bubble of p stages and m micro-batches over v virtual stages: (p - 1) / (m + p - 1) of the
// pipeline for 1F1B (Narayanan et al. 2021, section 2.2), the bubble time divided by v when
// interleaved.
double pipeline_bubble_fraction(int stages, int micro_batches, int virtual_stages);

// The blocks [first, end) of pipeline stage `stage`: the model's blocks cut into `stages`
// contiguous runs of equal length (validation makes the stages divide the blocks).
struct StageBlocks {
  int first = 0;
  int end = 0;
};
StageBlocks stage_blocks(int blocks, int stages, int stage);

// Fills each layer's `backward` phases and returns the step's parts. `layers` hold one pipeline
// micro-batch's forward (their phases.total after overlap). `notes` receives what priced each
// collective (for the report's pricing notes).
TrainingPhases price_training_step(const ScenarioSpec& scenario, const LayerCostModel& model,
                                   std::vector<LayerResult>& layers,
                                   std::vector<std::string>& notes);

}  // namespace moesim::sim

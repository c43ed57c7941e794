// What limits the step (step_account.hpp's find_bottleneck): the part with the most exposed time,
// the resource it uses and where that resource sits.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "sim/report/milliseconds.hpp"
#include "sim/report/step_account.hpp"
#include "sim/run/training_step.hpp"

namespace moesim::sim {
namespace {

// The EP rank whose own expert GEMMs take longest over `layers` [first, end): it gates every
// combine.
int slowest_expert_rank(const Report& r, int first, int end) {
  std::vector<double> per_rank;
  for (int l = first; l < end; ++l) {
    const auto& experts = r.layers[static_cast<std::size_t>(l)].gpu_experts;
    per_rank.resize(std::max(per_rank.size(), experts.size()), 0.0);
    for (std::size_t g = 0; g < experts.size(); ++g) per_rank[g] += experts[g];
  }
  if (per_rank.empty()) return 0;
  return static_cast<int>(std::max_element(per_rank.begin(), per_rank.end()) - per_rank.begin());
}

std::string busiest_link_where(const Report& r) {
  if (r.busiest_links.empty()) return "no link recorded";
  const auto& link = r.busiest_links.front();
  return fmt::format("busiest link {} ({}, {:.1f}% utilised over the step)", link.name, link.kind,
                     100 * link.utilisation);
}

// Where a block phase's resource sits; under training, in the pipeline stage that paces the step.
void place_block_phase(const Report& r, Bottleneck& b) {
  const TrainingPhases* t = r.training ? &*r.training : nullptr;
  const StageBlocks blocks =
      t ? stage_blocks(static_cast<int>(r.layers.size()), t->stages, t->slowest_stage)
        : StageBlocks{0, static_cast<int>(r.layers.size())};
  const std::string stage =
      t && t->stages > 1 ? fmt::format(" in pipeline stage {}, the slowest stage", t->slowest_stage)
                         : "";
  if (b.phase == "experts") {
    const int rank = slowest_expert_rank(r, blocks.first, blocks.end);
    b.resource = "GPU compute";
    b.where = t ? fmt::format("EP rank {} (the slowest expert GEMMs){}", rank, stage)
                : fmt::format("GPU {} (EP rank with the slowest expert GEMMs)", rank);
  } else if (b.phase == "dense" || b.phase == "gate") {
    b.resource = "GPU compute";
    b.where = "every GPU alike (attention and dense part)" + stage;
  } else if (b.phase == "dispatch" || b.phase == "combine") {
    b.resource = "network";
    b.where = busiest_link_where(r);
  } else if (b.phase == "wait") {
    b.resource = "dependencies";
    b.where = "streams idle between phases";
  }
}

// Where a training item's time goes.
void place_training_item(const TrainingPhases& t, Bottleneck& b) {
  if (b.phase == "pipeline_bubble") {
    b.resource = "pipeline schedule";
    b.where = fmt::format(
        "stage {} idle in warm-up and drain: {} stages, {} micro-batches{}, {:.1f}% of the "
        "pipeline",
        t.slowest_stage, t.stages, t.micro_batches,
        t.virtual_stages > 1 ? fmt::format(", {} virtual stages", t.virtual_stages) : "",
        100 * t.bubble_fraction);
  } else if (b.phase == "pipeline_send_recv") {
    b.resource = "network";
    b.where = fmt::format("stage-to-stage messages, {:.3f} ms each", ms(t.send_recv));
  } else if (b.phase == "gradient_" + t.gradient_collective || b.phase == "param_all_gather") {
    b.resource = "network";
    b.where = fmt::format("data-parallel groups of {} GPUs (dense) and {} GPUs (experts)",
                          t.data_parallel, t.expert_data_parallel);
  } else if (b.phase == "optimizer") {
    b.resource = "GPU memory bandwidth";
    b.where = "every GPU's Adam step on its parameter share";
  }
}

}  // namespace

Bottleneck find_bottleneck(const Report& r, const StepAccount& a) {
  // A block phase counts forward and backward together (backward_sums is zero for inference).
  const ExposedPhases &f = a.phase_sums, &k = a.backward_sums;
  const std::array<std::pair<const char*, double>, 6> phases{{{"dense", f.dense + k.dense},
                                                              {"gate", f.gate + k.gate},
                                                              {"dispatch", f.dispatch + k.dispatch},
                                                              {"experts", f.experts + k.experts},
                                                              {"combine", f.combine + k.combine},
                                                              {"wait", f.wait + k.wait}}};
  Bottleneck b;
  for (const auto& [name, seconds] : phases)
    if (seconds > b.seconds) b = {name, "", "", seconds, 0};
  bool item = false;
  for (const auto& step_item : a.step_items)
    if (step_item.seconds > b.seconds) {
      b = {step_item.name, "step", "outside the blocks", step_item.seconds, 0};
      item = true;
    }
  if (!item)
    place_block_phase(r, b);
  else if (r.training)
    place_training_item(*r.training, b);
  b.share = r.step_time_s > 0 ? b.seconds / r.step_time_s : 0.0;
  return b;
}

}  // namespace moesim::sim

#include "sim/report/training_report.hpp"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "sim/report/milliseconds.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

}  // namespace

std::vector<TrainingStepPhase> training_step_phases(const TrainingPhases& t) {
  return {{"forward", t.forward, false, true},
          {"backward", t.backward, false, true},
          {"pipeline_send_recv", t.pipeline_send_recv, true, true},
          {"pipeline_bubble", t.pipeline_bubble, false, true},
          {"gradient_" + t.gradient_collective, t.gradient_reduce, true},
          {"optimizer", t.optimizer, false},
          {"param_all_gather", t.param_all_gather, true}};
}

Json training_to_json(const TrainingPhases& t) {
  Json phases = Json::object();
  for (const auto& phase : training_step_phases(t)) phases[phase.name + "_ms"] = ms(phase.seconds);
  return Json{{"phases_ms", phases},
              {"step_ms", ms(t.total())},
              {"gradient_collective", t.gradient_collective},
              {"gradient_reduce_work_ms", ms(t.gradient_reduce_work)},
              {"param_all_gather_work_ms", ms(t.param_all_gather_work)},
              {"stage_forward_ms", ms(t.stage_forward)},
              {"stage_backward_ms", ms(t.stage_backward)},
              {"send_recv_ms", ms(t.send_recv)},
              {"slowest_stage", t.slowest_stage},
              {"pipeline",
               {{"stages", t.stages},
                {"schedule", t.schedule},
                {"micro_batches", t.micro_batches},
                {"virtual_stages", t.virtual_stages},
                {"bubble_fraction", t.bubble_fraction}}},
              {"zero_stage", t.zero_stage},
              {"assumptions", t.assumptions}};
}

Json backward_to_json(const PhaseTimes& b) {
  return Json{{"dense_ms", ms(b.dense)},
              {"tp_all_reduce_ms", ms(b.tp_all_reduce)},
              {"cp_kv_exchange_ms", ms(b.cp_kv_exchange)},
              {"gate_ms", ms(b.gate)},
              {"dispatch_ms", ms(b.dispatch)},
              {"moe_tp_all_gather_ms", ms(b.moe_tp_all_gather)},
              {"experts_ms", ms(b.experts)},
              {"combine_ms", ms(b.combine)},
              {"moe_tp_reduce_scatter_ms", ms(b.moe_tp_reduce_scatter)},
              {"total_ms", ms(b.total)}};
}

std::string training_summary(const TrainingPhases& t) {
  std::string text = "training ";
  bool first = true;
  for (const auto& phase : training_step_phases(t)) {
    text += fmt::format("{}{} {:.3f}", first ? "" : " + ", phase.name, ms(phase.seconds));
    first = false;
  }
  text += fmt::format(" = {:.3f} ms\n", ms(t.total()));
  text += fmt::format(
      "pipeline {} stage{}, {}, {} micro-batches{}: bubble {:.1f}% ; stage {} per micro-batch "
      "forward {:.3f} backward {:.3f} ms\n",
      t.stages, t.stages == 1 ? "" : "s", t.schedule, t.micro_batches,
      t.virtual_stages > 1 ? fmt::format(" x {} virtual stages", t.virtual_stages) : "",
      100 * t.bubble_fraction, t.slowest_stage, ms(t.stage_forward), ms(t.stage_backward));
  text += fmt::format(
      "data par ZeRO {}: gradient {} {:.3f} ms ({:.3f} exposed), weight all-gather {:.3f} ms "
      "({:.3f} exposed)\n",
      t.zero_stage, t.gradient_collective, ms(t.gradient_reduce_work), ms(t.gradient_reduce),
      ms(t.param_all_gather_work), ms(t.param_all_gather));
  for (const auto& assumption : t.assumptions) text += "assume    " + assumption + "\n";
  return text;
}

void append_training_timeline(const TrainingPhases& t, const std::vector<int>& gpus, Json& events) {
  // A track of its own per GPU, beside the first micro-batch's blocks drawn on the others.
  constexpr int kStepTrack = 3;
  for (const int gpu : gpus)
    events.push_back({{"ph", "M"},
                      {"pid", gpu},
                      {"tid", kStepTrack},
                      {"name", "thread_name"},
                      {"args", {{"name", "training step"}}}});
  const bool per_op = append_pipeline_ops(t, gpus, kStepTrack, events);
  double start = 0;
  for (const auto& phase : training_step_phases(t)) {
    if (per_op && phase.pipeline) {  // drawn op by op; the pipeline's parts sum to its makespan
      start += phase.seconds;
      continue;
    }
    if (phase.seconds > 0)
      for (const int gpu : gpus)
        events.push_back({{"ph", "X"},
                          {"pid", gpu},
                          {"tid", kStepTrack},
                          {"cat", phase.communication ? "communication" : "compute"},
                          {"name", "step " + phase.name},
                          {"ts", start * 1e6},
                          {"dur", phase.seconds * 1e6}});
    start += phase.seconds;
  }
}

}  // namespace moesim::sim

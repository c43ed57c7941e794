// The training pipeline on the timeline, op by op per GPU (docs/parallelism.md): the GPU's stage
// plays its forward and backward micro-batches (per chunk when interleaved), each followed by its
// stage-to-stage message, and the gaps between them are its bubble. Per stage these sum to the
// step account's forward + backward + pipeline_send_recv + pipeline_bubble.
#include <fmt/format.h>

#include "sim/report/training_report.hpp"
#include "sim/run/pipeline_schedule.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// A 1F1B schedule of 4 stages and 8 micro-batches holds 64 ops; this many keeps a trace loadable.
constexpr double kMaxPipelineOps = 1 << 16;

struct Track {
  int gpu = 0;
  int tid = 0;
  Json& events;
  void span(const std::string& name, const char* category, double start, double end) const {
    if (end - start <= 0) return;
    events.push_back({{"ph", "X"},
                      {"pid", gpu},
                      {"tid", tid},
                      {"cat", category},
                      {"name", "step " + name},
                      {"ts", start * 1e6},
                      {"dur", (end - start) * 1e6}});
  }
};

void draw_stage(const PipelineTimeline& pipeline, int stage, int virtual_stages,
                const Track& track) {
  double idle_since = 0;
  for (const PipelineOp& op : pipeline.stages[stage]) {
    track.span("pipeline_bubble", "idle", idle_since, op.start);
    const std::string what = virtual_stages > 1
                                 ? fmt::format("mb{} chunk {}", op.micro_batch, op.chunk)
                                 : fmt::format("mb{}", op.micro_batch);
    track.span((op.backward ? "backward " : "forward ") + what, "compute", op.start,
               op.compute_end);
    track.span("pipeline_send_recv " + what, "communication", op.compute_end, op.end);
    idle_since = op.end;
  }
  track.span("pipeline_bubble", "idle", idle_since, pipeline.makespan);
}

}  // namespace

bool append_pipeline_ops(const TrainingPhases& t, const std::vector<int>& gpus, int track,
                         Json& events) {
  const PipelinePlan plan{t.stages,        t.micro_batches,  t.virtual_stages,
                          t.stage_forward, t.stage_backward, t.send_recv};
  if (t.gpu_stage.empty() || pipeline_op_count(plan) > kMaxPipelineOps) return false;
  const PipelineTimeline pipeline = play_pipeline(plan);
  for (const int gpu : gpus)
    draw_stage(pipeline, t.gpu_stage.at(gpu), t.virtual_stages, {gpu, track, events});
  return true;
}

}  // namespace moesim::sim

// The parallel groups of /parallelism beyond expert parallel and attention TP/DP: MoE tensor
// parallel, training's pipeline and data parallel (ZeRO), and the rank order that places each
// group on the topology (docs/parallelism.md). Part of the scenario parser.
#include <fmt/format.h>

#include "sim/spec/limits.hpp"
#include "sim/spec/scenario_sections.hpp"

namespace moesim::sim::scenario_sections {
namespace {

void read_pipeline(FieldReader& parent, PipelineSpec& pipeline) {
  const Json* value = parent.child("pipeline_parallel");
  if (value == nullptr) return;
  FieldReader r(*value, parent.path_of("pipeline_parallel"), parent.problems(), kPipelineFields);
  pipeline.size = static_cast<int>(r.integer("size", 1, 1024, 1));
  pipeline.schedule = read_choice(r, "schedule", PipelineSchedule::OneFOneB);
  pipeline.micro_batches = static_cast<int>(r.integer("micro_batches", 1, 1 << 16, 1));
  pipeline.virtual_stages = static_cast<int>(r.integer("virtual_stages", 1, 64, 1));
  r.finish();
}

// data_parallel.size, when given, must match attention_data_parallel: returned for the default.
int read_data_parallel(FieldReader& parent, DataParallelSpec& data) {
  const Json* value = parent.child("data_parallel");
  if (value == nullptr) return 0;
  FieldReader r(*value, parent.path_of("data_parallel"), parent.problems(), kDataParallelFields);
  const auto size = static_cast<int>(r.integer("size", 1, kMaxGpus, 0));
  data.zero_stage = static_cast<int>(r.integer("zero_stage", 0, 3, 1));
  r.finish();
  return size;
}

void check_pipeline(const ScenarioSpec& s, ProblemList& problems) {
  const PipelineSpec& p = s.parallelism.pipeline;
  const std::string path = "/parallelism/pipeline_parallel";
  const int gpus = s.cluster.gpus();
  if (gpus % p.size != 0)
    problems.add(path + "/size",
                 fmt::format("expected a divisor of the cluster's {} GPUs, got {}", gpus, p.size));
  // Serving stacks pipeline requests, not micro-batches of one step: not modelled yet.
  if ((p.size > 1 || p.micro_batches > 1) && s.workload.kind != WorkloadKind::Training)
    problems.add(path, fmt::format("expected pipeline parallelism only with workload.kind "
                                   "\"training\" (serving pipelines are not modelled), got {}",
                                   choice_name(s.workload.kind)));
  const int chunks = p.size * p.virtual_stages;
  if (s.model.layers % chunks != 0)
    problems.add(path + "/size",
                 fmt::format("expected size x virtual_stages to divide the model's {} layers, got "
                             "{} x {}",
                             s.model.layers, p.size, p.virtual_stages));
  if (p.schedule == PipelineSchedule::OneFOneB && p.virtual_stages != 1)
    problems.add(path + "/virtual_stages",
                 fmt::format("expected 1 with schedule \"1f1b\" (use \"interleaved\"), got {}",
                             p.virtual_stages));
  if (p.schedule == PipelineSchedule::Interleaved) {
    if (p.virtual_stages < 2)
      problems.add(path + "/virtual_stages", "expected >= 2 with schedule \"interleaved\"");
    // Megatron's interleaved schedule runs micro-batches in groups of one per stage.
    if (p.micro_batches % p.size != 0)
      problems.add(path + "/micro_batches",
                   fmt::format("expected a multiple of size {} with schedule \"interleaved\" (as "
                               "Megatron requires), got {}",
                               p.size, p.micro_batches));
  }
}

// ZeRO shards training state; the stacks that pipeline take ZeRO 0-1 only (plan refuses the same).
void check_zero_stage(const ScenarioSpec& s, ProblemList& problems) {
  const int zero = s.parallelism.data.zero_stage;
  const std::string path = "/parallelism/data_parallel/zero_stage";
  if (s.workload.kind != WorkloadKind::Training && zero != 1)
    problems.add(path, fmt::format("expected 1 (the default) without workload.kind \"training\" "
                                   "(serving keeps no optimizer state to shard), got {}",
                                   zero));
  else if (s.parallelism.pipeline.size > 1 && zero >= 2)
    problems.add(path, fmt::format("expected 0 or 1 with pipeline parallel (DeepSpeed runs "
                                   "pipelines with ZeRO 0-1 only, Megatron's distributed "
                                   "optimizer is ZeRO 1), got {}",
                                   zero));
}

// Context parallel splits each sequence of context_tokens over CP TP groups, two chunks a rank
// (Megatron's load balancing of causal attention), so every rank holds whole chunks.
void check_context_parallel(const ScenarioSpec& s, ProblemList& problems) {
  const int cp = s.parallelism.context_parallel;
  if (cp == 1) return;
  const std::string path = "/parallelism/context_parallel";
  const WorkloadSpec& w = s.workload;
  // Decode's context parallel shards the KV cache instead (not modelled).
  if (w.kind == WorkloadKind::Decode)
    problems.add(path,
                 "expected context parallel only with workload.kind \"training\" or "
                 "\"prefill\" (decode context parallel is not modelled), got decode");
  if (w.context_tokens % (2 * cp) != 0)
    problems.add(
        "/workload/context_tokens",
        fmt::format("expected a multiple of 2 x context_parallel = {} (each rank holds two "
                    "chunks of a sequence), got {}",
                    2 * cp, w.context_tokens));
  const std::int64_t share = w.context_tokens / cp;
  const std::int64_t micro_batch = w.tokens_per_gpu / s.parallelism.pipeline.micro_batches;
  if (share > 0 &&
      (w.tokens_per_gpu % s.parallelism.pipeline.micro_batches != 0 || micro_batch % share != 0))
    problems.add("/workload/tokens_per_gpu",
                 fmt::format("expected each micro-batch to hold whole sequence shares of "
                             "context_tokens / context_parallel = {} tokens, got {} tokens in {} "
                             "micro-batches",
                             share, w.tokens_per_gpu, s.parallelism.pipeline.micro_batches));
}

}  // namespace

void read_parallel_groups(FieldReader& r, ParallelismSpec& p) {
  read_pipeline(r, p.pipeline);
  p.data_parallel_size = read_data_parallel(r, p.data);
  p.moe_tensor_parallel = static_cast<int>(r.integer("moe_tensor_parallel", 1, 1024, 1));
  p.context_parallel = static_cast<int>(r.integer("context_parallel", 1, 1024, 1));
  p.rank_order = read_choice(r, "rank_order", RankOrder::TpDpPp);
}

void check_parallel_groups(const ScenarioSpec& s, ProblemList& problems) {
  const ParallelismSpec& p = s.parallelism;
  const ModelSpec& m = s.model;
  check_pipeline(s, problems);
  check_context_parallel(s, problems);
  check_zero_stage(s, problems);
  if (p.data_parallel_size > 0 && p.data_parallel_size != p.attention_data_parallel)
    problems.add("/parallelism/data_parallel/size",
                 fmt::format("expected the attention data parallel size {} (the replicas of the "
                             "non-expert weights), got {}",
                             p.attention_data_parallel, p.data_parallel_size));
  if (m.expert_ffn > 0 && m.expert_ffn % p.moe_tensor_parallel != 0)
    problems.add("/parallelism/moe_tensor_parallel",
                 fmt::format("expected a divisor of the model's expert_ffn {}, got {}",
                             m.expert_ffn, p.moe_tensor_parallel));
  const int heads = m.attention.heads;
  if (heads > 0 && heads % p.attention_tensor_parallel != 0)
    problems.add("/parallelism/attention_tensor_parallel",
                 fmt::format("expected a divisor of the model's {} attention heads, got {}", heads,
                             p.attention_tensor_parallel));
}

}  // namespace moesim::sim::scenario_sections

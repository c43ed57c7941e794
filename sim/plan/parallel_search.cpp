#include "sim/plan/parallel_search.hpp"

#include <fmt/format.h>

#include "sim/plan/plan_lists.hpp"

namespace moesim::sim {

ParallelSearch read_parallel_search(FieldReader& s, ProblemList& problems) {
  ParallelSearch search;
  search.moe_tensor_parallel =
      int_list(s.child("moe_tensor_parallel"), "/search/moe_tensor_parallel",
               search.moe_tensor_parallel, 1, 1024, problems);
  search.pipeline_parallel = int_list(s.child("pipeline_parallel"), "/search/pipeline_parallel",
                                      search.pipeline_parallel, 1, 1024, problems);
  search.pipeline_micro_batches =
      static_cast<int>(s.integer("pipeline_micro_batches", 1, 1 << 16, 8));
  search.zero_stages =
      int_list(s.child("zero_stages"), "/search/zero_stages", search.zero_stages, 0, 3, problems);
  search.context_parallel = int_list(s.child("context_parallel"), "/search/context_parallel",
                                     search.context_parallel, 1, 1024, problems);
  return search;
}

std::vector<ParallelLayout> parallel_layouts(const ParallelSearch& search) {
  std::vector<ParallelLayout> layouts;
  for (int moe_tp : search.moe_tensor_parallel)
    for (int pipeline : search.pipeline_parallel)
      for (int zero : search.zero_stages)
        for (int cp : search.context_parallel) layouts.push_back({moe_tp, pipeline, zero, cp});
  return layouts;
}

std::string stack_rejection(const ParallelLayout& layout, const LayoutShape& shape) {
  if (!shape.training && layout.pipeline > 1)
    return "pipeline parallel: moesim models it for training only (serving pipelines are not "
           "modelled)";
  const int stage = layout.pipeline > 0 ? shape.gpus / layout.pipeline : 0;
  // vLLM, SGLang and TensorRT-LLM run one MoE group over all of a replica's GPUs.
  if (!shape.training && layout.moe_tensor_parallel > 1 &&
      layout.moe_tensor_parallel * shape.expert_parallel != stage)
    return fmt::format(
        "MoE TP {} x EP {} = {} GPUs: serving stacks (vLLM, SGLang, TensorRT-LLM) run MoE TP x EP "
        "over all {} GPUs of the replica",
        layout.moe_tensor_parallel, shape.expert_parallel,
        layout.moe_tensor_parallel * shape.expert_parallel, stage);
  // DeepSpeed's pipeline engine takes ZeRO 0-1 only; Megatron's distributed optimizer is ZeRO 1.
  if (layout.pipeline > 1 && layout.zero_stage >= 2)
    return fmt::format(
        "ZeRO {} with pipeline parallel: DeepSpeed runs pipelines with ZeRO 0-1 "
        "only, Megatron's distributed optimizer is ZeRO 1",
        layout.zero_stage);
  if (!shape.training && layout.zero_stage != 1)
    return "a ZeRO stage other than the default needs a training workload";
  if (shape.decode && layout.context_parallel > 1)
    return "context parallel: moesim models it for training and prefill (decode's sharded KV cache "
           "is not modelled)";
  return "";
}

void apply_parallel_layout(const ParallelLayout& layout, const ParallelSearch& search,
                           const LayoutShape& shape, nlohmann::json& parallelism) {
  parallelism["moe_tensor_parallel"] = layout.moe_tensor_parallel;
  parallelism["attention_data_parallel"] =
      std::max(1, shape.gpus / (shape.tensor_parallel * layout.pipeline * layout.context_parallel));
  if (layout.context_parallel > 1) parallelism["context_parallel"] = layout.context_parallel;
  if (!shape.training) return;
  parallelism["pipeline_parallel"] = {
      {"size", layout.pipeline},
      {"schedule", "1f1b"},
      {"micro_batches", layout.pipeline > 1 ? search.pipeline_micro_batches : 1}};
  parallelism["data_parallel"] = {{"zero_stage", layout.zero_stage}};
}

std::string parallel_label(const ParallelLayout& layout, const ParallelSearch& search) {
  std::string label;
  if (search.moe_tensor_parallel.size() > 1 || layout.moe_tensor_parallel > 1)
    label += fmt::format(", MoE TP {}", layout.moe_tensor_parallel);
  if (search.pipeline_parallel.size() > 1 || layout.pipeline > 1)
    label += fmt::format(", PP {}", layout.pipeline);
  if (search.zero_stages.size() > 1 || layout.zero_stage != 1)
    label += fmt::format(", ZeRO {}", layout.zero_stage);
  if (search.context_parallel.size() > 1 || layout.context_parallel > 1)
    label += fmt::format(", CP {}", layout.context_parallel);
  return label;
}

}  // namespace moesim::sim

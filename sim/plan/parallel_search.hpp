#pragma once
// The plan's parallel layouts beyond EP and attention TP (docs/parallelism.md): MoE tensor
// parallel, and for training the pipeline size and ZeRO stage. A layout the stacks cannot run
// stays a candidate carrying the reason, so the plan lists it as rejected and says why.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/json_fields.hpp"

namespace moesim::sim {

struct ParallelSearch {
  std::vector<int> moe_tensor_parallel{1};
  std::vector<int> pipeline_parallel{1};
  int pipeline_micro_batches = 8;  // 1F1B micro-batches of every pipelined candidate
  std::vector<int> zero_stages{1};
  std::vector<int> context_parallel{1};  // training and prefill
};

struct ParallelLayout {
  int moe_tensor_parallel = 1;
  int pipeline = 1;
  int zero_stage = 1;
  int context_parallel = 1;
};

// /search/moe_tensor_parallel, /search/pipeline_parallel, /search/pipeline_micro_batches and
// /search/zero_stages and /search/context_parallel, each optional.
ParallelSearch read_parallel_search(FieldReader& search, ProblemList& problems);
std::vector<ParallelLayout> parallel_layouts(const ParallelSearch& search);

struct LayoutShape {
  bool training = false;
  int gpus = 0;
  int tensor_parallel = 1;
  int expert_parallel = 1;
  bool decode = false;
};
// Why no stack runs this layout, or empty when one does.
std::string stack_rejection(const ParallelLayout& layout, const LayoutShape& shape);
// The layout's fields in a candidate's "parallelism" object (attention DP = GPUs / (TP x CP x
// PP)).
void apply_parallel_layout(const ParallelLayout& layout, const ParallelSearch& search,
                           const LayoutShape& shape, nlohmann::json& parallelism);
// ", MoE TP 2, PP 4, ZeRO 1" for what the search varies; empty when it varies nothing.
std::string parallel_label(const ParallelLayout& layout, const ParallelSearch& search);

}  // namespace moesim::sim

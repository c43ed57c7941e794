#include "sim/run/mixed_prefill.hpp"

#include <algorithm>
#include <cmath>

#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

// Dense time of a step's blocks (attention, dense MLP or shared experts, TP all-reduces).
double blocks_dense_time(const Report& r) {
  double total = 0;
  for (const auto& layer : r.layers) total += layer.phases.dense;
  return total;
}

}  // namespace

// Aggregated serving: the decoding GPUs also prefill the prompts of the requests that replace
// finished ones, P tokens a step on average in chunks of C (workload.mixed_prefill), so a rank
// carries a chunk in a share p = P / C of the steps: in-flight inside the step (what that step
// costs beyond the plain one), separate as a prefill pass launched eagerly. Attention-DP ranks
// meet at every MoE layer, so with d of them a chunk on any rank holds up the step: a share
// q = 1 - (1 - p)^d of the steps waits for a chunk's dense part; its MoE work, spread over the EP
// group, is paid p of the time.
void add_mixed_prefill(const RunInputs& inputs, Report& r) {
  const WorkloadSpec& w = inputs.scenario.workload;
  if (w.step_prompt_tokens > 0) return;  // this is the step that carries a chunk
  r.extras.prefill_tokens = w.prefill_tokens_per_step();
  if (r.extras.prefill_tokens <= 0) return;
  const double chunk = w.mixed_prefill.chunk();
  RunInputs carrier = inputs;
  WorkloadSpec& c = carrier.scenario.workload;
  double added = 0, dense_added = 0;
  if (w.mixed_prefill.scheduling == PrefillScheduling::InFlight) {
    c.step_prompt_tokens = chunk;
    // Stacks replay CUDA graphs only for decode-only batches (TensorRT-LLM captures generation
    // batches, SGLang decode batches): a step with prompt rows is launched eagerly.
    c.cuda_graphs = false;
    const Report with_chunk = simulate(carrier);
    added = with_chunk.step_time_s - r.step_time_s;
    dense_added = blocks_dense_time(with_chunk) - blocks_dense_time(r);
  } else {
    c.kind = WorkloadKind::Prefill;
    c.tokens_per_gpu = static_cast<std::int64_t>(chunk);
    c.context_tokens = w.mixed_prefill.input_tokens;
    c.cuda_graphs = false;
    c.mtp_draft_tokens = 0, c.mtp_acceptance_rate = 0;
    const Report pass = simulate(carrier);
    added = pass.step_time_s;
    dense_added = blocks_dense_time(pass);
  }
  const double p = r.extras.prefill_tokens / chunk;
  const int ranks = std::max(1, inputs.scenario.parallelism.attention_data_parallel);
  const double q = 1 - std::pow(1 - std::min(1.0, p), ranks);
  r.extras.mixed_prefill = p * added + std::max(0.0, q - p) * dense_added;
  r.step_time_s += r.extras.mixed_prefill;
}

}  // namespace moesim::sim

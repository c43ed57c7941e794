#pragma once
// Aggregated serving: what the prompts the decoding GPUs also prefill add to a decode step
// (workload.mixed_prefill; docs/decode-model.md, "Aggregated serving").
#include "sim/run/inputs.hpp"
#include "sim/run/run_result.hpp"

namespace moesim::sim {

// Adds the prompts' average cost to `r` (a decode step priced from `inputs`):
// extras.prefill_tokens, extras.mixed_prefill and the step time. Prices the step that carries a
// chunk (or the prefill pass) with simulate(); does nothing without mixed_prefill or for that
// carrier step itself.
void add_mixed_prefill(const RunInputs& inputs, Report& r);

}  // namespace moesim::sim

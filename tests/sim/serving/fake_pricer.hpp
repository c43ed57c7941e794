#pragma once
// A step cost simple enough to derive results by hand: fixed + per prefill token + per decode
// sequence + per decode sequence and context token.
#include "sim/serving/step_pricer.hpp"

namespace moesim::sim {

struct LinearPricer : StepPricer {
  double fixed_s = 0, per_prefill_token_s = 0, per_sequence_s = 0, per_context_token_s = 0;
  double accepted = 1;
  int calls = 0;
  double step_seconds(const StepShape& s) override {
    ++calls;
    return fixed_s + per_prefill_token_s * s.prefill_tokens + per_sequence_s * s.decode_sequences +
           per_context_token_s * s.decode_sequences * s.decode_context;
  }
  double accepted_tokens_per_sequence() const override { return accepted; }
};

}  // namespace moesim::sim

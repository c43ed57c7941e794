#pragma once
// Which experts a step actually touches. Expected loads are fractional, but an expert's weights are
// read only when at least one token chooses it: 4 decode tokens with top-8 reach at most 32 of
// DeepSeek-V3's 256 experts, however the expectation spreads.
#include <vector>

namespace moesim::sim {

// Probability that an expert expected to receive `load` token copies out of `tokens` tokens is
// chosen at least once. Each token picks its k experts without replacement, so it reaches the
// expert with probability load / tokens, independently of the other tokens:
// P = 1 - (1 - load / tokens)^tokens.
double touched_probability(double load, double tokens);

// Expected number of experts touched among these loads.
double expected_touched_experts(const std::vector<double>& loads, double tokens);

// Expected cost of one expert under that probability: P x cost(load / P), the cost of the tokens
// it receives when it is touched (and nothing, weights included, when it is not).
template <class Cost>
double expected_expert_cost(double load, double tokens, const Cost& cost) {
  const double p = touched_probability(load, tokens);
  return p > 0 ? p * cost(load / p) : 0.0;
}

}  // namespace moesim::sim

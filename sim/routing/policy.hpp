#pragma once
// Capacity and routing policies: which routed token copies each expert keeps, which it drops, and
// which tokens reach no expert at all. docs/capacity-policy.md describes each policy and its
// source.
//
// Two levels share one result type:
// - counts: expected copies per (source rank, expert), what the simulator plays from a generator
//   or a trace's popularity;
// - tokens: each token's expert ids (and gate scores), as a routing trace records them.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/placement/placement.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// What a policy made of one MoE layer over one EP group and micro-batch.
struct RoutingOutcome {
  std::vector<double> routed;    // per expert: copies the gate sent it
  std::vector<double> kept;      // per expert: real copies its GEMMs process
  std::vector<double> computed;  // per expert: rows its GEMMs process (kept, or padded)
  std::vector<double> dropped;   // per expert: routed - kept
  std::vector<double>
      dropped_per_gpu;  // per destination GPU (each expert's drops split over its replicas)
  std::vector<double>
      dropped_per_rank;        // per source rank (the rank whose token copies were dropped)
  double tokens = 0;           // tokens the routing covered
  double unrouted_tokens = 0;  // tokens no expert processed: they pass through the residual only
  std::vector<double>
      unrouted_per_rank;            // the same, per source rank (the GPU the tokens came from)
  double capacity = 0;              // per replica slot and source rank; 0 = dropless
  bool unrouted_estimated = false;  // unrouted_tokens from a sampled estimate (see below)
  double total(const std::vector<double>& per_expert) const;
};

// Sums `part` into `total` (same experts, GPUs and ranks; an empty total takes part's shape).
void add_outcome(RoutingOutcome& total, const RoutingOutcome& part);
// Every count times `factor` (capacity, a per-rank size, stays as it is).
RoutingOutcome scale_outcome(RoutingOutcome outcome, double factor);

// Megatron's get_capacity per source rank, floored by DeepSpeed's min_capacity:
// max(ceil(tokens_per_rank x top_k / experts x factor), min_capacity). 0 when factor is 0
// (dropless).
double slot_capacity(const PolicySpec& policy, double tokens_per_rank, int top_k, int experts);

// Copies per source rank and expert, and each rank's tokens, for one EP group and micro-batch.
struct RankCounts {
  std::vector<std::vector<double>> routed;  // [rank][expert]
  std::vector<double> tokens;               // per rank
};
// The group's routed copies per expert spread evenly over `ranks` ranks.
RankCounts spread_evenly(const std::vector<double>& routed, double tokens_per_group, int ranks);

// Where the synthetic gate scores of a sampled estimate come from (seeded, so runs repeat).
struct ScoreSample {
  std::vector<double> popularity;  // per expert, any scale; empty = the routed copies' shares
  std::uint64_t seed = 1;
  int max_tokens = 4096;  // tokens sampled per layer; estimates scale by tokens / sampled
  int max_scores =
      1 << 19;  // and at most this many token-expert scores (bounds the time with many experts)
  int sampled(double tokens) const;  // tokens a layer of `tokens` samples
};

// Count level. Token choice: each rank keeps at most slot_capacity x replicas copies per expert and
// drops the excess (counts carry no order, so drop = probs and position drop the same number);
// pad_to_capacity computes the full capacity from every rank; dropless with pad_to_capacity is
// Tutel's dynamic capacity (every expert padded to the largest per-slot load). Unrouted tokens
// (copies all dropped) are estimated on `sample` assuming each copy is dropped independently at
// its expert's drop rate on that rank. Expert choice: each expert takes min(tokens, capacity) of
// each rank's tokens; unrouted tokens are estimated on `sample` (expert_choice_estimate).
RoutingOutcome apply_policy(const PolicySpec& policy, const Placement& placement,
                            const RankCounts& counts, int top_k, const ScoreSample& sample);

// One layer of per-token routing: rank r holds tokens [r x T / ranks, (r + 1) x T / ranks).
struct TokenRouting {
  int experts = 0;
  int top_k = 0;
  int ranks = 1;
  std::span<const std::uint32_t> expert_ids;  // tokens x top_k, row-major; column j = choice j
  std::span<const float> scores;              // same shape, or empty
  std::string source;                         // the trace, for error messages
  int tokens() const { return top_k > 0 ? static_cast<int>(expert_ids.size()) / top_k : 0; }
};

// Token level, token choice. Each (rank, expert) keeps its first `capacity x replicas` copies in
// priority order and drops the rest:
// - drop = position: GShard's order, every token's first choice before any second choice, then
//   token order within a choice (so a top-2 token keeps its first choice ahead of others' seconds);
// - drop = probs: highest gate score first, ties in token order (Megatron's "probs").
// Tokens that lose every copy are unrouted (Switch/GShard: the residual carries them).
// Throws ConfigError (path /policy/drop) for drop = probs without scores: there is no score order.
RoutingOutcome apply_policy_tokens(const PolicySpec& policy, const Placement& placement,
                                   const TokenRouting& routing);

// Expert choice on explicit scores [tokens][experts] of one rank: each expert takes its
// `capacity` highest-scoring tokens (ties in token order). Returns how many experts took each
// token.
std::vector<int> expert_choice_picks(std::span<const std::vector<double>> scores,
                                     std::span<const int> capacity);

// Synthetic per-token routing for sampled estimates: per token, scores are the softmax over experts
// of log(popularity) + Gumbel noise; the top-k of the perturbed logits is a draw of k experts
// without replacement with the popularity's proportions (the Gumbel top-k trick, Kool et al. 2019).
std::vector<std::vector<double>> synthetic_scores(const ScoreSample& sample, int tokens);

}  // namespace moesim::sim

#include "sim/routing/policy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

RoutingOutcome empty_outcome(int experts, int gpus, int ranks) {
  RoutingOutcome out;
  out.routed.assign(experts, 0.0);
  out.kept.assign(experts, 0.0);
  out.computed.assign(experts, 0.0);
  out.dropped.assign(experts, 0.0);
  out.dropped_per_gpu.assign(gpus, 0.0);
  out.dropped_per_rank.assign(ranks, 0.0);
  out.unrouted_per_rank.assign(ranks, 0.0);
  return out;
}

double replicas_of(const Placement& placement, std::size_t expert) {
  return static_cast<double>(placement.replicas[expert].size());
}

// Each replica processes an equal share of its expert's copies, so it loses an equal share too.
void split_drops_over_replicas(const Placement& placement, RoutingOutcome& out) {
  for (std::size_t e = 0; e < out.dropped.size(); ++e)
    for (int gpu : placement.replicas[e])
      out.dropped_per_gpu[gpu] += out.dropped[e] / replicas_of(placement, e);
}

// Expert choice from counts: every expert is full on every rank; who is left over is sampled.
RoutingOutcome expert_choice_counts(const PolicySpec& policy, const Placement& placement,
                                    const RankCounts& counts, int top_k,
                                    const ScoreSample& sample) {
  const int experts = static_cast<int>(placement.replicas.size());
  const int ranks = static_cast<int>(counts.tokens.size());
  auto out = empty_outcome(experts, placement.gpus, ranks);
  out.tokens = std::accumulate(counts.tokens.begin(), counts.tokens.end(), 0.0);
  PolicySpec ec = policy;
  if (ec.capacity_factor <= 0)
    ec.capacity_factor = 1;  // Zhou et al.'s capacity factor c defaults to 1
  double last_tokens = -1, last_unrouted_share = 0;
  for (int r = 0; r < ranks; ++r) {
    const double tokens = counts.tokens[r];
    const double capacity = slot_capacity(ec, tokens, top_k, experts);
    out.capacity = std::max(out.capacity, capacity);
    std::vector<int> sample_capacity(experts);
    const int sampled = sample.sampled(tokens);
    for (int e = 0; e < experts; ++e) {
      const double taken = std::min(tokens, capacity * replicas_of(placement, e));
      out.routed[e] += taken;
      out.kept[e] += taken;
      out.computed[e] += taken;
      // The sample keeps the expert's share of the rank's tokens: taken / tokens.
      sample_capacity[e] = tokens > 0 ? static_cast<int>(std::ceil(taken * sampled / tokens)) : 0;
    }
    if (tokens <= 0) continue;
    if (tokens != last_tokens) {  // ranks with equal token counts share one estimate
      const auto scores = synthetic_scores(sample, sampled);
      const auto picks = expert_choice_picks(scores, sample_capacity);
      const auto unpicked = std::count(picks.begin(), picks.end(), 0);
      last_unrouted_share = static_cast<double>(unpicked) / sampled;
      last_tokens = tokens;
    }
    out.unrouted_per_rank[r] = last_unrouted_share * tokens;
    out.unrouted_tokens += out.unrouted_per_rank[r];
  }
  out.unrouted_estimated = true;
  return out;
}

// Tokens whose every copy is dropped, if each copy is dropped at its expert's rate on the rank:
// the mean over sampled top-k choices of the product of their drop rates.
std::vector<double> estimate_unrouted(const std::vector<std::vector<double>>& drop_rate,
                                      const std::vector<double>& tokens, int top_k,
                                      const ScoreSample& sample) {
  const int experts = static_cast<int>(sample.popularity.size());
  const double most_tokens = *std::max_element(tokens.begin(), tokens.end());
  const int sampled = sample.sampled(most_tokens);
  std::vector<double> unrouted(tokens.size(), 0.0);
  if (sampled <= 0) return unrouted;
  const auto scores = synthetic_scores(sample, sampled);
  std::vector<std::vector<int>> choices(sampled);
  std::vector<int> order(experts);
  for (int t = 0; t < sampled; ++t) {
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&](int a, int b) {
      return scores[t][a] > scores[t][b] || (scores[t][a] == scores[t][b] && a < b);
    });
    choices[t].assign(order.begin(), order.begin() + top_k);
  }
  double lost_share = 0;
  for (std::size_t r = 0; r < tokens.size(); ++r) {
    if (r == 0 || drop_rate[r] != drop_rate[r - 1]) {  // evenly spread ranks share one estimate
      double lost = 0;
      for (const auto& chosen : choices) {
        double all_dropped = 1;
        for (int e : chosen) all_dropped *= drop_rate[r][e];
        lost += all_dropped;
      }
      lost_share = lost / sampled;
    }
    unrouted[r] = lost_share * tokens[r];
  }
  return unrouted;
}

}  // namespace

std::vector<std::vector<double>> synthetic_scores(const ScoreSample& sample, int tokens) {
  const std::size_t experts = sample.popularity.size();
  // exp(log p + Gumbel) = p / E with E = -log(U) ~ Exp(1): the softmax of Gumbel-perturbed logits
  // is p_e / E_e normalised over the row. One log per score instead of two logs and an exp (the
  // sampling was 56% of a DeepSeek-V3 run with drops, docs/performance.md).
  // SplitMix64 is written out so every standard library draws the same numbers; the uniform uses
  // 53 bits and is never 0 or 1.
  std::uint64_t state = sample.seed;
  const auto next = [&state] {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  std::vector<std::vector<double>> scores(tokens, std::vector<double>(experts));
  for (auto& row : scores) {
    double sum = 0;
    for (std::size_t e = 0; e < experts; ++e) {
      const double uniform = (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53;
      const double p = sample.popularity[e] > 0 ? sample.popularity[e] : 0.0;
      sum += row[e] = p / -std::log(uniform);
    }
    if (sum > 0)
      for (double& score : row) score /= sum;
  }
  return scores;
}

std::vector<int> expert_choice_picks(std::span<const std::vector<double>> scores,
                                     std::span<const int> capacity) {
  const int tokens = static_cast<int>(scores.size());
  std::vector<int> picks(tokens, 0);
  std::vector<int> order(tokens);
  for (std::size_t e = 0; e < capacity.size(); ++e) {
    const int take = std::clamp(capacity[e], 0, tokens);
    if (take == 0) continue;
    std::iota(order.begin(), order.end(), 0);
    // A strict order (score, then token) makes the chosen set unique even among equal scores.
    std::nth_element(order.begin(), order.begin() + (take - 1), order.end(), [&](int a, int b) {
      return scores[a][e] > scores[b][e] || (scores[a][e] == scores[b][e] && a < b);
    });
    for (int i = 0; i < take; ++i) picks[order[i]] += 1;
  }
  return picks;
}

int ScoreSample::sampled(double tokens) const {
  const auto experts = static_cast<int>(std::max<std::size_t>(1, popularity.size()));
  const int cap = std::max(1, std::min(max_tokens, max_scores / experts));
  return static_cast<int>(std::min<double>(cap, std::ceil(tokens)));
}

double RoutingOutcome::total(const std::vector<double>& per_expert) const {
  return std::accumulate(per_expert.begin(), per_expert.end(), 0.0);
}

void add_outcome(RoutingOutcome& total, const RoutingOutcome& part) {
  if (total.routed.empty()) {
    total = part;
    return;
  }
  auto add = [](std::vector<double>& into, const std::vector<double>& from) {
    for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) into[i] += from[i];
  };
  add(total.routed, part.routed);
  add(total.kept, part.kept);
  add(total.computed, part.computed);
  add(total.dropped, part.dropped);
  add(total.dropped_per_gpu, part.dropped_per_gpu);
  add(total.dropped_per_rank, part.dropped_per_rank);
  add(total.unrouted_per_rank, part.unrouted_per_rank);
  total.tokens += part.tokens;
  total.unrouted_tokens += part.unrouted_tokens;
  total.capacity = std::max(total.capacity, part.capacity);
  total.unrouted_estimated = total.unrouted_estimated || part.unrouted_estimated;
}

RoutingOutcome scale_outcome(RoutingOutcome outcome, double factor) {
  for (auto* values :
       {&outcome.routed, &outcome.kept, &outcome.computed, &outcome.dropped,
        &outcome.dropped_per_gpu, &outcome.dropped_per_rank, &outcome.unrouted_per_rank})
    for (double& value : *values) value *= factor;
  outcome.tokens *= factor;
  outcome.unrouted_tokens *= factor;
  return outcome;
}

double slot_capacity(const PolicySpec& policy, double tokens_per_rank, int top_k, int experts) {
  if (policy.capacity_factor <= 0) return 0;
  const double capacity = std::ceil(tokens_per_rank * top_k / experts * policy.capacity_factor);
  return std::max(capacity, static_cast<double>(policy.min_capacity));
}

RankCounts spread_evenly(const std::vector<double>& routed, double tokens_per_group, int ranks) {
  RankCounts counts;
  counts.tokens.assign(ranks, tokens_per_group / ranks);
  std::vector<double> share(routed.size());
  for (std::size_t e = 0; e < routed.size(); ++e) share[e] = routed[e] / ranks;
  counts.routed.assign(ranks, share);
  return counts;
}

RoutingOutcome apply_policy(const PolicySpec& policy, const Placement& placement,
                            const RankCounts& counts, int top_k, const ScoreSample& given_sample) {
  ScoreSample sample = given_sample;
  if (sample.popularity.empty()) {  // the routed copies themselves say how popular each expert is
    sample.popularity.assign(placement.replicas.size(), 0.0);
    for (const auto& row : counts.routed)
      for (std::size_t e = 0; e < row.size(); ++e) sample.popularity[e] += row[e];
  }
  if (policy.routing == RoutingMode::ExpertChoice)
    return expert_choice_counts(policy, placement, counts, top_k, sample);
  const int experts = static_cast<int>(placement.replicas.size());
  const int ranks = static_cast<int>(counts.routed.size());
  auto out = empty_outcome(experts, placement.gpus, ranks);
  out.tokens = std::accumulate(counts.tokens.begin(), counts.tokens.end(), 0.0);
  for (int r = 0; r < ranks; ++r)
    for (int e = 0; e < experts; ++e) out.routed[e] += counts.routed[r][e];

  if (policy.capacity_factor <= 0) {  // dropless
    out.kept = out.routed;
    out.computed = out.routed;
    if (!policy.pad_to_capacity) return out;
    // Tutel's dynamic capacity: one buffer size for every expert and rank, the largest per-slot
    // load.
    for (int r = 0; r < ranks; ++r)
      for (int e = 0; e < experts; ++e)
        out.capacity =
            std::max(out.capacity, std::ceil(counts.routed[r][e] / replicas_of(placement, e)));
    for (int e = 0; e < experts; ++e)
      out.computed[e] = out.capacity * replicas_of(placement, e) * ranks;
    return out;
  }

  std::vector<std::vector<double>> drop_rate(ranks, std::vector<double>(experts, 0.0));
  for (int r = 0; r < ranks; ++r) {
    const double capacity = slot_capacity(policy, counts.tokens[r], top_k, experts);
    out.capacity = std::max(out.capacity, capacity);
    for (int e = 0; e < experts; ++e) {
      const double routed = counts.routed[r][e];
      const double limit = capacity * replicas_of(placement, e);
      const double kept = std::min(routed, limit);
      out.kept[e] += kept;
      out.dropped[e] += routed - kept;
      out.dropped_per_rank[r] += routed - kept;
      out.computed[e] +=
          policy.pad_to_capacity ? limit : kept;  // padding rows cost as much as tokens
      drop_rate[r][e] = routed > 0 ? (routed - kept) / routed : 0.0;
    }
  }
  split_drops_over_replicas(placement, out);
  const double dropped = out.total(out.dropped);
  if (dropped > 0 && top_k == 1) {
    out.unrouted_per_rank =
        out.dropped_per_rank;  // one copy per token: a dropped copy is a token lost
  } else if (dropped > 0) {
    out.unrouted_per_rank = estimate_unrouted(drop_rate, counts.tokens, top_k, sample);
    out.unrouted_estimated = true;
  }
  out.unrouted_tokens = out.total(out.unrouted_per_rank);
  return out;
}

RoutingOutcome apply_policy_tokens(const PolicySpec& policy, const Placement& placement,
                                   const TokenRouting& routing) {
  if (policy.routing == RoutingMode::ExpertChoice)
    throw ConfigError(routing.source,
                      {{"/policy/routing",
                        "expected \"token-choice\" for per-token replay: expert choice needs every "
                        "token's score for every expert, which a trace does not record"}});
  const bool by_score = policy.drop == DropPolicy::Probs && policy.capacity_factor > 0;
  if (by_score && routing.scores.size() != routing.expert_ids.size())
    throw ConfigError(routing.source, {{"/policy/drop",
                                        "expected \"position\" for a trace without gate scores "
                                        "(\"probs\", the default, drops the lowest-scoring copies "
                                        "first), got \"probs\""}});
  const int experts = routing.experts, k = routing.top_k, ranks = routing.ranks;
  const std::int64_t tokens = routing.tokens();
  auto out = empty_outcome(experts, placement.gpus, ranks);
  std::vector<std::vector<double>> routed(ranks, std::vector<double>(experts, 0.0));
  auto first_token = [&](int r) { return tokens * r / ranks; };
  for (int r = 0; r < ranks; ++r)
    for (std::int64_t t = first_token(r); t < first_token(r + 1); ++t)
      for (int j = 0; j < k; ++j) routed[r][routing.expert_ids[t * k + j]] += 1;
  for (int r = 0; r < ranks; ++r)
    for (int e = 0; e < experts; ++e) out.routed[e] += routed[r][e];

  if (policy.capacity_factor <= 0) {  // dropless; with padding, Tutel's dynamic capacity
    RankCounts counts{routed, std::vector<double>(ranks, 0.0)};
    for (int r = 0; r < ranks; ++r)
      counts.tokens[r] = static_cast<double>(first_token(r + 1) - first_token(r));
    return apply_policy(policy, placement, counts, k, ScoreSample{});
  }
  out.tokens = static_cast<double>(tokens);

  std::vector<int> copies_lost(tokens, 0);
  for (int r = 0; r < ranks; ++r) {
    const std::int64_t begin = first_token(r), end = first_token(r + 1);
    const double capacity = slot_capacity(policy, static_cast<double>(end - begin), k, experts);
    out.capacity = std::max(out.capacity, capacity);
    // Copies of this rank as indices t * k + j, in priority order.
    std::vector<std::int64_t> copies(static_cast<std::size_t>((end - begin) * k));
    std::iota(copies.begin(), copies.end(), begin * k);
    if (by_score) {
      std::stable_sort(copies.begin(), copies.end(), [&](std::int64_t a, std::int64_t b) {
        return routing.scores[a] > routing.scores[b];
      });
    } else {  // GShard: choice j of every token before choice j + 1 of any; token order within
      std::stable_sort(copies.begin(), copies.end(),
                       [&](std::int64_t a, std::int64_t b) { return a % k < b % k; });
    }
    std::vector<double> taken(experts, 0.0);
    for (std::int64_t copy : copies) {
      const auto e = routing.expert_ids[copy];
      if (taken[e] < capacity * replicas_of(placement, e)) {
        taken[e] += 1;
        continue;
      }
      out.dropped[e] += 1;
      out.dropped_per_rank[r] += 1;
      copies_lost[copy / k] += 1;
    }
    for (int e = 0; e < experts; ++e) {
      out.kept[e] += taken[e];
      out.computed[e] += policy.pad_to_capacity ? capacity * replicas_of(placement, e) : taken[e];
    }
  }
  split_drops_over_replicas(placement, out);
  for (int r = 0; r < ranks; ++r)
    out.unrouted_per_rank[r] = static_cast<double>(std::count(
        copies_lost.begin() + first_token(r), copies_lost.begin() + first_token(r + 1), k));
  out.unrouted_tokens = out.total(out.unrouted_per_rank);
  return out;
}

}  // namespace moesim::sim

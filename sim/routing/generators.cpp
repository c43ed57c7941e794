#include "sim/routing/generators.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/routing/zipf.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {

void validate_generator_spec(const GeneratorSpec& spec) {
  ProblemList problems;
  if (spec.layers == 0) problems.add("/layers", "expected an integer >= 1, got 0");
  if (spec.experts == 0) problems.add("/experts", "expected an integer >= 1, got 0");
  if (spec.top_k == 0 || spec.top_k > spec.experts)
    problems.add("/top_k", fmt::format("expected an integer in [1, experts = {}], got {}",
                                       spec.experts, spec.top_k));
  if (spec.steps == 0) problems.add("/steps", "expected an integer >= 1, got 0");
  // before the constructor sizes per-layer tables by experts and a block by tokens x top_k
  if (const auto problem =
          shape_limit_problem({spec.layers, spec.experts, spec.top_k, ScoreType::None}))
    problems.add("/" + problem->field, problem->message);
  if (spec.tokens > kMaxTokensPerBlock)
    problems.add("/tokens", fmt::format("expected tokens <= {} (docs/limits.md), got {}",
                                        kMaxTokensPerBlock, spec.tokens));
  else if (std::int64_t{spec.tokens} * spec.top_k > kMaxChoicesPerBlock)
    problems.add("/tokens",
                 fmt::format("expected tokens x top_k <= {} (docs/limits.md), got {} x {}",
                             kMaxChoicesPerBlock, spec.tokens, spec.top_k));
  // In doubles: the product reaches 2^74, past int64, and only its size against 2^30 matters.
  else if (spec.steps > 0 &&
           static_cast<double>(spec.steps) * spec.layers * spec.tokens * spec.top_k >
               static_cast<double>(kMaxTraceChoices))
    problems.add("/steps",
                 fmt::format("expected steps x layers x tokens x top_k <= {} (docs/"
                             "limits.md), got {} x {} x {} x {}",
                             kMaxTraceChoices, spec.steps, spec.layers, spec.tokens, spec.top_k));
  if (!(spec.zipf_exponent >= 0 && spec.zipf_exponent <= 16))
    problems.add("/zipf_exponent",
                 fmt::format("expected a number in [0, 16], got {}", spec.zipf_exponent));
  if (!(spec.drift >= 0 && spec.drift <= 1))
    problems.add("/drift", fmt::format("expected a number in [0, 1], got {}", spec.drift));
  if (!(spec.burst_probability >= 0 && spec.burst_probability <= 1))
    problems.add("/burst_probability",
                 fmt::format("expected a number in [0, 1], got {}", spec.burst_probability));
  if (!(spec.burst_factor >= 1 && spec.burst_factor <= 1e6))
    problems.add("/burst_factor",
                 fmt::format("expected a number in [1, 1e6], got {}", spec.burst_factor));
  if (!(spec.layer_correlation >= 0 && spec.layer_correlation <= 1))
    problems.add("/layer_correlation",
                 fmt::format("expected a number in [0, 1], got {}", spec.layer_correlation));
  if (spec.kind == TraceGeneratorKind::GroupLimited) {
    if (spec.n_group == 0 || spec.experts % spec.n_group != 0)
      problems.add("/n_group", fmt::format("expected a divisor of experts = {}, got {}",
                                           spec.experts, spec.n_group));
    else if (spec.topk_group == 0 || spec.topk_group > spec.n_group)
      problems.add("/topk_group", fmt::format("expected an integer in [1, n_group = {}], got {}",
                                              spec.n_group, spec.topk_group));
    else if (spec.top_k > spec.topk_group * (spec.experts / spec.n_group))
      problems.add("/top_k",
                   fmt::format("expected at most topk_group x experts per group = {}, got {}",
                               spec.topk_group * (spec.experts / spec.n_group), spec.top_k));
  }
  problems.throw_if_any("generator");
}

TraceGenerator::TraceGenerator(GeneratorSpec spec) : spec_(std::move(spec)), engine_(spec_.seed) {
  validate_generator_spec(spec_);
  rank_to_expert_.resize(spec_.layers);
  expert_rank_.resize(spec_.layers);
  weights_.resize(spec_.layers);
  for (std::uint32_t layer = 0; layer < spec_.layers; ++layer) {
    // The scenario's Zipf ranking for this seed and layer (zipf.hpp), as rank -> expert.
    const auto rank_of = zipf_ranking(spec_.seed, layer, spec_.experts);
    auto& order = rank_to_expert_[layer];
    order.resize(spec_.experts);
    for (std::uint32_t e = 0; e < spec_.experts; ++e) order[rank_of[e]] = e;
  }
  advance_step();
}

double TraceGenerator::uniform01() { return static_cast<double>(engine_() >> 11) * 0x1p-53; }

std::uint32_t TraceGenerator::uniform_below(std::uint32_t bound) {
  // reject the top partial range so every residue is equally likely
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t value = engine_();
  while (value >= limit) value = engine_();
  return static_cast<std::uint32_t>(value % bound);
}

void TraceGenerator::advance_step() {
  const bool skewed = spec_.kind != TraceGeneratorKind::Uniform;
  const auto swaps = static_cast<std::uint32_t>(std::lround(spec_.drift * spec_.experts / 2.0));
  for (std::uint32_t layer = 0; layer < spec_.layers; ++layer) {
    auto& order = rank_to_expert_[layer];
    if (step_ > 0)
      for (std::uint32_t s = 0; s < swaps; ++s) {
        const auto a =
            uniform_below(spec_.experts);  // two statements: argument order is unspecified
        const auto b = uniform_below(spec_.experts);
        std::swap(order[a], order[b]);
      }
    auto& rank = expert_rank_[layer];
    rank.resize(spec_.experts);
    for (std::uint32_t r = 0; r < spec_.experts; ++r) rank[order[r]] = r;
    auto& weights = weights_[layer];
    weights.resize(spec_.experts);
    for (std::uint32_t e = 0; e < spec_.experts; ++e)
      weights[e] = skewed ? zipf_weight(rank[e], spec_.zipf_exponent) : 1.0;
  }
}

namespace {

// Indices of the `count` largest scores, ties to the lower index (deterministic).
void top_indices(const std::vector<double>& scores, std::vector<std::uint32_t>& indices,
                 std::uint32_t count) {
  indices.resize(scores.size());
  std::iota(indices.begin(), indices.end(), 0U);
  std::partial_sort(indices.begin(), indices.begin() + count, indices.end(),
                    [&](std::uint32_t a, std::uint32_t b) {
                      return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
                    });
  indices.resize(count);
}

}  // namespace

void TraceGenerator::draw_group_limited(const std::vector<double>& log_weights,
                                        std::uint32_t* out) {
  // Gumbel-top-k: adding Gumbel noise to log-weights and taking the top k draws k experts without
  // replacement in proportion to their weights (the Plackett-Luce model); the noisy scores then
  // stand in for gate affinities in DeepSeek's group-limited selection.
  scores_.resize(spec_.experts);
  for (std::uint32_t e = 0; e < spec_.experts; ++e) {
    const double u = (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53;
    scores_[e] = log_weights[e] - std::log(-std::log(u));
  }
  const std::uint32_t group_size = spec_.experts / spec_.n_group;
  std::vector<double> group_scores(spec_.n_group);
  for (std::uint32_t g = 0; g < spec_.n_group; ++g) {
    // DeepSeek-V3 scores a group by the sum of its two best experts (one when groups are
    // singletons)
    double best = -INFINITY, second = -INFINITY;
    for (std::uint32_t e = g * group_size; e < (g + 1) * group_size; ++e) {
      if (scores_[e] > best) {
        second = best;
        best = scores_[e];
      } else if (scores_[e] > second) {
        second = scores_[e];
      }
    }
    group_scores[g] = group_size > 1 ? best + second : best;
  }
  std::vector<std::uint32_t> groups;
  top_indices(group_scores, groups, spec_.topk_group);
  std::vector<bool> allowed(spec_.n_group, false);
  for (auto g : groups) allowed[g] = true;
  for (std::uint32_t e = 0; e < spec_.experts; ++e)
    if (!allowed[e / group_size]) scores_[e] = -INFINITY;
  std::vector<std::uint32_t> chosen;
  top_indices(scores_, chosen, spec_.top_k);
  std::copy(chosen.begin(), chosen.end(), out);
}

void TraceGenerator::draw_token(const std::vector<double>& cumulative,
                                const std::vector<double>& log_weights, std::uint32_t* out) {
  // Rejecting repeats draws each next expert from the weights renormalised over those not yet
  // chosen: sampling without replacement. A very hot expert could make that slow, so after a
  // bounded number of tries the (equivalent) Gumbel-top-k draw takes over.
  const double total = cumulative.back();
  std::uint32_t chosen = 0;
  for (std::uint32_t tries = 0; chosen < spec_.top_k && tries < 64 * spec_.top_k; ++tries) {
    const double target = uniform01() * total;
    const auto expert = static_cast<std::uint32_t>(std::min<std::ptrdiff_t>(
        std::upper_bound(cumulative.begin(), cumulative.end(), target) - cumulative.begin(),
        static_cast<std::ptrdiff_t>(spec_.experts) - 1));
    if (std::find(out, out + chosen, expert) == out + chosen) out[chosen++] = expert;
  }
  if (chosen == spec_.top_k) return;
  const auto groups = spec_.n_group;
  const auto topk_group = spec_.topk_group;
  spec_.n_group = spec_.topk_group = 1;
  draw_group_limited(log_weights, out);
  spec_.n_group = groups;
  spec_.topk_group = topk_group;
}

bool TraceGenerator::next(TraceBlock& block) {
  if (step_ == spec_.steps) return false;
  std::vector<double> weights = weights_[layer_];
  if (spec_.burst_probability > 0 && uniform01() < spec_.burst_probability)
    weights[uniform_below(spec_.experts)] *= spec_.burst_factor;
  std::vector<double> cumulative(spec_.experts), log_weights(spec_.experts);
  std::partial_sum(weights.begin(), weights.end(), cumulative.begin());
  std::transform(weights.begin(), weights.end(), log_weights.begin(),
                 [](double w) { return std::log(w); });
  block.step = step_;
  block.layer = layer_;
  block.tokens = spec_.tokens;
  block.scores.clear();
  block.expert_ids.assign(std::size_t{spec_.tokens} * spec_.top_k, 0);
  const bool correlate = layer_ > 0 && spec_.layer_correlation > 0;
  for (std::uint32_t t = 0; t < spec_.tokens; ++t) {
    std::uint32_t* out = &block.expert_ids[std::size_t{t} * spec_.top_k];
    if (correlate && uniform01() < spec_.layer_correlation) {
      // the expert of the same popularity rank as last layer's choice: a bijection, so no repeats
      for (std::uint32_t j = 0; j < spec_.top_k; ++j)
        out[j] =
            rank_to_expert_[layer_]
                           [expert_rank_[layer_ - 1][previous_[std::size_t{t} * spec_.top_k + j]]];
    } else if (spec_.kind == TraceGeneratorKind::GroupLimited) {
      draw_group_limited(log_weights, out);
    } else {
      draw_token(cumulative, log_weights, out);
    }
  }
  previous_ = block.expert_ids;
  if (++layer_ == spec_.layers) {
    layer_ = 0;
    ++step_;
    if (step_ < spec_.steps) advance_step();
  }
  return true;
}

}  // namespace moesim::sim

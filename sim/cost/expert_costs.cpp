// The expert GEMMs of a GPU: roofline, or the profile's measured curves of the faster back end,
// priced for recorded counts as they are and for expected loads over the chance (and spread) of
// the rows an expert receives.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "sim/cost/grouped_expert_curves.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/row_spread.hpp"
#include "sim/cost/touched_experts.hpp"

namespace moesim::sim {

namespace {

// A cost per whole row count, each computed once; other counts pass through. Counts below
// kTableRows (decode's few hundred, a prefill's thousands) index a table; larger ones (tens of
// thousands, scattered) a map, so no call fills a table as long as its largest count.
class RowCostMemo {
 public:
  template <typename Cost>
  double cost(double rows, Cost&& compute) {
    if (!(rows >= 0 && rows < kMaxRows) || rows != std::floor(rows)) return compute(rows);
    if (rows < kTableRows) {
      const auto at = static_cast<std::size_t>(rows);
      if (at >= table_.size()) table_.resize(at + 1, kUnknown);
      if (std::isnan(table_[at])) table_[at] = compute(rows);
      return table_[at];
    }
    const auto [at, added] = map_.try_emplace(static_cast<std::uint32_t>(rows), 0.0);
    if (added) at->second = compute(rows);
    return at->second;
  }

 private:
  static constexpr double kTableRows = 16384;
  static constexpr double kMaxRows = 4294967295.0;  // map keys are 32-bit
  static constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> table_;
  std::unordered_map<std::uint32_t, double> map_;
};

}  // namespace

double LayerCostModel::expert_time(double tokens) const {
  if (tokens <= 0) return 0;  // an idle expert's weights are never read
  // Under MoE TP k each shard computes k x tokens rows on 1/k of the weights: the same FLOPs as
  // the whole expert on `tokens`, a k-th of the weight bytes.
  const double params = static_cast<double>(s_.model.expert_params());
  return std::max(
      2 * params * tokens / compute_rate(),
      params * s_.model.weight_bytes / s_.parallelism.moe_tensor_parallel / memory_rate());
}

double LayerCostModel::gpu_experts_time(const std::vector<double>& tokens, double group_tokens,
                                        ExpertLoads loads) const {
  // A shard of MoE TP k runs the rows of all k shards of its group on a k-th of each expert: k x t
  // copies of an expert out of k x group_tokens tokens. So it is touched when any of those tokens
  // picks it, P = 1 - (1 - t / T)^(k T), and priced as the whole expert's curve at k x t rows,
  // split k ways.
  const double shards = s_.parallelism.moe_tensor_parallel;
  std::vector<double> rows(tokens.size());
  for (std::size_t e = 0; e < tokens.size(); ++e) rows[e] = tokens[e] * shards;
  const double shard_tokens = group_tokens * shards;
  const bool recorded = loads == ExpertLoads::Recorded;
  // Recorded counts cost what they are. An expected load costs what it costs when touched, times
  // the chance it is (touched_experts.hpp), or over the spread of its rows when the cost steps
  // with tiles (row_spread.hpp).
  // The spread of every expert's rows prices the same whole row counts again and again (serving
  // prices millions): each is computed once a call.
  auto expected = [&](auto&& one_expert, double tile_rows) {
    RowCostMemo memo;
    const auto remembered = [&](double r) { return memo.cost(r, one_expert); };
    double total = 0;
    for (double r : rows)
      total += recorded ? (r > 0 ? one_expert(r) : 0.0)
                        : expected_cost_over_row_spread(r, shard_tokens, tile_rows, remembered);
    return total;
  };
  if (curves_ == nullptr) return expected([&](double r) { return expert_time(r / shards); }, 0);
  // The faster of the two measured back ends, as moesim-profile --validate picks it; BF16 curves
  // price FP8 experts through fp8_scale.
  const double loop = expected(
      [&](double r) { return interpolate(curves_->expert_loop_us, r) / shards * fp8_scale(r); }, 0);
  // A grouped launch holds the experts the step touches: its per-expert cost depends on how many.
  const double active = recorded ? static_cast<double>(std::count_if(
                                       rows.begin(), rows.end(), [](double r) { return r > 0; }))
                                 : expected_touched_experts(rows, shard_tokens);
  const double grouped = expected(
      [&](double r) { return grouped_per_expert_us(*curves_, r, active) / shards * fp8_scale(r); },
      curves_->grouped_tile_rows);
  return std::min(loop, grouped) * 1e-6;
}

double LayerCostModel::fp8_scale(double rows) const {
  if (s_.model.weight_bytes > 1 || profile_ == nullptr) return 1;
  const double weights = static_cast<double>(s_.model.expert_params());
  const std::optional<double> measured = profile_->fp8_over_bf16(rows, weights);
  // FP8 block scales are one-byte weights' recipe (FP4 experts, priced as FP8, carry their own).
  const double block = s_.model.weight_bytes == 1 ? fp8_block_factor(rows, weights) : 1.0;
  return measured ? *measured * block : bf16_over_fp8();
}

double LayerCostModel::fp8_block_factor(double rows, double weight_elements) const {
  if (s_.model.weight_scale_block == 0 || profile_ == nullptr) return 1;
  // Below the FP8 ridge (2 x rows FLOPs a weight byte < the device's FLOPs a byte) a GEMM waits on
  // its weights, which block scales grow by 1/16,384: the best block kernels stream them as fast
  // (cuBLAS's do not: +10-30% at 16-256 rows, docs/measurements/h200-block-fp8-1636z.json). Above
  // it the per-block promotion costs tensor-core time: x the measured ratio.
  const auto& d = s_.cluster.device;
  if (d.hbm_bandwidth <= 0 || 2 * rows * d.hbm_bandwidth < d.fp8_flops) return 1;
  return profile_->fp8_block_over_tensor(rows, weight_elements).value_or(1.0);
}

}  // namespace moesim::sim

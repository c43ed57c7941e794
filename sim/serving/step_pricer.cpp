#include "sim/serving/step_pricer.hpp"

#include <algorithm>
#include <cmath>

#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

constexpr std::int64_t kExactCounts = 16;
constexpr double kCountRatio = 1.0905077326652577;  // 2^(1/8)

// The k-th grid count: 1..16, then 16 x 2^((k-16)/8) rounded (strictly increasing).
std::int64_t count_at(int k) {
  if (k <= kExactCounts) return k;
  return std::llround(kExactCounts * std::pow(kCountRatio, k - kExactCounts));
}

double lerp(double a, double b, double low, double high, double x) {
  return high == low ? a : a + (b - a) * (x - low) / (high - low);
}

}  // namespace

std::pair<std::int64_t, std::int64_t> count_grid_bracket(double value) {
  const double v = std::max(1.0, value);
  if (v <= kExactCounts)
    return {static_cast<std::int64_t>(std::floor(v)), static_cast<std::int64_t>(std::ceil(v))};
  int k = kExactCounts +
          static_cast<int>(std::floor(std::log(v / kExactCounts) / std::log(kCountRatio)));
  while (count_at(k) > v) --k;  // rounding can land a grid point on either side
  while (count_at(k + 1) <= v) ++k;
  return count_at(k) == v ? std::pair{count_at(k), count_at(k)}
                          : std::pair{count_at(k), count_at(k + 1)};
}

std::pair<std::int64_t, std::int64_t> context_grid_bracket(double value) {
  const double v = std::max(1.0, value);
  auto low = static_cast<std::int64_t>(std::exp2(std::floor(std::log2(v))));
  while (static_cast<double>(low) > v) low /= 2;
  while (static_cast<double>(low * 2) <= v) low *= 2;
  return static_cast<double>(low) == v ? std::pair{low, low} : std::pair{low, low * 2};
}

StepTimeTable::StepTimeTable(RunInputs inputs) : inputs_(std::move(inputs)) {
  // The scheduler keeps the KV cache within the device; each priced shape is not checked again.
  inputs_.scenario.cluster.device.hbm_bytes = 1e30;
  WorkloadSpec decode = inputs_.scenario.workload;
  decode.kind = WorkloadKind::Decode;
  accepted_ = decode.accepted_tokens_per_sequence();
}

double StepTimeTable::grid_seconds(bool decode, std::int64_t count, std::int64_t context) {
  std::lock_guard lock(mutex_);
  return grid_point(decode, count, context).seconds;
}

double StepTimeTable::imbalance(bool decode, double count, double context) {
  std::lock_guard lock(mutex_);
  return grid_point(decode, count_grid_bracket(count).first, context_grid_bracket(context).first)
      .imbalance;
}

const StepTimeTable::GridPoint& StepTimeTable::grid_point(bool decode, std::int64_t count,
                                                          std::int64_t context) {
  const auto key = std::tuple{decode, count, context};
  if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
  RunInputs step = inputs_;
  WorkloadSpec& w = step.scenario.workload;
  w.kind = decode ? WorkloadKind::Decode : WorkloadKind::Prefill;
  w.tokens_per_gpu = count;
  w.context_tokens = context;
  w.steps = 1;
  // Serving stacks replay decode steps from CUDA graphs and launch prefill eagerly; drafts are
  // decode's alone.
  w.cuda_graphs = decode;
  w.mixed_prefill = {};  // the serving simulation schedules the prompts itself
  if (!decode) w.mtp_draft_tokens = 0, w.mtp_acceptance_rate = 0;
  // A table prices dozens of shapes, as a plan sweeps candidates, so "auto" keeps its rule from
  // before it played flows everywhere: flows for EP groups of at most 16 GPUs or a topology file
  // (which only the flow model reads), analytic above (the flow model costs 10-100x per shape).
  if (step.scenario.network.model == NetworkModelKind::Auto &&
      step.scenario.parallelism.expert_parallel > kAutoFlowMaxGpus &&
      step.scenario.cluster.topology_file.empty())
    step.scenario.network.model = NetworkModelKind::Analytic;
  if (step.overrides.placements.empty())
    step.overrides.placements = placements(step, decode, count);
  const Report report = simulate(step);
  return cache_.emplace(key, GridPoint{report.step_time_s, report.imbalance}).first->second;
}

const std::vector<Placement>& StepTimeTable::placements(const RunInputs& step, bool decode,
                                                        std::int64_t count) {
  const auto key = std::pair{decode, count};
  if (const auto it = placements_.find(key); it != placements_.end()) return it->second;
  return placements_
      .emplace(key, scenario_placements(step.scenario, expert_loads(step.scenario, step.overrides)))
      .first->second;
}

// Bilinear between the grid points around (count, context).
double StepTimeTable::interpolated(bool decode, double count, double context) {
  const auto [n0, n1] = count_grid_bracket(count);
  const auto [c0, c1] = context_grid_bracket(context);
  const double n = std::max(1.0, count), c = std::max(1.0, context);
  const double at_c0 = lerp(grid_seconds(decode, n0, c0), grid_seconds(decode, n1, c0),
                            static_cast<double>(n0), static_cast<double>(n1), n);
  if (c0 == c1) return at_c0;
  const double at_c1 = lerp(grid_seconds(decode, n0, c1), grid_seconds(decode, n1, c1),
                            static_cast<double>(n0), static_cast<double>(n1), n);
  return lerp(at_c0, at_c1, static_cast<double>(c0), static_cast<double>(c1), c);
}

double StepTimeTable::step_seconds(const StepShape& shape) {
  std::lock_guard lock(mutex_);
  double seconds = 0;
  if (shape.prefill_tokens > 0)
    seconds += interpolated(false, shape.prefill_tokens, shape.prefill_context);
  if (shape.decode_sequences > 0)
    seconds += interpolated(true, shape.decode_sequences, shape.decode_context);
  return seconds;
}

}  // namespace moesim::sim

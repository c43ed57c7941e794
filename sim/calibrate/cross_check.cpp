#include "sim/calibrate/cross_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "base/config_error.hpp"
#include "sim/calibrate/fit.hpp"

namespace moesim::sim {
namespace {

constexpr std::size_t kWorstRows = 10;

// Fisher-Yates with the engine's raw output (std::shuffle's use of it is unspecified, so its
// order could differ between standard libraries).
template <typename T>
void seeded_shuffle(std::vector<T>& items, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[engine() % i]);
}

std::string_view split_name(SplitBy split) { return split == SplitBy::Shape ? "shape" : "record"; }

// Pooled errors of several held-out results: the same summary check_calibration computes.
HoldoutResult pool(const std::vector<CrossCheckRound>& rounds) {
  HoldoutResult pooled;
  std::vector<double> errors;
  int covered = 0;
  for (const auto& round : rounds)
    for (const auto& row : round.predicted.rows) {
      pooled.rows.push_back(row);
      errors.push_back(row.error);
      pooled.worst_abs_error = std::max(pooled.worst_abs_error, std::abs(row.error));
      if (std::abs(row.error) <= row.band) ++covered;
    }
  pooled.median_abs_error = abs_median(errors);
  pooled.coverage = errors.empty() ? 0 : static_cast<double>(covered) / errors.size();
  return pooled;
}

}  // namespace

std::vector<std::size_t> fitted_half(const std::vector<TimingRecord>& records, SplitBy split,
                                     std::uint64_t seed) {
  std::vector<std::size_t> chosen;
  if (split == SplitBy::Record) {
    std::vector<std::size_t> order(records.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    seeded_shuffle(order, seed);
    order.resize(std::max<std::size_t>(order.size() / 2, 1));
    chosen = order;
  } else {
    std::vector<std::string> shapes;  // in order of first appearance
    for (const auto& r : records)
      if (std::find(shapes.begin(), shapes.end(), r.shape_key()) == shapes.end())
        shapes.push_back(r.shape_key());
    seeded_shuffle(shapes, seed);
    shapes.resize(std::max<std::size_t>(shapes.size() / 2, 1));
    for (std::size_t i = 0; i < records.size(); ++i)
      if (std::find(shapes.begin(), shapes.end(), records[i].shape_key()) != shapes.end())
        chosen.push_back(i);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

CrossCheckResult cross_check(const std::vector<TimingRecord>& records, SplitBy split,
                             std::uint64_t seed, int rounds) {
  CrossCheckResult result;
  result.split = split;
  for (int round = 0; round < rounds; ++round) {
    const std::uint64_t round_seed = seed + static_cast<std::uint64_t>(round);
    const auto fit_indices = fitted_half(records, split, round_seed);
    std::vector<TimingRecord> fit, predict;
    for (std::size_t i = 0, next = 0; i < records.size(); ++i) {
      const bool fitted = next < fit_indices.size() && fit_indices[next] == i;
      (fitted ? fit : predict).push_back(records[i]);
      if (fitted) ++next;
    }
    if (fit.size() < 2 || predict.empty())
      throw ConfigError("--cross-check",
                        {{"", fmt::format("{} records cannot be split in two by {} with 2 records "
                                          "or more in the fitted half (by shape: 2 shapes or "
                                          "more are needed)",
                                          records.size(), split_name(split))}});
    const CalibratedPhases phases = calibrate_phases(fit);
    result.rounds.push_back(
        {round_seed, static_cast<int>(fit.size()), check_calibration(phases, predict)});
  }
  result.pooled = pool(result.rounds);
  return result;
}

nlohmann::json to_json(const CrossCheckResult& result) {
  nlohmann::json rounds = nlohmann::json::array();
  for (const auto& r : result.rounds)
    rounds.push_back({{"seed", r.seed},
                      {"fitted_records", r.fitted},
                      {"predicted_records", r.predicted.rows.size()},
                      {"median_abs_relative_error", r.predicted.median_abs_error},
                      {"worst_abs_relative_error", r.predicted.worst_abs_error},
                      {"band_coverage", r.predicted.coverage}});
  nlohmann::json pooled = to_json(result.pooled);
  pooled.erase("rows");
  return {{"split", split_name(result.split)}, {"rounds", rounds}, {"pooled", pooled}};
}

std::string cross_check_table(const CrossCheckResult& result) {
  std::string text = fmt::format(
      "| seed (split by {}) | fitted | predicted | median \\|error\\| | worst | inside band |\n"
      "|---:|---:|---:|---:|---:|---:|\n",
      split_name(result.split));
  for (const auto& r : result.rounds)
    text += fmt::format("| {} | {} | {} | {:.1f}% | {:.1f}% | {:.0f}% |\n", r.seed, r.fitted,
                        r.predicted.rows.size(), 100 * r.predicted.median_abs_error,
                        100 * r.predicted.worst_abs_error, 100 * r.predicted.coverage);
  const HoldoutResult& p = result.pooled;
  text += fmt::format(
      "\n{} rounds, {} predictions: median |error| {:.1f}%, worst {:.1f}%, {:.0f}% inside their "
      "band\n",
      result.rounds.size(), p.rows.size(), 100 * p.median_abs_error, 100 * p.worst_abs_error,
      100 * p.coverage);
  // Where the largest errors came from: predicted - measured per phase (docs/calibrate.md).
  text += fmt::format("\nThe {} largest |errors| (phase columns: predicted - measured):\n\n",
                      std::min<std::size_t>(kWorstRows, p.rows.size()));
  text += worst_rows_table(p, kWorstRows);
  return text;
}

}  // namespace moesim::sim

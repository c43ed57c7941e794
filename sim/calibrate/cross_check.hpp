#pragma once
// Calibration held against arbitrary halves of one timings set (docs/calibrate.md, "Check a fit on
// halves of your own timings"): split the records at random (seeded) by shape or by record, fit one
// half, predict the other as `--check` does, and pool the errors and band coverage over rounds.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/calibrate/holdout.hpp"
#include "sim/calibrate/timings.hpp"

namespace moesim::sim {

enum class SplitBy { Shape, Record };

struct CrossCheckRound {
  std::uint64_t seed = 0;
  int fitted = 0;  // records
  HoldoutResult predicted;
};

struct CrossCheckResult {
  SplitBy split = SplitBy::Shape;
  std::vector<CrossCheckRound> rounds;
  HoldoutResult pooled;  // every predicted record of every round
};

// The half of `records` (by index) that round `seed` fits on: a seeded shuffle of the shapes (or of
// the records), the first half of it (rounded down, at least one). Deterministic on every platform.
std::vector<std::size_t> fitted_half(const std::vector<TimingRecord>& records, SplitBy split,
                                     std::uint64_t seed);

// Rounds with seeds seed, seed + 1, ...; a round whose fitted half has fewer than 2 records or
// whose other half is empty is an error (too few records or shapes to split).
CrossCheckResult cross_check(const std::vector<TimingRecord>& records, SplitBy split,
                             std::uint64_t seed, int rounds);

nlohmann::json to_json(const CrossCheckResult& result);
// One line per round, then the pooled summary.
std::string cross_check_table(const CrossCheckResult& result);

}  // namespace moesim::sim

#include "sim/calibrate/cross_check.hpp"

#include <gtest/gtest.h>

#include <set>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

std::size_t phase_slot(CalibratedPhase phase) { return static_cast<std::size_t>(phase); }

// Four shapes x three token counts; the gate takes 0.1 ms + 1e-6 ms per token element exactly.
std::vector<TimingRecord> exact_records() {
  std::vector<TimingRecord> records;
  for (double hidden : {1024.0, 2048.0, 3072.0, 4096.0})
    for (double tokens : {64.0, 256.0, 1024.0}) {
      TimingRecord r;
      r.stack = "synthetic";
      r.device = "test GPU";
      r.shape = {hidden, 1024, 8, 2, true, 2, 2};
      r.work = {tokens, {2 * tokens}, 1};
      r.phase_ms[phase_slot(CalibratedPhase::Gate)] = 0.1 + 1e-6 * tokens * hidden;
      records.push_back(r);
    }
  return records;
}

TEST(CrossCheck, HalvesBySeedKeepShapesWholeAndRepeat) {
  const auto records = exact_records();
  const auto by_shape = fitted_half(records, SplitBy::Shape, 7);
  ASSERT_EQ(by_shape.size(), 6u);  // 2 of 4 shapes, 3 records each
  std::set<std::string> fitted_shapes;
  for (std::size_t i : by_shape) fitted_shapes.insert(records[i].shape_key());
  EXPECT_EQ(fitted_shapes.size(), 2u);
  EXPECT_EQ(fitted_half(records, SplitBy::Shape, 7), by_shape);  // same seed, same half
  const auto by_record = fitted_half(records, SplitBy::Record, 7);
  EXPECT_EQ(by_record.size(), 6u);  // 12 / 2
  EXPECT_EQ(fitted_half(records, SplitBy::Record, 7), by_record);
  // Some seed among the first few picks another half (12 choose 6 = 924 of them).
  bool differs = false;
  for (std::uint64_t seed = 8; seed < 12; ++seed)
    differs = differs || fitted_half(records, SplitBy::Record, seed) != by_record;
  EXPECT_TRUE(differs);
}

TEST(CrossCheck, ExactCurvesPredictTheOtherHalfExactly) {
  // The curve is in the features, so any half recovers it and predicts the rest without error.
  for (SplitBy split : {SplitBy::Shape, SplitBy::Record}) {
    const CrossCheckResult result = cross_check(exact_records(), split, 1, 3);
    ASSERT_EQ(result.rounds.size(), 3u);
    EXPECT_EQ(result.pooled.rows.size(), 18u);  // 3 rounds x 6 predicted records
    EXPECT_LT(result.pooled.worst_abs_error, 1e-9);
    EXPECT_EQ(result.rounds[1].seed, 2u);
  }
}

TEST(CrossCheck, RefusesASetThatCannotBeHalved) {
  auto records = exact_records();
  records.resize(3);  // one shape: a shape split leaves nothing to predict
  EXPECT_THROW(cross_check(records, SplitBy::Shape, 1, 1), ConfigError);
}

}  // namespace
}  // namespace moesim::sim

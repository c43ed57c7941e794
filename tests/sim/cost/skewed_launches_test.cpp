#include "sim/cost/skewed_launches.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

// Flat curves, so balanced sums derive by hand: 10 us an expert on the loop back end, 5 grouped
// (no fewer-active curves: the full-group curve at any active count).
ModelCurves flat_curves() {
  ModelCurves curves;
  curves.experts = 4;
  curves.expert_loop_us = {{1, 10}, {1000, 10}};
  curves.expert_grouped_us = {{1, 5}, {1000, 5}};
  return curves;
}

nlohmann::json skewed_profile() {
  // Launch 0: rows 4, 4, 8 (one idle expert): balanced loop 3 x 10 = 30 us, grouped 3 x 5 = 15;
  // measured 36 and 30 -> factors 1.2 and 2.0. Shape: mean 16 / 3, max / mean 8 / (16 / 3) = 1.5.
  // Launch 1: rows 64, 64: balanced 20 and 10, measured the same -> factors 1.
  return nlohmann::json::parse(R"({"models": [{"experts": {"skewed": [
      {"histogram": [4, 4, 8, 0], "loop": {"median_us": 36}, "grouped": {"median_us": 30}},
      {"histogram": [64, 64], "loop": {"median_us": 20}, "grouped": {"median_us": 10}}]}}]})");
}

TEST(SkewedLaunches, ShapeIsTheLogOfMeanRowsAndOfMaxOverMean) {
  // Experts with rows: 2 and 6 -> mean 4 (log2 2), max / mean 1.5.
  const auto shape = launch_shape({0, 2, 6});
  ASSERT_TRUE(shape.has_value());
  EXPECT_DOUBLE_EQ(shape->log_mean_rows, 2.0);
  EXPECT_DOUBLE_EQ(shape->log_max_over_mean, std::log2(1.5));
  EXPECT_FALSE(launch_shape({0, 0}).has_value());
}

TEST(SkewedLaunches, FactorIsMeasuredOverTheBalancedSumOfTheNearestLaunch) {
  ModelCurves curves = flat_curves();
  ProblemList problems;
  curves.skewed_launches = read_skewed_launches(skewed_profile(), "/models/0", curves, problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(curves.skewed_launches.size(), 2u);
  // Rows 5, 5, 10 have launch 0's max / mean (1.5) and a mean of 6.67 against its 5.33.
  const LaunchShape hot = *launch_shape({5, 5, 10});
  EXPECT_DOUBLE_EQ(skew_factor(curves, hot, "loop"), 1.2);
  EXPECT_DOUBLE_EQ(skew_factor(curves, hot, "grouped"), 2.0);
  // Rows 60, 60 are balanced near launch 1.
  EXPECT_DOUBLE_EQ(skew_factor(curves, *launch_shape({60, 60}), "grouped"), 1.0);
  // No measured launches: no correction.
  EXPECT_DOUBLE_EQ(skew_factor(flat_curves(), hot, "grouped"), 1.0);
}

TEST(SkewedLaunches, AnEntryWithoutRowsOrTimeIsAProblemWithItsPath) {
  auto profile = skewed_profile();
  profile["models"][0]["experts"]["skewed"][0]["histogram"] = {0, 0};
  profile["models"][0]["experts"]["skewed"][1]["grouped"]["median_us"] = -1;
  ProblemList problems;
  const auto launches = read_skewed_launches(profile, "/models/0", flat_curves(), problems);
  EXPECT_TRUE(launches.empty());
  ASSERT_EQ(problems.problems().size(), 2u);
  EXPECT_EQ(problems.problems()[0].where, "/models/0/experts/skewed/0/histogram");
  EXPECT_EQ(problems.problems()[1].where, "/models/0/experts/skewed/1/grouped/median_us");
}

}  // namespace
}  // namespace moesim::sim

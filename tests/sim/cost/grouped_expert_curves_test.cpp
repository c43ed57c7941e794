// The grouped expert GEMM priced at the number of experts sharing its launch.
#include "sim/cost/grouped_expert_curves.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

// 8 experts; full-group curve 90 us per expert flat, fewer-active curves at 4 (120 us) and 1
// (200 us), each flat over tokens 1..64.
ModelCurves eight_experts() {
  ModelCurves curves;
  curves.experts = 8;
  curves.expert_grouped_us = {{1, 90}, {64, 90}};
  curves.expert_grouped_fewer = {{1, {{1, 200}, {64, 200}}}, {4, {{1, 120}, {64, 120}}}};
  return curves;
}

TEST(GroupedExpertCurves, ReadsEachMeasuredActiveCountOnItsOwnCurve) {
  const ModelCurves curves = eight_experts();
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 8), 90);
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 4), 120);
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 1), 200);
}

TEST(GroupedExpertCurves, InterpolatesInLogActiveBetweenMeasuredCounts) {
  const ModelCurves curves = eight_experts();
  // 2 experts: halfway between 1 and 4 in log2 (log2 2 = 1 of log2 4 = 2): (200 + 120) / 2 = 160.
  EXPECT_NEAR(grouped_per_expert_us(curves, 16, 2), 160, 1e-9);
  // 6 experts: log(6/4)/log(8/4) = 0.585 of the way from 120 to 90: 120 - 30 x 0.585 = 102.45.
  EXPECT_NEAR(grouped_per_expert_us(curves, 16, 6), 120 - 30 * std::log2(1.5), 1e-9);
}

TEST(GroupedExpertCurves, HoldsTheEndCurvesOutsideTheMeasuredCounts) {
  const ModelCurves curves = eight_experts();
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 0.5), 200);  // expected touched < 1
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 12), 90);    // replicas beyond the model
}

TEST(GroupedExpertCurves, WithoutFewerActiveCurvesTheFullGroupCurvePrices) {
  ModelCurves curves = eight_experts();
  curves.expert_grouped_fewer.clear();
  EXPECT_DOUBLE_EQ(grouped_per_expert_us(curves, 16, 1), 90);
}

nlohmann::json model_with(nlohmann::json by_active) {
  return {{"models", {{{"experts", {{"by_active", {{"grouped", std::move(by_active)}}}}}}}}};
}

TEST(GroupedExpertCurves, ReaderGroupsEntriesByActiveCountAscending) {
  const auto doc =
      model_with({{{"active_experts", 4}, {"tokens_per_expert", 1}, {"per_expert_us", 120}},
                  {{"active_experts", 4}, {"tokens_per_expert", 8}, {"per_expert_us", 121}},
                  {{"active_experts", 2}, {"tokens_per_expert", 1}, {"per_expert_us", 150}}});
  ProblemList problems;
  const auto curves = read_fewer_active_curves(doc, "/models/0", 8, problems);
  ASSERT_TRUE(problems.empty());
  ASSERT_EQ(curves.size(), 2u);
  EXPECT_EQ(curves[0].active_experts, 2);
  EXPECT_EQ(curves[1].active_experts, 4);
  EXPECT_EQ(curves[1].per_expert_us.size(), 2u);
}

TEST(GroupedExpertCurves, ReaderNamesTheFieldOfABadEntry) {
  const auto doc =
      model_with({{{"active_experts", 8}, {"tokens_per_expert", 1}, {"per_expert_us", 90}},
                  {{"active_experts", 2}, {"tokens_per_expert", 4}, {"per_expert_us", 90}},
                  {{"active_experts", 2}, {"tokens_per_expert", 4}, {"per_expert_us", 91}}});
  ProblemList problems;
  read_fewer_active_curves(doc, "/models/0", 8, problems);
  ASSERT_EQ(problems.problems().size(), 2u);
  EXPECT_EQ(problems.problems()[0].where, "/models/0/experts/by_active/grouped/0/active_experts");
  EXPECT_EQ(problems.problems()[1].where,
            "/models/0/experts/by_active/grouped/2/tokens_per_expert");
}

TEST(GroupedExpertCurves, AnAbsentSectionIsNoCurve) {
  ProblemList problems;
  EXPECT_TRUE(
      read_fewer_active_curves(nlohmann::json::object({{"models", nlohmann::json::array()}}),
                               "/models/0", 8, problems)
          .empty());
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace moesim::sim

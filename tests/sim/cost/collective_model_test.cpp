#include "sim/cost/collective_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// 1 KiB in 10 us and 1 MiB in 100 us: 1 MiB / 1 KiB = 1024 = 32^2, so 32 KiB sits halfway in
// log space.
const std::vector<TimePoint> kTwoSizes{{1024, 10}, {1048576, 100}};

TEST(CollectiveModel, InterpolatesInLogLogSpaceBetweenMeasuredSizes) {
  // Halfway in log(bytes) is halfway in log(time): 10 * (100 / 10)^0.5 = 31.62 us, where a line
  // in bytes would give 10 + (32768 - 1024) / (1048576 - 1024) * 90 = 12.73 us.
  EXPECT_NEAR(loglog_interpolate(kTwoSizes, 32768), 10 * std::sqrt(10.0), 1e-9);
  EXPECT_DOUBLE_EQ(loglog_interpolate(kTwoSizes, 1024), 10);
  EXPECT_DOUBLE_EQ(loglog_interpolate(kTwoSizes, 1048576), 100);
}

TEST(CollectiveModel, FloorBelowAndLastBandwidthAbove) {
  EXPECT_DOUBLE_EQ(loglog_interpolate(kTwoSizes, 8), 10);  // the latency floor
  // Twice the largest size at the largest size's bandwidth: 2 * 100 us.
  EXPECT_DOUBLE_EQ(loglog_interpolate(kTwoSizes, 2 * 1048576.0), 200);
}

Json profile_with(Json collectives) { return Json{{"collectives", std::move(collectives)}}; }

Json timed_collective(int ranks, double bytes, double us) {
  return Json{{"ranks", ranks},
              {"bytes", bytes},
              {"busbw_bytes_per_s", 1e9},
              {"time", {{"median_us", us}}}};
}

TEST(CollectiveModel, ReadsTimedEntriesPerRankCountSortedBySize) {
  ProblemList problems;
  const auto collectives = read_measured_collectives(
      profile_with({{"link_kind", "nvlink"},
                    {"all_to_all",
                     {timed_collective(2, 4096, 12), timed_collective(2, 1024, 11),
                      timed_collective(4, 1024, 20),
                      Json{{"ranks", 2}, {"bytes", 8192}, {"busbw_bytes_per_s", 1e9}}}}}),
      problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(collectives.link_kind, "nvlink");
  ASSERT_EQ(collectives.all_to_all.size(), 2u);  // 2 and 4 ranks; the busbw-only entry is skipped
  const auto* two = nearest_all_to_all(collectives, 2);
  ASSERT_NE(two, nullptr);
  ASSERT_EQ(two->points.size(), 2u);
  EXPECT_DOUBLE_EQ(two->points[0].bytes, 1024);  // sorted
  // 3 ranks is as near 2 as 4: the larger wins.
  EXPECT_EQ(nearest_all_to_all(collectives, 3)->ranks, 4);
  // The same read gives every entry's busbw, the untimed one too, sorted.
  ASSERT_EQ(two->busbw.size(), 3u);
  EXPECT_DOUBLE_EQ(two->busbw[2].bytes, 8192);
  EXPECT_DOUBLE_EQ(two->busbw[2].busbw, 1e9);
}

TEST(CollectiveModel, OneSizeTwiceOnOneRankCountIsAProblem) {
  ProblemList problems;
  read_measured_collectives(
      profile_with(
          {{"all_to_all", {timed_collective(2, 1024, 11), timed_collective(2, 1024, 12)}}}),
      problems);
  ASSERT_EQ(problems.problems().size(), 1u);
  EXPECT_EQ(problems.problems()[0].where, "/collectives/all_to_all");
  EXPECT_EQ(problems.problems()[0].message,
            "expected one entry per size on 2 ranks, got 1024 bytes twice");
}

TEST(CollectiveModel, BadTimesAreProblemsWithTheirPaths) {
  ProblemList problems;
  read_measured_collectives(profile_with({{"all_to_all", {timed_collective(2, 1024, -1)}},
                                          {"count_exchange", {{{"ranks", 0}}}}}),
                            problems);
  ASSERT_FALSE(problems.empty());
  std::string all;
  for (const auto& problem : problems.problems())
    all += problem.where + ": " + problem.message + "\n";
  EXPECT_NE(all.find("/collectives/all_to_all/0/time/median_us: expected a number in (0, "
                     "1000000000], got -1"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("/collectives/count_exchange/0/ranks"), std::string::npos) << all;
}

TEST(CollectiveModel, CountExchangeTakesTheNearestRanksThenExperts) {
  ProblemList problems;
  const auto collectives = read_measured_collectives(
      profile_with({{"count_exchange",
                     {{{"ranks", 1}, {"experts", 8}, {"time", {{"median_us", 10.5}}}},
                      {{"ranks", 2}, {"experts", 8}, {"time", {{"median_us", 32}}}},
                      {{"ranks", 2}, {"experts", 256}, {"time", {{"median_us", 35}}}}}}}),
      problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_DOUBLE_EQ(*count_exchange_us(collectives, 2, 16), 32);   // 16 is nearer 8 than 256
  EXPECT_DOUBLE_EQ(*count_exchange_us(collectives, 8, 256), 35);  // 2 ranks is the nearest
  EXPECT_FALSE(count_exchange_us(MeasuredCollectives{}, 2, 8).has_value());
}

TEST(CollectiveModel, DispatchSequenceIsReadAndLookedUpLikeTheCountExchange) {
  ProblemList problems;
  const auto collectives = read_measured_collectives(
      profile_with({{"dispatch_sequence",
                     {{{"ranks", 2}, {"experts", 8}, {"time", {{"median_us", 52}}}},
                      {{"ranks", 2}, {"experts", 256}, {"time", {{"median_us", 61}}}},
                      {{"ranks", 2}, {"experts", 128}, {"time", {{"median_us", -1}}}}}}}),
      problems);
  ASSERT_EQ(problems.problems().size(), 1u);
  EXPECT_EQ(problems.problems()[0].where, "/collectives/dispatch_sequence/2/time/median_us");
  EXPECT_DOUBLE_EQ(*dispatch_sequence_us(collectives, 2, 160), 61);  // 160 is nearer 256 than 8
  EXPECT_DOUBLE_EQ(*dispatch_sequence_us(collectives, 4, 8), 52);
  EXPECT_FALSE(count_exchange_us(collectives, 2, 8).has_value());  // a different term
}

}  // namespace
}  // namespace moesim::sim

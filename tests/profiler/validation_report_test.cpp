// The CPU half of moesim-profile: run statistics and the --validate report, tested without a GPU.
#include "profiler/validation_report.hpp"

#include <gtest/gtest.h>

#include "profiler/stats.hpp"

namespace moesim::profiler {
namespace {

TEST(ProfilerStats, PercentilesInterpolateBetweenOrderStatistics) {
  // 1..10 (given shuffled): the median sits at position 0.5 x 9 = 4.5, between 5 and 6 -> 5.5;
  // p10 at 0.9 -> 1.9; p90 at 8.1 -> 9.1. Spread (9.1 - 1.9) / 5.5 = 1.309, over 0.10: wide.
  const Stats s = summarise({7, 3, 10, 1, 5, 2, 9, 4, 8, 6});
  EXPECT_DOUBLE_EQ(s.median_us, 5.5);
  EXPECT_NEAR(s.p10_us, 1.9, 1e-12);
  EXPECT_NEAR(s.p90_us, 9.1, 1e-12);
  EXPECT_DOUBLE_EQ(s.min_us, 1);
  EXPECT_DOUBLE_EQ(s.max_us, 10);
  EXPECT_EQ(s.runs, 10);
  EXPECT_NEAR(s.spread, 7.2 / 5.5, 1e-12);
  EXPECT_TRUE(s.wide);
  EXPECT_EQ(to_json(s)["wide_spread"], true);
  const Stats none = summarise({});
  EXPECT_EQ(none.runs, 0);
  EXPECT_DOUBLE_EQ(none.median_us, 0);
}

TEST(ValidationReport, PhaseErrorIsPredictedOverMeasuredMedian) {
  // Median of {110, 90, 100} = 100 us; predicted 95: error (95 - 100) / 100 = -5%.
  const auto entry = phase_entry({110, 90, 100}, 95);
  EXPECT_DOUBLE_EQ(entry["measured_us"].get<double>(), 100);
  EXPECT_DOUBLE_EQ(entry["error"].get<double>(), -0.05);
  // Nothing measured (an EP=1 combine): no error to report rather than a division by zero.
  EXPECT_DOUBLE_EQ(phase_entry({0, 0}, 3)["error"].get<double>(), 0);
}

nlohmann::json one_case(const char* model, double measured_us, double predicted_us) {
  nlohmann::json phases;
  for (const char* phase : {"gate_permute", "dispatch", "experts", "combine", "unpermute"})
    phases[phase] = {{"measured_us", 10.0}, {"predicted_us", 11.0}};
  phases["layer"] = {{"measured_us", measured_us},
                     {"predicted_us", predicted_us},
                     {"error", (predicted_us - measured_us) / measured_us}};
  return {{"model", model}, {"batch", "decode"},        {"tokens", 96},    {"routing", "uniform"},
          {"ep", 1},        {"gemm_method", "grouped"}, {"phases", phases}};
}

TEST(ValidationReport, SummaryTakesTheMedianAndWorstAbsoluteLayerError) {
  // Layer errors +10%, -30%, +2%, +5%: |e| sorted 2, 5, 10, 30 -> median (5 + 10) / 2 = 7.5%.
  const auto result =
      validation_result(nlohmann::json::array({one_case("a", 100, 110), one_case("b", 100, 70),
                                               one_case("c", 100, 102), one_case("d", 100, 105)}));
  EXPECT_NEAR(result["summary"]["median_abs_layer_error"].get<double>(), 0.075, 1e-12);
  EXPECT_NEAR(result["summary"]["max_abs_layer_error"].get<double>(), 0.30, 1e-12);
  EXPECT_EQ(result["cases"].size(), 4u);
  EXPECT_DOUBLE_EQ(
      validation_result(nlohmann::json::array())["summary"]["max_abs_layer_error"].get<double>(),
      0);
}

TEST(ValidationReport, MarkdownHasOneRowPerCaseAndTheSummaryLine) {
  // 1075 us measured, 1054 predicted: error -1.95% prints as -2.0%; one case is its own median.
  const auto result =
      validation_result(nlohmann::json::array({one_case("mixtral-8x7b", 1075, 1054)}));
  const std::string md = accuracy_markdown(result);
  EXPECT_NE(md.find("| mixtral-8x7b decode T=96 uniform EP=1 | grouped | 1.075 | 1.054 | -2.0% |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("Median |error| on layer time: 2.0%; worst: 2.0%."), std::string::npos) << md;
  EXPECT_NE(md.find("| mixtral-8x7b decode uniform | 0.010 / 0.011 |"), std::string::npos) << md;
}

}  // namespace
}  // namespace moesim::profiler

namespace moesim::profiler {
namespace {

nlohmann::json ep_case() {
  nlohmann::json phases = nlohmann::json::object();
  // Rank medians 100 and 150, 200 and 250, ... in the table's order, so each column is easy to
  // spot; the layer's slowest-rank median is 700.
  const char* names[] = {"gate_permute", "count_exchange", "dispatch",
                         "experts",      "combine",        "unpermute"};
  for (int i = 0; i < 6; ++i)
    phases[names[i]] = {{"rank_median_us", {100.0 * (i + 1), 100.0 * (i + 1) + 50}}};
  phases["layer"] = {{"median_us", 700.0}};
  return {{"model", "mixtral-8x7b"}, {"batch", "decode"}, {"tokens_per_rank", 96},
          {"routing", "uniform"},    {"ep", 2},           {"gemm_method", "grouped"},
          {"phases", phases}};
}

TEST(EpMarkdown, OneRowPerCaseWithEachRanksPhasesInMilliseconds) {
  const std::string table = ep_markdown(nlohmann::json::array({ep_case()}));
  // 100 us = 0.100 ms, 150 us = 0.150 ms, ... in column order; the layer 700 us = 0.700 ms.
  EXPECT_NE(table.find("| mixtral-8x7b decode T=96/rank uniform | 2 | grouped | 0.100 / 0.150 | "
                       "0.200 / 0.250 | 0.300 / 0.350 | 0.400 / 0.450 | 0.500 / 0.550 | "
                       "0.600 / 0.650 | 0.700 |"),
            std::string::npos)
      << table;
  EXPECT_EQ(ep_markdown(nlohmann::json::array()), "");
}

TEST(ExecutorTimings, CarriesBothEpSizesAndProvenance) {
  const nlohmann::json ep1 = {{"cases", nlohmann::json::array({{{"ep", 1}}})}, {"summary", {}}};
  const auto doc =
      executor_timings({{"gpu_name", "NVIDIA H200"}}, ep1, nlohmann::json::array({ep_case()}));
  EXPECT_EQ(doc["kind"], "moesim-executor-timings");
  EXPECT_EQ(doc["ep1"].size(), 1u);
  EXPECT_EQ(doc["ep"][0]["ep"], 2);
  EXPECT_EQ(doc["provenance"]["gpu_name"], "NVIDIA H200");
}

}  // namespace
}  // namespace moesim::profiler

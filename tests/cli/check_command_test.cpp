#include <gtest/gtest.h>

#include <fstream>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

// A copy of quickstart whose routing is Zipf-skewed: the same scenario name, so check compares.
std::filesystem::path write_skewed_quickstart(const std::filesystem::path& dir) {
  auto text = slurp(std::string(MOESIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  const std::string uniform = R"("generator": "uniform", "seed": 1)";
  text.replace(text.find(uniform), uniform.size(),
               R"("generator": "zipf", "zipf_exponent": 1.0, "seed": 1)");
  const auto path = dir / "skewed.json";
  std::ofstream(path) << text;
  return path;
}

TEST(CheckCommand, SkewedRoutingFailsTheGateAndTheOriginalPasses) {
  const auto dir = scratch_dir("check-e2e");
  ASSERT_EQ(run_moesim("run quickstart -q --out " + (dir / "base").string()).exit_code, 0);
  const auto baseline = (dir / "base" / "report.json").string();
  const auto same = run_moesim("check --scenario quickstart --baseline " + baseline);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  const auto skewed =
      run_moesim("check --scenario " + write_skewed_quickstart(dir).string() + " --baseline " +
                 baseline + " --junit " + (dir / "junit.xml").string());
  EXPECT_EQ(skewed.exit_code, 1) << skewed.out << skewed.err;
  EXPECT_NE(skewed.out.find("REGRESSION"), std::string::npos);
  const auto junit = slurp(dir / "junit.xml");
  EXPECT_NE(junit.find("<failure"), std::string::npos);
  EXPECT_NE(junit.find("tokens_per_s: "), std::string::npos);
}

TEST(CheckCommand, BadInputExitsTwo) {
  const auto dir = scratch_dir("check-bad");
  std::ofstream(dir / "bad.json") << "{\"schema_version\": 1}";
  EXPECT_EQ(run_moesim("check " + (dir / "bad.json").string() + " " + (dir / "bad.json").string())
                .exit_code,
            2);
  EXPECT_EQ(run_moesim("check only-one.json").exit_code, 2);
}

TEST(CheckCommand, DifferentScenariosAreRefused) {
  const auto dir = scratch_dir("check-different");
  ASSERT_EQ(run_moesim("run quickstart -q --out " + (dir / "a").string()).exit_code, 0);
  ASSERT_EQ(run_moesim("run mixtral-train-h100x64 -q --out " + (dir / "b").string()).exit_code, 0);
  const auto result = run_moesim("check " + (dir / "a/report.json").string() + " " +
                                 (dir / "b/report.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("is not compared with"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("hint: --other-scenario"), std::string::npos) << result.err;
}

TEST(CheckCommand, NothingGatedExitsFive) {
  const auto dir = scratch_dir("check-nothing");
  std::ofstream(dir / "policy.json") << R"({"tolerances": {}})";
  ASSERT_EQ(run_moesim("run quickstart -q --out " + dir.string()).exit_code, 0);
  const auto report = (dir / "report.json").string();
  EXPECT_EQ(
      run_moesim("check --policy " + (dir / "policy.json").string() + " " + report + " " + report)
          .exit_code,
      5);
}

TEST(CheckCommand, DropRateFromZeroFailsARelativeTolerance) {
  // Issue 16: --fail-on drop_rate:+1% passed a change from 0 to 0.5.
  const auto dir = scratch_dir("check-zero");
  std::ofstream(dir / "a.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"drop_rate": 0}})";
  std::ofstream(dir / "b.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"drop_rate": 0.5}})";
  std::ofstream(dir / "policy.json") << R"({"tolerances": {}})";
  const auto gated = run_moesim("check --policy " + (dir / "policy.json").string() + " " +
                                (dir / "a.json").string() + " " + (dir / "b.json").string() +
                                " --fail-on drop_rate:+1%");
  EXPECT_EQ(gated.exit_code, 1) << gated.out << gated.err;
  EXPECT_NE(gated.out.find("REGRESSION"), std::string::npos) << gated.out;
}

TEST(CheckCommand, GatedMetricNullInTheCandidateFailsAndNothingComparableExitsFive) {
  const auto dir = scratch_dir("check-null");
  std::ofstream(dir / "policy.json") << R"({"tolerances": {}})";
  std::ofstream(dir / "a.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"tokens_per_s": 10, "drop_rate": 0}})";
  std::ofstream(dir / "b.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"tokens_per_s": null, "drop_rate": 0}})";
  const std::string policy = "check --policy " + (dir / "policy.json").string() + " ";
  const auto result = run_moesim(policy + (dir / "a.json").string() + " " +
                                 (dir / "b.json").string() + " --fail-on tokens_per_s:-3%");
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("REGRESSION (null in the candidate)"), std::string::npos) << result.out;
  // Nothing at all in common: exit 5, even with the metric gated.
  std::ofstream(dir / "c.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"tokens_per_s": null}})";
  EXPECT_EQ(run_moesim(policy + (dir / "a.json").string() + " " + (dir / "c.json").string() +
                       " --fail-on tokens_per_s:-3%")
                .exit_code,
            5);
}

TEST(CheckCommand, AMetricGatedTwiceIsRefused) {
  // Session 12: the second --fail-on replaced the first, so a 10% drop passed -50%.
  const auto dir = scratch_dir("check-twice");
  std::ofstream(dir / "a.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"tokens_per_s": 10}})";
  std::ofstream(dir / "b.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"tokens_per_s": 9}})";
  const auto result =
      run_moesim("check " + (dir / "a.json").string() + " " + (dir / "b.json").string() +
                 " --fail-on tokens_per_s:-3% --fail-on tokens_per_s:-50%");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: --fail-on: /: tokens_per_s is gated twice ('tokens_per_s:-50%'); expected one "
            "--fail-on a metric\n");
}

TEST(CheckCommand, UnknownMetricInAPolicyNamesThePolicyFileAndEntry) {
  // Hostile hunt 25: this was blamed on --fail-on, which was not given.
  const auto dir = scratch_dir("check-policy-metric");
  std::ofstream(dir / "policy.json") << R"({"tolerances": {"tokens_per_sec": "-3%"}})";
  const std::string policy = (dir / "policy.json").string();
  const std::string report = std::string(MOESIM_SOURCE_DIR) + "/no-report-needed.json";
  const auto result = run_moesim("check --policy " + policy + " " + report + " " + report);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: " + policy +
                            ": /tolerances/tokens_per_sec: unknown metric; did you mean "
                            "\"tokens_per_s\"?\n")
      << result.err;
}

TEST(CheckCommand, JunitOverAnInputReportIsRefused) {
  const auto dir = scratch_dir("check-junit");
  std::ofstream(dir / "a.json")
      << R"({"schema_version": 1, "scenario": "s", "summary": {"drop_rate": 0}})";
  const auto a = (dir / "a.json").string();
  const auto result = run_moesim("check " + a + " " + a + " --junit " + a);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: " + a + ": /: is the same file as the input " + a +
                "; expected another output path (writing it would destroy the input)\n");
  EXPECT_NE(slurp(dir / "a.json").find("drop_rate"), std::string::npos);
}

}  // namespace
}  // namespace moesim::testing

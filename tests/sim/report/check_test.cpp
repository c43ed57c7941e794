#include "sim/report/check.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/config_error.hpp"
#include "sim/report/compare.hpp"

namespace moesim::sim {
namespace {

nlohmann::json report(const char* scenario, double tokens_per_s, double drop_rate, int schema = 1) {
  return {{"schema_version", schema},
          {"scenario", scenario},
          {"summary",
           {{"tokens_per_s", tokens_per_s},
            {"drop_rate", drop_rate},
            {"cost_per_million_tokens_usd", nullptr}}}};
}

TEST(Tolerance, ParsesSignAmountAndPercent) {
  const auto relative = parse_fail_on("tokens_per_s:-3%");
  EXPECT_EQ(relative.metric, "tokens_per_s");
  EXPECT_EQ(relative.bad_direction, -1);
  EXPECT_TRUE(relative.relative);
  EXPECT_DOUBLE_EQ(relative.amount, 0.03);
  const auto absolute = parse_fail_on("drop_rate:+0.001");
  EXPECT_EQ(absolute.bad_direction, +1);
  EXPECT_FALSE(absolute.relative);
  EXPECT_DOUBLE_EQ(absolute.amount, 0.001);
}

TEST(Tolerance, RejectsUnsignedOrMalformedAmounts) {
  EXPECT_THROW(parse_fail_on("tokens_per_s:3%"), ConfigError);
  EXPECT_THROW(parse_fail_on("tokens_per_s:-x%"), ConfigError);
  EXPECT_THROW(parse_fail_on("tokens_per_s"), ConfigError);
  EXPECT_THROW(parse_fail_on("tokens_per_s:-nan"), ConfigError);
}

TEST(Check, RelativeFallBeyondToleranceIsARegression) {
  // 1000 -> 960 is -4%, past -3%; 1000 -> 980 is -2%, within it.
  const std::vector<Tolerance> t{parse_fail_on("tokens_per_s:-3%")};
  EXPECT_TRUE(compare_reports(report("s", 1000, 0), "a", report("s", 960, 0), "b", t).regressed());
  EXPECT_FALSE(compare_reports(report("s", 1000, 0), "a", report("s", 980, 0), "b", t).regressed());
  // A rise is never a regression for a "-" tolerance.
  EXPECT_FALSE(
      compare_reports(report("s", 1000, 0), "a", report("s", 2000, 0), "b", t).regressed());
}

TEST(Check, AbsoluteRiseBeyondToleranceIsARegression) {
  // drop_rate 0.010 -> 0.012 rises by 0.002 > 0.001; 0.010 -> 0.0105 by 0.0005 <= 0.001.
  const std::vector<Tolerance> t{parse_fail_on("drop_rate:+0.001")};
  EXPECT_TRUE(
      compare_reports(report("s", 1, 0.010), "a", report("s", 1, 0.012), "b", t).regressed());
  EXPECT_FALSE(
      compare_reports(report("s", 1, 0.010), "a", report("s", 1, 0.0105), "b", t).regressed());
}

TEST(Check, NullMetricsAreSkippedNotCompared) {
  const auto result = compare_reports(report("s", 1, 0), "a", report("s", 1, 0), "b", {});
  ASSERT_EQ(result.metrics.size(), 2u);  // tokens_per_s and drop_rate; the null cost is left out
}

TEST(Check, RelativeToleranceFromAZeroBaselineFailsAnyBadMove) {
  // Issue 16: drop_rate 0 -> 0.5 passed "+1%" because a relative change from 0 was taken as 0.
  // From 0 the relative change is infinite: any rise fails "+1%"; staying at 0 or falling passes.
  const std::vector<Tolerance> t{parse_fail_on("drop_rate:+1%")};
  const auto result = compare_reports(report("s", 1, 0), "a", report("s", 1, 0.5), "b", t);
  EXPECT_TRUE(result.regressed());
  EXPECT_FALSE(compare_reports(report("s", 1, 0), "a", report("s", 1, 0), "b", t).regressed());
  const std::vector<Tolerance> fall{parse_fail_on("tokens_per_s:-1%")};
  EXPECT_FALSE(compare_reports(report("s", 0, 0), "a", report("s", 5, 0), "b", fall).regressed());
  EXPECT_TRUE(compare_reports(report("s", 0, 0), "a", report("s", -5, 0), "b", fall).regressed());
}

TEST(Check, GatedMetricNullOrMissingInEitherReportFails) {
  // The candidate lost tokens_per_s (null), then drop_rate (absent): each gated one fails.
  const std::vector<Tolerance> t{parse_fail_on("tokens_per_s:-3%")};
  auto candidate = report("s", 1, 0);
  candidate["summary"]["tokens_per_s"] = nullptr;
  auto result = compare_reports(report("s", 1000, 0), "a", candidate, "b", t);
  EXPECT_TRUE(result.regressed());
  EXPECT_EQ(result.metrics[0].not_compared, "null in the candidate");
  EXPECT_NE(check_table_text(result).find("REGRESSION (null in the candidate)"), std::string::npos);
  candidate["summary"]["tokens_per_s"] = "fast";
  result = compare_reports(report("s", 1000, 0), "a", candidate, "b", t);
  EXPECT_EQ(result.metrics[0].not_compared, "not a number in the candidate (\"fast\")");
  auto baseline = report("s", 1, 0);
  baseline["summary"].erase("tokens_per_s");
  result = compare_reports(baseline, "a", report("s", 1000, 0), "b", t);
  EXPECT_TRUE(result.regressed());
  EXPECT_EQ(result.metrics[0].not_compared, "missing from the baseline");
  // Only drop_rate could be compared, and it is not gated.
  EXPECT_EQ(result.compared(), 1u);
}

TEST(Check, NegativeGatedMetricFailsInsteadOfPassingAsAnImprovement) {
  // Found by the hostile sweep: drop_rate 0.01 -> -1 fell by 1.01, an "improvement" of a "+"
  // tolerance, so check said ok. A negative rate is a broken report: not compared, a regression
  // (a double -1 is dumped as -1.0).
  const std::vector<Tolerance> t{parse_fail_on("drop_rate:+0.001")};
  const auto result = compare_reports(report("s", 1, 0.01), "a", report("s", 1, -1), "b", t);
  EXPECT_TRUE(result.regressed());
  for (const auto& metric : result.metrics) {
    if (metric.metric == "drop_rate") {
      EXPECT_EQ(metric.not_compared, "negative in the candidate (-1.0)");
    }
  }
}

TEST(Check, DefaultPolicyMetricAbsentFromBothReportsIsNotCompared) {
  // No price in either report: the built-in policy's cost gate has nothing to compare, not a
  // failure.
  const auto defaults = load_check_policy("");
  const auto result =
      compare_reports(report("s", 1000, 0), "a", report("s", 1000, 0), "b", defaults);
  EXPECT_FALSE(result.regressed());
  // Asked for explicitly, the same null cost fails.
  const std::vector<Tolerance> t{parse_fail_on("cost_per_million_tokens_usd:+3%")};
  EXPECT_TRUE(compare_reports(report("s", 1000, 0), "a", report("s", 1000, 0), "b", t).regressed());
}

TEST(Check, DifferentScenariosOrSchemasAreRefused) {
  EXPECT_THROW(compare_reports(report("s", 1, 0), "a", report("t", 1, 0), "b", {}), ConfigError);
  EXPECT_THROW(compare_reports(report("s", 1, 0), "a", report("s", 1, 0, 2), "b", {}), ConfigError);
}

TEST(Check, DefaultPolicyLoadsAndGatesThroughput) {
  const auto policy = load_check_policy("");
  bool has_throughput = false;
  for (const auto& t : policy)
    has_throughput = has_throughput || (t.metric == "tokens_per_s" && t.bad_direction == -1);
  EXPECT_TRUE(has_throughput);
}

TEST(Check, AnnotationsListTheWorstFirstAndAtMostTheLimit) {
  // tokens_per_s falls 50% against a 3% limit (16.7 limits); drop_rate rises 0.002 against 0.001
  // (2 limits): tokens_per_s comes first, and a limit of 1 leaves a notice for the other.
  const std::vector<Tolerance> t{parse_fail_on("tokens_per_s:-3%"),
                                 parse_fail_on("drop_rate:+0.001")};
  const auto result = compare_reports(report("s", 1000, 0.0), "a", report("s", 500, 0.002), "b", t);
  const auto text = check_github_annotations(result, 1);
  EXPECT_EQ(text.find("::error title=moesim check: tokens_per_s regressed"), 0u);
  EXPECT_EQ(text.find("drop_rate regressed"), std::string::npos);
  EXPECT_NE(text.find("1 more regressions"), std::string::npos);
}

TEST(Check, AReportsTextCannotStartAWorkflowCommandOrBreakTheXml) {
  // Session 12: a scenario named "s\n::stop-commands::x" silenced the annotations after it, and
  // a U+0001 in it made JUnit XML no parser reads.
  const std::vector<Tolerance> t{parse_fail_on("tokens_per_s:-3%")};
  const auto result = compare_reports(report("s\n::stop-commands::x\x01", 1000, 0.0), "a",
                                      report("s\n::stop-commands::x\x01", 500, 0.0), "b", t);
  const auto text = check_github_annotations(result, 5);
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;  // one command, one line
  EXPECT_NE(text.find("::s%0A::stop-commands::x"), std::string::npos) << text;
  const auto xml = check_junit_xml(result);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_NE(xml.find("s\n::stop-commands::x\\x01"), std::string::npos) << xml;
}

// The ConfigError message of load_report on a file holding `text`, or "" when it loads.
std::string load_error(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    fmt::format("moesim-load-report-{}.json", ::getpid());
  std::ofstream(path) << text;
  try {
    load_report(path.string());
  } catch (const ConfigError& error) {
    std::filesystem::remove(path);
    return std::string(error.what()).substr(path.string().size());
  }
  std::filesystem::remove(path);
  return "";
}

TEST(LoadReport, ScenarioThatIsNotANameIsRefusedNotALibraryError) {
  // Found by check_report_fuzz: an object as "scenario" threw nlohmann's type_error (exit 3).
  EXPECT_EQ(load_error(R"({"schema_version": 1, "scenario": {"name": "x"}, "summary": {}})"),
            ": /scenario: expected the scenario's name, a string, got an object");
}

TEST(LoadReport, TextInMemoryIsCheckedAsAFileIs) {
  // parse_report is what load_report runs after reading (the fuzz target calls it directly).
  try {
    parse_report(R"({"schema_version": 1, "scenario": 5, "summary": {}})", "mem.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "mem.json: /scenario: expected the scenario's name, a string, got 5");
  }
  EXPECT_EQ(
      parse_report(R"({"schema_version": 1, "summary": {"x": 2}})", "ok.json")["summary"]["x"], 2);
}

TEST(CompareSideBySide, ReportOfAnotherSchemaIsRefusedNamingIt) {
  // Found by the hostile sweep: `compare` lined up a schema-0 report with a schema-1 one, exit 0.
  const auto current = parse_report(R"({"schema_version": 1, "summary": {}})", "a.json");
  const auto older = parse_report(R"({"schema_version": 0, "summary": {}})", "b.json");
  try {
    compare_side_by_side({current, older}, {"a.json", "b.json"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "b.json: /schema_version: expected 1 (the report schema this moesim reads), got 0; "
              "re-run it with this moesim");
  }
}

TEST(LoadReport, SchemaVersionPastIntIsRefusedNotNarrowed) {
  // 2^32 + 1 narrowed to int is 1: a foreign report would have passed as schema 1.
  EXPECT_EQ(load_error(R"({"schema_version": 4294967297, "summary": {}})"),
            ": /schema_version: expected an integer in [0, 1000000], got 4294967297");
  EXPECT_EQ(load_error(R"({"schema_version": 1, "scenario": "s", "summary": {}})"), "");
}

}  // namespace
}  // namespace moesim::sim

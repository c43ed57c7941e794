#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kRoot = MOESIM_SOURCE_DIR;

TEST(ServeCommand, ReplaysARequestLogAndWritesTheOutputs) {
  // The shipped log has 8 requests; all finish, and requests.csv has a header and one row each.
  const auto dir = scratch_dir("serve-log");
  const auto result = run_moesim(
      "serve " + kRoot + "/scenarios/serving/mixtral-h100-log.json --out " + (dir / "out").string(),
      "serve");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("8 of 8 requests completed"), std::string::npos) << result.out;
  const auto serving = nlohmann::json::parse(slurp(dir / "out" / "serving.json"));
  EXPECT_EQ(serving["summary"]["completed"], 8);
  EXPECT_EQ(serving["mode"], "aggregated");
  const auto csv = slurp(dir / "out" / "requests.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
}

TEST(ServeCommand, ABadLogLineExitsTwoNamingFileLineAndField) {
  const auto dir = scratch_dir("serve-bad-log");
  std::ofstream(dir / "log.csv") << "arrival_s,input_tokens,output_tokens\n0,10,5\n0.5,ten,5\n";
  std::ofstream(dir / "serve.json") << R"({"schema_version": 1, "scenario": "quickstart",
    "traffic": {"arrival": "log", "log": "log.csv"}})";
  const auto result = run_moesim(
      "serve " + (dir / "serve.json").string() + " --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("log.csv: line 3, field input_tokens"), std::string::npos)
      << result.err;
}

TEST(ServeCommand, AMissedSlaExitsFour) {
  // 1 ms of TPOT is below any decode step of Mixtral on H100 (tens of milliseconds at least a few).
  const auto dir = scratch_dir("serve-sla");
  std::ofstream(dir / "serve.json") << R"({"schema_version": 1, "scenario": "quickstart",
    "traffic": {"rate_per_s": 2, "duration_s": 5, "input_tokens": 500, "output_tokens": 20},
    "sla": {"tpot_p90_ms": 1}})";
  const auto result = run_moesim(
      "serve " + (dir / "serve.json").string() + " --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.out.find("SLA missed: TPOT p90"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace moesim::testing

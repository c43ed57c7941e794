#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kServeRoot = MOESIM_SOURCE_DIR;

TEST(ServeCommand, ReplaysARequestLogAndWritesTheOutputs) {
  // The shipped log has 8 requests; all finish, and requests.csv has a header and one row each.
  const auto dir = scratch_dir("serve-log");
  const auto result =
      run_moesim("serve " + kServeRoot + "/scenarios/serving/mixtral-h100-log.json --out " +
                     (dir / "out").string(),
                 "serve");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("8 of 8 requests completed"), std::string::npos) << result.out;
  const auto serving = nlohmann::json::parse(slurp(dir / "out" / "serving.json"));
  EXPECT_EQ(serving["summary"]["completed"], 8);
  EXPECT_EQ(serving["mode"], "aggregated");
  const auto csv = slurp(dir / "out" / "requests.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
}

TEST(ServeCommand, TrafficThatMakesNoRequestOrAnEmptySlaExitsTwo) {
  // 20 requests/s for 1 ms: the Poisson draw (seed 1) makes none, and nothing would be measured.
  const auto dir = scratch_dir("serve-nothing");
  std::ofstream(dir / "none.json") << R"({"schema_version": 1, "scenario": "quickstart",
    "traffic": {"rate_per_s": 20, "duration_s": 0.001, "input_tokens": 100,
                "output_tokens": 10}})";
  const auto none = run_moesim(
      "serve " + (dir / "none.json").string() + " --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("/traffic: expected at least one request"), std::string::npos)
      << none.err;
  std::ofstream(dir / "sla.json") << R"({"schema_version": 1, "scenario": "quickstart",
    "traffic": {"rate_per_s": 20, "duration_s": 1, "input_tokens": 100, "output_tokens": 10},
    "sla": {}})";
  const auto sla = run_moesim(
      "serve " + (dir / "sla.json").string() + " --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(sla.exit_code, 2);
  EXPECT_NE(sla.err.find("/sla: expected at least one of ttft_p90_ms"), std::string::npos)
      << sla.err;
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

TEST(ServeCommand, AServingPlanWithNothingFeasibleExitsFourWithTheReason) {
  // DeepSeek-V3 at BF16 (1.3 TB of weights) on one 8-GPU H100 node: every option is refused for
  // memory before any traffic is played.
  const auto dir = scratch_dir("serving-plan-memory");
  std::ofstream(dir / "plan.json") << R"({"schema_version": 1, "name": "too-small",
    "base": {"model": "deepseek-v3", "workload": {"kind": "decode"}, "profile": "roofline"},
    "search": {"clusters": [{"system": "hgx-h100", "nodes": [1], "fabric": "none",
                             "usd_per_gpu_hour": 2, "price_date": "2026-11-01"}],
               "expert_parallel": [8]},
    "serving": {"traffic": {"rate_per_s": 1, "input_tokens": 100, "output_tokens": 10},
                "sla": {"tpot_p90_ms": 100}}})";
  const auto result = run_moesim(
      "plan " + (dir / "plan.json").string() + " -j 1 --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find("no option meets the SLA"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("memory: weights"), std::string::npos) << result.err;
  const auto plan = nlohmann::json::parse(slurp(dir / "out" / "plan.json"));
  EXPECT_EQ(plan["feasible"], false);
  EXPECT_EQ(plan["candidates"][0]["verdict"], "memory");
}

TEST(ServeCommand, AutoInstancesPastTheLimitAreARejectionNotAnOverflow) {
  // Session 12: 2 million requests/s of 1,000-token prompts sized 15,259 prefill instances (the
  // limit a file may give is 10,000); the count is never cast from a double past int's range.
  const auto dir = scratch_dir("serve-auto-limit");
  const auto result =
      run_moesim("serve " + std::string(MOESIM_SOURCE_DIR) +
                     "/tests/data/serving-auto-past-limit.json -q --out " + (dir / "out").string(),
                 "serve");
  EXPECT_EQ(result.exit_code, 4) << result.err;
  const auto out = nlohmann::json::parse(slurp(dir / "out" / "serving.json"));
  EXPECT_EQ(out["rejection"],
            "prefill pool: \"auto\" needs more than 10000 instances at this rate; give each "
            "instance more GPUs or lower the rate");
}

TEST(ServeCommand, AnInlineScenariosFilesAreFoundBesideTheServingFile) {
  // Session 12: placement.file "pl8.json" was looked for beside "FILE /scenario", i.e. nowhere.
  const auto dir = scratch_dir("serve-relative");
  const auto result = run_moesim("serve " + std::string(MOESIM_SOURCE_DIR) +
                                     "/tests/data/serving-relative/serve-pl8.json -q --out " +
                                     (dir / "out").string(),
                                 "serve");
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST(ServeCommand, AnInlineScenariosProfileFileIsFoundBesideTheServingFile) {
  // Session 12: an inline scenario's "profile": "prof.json" was looked for in the working
  // directory (the build tree here), not beside the serving file that names it.
  const auto dir = scratch_dir("serve-profile");
  const std::string source = MOESIM_SOURCE_DIR;
  std::filesystem::copy_file(source + "/scenarios/profiles/h100.json", dir / "prof.json");
  auto serving =
      nlohmann::json::parse(slurp(source + "/tests/data/serving-relative/serve-pl8.json"));
  serving["scenario"]["profile"] = "prof.json";
  serving["scenario"].erase("placement");
  std::ofstream(dir / "sv.json") << serving.dump();
  const auto result = run_moesim(
      "serve " + (dir / "sv.json").string() + " -q --out " + (dir / "out").string(), "serve");
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

}  // namespace
}  // namespace moesim::testing

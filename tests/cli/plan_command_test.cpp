#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

// DeepSeek-V3 (671B parameters) on one 8-GPU node of H100 (80 GB) or H200 (141 GB): no candidate
// fits, so nothing is simulated and the plan finishes at once.
constexpr const char* kInfeasiblePlan = R"({
  "schema_version": 1, "name": "too-small",
  "base": {"model": "deepseek-v3", "workload": {"kind": "decode", "tokens_per_gpu": 128}},
  "target": {"tokens_per_s": 1000},
  "search": {
    "clusters": [
      {"system": "hgx-h100", "nodes": [1], "fabric": "none", "usd_per_gpu_hour": 2, "price_date": "2026-11-01"},
      {"system": "hgx-h200", "nodes": [1], "fabric": "none", "usd_per_gpu_hour": 3, "price_date": "2026-11-01"}
    ],
    "expert_parallel": [8]
  }
})";

TEST(PlanCommand, NothingFeasibleExitsFourNamingTheNearestMiss) {
  // Issue 16: this exited 0. Exit 4 is plan's own code (README.md, moesim --help).
  const auto dir = scratch_dir("plan-infeasible");
  std::ofstream(dir / "plan.json") << kInfeasiblePlan;
  const auto result = run_moesim(
      "plan " + (dir / "plan.json").string() + " -j 1 --out " + (dir / "out").string(), "plan");
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_NE(result.err.find("error: no candidate fits and meets the target; nearest miss: "
                            "hgx-h200 x1, EP 8"),
            std::string::npos)
      << result.err;
  // The outputs are still written, and plan.json says the same.
  const auto plan = nlohmann::json::parse(slurp(dir / "out" / "plan.json"));
  EXPECT_EQ(plan["feasible"], false);
  EXPECT_EQ(plan["nearest_miss"].get<std::string>().rfind("hgx-h200 x1, EP 8", 0), 0u);
}

TEST(PlanCommand, BadBaseProfileExitsTwoNamingThePlanFieldBeforeAnyCandidate) {
  // Hostile hunt 10: every candidate was rejected with the profile's error and plan exited 4
  // ("no option meets ...: unknown field"), naming neither the file nor the field.
  const auto dir = scratch_dir("plan-bad-profile");
  auto profile = nlohmann::json::parse(
      slurp(std::string(MOESIM_SOURCE_DIR) + "/scenarios/profiles/h100.json"));
  profile["bogus"] = 1;
  std::ofstream(dir / "prof.json") << profile.dump();
  auto plan = nlohmann::json::parse(kInfeasiblePlan);
  plan["base"]["profile"] = (dir / "prof.json").string();
  std::ofstream(dir / "plan.json") << plan.dump();
  const std::string file = (dir / "plan.json").string();
  for (const std::string& command :
       {std::string("validate "), "plan -j 1 --out " + (dir / "out").string() + " "}) {
    const auto result = run_moesim(command + file, "plan");
    EXPECT_EQ(result.exit_code, 2) << command << result.err;
    EXPECT_NE(result.err.find("error: " + file + ": /base/profile: " +
                              (dir / "prof.json").string() + ": /bogus: unknown field"),
              std::string::npos)
        << command << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out" / "plan.json"));
}

TEST(PlanCommand, HelpListsTheExitCodes) {
  const auto result = run_moesim("--help", "plan-help");
  EXPECT_NE(result.out.find("4 plan found no feasible option"), std::string::npos) << result.out;
}

TEST(PlanCommand, ABudgetSpentBeforeAnyFeasibleOptionIsNotInfeasible) {
  // Session 12: 900 requests/s for 100 s spent the sweep's budget after 2 options and exited 4
  // "no option meets the SLA" while the rest were never simulated.
  const auto dir = scratch_dir("plan-budget");
  const auto result = run_moesim("plan " + std::string(MOESIM_SOURCE_DIR) +
                                     "/tests/data/plans/plan-budget-spent.json -j 1 --out " +
                                     (dir / "out").string(),
                                 "plan-budget");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("/serving/traffic: the traffic spent the sweep's budget after"),
            std::string::npos)
      << result.err;
}

TEST(PlanCommand, TheBasesHfConfigAndProfileFileAreFoundBesideThePlan) {
  // Session 12: base.model.hf_config "mx.json" was opened in the working directory by each
  // candidate (the build tree here): "no option meets the SLA ...: mx.json: /: cannot open file".
  // Mixtral's config and the H100 profile beside the plan; one H100 node, auto EP 1, 2, 4, 8.
  const auto dir = scratch_dir("plan-beside");
  const std::string source = MOESIM_SOURCE_DIR;
  std::filesystem::copy_file(source + "/tests/data/hf/mixtral-8x7b.json", dir / "mx.json");
  std::filesystem::copy_file(source + "/scenarios/profiles/h100.json", dir / "prof.json");
  std::ofstream(dir / "plan.json") << R"({"schema_version": 1, "name": "beside",
    "base": {"model": {"hf_config": "mx.json"}, "policy": {"capacity_factor": null},
             "workload": {"kind": "decode", "routing": {"generator": "uniform", "seed": 1}},
             "profile": "prof.json"},
    "search": {"clusters": [{"system": "hgx-h100", "nodes": [1], "fabric": "none",
                             "usd_per_gpu_hour": 2.99, "price_date": "2026-11-01"}]},
    "serving": {"traffic": {"arrival": "poisson", "rate_per_s": 2, "duration_s": 5, "seed": 9,
                            "input_tokens": 1500, "output_tokens": 300},
                "sla": {"ttft_p90_ms": 2000}, "batching": {"max_batch_per_rank": [8]}}})";
  const auto result = run_moesim(
      "plan " + (dir / "plan.json").string() + " -j 1 --out " + (dir / "out").string(), "plan");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const auto plan = nlohmann::json::parse(slurp(dir / "out" / "plan.json"));
  EXPECT_EQ(plan["candidates"].size(), 4u) << plan.dump().substr(0, 400);
}

}  // namespace
}  // namespace moesim::testing

// A serving file whose traffic asks more than a run may simulate (sim/serving/traffic_budget.hpp)
// is bad input: exit 2 at /traffic, before the run where its own figures tell, as it runs where
// only the simulation can (a closed loop's requests, engine steps).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kSourceDir = MOESIM_SOURCE_DIR;

// A serving file on the quickstart deployment (Mixtral-8x7B, 8 H100s) with this traffic and
// batching.
std::filesystem::path serving_file(const std::string& name, const std::string& traffic,
                                   const std::string& batching = "{}") {
  const auto dir = scratch_dir(name);
  std::ofstream(dir / "serve.json") << R"({"schema_version": 1, "scenario": "quickstart",
    "traffic": )" << traffic << R"(, "batching": )"
                                    << batching << "}";
  return dir / "serve.json";
}

CliResult serve(const std::filesystem::path& file) {
  return run_moesim(
      "serve " + file.string() + " --out " + (file.parent_path() / "out").string() + " -q",
      "serve-budget");
}

void expect_exit_two_with(const CliResult& run, const std::string& message) {
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
}

TEST(ServeBudget, PoissonTrafficPastAMillionRequestsIsRefusedBeforeTheRun) {
  // 1,000 requests/s for an hour: 3.6e6 requests, 3.6e6 x 20 = 7.2e7 decoded tokens (inside
  // 3e8), 3.6e6 x 100 = 3.6e8 prompt tokens (inside 3e9): only the request count is over.
  const auto file = serving_file("budget-requests", R"({"rate_per_s": 1000, "duration_s": 3600,
      "input_tokens": 100, "output_tokens": 20})");
  const std::string expected =
      "/traffic: expected at most 1e+06 requests in a run (docs/limits.md), got about 3.6e+06 "
      "(3600000 requests from rate_per_s x duration_s)";
  expect_exit_two_with(serve(file), file.string() + ": " + expected);
  expect_exit_two_with(run_moesim("validate " + file.string(), "serve-budget-validate"), expected);
}

TEST(ServeBudget, MillionTokenOutputsPastTheDecodedTokensAreRefused) {
  // 20 requests/s for 60 s = 1,200 requests x 1,000,000 output tokens = 1.2e9 decoded tokens.
  const auto run = serve(serving_file("budget-decoded", R"({"rate_per_s": 20, "duration_s": 60,
      "input_tokens": 1000, "output_tokens": 1000000})"));
  expect_exit_two_with(
      run,
      "/traffic: expected at most 1.5e+08 decoded tokens in a run (docs/limits.md), "
      "got about 1.2e+09 (1200 requests from rate_per_s x duration_s)");
}

TEST(ServeBudget, MaxRequestsBoundsTheReckoning) {
  // A week at a million requests/s, but max_requests 50: 50 requests x 20 tokens, accepted.
  const auto file = serving_file("budget-max-requests", R"({"rate_per_s": 1000000,
      "duration_s": 604800, "max_requests": 50, "input_tokens": 100, "output_tokens": 20})");
  const auto check = run_moesim("validate " + file.string(), "serve-budget-validate");
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST(ServeBudget, APlansTrafficHasATenthOfTheRunBudget) {
  // mixtral-sla.json at 100 requests/s for an hour: 360,000 requests, over the 1e6 x 0.1 = 1e5 a
  // plan's traffic may ask (each simulated candidate replays it), though a serve run could.
  auto plan = nlohmann::json::parse(slurp(kSourceDir + "/scenarios/plans/mixtral-sla.json"));
  plan["serving"]["traffic"]["rate_per_s"] = 100;
  plan["serving"]["traffic"]["duration_s"] = 3600;
  const auto dir = scratch_dir("budget-plan");
  std::ofstream(dir / "plan.json") << plan.dump();
  expect_exit_two_with(run_moesim("validate " + (dir / "plan.json").string(), "serve-budget-plan"),
                       "/serving/traffic: expected at most 1e+05 requests in a plan's traffic "
                       "(simulated once per candidate) (docs/limits.md), got about 3.6e+05");
}

TEST(ServeBudget, AClosedLoopPastAMillionRequestsStopsWithExitTwo) {
  // A million users each send a request at t = 0: the loop reaches the bound at once.
  const auto run = serve(serving_file("budget-closed", R"({"arrival": "concurrency",
      "users": 1000000, "duration_s": 60, "input_tokens": 100, "output_tokens": 10})"));
  expect_exit_two_with(run,
                       "/traffic: the closed loop passed 1000000 requests before duration_s "
                       "(docs/limits.md); set max_requests or a shorter duration_s");
}

TEST(ServeBudget, ARunPastTwentyMillionEngineStepsStopsWithExitTwo) {
  // 12,000 prompts of 20,000 tokens (2.4e8 prompt tokens, inside 3e9) prefilled one token a rank
  // a step: 2.4e8 / 8 ranks = 3e7 steps, past the 2e7 bound (about 3 s to reach it).
  const auto run = serve(serving_file("budget-steps", R"({"rate_per_s": 20, "duration_s": 600,
      "input_tokens": 20000, "output_tokens": 1})",
                                      R"({"token_budget_per_rank": 1, "chunked_prefill": true})"));
  expect_exit_two_with(run, "/traffic: the run passed 20000000 engine steps on one instance");
}

}  // namespace
}  // namespace moesim::testing

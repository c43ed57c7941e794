#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

TEST(RunCommand, QuickstartWritesTheThreeFilesAndASummary) {
  const auto dir = scratch_dir("run-quickstart");
  const auto result = run_moesim("run quickstart --out " + dir.string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("tokens/s"), std::string::npos);
  EXPECT_NE(result.out.find("measured (profile h100"), std::string::npos);
  const auto report = nlohmann::json::parse(slurp(dir / "report.json"));
  EXPECT_EQ(report["schema_version"], 1);
  for (const char* field :
       {"step_time_ms", "tokens_per_s", "tokens_per_s_per_gpu", "imbalance_max_over_mean",
        "dropped_tokens", "drop_rate", "unrouted_tokens", "peak_memory_gib_per_gpu",
        "cost_per_million_tokens_usd", "profile_source"})
    EXPECT_TRUE(report["summary"].contains(field)) << field;
  EXPECT_EQ(report["summary"]["profile_source"],
            "measured");  // the shipped H100 profile has Mixtral
  EXPECT_GT(report["summary"]["tokens_per_s"].get<double>(), 0);
  // quickstart is Mixtral-8x7B: 32 layers, one CSV row each under the header, then one row per
  // step item (LM head and sampling, small-kernel overhead): 1 + 32 + 2 = 35 lines.
  const auto csv = slurp(dir / "report.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 35);
  EXPECT_NE(csv.find("\nlm_head_and_sampling,0,"), std::string::npos);
  const auto timeline = nlohmann::json::parse(slurp(dir / "timeline.json"));
  EXPECT_FALSE(timeline["traceEvents"].empty());
}

TEST(RunCommand, PerTokenTraceCountsDropsExactlyAndNeedsScoresForProbs) {
  // A generated Zipf trace records token -> expert ids without gate scores. With capacity factor 1
  // its hot experts overflow; the drops and unrouted tokens are counted token by token (so not
  // flagged as an estimate), and drop "probs" is refused: the trace has no scores to order by.
  const auto dir = scratch_dir("run-trace-policy");
  const auto trace = (dir / "t.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --kind zipf --layers 2 --experts 8 --top-k 2 --tokens 2048 -o " + trace,
                 "run-trace-policy")
          .exit_code,
      0);
  auto scenario = [&](const std::string& drop) {
    const auto path = dir / (drop + ".json");
    std::ofstream(path)
        << R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8", "profile": "roofline",
        "policy": {"capacity_factor": 1.0, "drop": ")"
        << drop << R"("}})";
    return path.string();
  };
  const auto out = dir / "out";
  auto result = run_moesim("run " + scenario("position") + " --trace " + trace +
                               " --repeat-layers -q --out " + out.string(),
                           "run-trace-policy");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(slurp(out / "report.json"));
  EXPECT_GT(report["summary"]["dropped_tokens"].get<double>(), 0);
  EXPECT_GT(report["summary"]["unrouted_tokens"].get<double>(), 0);
  EXPECT_EQ(report["summary"]["unrouted_estimated"], false);
  result = run_moesim("run " + scenario("probs") + " --trace " + trace +
                          " --repeat-layers -q --out " + out.string(),
                      "run-trace-policy");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("t.mtrace: /policy/drop: expected \"position\""), std::string::npos)
      << result.err;
}

TEST(RunCommand, ControlCharactersInTheScenarioNameAreEscapedInTheSummary) {
  // Issue 16: a name holding ESC [ 2 J (clear screen) reached the terminal raw.
  const auto dir = scratch_dir("run-escape");
  auto text = slurp(std::string(MOESIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  const std::string name = R"("name": "quickstart")";
  text.replace(text.find(name), name.size(), R"("name": "quick\u001b[2Jstart\nfake line")");
  std::ofstream(dir / "s.json") << text;
  const auto result = run_moesim(
      "run " + (dir / "s.json").string() + " --out " + (dir / "out").string(), "run-escape");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("scenario  quick\\x1b[2Jstart\\x0afake line  ("), std::string::npos)
      << result.out;
  EXPECT_EQ(result.out.find('\x1b'), std::string::npos);
}

TEST(RunCommand, SameInputSameBytes) {
  const auto a = scratch_dir("run-det-a");
  const auto b = scratch_dir("run-det-b");
  ASSERT_EQ(run_moesim("run quickstart -q --out " + a.string()).exit_code, 0);
  ASSERT_EQ(run_moesim("run quickstart -q --out " + b.string()).exit_code, 0);
  EXPECT_EQ(slurp(a / "report.json"), slurp(b / "report.json"));
  EXPECT_EQ(slurp(a / "timeline.json"), slurp(b / "timeline.json"));
}

TEST(RunCommand, UnknownScenarioIsInvalidInputWithASuggestion) {
  const auto result = run_moesim("run quikstart");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("quikstart"), std::string::npos);
  EXPECT_NE(result.err.find("did you mean \"quickstart\""), std::string::npos) << result.err;
}

TEST(RunCommand, MissingArgumentIsUsageError) {
  EXPECT_EQ(run_moesim("run").exit_code, 2);
  EXPECT_EQ(run_moesim("frobnicate").exit_code, 2);
}

TEST(RunCommand, ProfileOptionOverridesTheScenarios) {
  // quickstart's "auto" picks the measured H100 profile; --profile roofline prices by datasheet.
  const auto dir = scratch_dir("run-profile");
  const auto result = run_moesim("run quickstart -q --profile roofline --out " + dir.string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir / "report.json"))["summary"]["profile_source"],
            "roofline");
  const auto missing =
      run_moesim("run quickstart -q --profile /no/such/profile.json --out " + dir.string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/no/such/profile.json"), std::string::npos) << missing.err;
}

TEST(BenchCommand, TimesEachScenarioAndReportsPeakMemory) {
  const auto result = run_moesim("bench quickstart --repetitions 2 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = nlohmann::json::parse(result.out);
  ASSERT_EQ(out["runs"].size(), 1u);
  EXPECT_EQ(out["runs"][0]["scenario"], "quickstart");
  EXPECT_EQ(out["runs"][0]["repetitions"], 2);
  EXPECT_GT(out["runs"][0]["median_s"].get<double>(), 0);
  EXPECT_LE(out["runs"][0]["min_s"].get<double>(), out["runs"][0]["median_s"].get<double>());
  EXPECT_GT(out["peak_rss_mib"].get<double>(), 0);
  EXPECT_EQ(run_moesim("bench quickstart --repetitions 0").exit_code, 2);  // CLI11 range check
}

TEST(RunCommand, ATraceWithALayerOfNoTokensIsTheTracesFault) {
  // Session 12: a trace whose blocks hold 0 tokens was blamed on the scenario, once per layer.
  const std::string data = std::string(MOESIM_SOURCE_DIR) + "/tests/data/traces-bad/";
  const auto dir = scratch_dir("run-zero-trace");
  const auto result = run_moesim("run " + data + "zero-tokens-scenario.json --trace " + data +
                                     "zero-tokens.mtrace -q --out " + dir.string(),
                                 "run-zero-trace");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err.rfind("error: " + data +
                                 "zero-tokens.mtrace: layer 0: expected routed tokens in some "
                                 "block, got none\n",
                             0),
            0U)
      << result.err;
}

TEST(RunCommand, AScenariosProfileFileIsFoundBesideTheScenario) {
  // Session 12: "profile": "prof.json" was looked for in the working directory (the build tree
  // here), unlike the scenario's hf_config, placement and topology files.
  const auto dir = scratch_dir("run-profile-beside");
  const std::string source = MOESIM_SOURCE_DIR;
  std::filesystem::copy_file(source + "/scenarios/profiles/h100.json", dir / "prof.json");
  auto scenario = nlohmann::json::parse(slurp(source + "/scenarios/quickstart.json"));
  scenario["profile"] = "prof.json";
  std::ofstream(dir / "s.json") << scenario.dump();
  const auto result = run_moesim(
      "run " + (dir / "s.json").string() + " -q --out " + (dir / "out").string(), "run-profile");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(slurp(dir / "out" / "report.json"));
  bool named = false;
  for (const auto& input : report["provenance"]["inputs"])
    named = named || input.dump().find((dir / "prof.json").string()) != std::string::npos;
  EXPECT_TRUE(named) << report["provenance"].dump();
}

}  // namespace
}  // namespace moesim::testing

// Issue 19 end to end: per-layer placement, errors that follow the contract, provenance, compare
// and import-hf's scenario.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

// Two layers of 4 experts, top-1: layer 0 loads 7 5 4 2, layer 1 loads 8 1 1 0. Summed over layers
// they read 15 6 5 2, which hides how uneven layer 1 alone is.
std::string write_two_layer_counts(const std::filesystem::path& dir) {
  const auto counts = dir / "c.json";
  std::ofstream(counts) << R"({"top_k": 1, "tokens_per_expert": [[7, 5, 4, 2], [8, 1, 1, 0]]})";
  return counts.string();
}

TEST(PlaceCommand, EachLayerIsPlacedByItsOwnLoadAndTheWorstIsNamed) {
  const auto dir = scratch_dir("place-layers");
  const auto counts = write_two_layer_counts(dir);
  const auto out_file = (dir / "placement.json").string();
  auto result = run_moesim("place --strategy lpt --gpus 2 --json --out " + out_file + " " + counts,
                           "place-layers");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto out = nlohmann::json::parse(result.out);
  // Contiguous, 2 experts a GPU: layer 0 12 | 6, imbalance 12 / 9 = 4/3; layer 1 9 | 1, 9 / 5.
  EXPECT_DOUBLE_EQ(out["layers"][0]["imbalance_before"].get<double>(), 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(out["layers"][1]["imbalance_before"].get<double>(), 9.0 / 5.0);
  // LPT, heaviest first to the lighter GPU with a free slot: layer 0 7, 5, 4 (to 5), 2 (to 7):
  // 9 | 9 = 1; layer 1 8, 1, 1 (to 1), 0 (to 8, the other is full): 8 | 2, imbalance 8 / 5.
  EXPECT_DOUBLE_EQ(out["layers"][0]["imbalance_after"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(out["layers"][1]["imbalance_after"].get<double>(), 8.0 / 5.0);
  EXPECT_EQ(out["worst_layer"], 1);
  EXPECT_DOUBLE_EQ(out["imbalance_after"].get<double>(), (1.0 + 1.6) / 2);  // mean over layers
  // The file --out wrote is one placement per layer, and strategy explicit reads it back.
  result = run_moesim(
      "place --strategy explicit --gpus 2 --json --placement-file " + out_file + " " + counts,
      "place-layers-explicit");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto back = nlohmann::json::parse(result.out);
  EXPECT_DOUBLE_EQ(back["layers"][1]["imbalance_after"].get<double>(), 8.0 / 5.0);
  EXPECT_EQ(back["layers"][0]["slots"], out["layers"][0]["slots"]);
}

TEST(PlaceCommand, ExplicitWithoutAFileSaysWhatIsMissing) {
  const auto counts = write_two_layer_counts(scratch_dir("place-explicit-missing"));
  const auto result = run_moesim("place --strategy explicit --gpus 2 " + counts, "place-em");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("expected a placement file for strategy \"explicit\" (hint: "
                            "--placement-file FILE"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find(": : "), std::string::npos) << result.err;  // never an empty name
}

TEST(ValidateCommand, EveryFileIsCheckedAndEveryBadOneNamed) {
  const auto dir = scratch_dir("validate-all");
  const auto bad1 = (dir / "bad1.json").string(), bad2 = (dir / "bad2.json").string();
  std::ofstream(bad1) << R"({"schema_version": 1, "model": "no-such-model", "cluster": "h100x8"})";
  std::ofstream(bad2) << R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": 7})";
  const auto result = run_moesim("validate " + bad1 + " quickstart " + bad2, "validate-all");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.out.find("quickstart: ok"), std::string::npos) << result.out;  // after bad1
  EXPECT_NE(result.err.find(bad1), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(bad2), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("2 of 3 files invalid"), std::string::npos) << result.err;
}

TEST(TraceCommand, CountsWithoutTopKAreBadInputWithAHint) {
  const auto dir = scratch_dir("trace-import-topk");
  const auto csv = (dir / "counts.csv").string();
  std::ofstream(csv) << "layer,e0,e1\n0,4,4\n";
  const auto result =
      run_moesim("trace import " + csv + " -o " + (dir / "t.mtrace").string(), "trace-topk");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("hint: pass --top-k"), std::string::npos) << result.err;
}

TEST(TraceCommand, CorruptNpyIsNamedForWhatIsWrong) {
  const auto dir = scratch_dir("trace-npy-corrupt");
  const auto npy = (dir / "bad.npy").string();
  std::ofstream(npy) << "PK\x03\x04 not numpy";
  const auto result = run_moesim("trace stats " + npy, "trace-npy");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("not an .npy array, or a corrupt one: expected the magic"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("got extension"), std::string::npos) << result.err;
}

TEST(CompareCommand, ReportsSideBySideWithDeltasAndCsv) {
  const auto dir = scratch_dir("compare");
  const auto a = dir / "a", b = dir / "b";
  ASSERT_EQ(
      run_moesim("run quickstart -q --profile roofline --out " + a.string(), "cmp-a").exit_code, 0);
  ASSERT_EQ(run_moesim("run dsv3-prefill-h200x256 -q --out " + b.string(), "cmp-b").exit_code, 0);
  const auto csv = (dir / "ab.csv").string();
  const auto result = run_moesim("compare " + (a / "report.json").string() + " " +
                                     (b / "report.json").string() + " --csv " + csv,
                                 "cmp");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("step_time_ms"), std::string::npos);
  EXPECT_NE(result.out.find("%)"), std::string::npos) << result.out;      // a relative delta
  EXPECT_NE(result.out.find("note: "), std::string::npos) << result.out;  // scenarios differ
  const auto table = slurp(csv);
  EXPECT_EQ(table.rfind("figure,", 0), 0U);
  EXPECT_NE(table.find("\"step_time_ms\","), std::string::npos);
}

TEST(CheckCommand, ProvenanceBeyondTheTraceWarnsAndFailsWhenStrict) {
  const auto dir = scratch_dir("check-provenance");
  const auto a = dir / "a", b = dir / "b";
  // The same scenario from two files whose bytes differ by a trailing newline: the figures match,
  // but the scenario is not the input under test, so its provenance differing is worth a word.
  const std::string original = std::string(MOESIM_SOURCE_DIR) + "/scenarios/quickstart.json";
  const auto copy = dir / "quickstart-copy.json";
  std::ofstream(copy) << slurp(original) << "\n";
  ASSERT_EQ(run_moesim("run " + original + " -q --out " + a.string(), "chk-a").exit_code, 0);
  ASSERT_EQ(run_moesim("run " + copy.string() + " -q --out " + b.string(), "chk-b").exit_code, 0);
  const std::string reports = (a / "report.json").string() + " " + (b / "report.json").string();
  auto result = run_moesim("check " + reports, "chk");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("warning: provenance differs beyond the trace: scenario: "),
            std::string::npos)
      << result.err;
  result = run_moesim("check --strict " + reports, "chk-strict");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("error: provenance differs"), std::string::npos) << result.err;
  // Differently named scenarios compare only when asked.
  const auto c = dir / "c";
  ASSERT_EQ(run_moesim("run dsv3-prefill-h200x256 -q --out " + c.string(), "chk-c").exit_code, 0);
  const std::string ab = (a / "report.json").string() + " " + (c / "report.json").string();
  result = run_moesim("check " + ab, "chk-names");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("hint: --other-scenario"), std::string::npos) << result.err;
  // Compared (exit 0 or 1, a verdict; not 2, refused).
  result = run_moesim("check --other-scenario " + ab, "chk-other");
  EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.err;
  EXPECT_NE(result.out.find("step_time_ms"), std::string::npos) << result.out;
}

TEST(RunCommand, ReportRecordsItsInputsAndWhatTheTraceWasScaledTo) {
  const auto dir = scratch_dir("run-provenance");
  const auto trace = (dir / "t.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --layers 32 --experts 8 --top-k 2 --tokens 512 -o " + trace, "prov-gen")
          .exit_code,
      0);
  const auto result =
      run_moesim("run quickstart --trace " + trace + " --out " + (dir / "o").string(), "prov");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(slurp(dir / "o" / "report.json"));
  const auto& p = report["provenance"];
  EXPECT_EQ(p["moesim_version"], "0.1.0");
  EXPECT_EQ(p["inputs"]["trace"]["path"], trace);
  EXPECT_EQ(p["inputs"]["trace"]["crc32c"].get<std::string>().size(), 8U);
  EXPECT_EQ(p["inputs"]["scenario"]["builtin"], true);
  // 512 tokens per step in the trace's first layer, one step; quickstart routes 4,096 tokens per
  // GPU x 8 GPUs = 32,768 per layer and step: x64.
  EXPECT_NE(p["adjustments"][0].get<std::string>().find("512 tokens"), std::string::npos);
  EXPECT_NE(p["adjustments"][0].get<std::string>().find("32768 tokens"), std::string::npos);
  EXPECT_NE(result.out.find("trace     " + trace), std::string::npos) << result.out;
}

TEST(ImportHfCommand, JsonOutputAndConfigPathAreScenarioModels) {
  const auto dir = scratch_dir("import-hf-model");
  const std::string config = std::string(MOESIM_SOURCE_DIR) + "/tests/data/hf/mixtral-8x7b.json";
  auto result = run_moesim("import-hf --json " + config, "hf-json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto model = nlohmann::json::parse(result.out);
  for (const auto& [name, model_value] :
       {std::pair{"inline", model}, std::pair{"hf", nlohmann::json{{"hf_config", config}}}}) {
    const auto scenario = dir / (std::string(name) + ".json");
    std::ofstream(scenario) << nlohmann::json{
        {"schema_version", 1},
        {"model", model_value},
        {"cluster", "h100x8"},
        {"parallelism",
         {{"expert_parallel", 8}}}}.dump();
    result = run_moesim("validate " + scenario.string(), "hf-validate");
    EXPECT_EQ(result.exit_code, 0) << name << ": " << result.err;
  }
  // A derived count that disagrees with the fields is refused, naming the field.
  auto wrong = model;
  wrong["active_params"] = 1;
  std::ofstream(dir / "wrong.json")
      << nlohmann::json{{"schema_version", 1}, {"model", wrong}, {"cluster", "h100x8"}}.dump();
  result = run_moesim("validate " + (dir / "wrong.json").string(), "hf-wrong");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/model/active_params: expected"), std::string::npos) << result.err;
  // --scenario writes one that runs.
  const auto written = (dir / "mine.json").string();
  result = run_moesim("import-hf " + config + " --scenario " + written + " --cluster h100x8",
                      "hf-scenario");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(run_moesim("run " + written + " -q --out " + (dir / "o").string(), "hf-run").exit_code,
            0);
}

// A scenario naming a config that does not exist is refused at its own field, so the user sees
// which scenario and which field named the missing file (the schema-wide hostile sweep found the
// message naming only the config).
TEST(ImportHfCommand, MissingConfigIsReportedAtTheScenarioField) {
  const auto dir = scratch_dir("import-hf-missing");
  const auto scenario = dir / "names-missing.json";
  std::ofstream(scenario) << nlohmann::json{
      {"schema_version", 1},
      {"model", {{"hf_config", "nothere.json"}}},
      {"cluster", "h100x8"}}.dump();
  const auto result = run_moesim("validate " + scenario.string(), "hf-missing");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("names-missing.json: /model/hf_config: "), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("nothere.json: /: cannot open file for reading"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace moesim::testing

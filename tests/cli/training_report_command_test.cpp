// Issues 19 and 22, the review's gaps end to end: compare shows why two pipeline schedules differ,
// a training step's account adds up in the CSV, the ZeRO combinations plan refuses are refused by
// run too, and a model read from an HF config.json is in the report's provenance.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

std::string builtin_3d_scenario() {
  return slurp(std::string(MOESIM_SOURCE_DIR) + "/scenarios/mixtral-train-h100x64-3d.json");
}

// The row of `figure` in compare's CSV: its cells after the figure's name.
std::vector<std::string> csv_row(const std::string& csv, const std::string& figure) {
  const auto at = csv.find("\n\"" + figure + "\",");
  if (at == std::string::npos) return {};
  const auto end = csv.find('\n', at + 1);
  std::vector<std::string> cells;
  std::stringstream line(csv.substr(at + figure.size() + 4, end - at - figure.size() - 4));
  for (std::string cell; std::getline(line, cell, ',');) cells.push_back(cell);
  return cells;
}

TEST(TrainingReport, CompareNamesTheBubbleAsWhatInterleavingChanges) {
  const auto dir = scratch_dir("compare-pipeline");
  auto interleaved = nlohmann::json::parse(builtin_3d_scenario());
  interleaved["parallelism"]["pipeline_parallel"]["schedule"] = "interleaved";
  interleaved["parallelism"]["pipeline_parallel"]["virtual_stages"] = 2;
  std::ofstream(dir / "interleaved.json") << interleaved.dump();
  ASSERT_EQ(
      run_moesim("run mixtral-train-h100x64-3d -q --out " + (dir / "a").string(), "pp-a").exit_code,
      0);
  ASSERT_EQ(
      run_moesim("run " + (dir / "interleaved.json").string() + " -q --out " + (dir / "b").string(),
                 "pp-b")
          .exit_code,
      0);
  const auto csv = (dir / "ab.csv").string();
  const auto result = run_moesim("compare " + (dir / "a" / "report.json").string() + " " +
                                     (dir / "b" / "report.json").string() + " --csv " + csv,
                                 "pp-cmp");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("step pipeline_bubble ms"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("backward exposed experts_ms"), std::string::npos) << result.out;
  // Bubble (p - 1)(F + B + 2 v s) / v with F = 8 blocks x 3.789400 = 30.315, B = 8 x 7.372386 =
  // 58.979, s 0.4214 ms (docs/parallelism.md): 1F1B 3 x (30.315 + 58.979 + 0.843) = 270.41 ms;
  // interleaved, v = 2: 3 x (30.315 + 58.979 + 1.686) / 2 = 136.47 ms.
  const auto bubble = csv_row(slurp(csv), "step pipeline_bubble ms");
  ASSERT_GE(bubble.size(), 2U) << slurp(csv);
  EXPECT_NEAR(std::stod(bubble[0]), 270.41, 0.01);
  EXPECT_NEAR(std::stod(bubble[1]), 136.47, 0.01);
  const auto virtual_stages = csv_row(slurp(csv), "training pipeline virtual_stages");
  ASSERT_GE(virtual_stages.size(), 2U);
  EXPECT_EQ(virtual_stages[0], "1");
  EXPECT_EQ(virtual_stages[1], "2");
}

TEST(TrainingReport, CsvNamedRowsSumToTheStepWithBackwardColumns) {
  const auto dir = scratch_dir("train-csv");
  const auto result = run_moesim("run mixtral-train-h100x64-3d --out " + dir.string(), "tr-csv");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(slurp(dir / "report.json"));
  const double step = report["summary"]["step_time_ms"].get<double>();
  const std::string csv = slurp(dir / "report.csv");
  EXPECT_NE(csv.find(",backward_dense_ms,backward_gate_ms,backward_dispatch_ms,backward_experts_ms,"
                     "backward_combine_ms\n"),
            std::string::npos);
  // The rows named forward, backward and the step items (their total_ms, the 8th cell).
  double named = 0;
  int rows = 0;
  std::stringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == 'l')
      continue;
    std::stringstream cells(line);
    std::string cell;
    for (int column = 0; column < 8; ++column) std::getline(cells, cell, ',');
    named += std::stod(cell);
    ++rows;
  }
  // forward, backward, send/recv, bubble, gradient, optimizer, weight gather (6 decimals each).
  EXPECT_EQ(rows, 7);
  EXPECT_NEAR(named, step, 7e-6);
  EXPECT_EQ(result.out.find("forward_other_micro_batches"), std::string::npos);
  EXPECT_NE(result.out.find("bwd exp.  "), std::string::npos) << result.out;
}

TEST(TrainingReport, RunRefusesTheZeroStagesPlanRefuses) {
  const auto dir = scratch_dir("zero-stage");
  auto zero3 = nlohmann::json::parse(builtin_3d_scenario());
  zero3["parallelism"]["data_parallel"]["zero_stage"] = 3;
  std::ofstream(dir / "zero3.json") << zero3.dump();
  auto result = run_moesim("run " + (dir / "zero3.json").string() + " -q", "zero3");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/parallelism/data_parallel/zero_stage: expected 0 or 1 with pipeline "
                            "parallel"),
            std::string::npos)
      << result.err;
  auto serving =
      nlohmann::json::parse(slurp(std::string(MOESIM_SOURCE_DIR) + "/scenarios/quickstart.json"));
  serving["parallelism"]["data_parallel"] = {{"zero_stage", 2}};
  std::ofstream(dir / "serving.json") << serving.dump();
  result = run_moesim("validate " + (dir / "serving.json").string(), "zero-serving");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/parallelism/data_parallel/zero_stage: expected 1 (the default) "
                            "without workload.kind \"training\""),
            std::string::npos)
      << result.err;
}

TEST(TrainingReport, AnHfConfigModelIsAnInputOfTheReport) {
  const auto dir = scratch_dir("hf-provenance");
  const std::string config = std::string(MOESIM_SOURCE_DIR) + "/tests/data/hf/mixtral-8x7b.json";
  std::ofstream(dir / "s.json") << nlohmann::json{
      {"schema_version", 1},
      {"model", {{"hf_config", config}}},
      {"cluster", "h100x8"},
      {"parallelism",
       {{"expert_parallel", 8}}}}.dump();
  const auto result =
      run_moesim("run " + (dir / "s.json").string() + " -q --out " + (dir / "o").string(), "hf");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(slurp(dir / "o" / "report.json"));
  const auto& input = report["provenance"]["inputs"]["hf_config"];
  EXPECT_EQ(input["path"], config);
  EXPECT_EQ(input["crc32c"].get<std::string>().size(), 8U);
}

}  // namespace
}  // namespace moesim::testing

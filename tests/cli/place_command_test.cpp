#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

// loads 7, 5, 4, 2 over 4 experts, top-1 (the count matrix of trace_command_test's place tests).
std::string write_counts(const std::filesystem::path& dir) {
  const auto counts = dir / "c.json";
  std::ofstream(counts) << R"({"top_k": 1, "tokens_per_expert": [[7, 5, 4, 2]]})";
  return counts.string();
}

TEST(PlaceCommand, HugeRedundantCountIsRefusedAtOnce) {
  // Issue 16: --redundant 1000000000 placed for minutes. kMaxRedundantExperts = 8192.
  const auto counts = write_counts(scratch_dir("place-redundant"));
  const auto result = run_moesim("place --gpus 2 --redundant 1000000000 " + counts, "place-r");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--redundant: Value 1000000000 not in range 0 to 8192"),
            std::string::npos)
      << result.err;
}

TEST(PlaceCommand, GroupsThatCannotApplyAreRefusedNotIgnored) {
  const auto counts = write_counts(scratch_dir("place-groups"));
  // 3 groups cannot split 4 experts: hierarchical EPLB would silently fall back to global.
  auto result = run_moesim("place --gpus 2 --groups 3 " + counts, "place-g3");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: --groups: /: 3 groups do not divide the 4 experts\n");
  // Groups mean nothing to LPT.
  result = run_moesim("place --strategy lpt --gpus 2 --groups 2 " + counts, "place-lpt");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: --groups: /: expert groups apply to --strategy eplb only, not lpt\n");
  // 2 groups of 2 experts over 2 nodes of 1 GPU: hierarchical EPLB applies.
  result = run_moesim("place --gpus 2 --nodes 2 --groups 2 --json " + counts, "place-g2");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Groups {7, 5} = 12 and {4, 2} = 6 go to one node each: loads 12 | 6, imbalance 12 / 9.
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(result.out)["imbalance_after"].get<double>(), 12.0 / 9.0);
}

TEST(PlaceCommand, ExpertsOptionOnARoutingTraceIsRefusedNotIgnored) {
  const auto dir = scratch_dir("place-experts");
  const std::string trace = (dir / "t.mtrace").string();
  ASSERT_EQ(
      run_moesim("trace gen --layers 1 --experts 4 --top-k 1 --tokens 8 -o " + trace, "place-gen")
          .exit_code,
      0);
  const auto result = run_moesim("place --gpus 2 --experts 8 " + trace, "place-e");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: --experts: /: " + trace +
                            " is a routing trace (.mtrace); --experts does not apply to it (it "
                            "gives its own experts)\n");
}

TEST(PlaceCommand, OutputOverTheInputIsRefusedAndTheInputKept) {
  // Session 9 hunt: `place c.json --out c.json` exited 0 and replaced the routing with the
  // placement it computed from it.
  const auto counts = write_counts(scratch_dir("place-out"));
  const auto before = slurp(counts);
  const auto result = run_moesim("place --gpus 2 --out " + counts + " " + counts, "place-out");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: " + counts + ": /: is the same file as the input " + counts +
                            "; expected another output path (writing it would destroy the "
                            "input)\n");
  EXPECT_EQ(slurp(counts), before);
}

TEST(PlaceCommand, MapLayerWithoutStrategyExplicitIsRefusedNotIgnored) {
  const auto counts = write_counts(scratch_dir("place-map-layer"));
  const auto result = run_moesim("place --gpus 2 --map-layer 0 " + counts, "place-ml");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "error: --map-layer: /: applies to --strategy explicit only, not eplb\n");
}

TEST(PlaceCommand, LayersTimesSlotsPastTheCellLimitAreRefusedAtOnce) {
  // Session 12: 1,024 layers x (256 + 7,936) slots placed past 20 s. Scenarios bound MoE layers x
  // expert slots by kMaxLayerExpertCells = 2^18 = 262,144; place now does too.
  // 33 layers of 4 experts + 8,188 redundant = 33 x 8,192 = 270,336 cells (32 layers would fit).
  const auto dir = scratch_dir("place-cells");
  std::string rows;
  for (int layer = 0; layer < 33; ++layer) rows += layer ? ", [7, 5, 4, 2]" : "[7, 5, 4, 2]";
  const auto counts = (dir / "c.json").string();
  std::ofstream(counts) << R"({"top_k": 1, "tokens_per_expert": [)" << rows << "]}";
  const auto result = run_moesim("place --gpus 8 --redundant 8188 " + counts, "place-cells");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err,
            "error: --redundant: /: expected MoE layers x expert slots <= 262144 "
            "(docs/limits.md), got 33 x (4 + 8188 redundant) = 270336\n");
}

}  // namespace
}  // namespace moesim::testing

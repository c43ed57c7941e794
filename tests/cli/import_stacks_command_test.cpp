// `moesim trace import|stats` and `place` on what SGLang, vLLM and Megatron-Core write: the
// fixtures of tests/data/importers (made with torch; expected.json has torch's own counts).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kFixtures = std::string(MOESIM_SOURCE_DIR) + "/tests/data/importers/";

nlohmann::json expected() { return nlohmann::json::parse(slurp(kFixtures + "expected.json")); }

TEST(ImportStacksCommand, TraceImportDetectsEachFormatAndKeepsItsCounts) {
  const auto dir = scratch_dir("import-stacks");
  for (const std::string file : {"sglang_stat.pt", "sglang_per_pass.pt", "vllm_routed_experts.npy",
                                 "vllm_routed_experts.npz", "router_trace_rank0.jsonl"}) {
    SCOPED_TRACE(file);
    const std::string options = file.starts_with("sglang") ? "--top-k 2" : "--experts 8";
    const auto trace = (dir / (file + ".mtrace")).string();
    auto result = run_moesim("trace import " + kFixtures + file + " " + options + " -o " + trace,
                             "import-stacks");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    result = run_moesim("trace stats --json " + trace, "import-stacks");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const auto stats = nlohmann::json::parse(result.out);
    const auto want = expected()[file];
    ASSERT_EQ(stats["layers"].size(), want["tokens_per_expert"].size());
    for (std::size_t l = 0; l < stats["layers"].size(); ++l)
      EXPECT_EQ(stats["layers"][l]["tokens_per_expert"], want["tokens_per_expert"][l]);
  }
}

TEST(ImportStacksCommand, OptionsAFormatDoesNotReadAreRefused) {
  // SGLang's counts need top-k and give their own experts; a Megatron trace gives its own top-k.
  auto result = run_moesim("trace stats " + kFixtures + "sglang_stat.pt", "import-refuse");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--top-k"), std::string::npos) << result.err;
  result = run_moesim("trace stats --experts 8 --top-k 2 " + kFixtures + "sglang_stat.pt",
                      "import-refuse");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--experts"), std::string::npos) << result.err;
  result = run_moesim("trace stats --top-k 2 " + kFixtures + "router_trace_rank0.jsonl",
                      "import-refuse");
  EXPECT_EQ(result.exit_code, 2);
}

TEST(ImportStacksCommand, AnExpertMapIsAPlacementNotRouting) {
  auto result = run_moesim("trace stats " + kFixtures + "vllm_physical_to_logical.pt", "map");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("physical-to-logical expert map"), std::string::npos) << result.err;
  // Layer 1 of the map is [0..7, 0, 5]: with 2 GPUs, slots 0-4 on GPU 0 and 5-9 on GPU 1.
  result = run_moesim("place --strategy explicit --gpus 2 --json --placement-file " + kFixtures +
                          "vllm_physical_to_logical.npy --map-layer 1 --experts 8 " + kFixtures +
                          "vllm_routed_experts.npy",
                      "map");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // `place` places each of the trace's layers; --map-layer gives every one the map's row 1.
  const auto placed = nlohmann::json::parse(result.out);
  ASSERT_FALSE(placed["layers"].empty()) << result.out;
  for (const auto& layer : placed["layers"])
    EXPECT_EQ(layer["slots"], nlohmann::json::parse("[[0, 1, 2, 3, 4], [5, 6, 7, 0, 5]]"));
  // Without --map-layer the two differing layers are refused by name.
  result = run_moesim("place --strategy explicit --gpus 2 --placement-file " + kFixtures +
                          "sglang_expert_location.json --experts 8 " + kFixtures +
                          "vllm_routed_experts.npy",
                      "map");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("layer 1 differs from layer 0"), std::string::npos) << result.err;
}

TEST(ImportStacksCommand, ATruncatedRecordExitsTwoNamingTheFile) {
  const auto dir = scratch_dir("import-cut");
  const auto cut = dir / "cut.pt";
  const std::string bytes = slurp(kFixtures + "sglang_stat.pt");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto result = run_moesim("trace stats --top-k 2 " + cut.string(), "import-cut");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("cut.pt: byte 0: expected a ZIP archive"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace moesim::testing

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

const std::string kHf = std::string(MOESIM_SOURCE_DIR) + "/tests/data/hf/";

TEST(ImportHfCommand, JsonHoldsTheContractFields) {
  const auto result = run_moesim("import-hf --json " + kHf + "deepseek-v3.json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto spec = nlohmann::json::parse(result.out);
  for (const char* field : {"layers", "moe_layers", "hidden", "experts", "top_k", "shared_experts",
                            "expert_ffn", "total_params", "active_params"})
    EXPECT_TRUE(spec.contains(field)) << field;
  EXPECT_EQ(spec["moe_layers"], 58);  // first_k_dense_replace = 3 of 61 blocks
  EXPECT_EQ(spec["expert_ffn"], 2048);
}

TEST(ImportHfCommand, TextSummaryShowsParameters) {
  const auto result = run_moesim("import-hf " + kHf + "qwen3-30b-a3b.json");
  ASSERT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("B total"), std::string::npos);
}

TEST(ImportHfCommand, BadConfigExitsTwo) {
  const auto dir = scratch_dir("import-hf-bad");
  { std::ofstream(dir / "config.json") << R"({"hidden_size": 64})"; }
  const auto result = run_moesim("import-hf " + (dir / "config.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("config.json: /vocab_size: missing required field"), std::string::npos)
      << result.err;
}

TEST(ImportHfCommand, DbrxHeadsThatWouldNarrowToZeroExitTwoNamingTheField) {
  // The issue's reproducer: DBRX n_heads = 2^32 crashed with SIGFPE (exit 136 from the shell).
  const auto dir = scratch_dir("import-hf-heads");
  {
    std::ofstream(dir / "config.json") << R"({"model_type": "dbrx", "d_model": 6144,
        "n_heads": 4294967296, "n_layers": 40, "vocab_size": 100352,
        "attn_config": {"kv_n_heads": 8},
        "ffn_config": {"ffn_hidden_size": 10752, "moe_num_experts": 16, "moe_top_k": 4}})";
  }
  const auto result = run_moesim("import-hf " + (dir / "config.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("config.json: /n_heads: expected an integer in [1, 1024], got "
                            "4294967296"),
            std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace moesim::testing

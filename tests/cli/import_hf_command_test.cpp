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

TEST(ImportHfCommand, AModelTooLargeForTheDividingEpSpreadsOverEveryGpu) {
  // Session 13: switch-c-2048 (2,048 experts, ~1.6 T parameters) on gb200x72 got EP gcd(72, 2048)
  // = 8, which needs 363 GiB a GPU, so its own scenario did not run. EP 72 with (72 - 2048 mod 72)
  // = 72 - 32 = 40 redundant slots makes 2,088 = 29 x 72 slots and fits.
  const auto dir = scratch_dir("import-hf-spread");
  const auto scenario = (dir / "s.json").string();
  const auto written = run_moesim(
      "import-hf " + kHf + "switch-c-2048.json --cluster gb200x72 --scenario " + scenario, "hf-sp");
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_NE(written.out.find("EP 72"), std::string::npos) << written.out;
  const auto spec = nlohmann::json::parse(slurp(scenario));
  EXPECT_EQ(spec["parallelism"]["expert_parallel"], 72);
  EXPECT_EQ(spec["placement"]["redundant_experts"], 40);
  const auto ran = run_moesim("run " + scenario + " -q --out " + (dir / "out").string(), "hf-sp-r");
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
}

TEST(ImportHfCommand, TiedEmbeddingsSurviveIntoTheScenarioItWrites) {
  // Session 12: a config with tie_word_embeddings true printed a model whose parameter counts
  // the scenario reader recomputed with two tables, so --scenario refused its own file (exit 2).
  const auto dir = scratch_dir("import-hf-tied");
  std::string config = slurp(kHf + "mixtral-8x7b.json");
  const std::string untied = "\"tie_word_embeddings\": false";
  ASSERT_NE(config.find(untied), std::string::npos);
  config.replace(config.find(untied), untied.size(), "\"tie_word_embeddings\": true");
  const auto tied_path = (dir / "config.json").string();
  std::ofstream(tied_path) << config;
  const auto untied_run = run_moesim("import-hf --json " + kHf + "mixtral-8x7b.json", "hf-untied");
  const auto tied_run = run_moesim("import-hf --json " + tied_path, "hf-tied");
  ASSERT_EQ(tied_run.exit_code, 0) << tied_run.err;
  const auto untied_spec = nlohmann::json::parse(untied_run.out);
  const auto tied_spec = nlohmann::json::parse(tied_run.out);
  EXPECT_EQ(untied_spec["tied_embeddings"], false);
  EXPECT_EQ(tied_spec["tied_embeddings"], true);
  // One vocab x hidden table fewer: 32,000 x 4,096 = 131,072,000 parameters, in total and active.
  EXPECT_EQ(untied_spec["total_params"].get<std::int64_t>() -
                tied_spec["total_params"].get<std::int64_t>(),
            131'072'000);
  EXPECT_EQ(untied_spec["active_params"].get<std::int64_t>() -
                tied_spec["active_params"].get<std::int64_t>(),
            131'072'000);
  const auto scenario = (dir / "s.json").string();
  const auto written =
      run_moesim("import-hf " + tied_path + " --scenario " + scenario, "hf-tied-s");
  ASSERT_EQ(written.exit_code, 0) << written.err;
  const auto ran =
      run_moesim("run " + scenario + " -q --out " + (dir / "out").string(), "hf-tied-r");
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
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

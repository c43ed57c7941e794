// Block-scaled FP8 (DeepSeek-V3's 128x128 weight blocks, 1x128 activation slices): the profile's
// measured block/per-tensor ratio read per shape, and applied to compute-bound GEMMs only.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/config_error.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

nlohmann::json bare_profile() {
  return nlohmann::json::parse(R"({"schema_version": 1,
      "ceilings": {"dense_bf16_flops_per_s": 6e14, "copy": {"bytes_per_s": 4e12}},
      "overheads": {"count_copy_and_sync": {"median_us": 12}}, "models": []})");
}

// FP8 GEMMs at `fp8_ratio` of the BF16 time and block-scaled ones at `block_ratio` of per-tensor
// FP8, both flat over rows 16 and 16,384 (one 18,432 x 7,168 shape); no block section at 0.
MeasuredProfile flat_profile(double fp8_ratio, double block_ratio) {
  nlohmann::json document = bare_profile();
  for (int m : {16, 16384}) {
    document["fp8_gemm"].push_back(
        {{"m", m}, {"n", 18432}, {"k", 7168}, {"bf16_us", 100.0}, {"fp8_us", 100.0 * fp8_ratio}});
    if (block_ratio > 0)
      document["fp8_block_gemm"].push_back({{"m", m},
                                            {"n", 18432},
                                            {"k", 7168},
                                            {"fp8_us", 50.0},
                                            {"fp8_block_us", 50.0 * block_ratio}});
  }
  return MeasuredProfile(document, "block.json");
}

TEST(Fp8Block, TheRatioIsBlockOverTensorSummedPerShape) {
  // Rows 64: (12 + 30) / (10 + 25) = 1.2; rows 4096: (110 + 54) / (100 + 50) = 1.0933; halfway in
  // rows (2080) halfway in ratio; flat outside. No section: nullopt.
  auto gemm = [](int m, int n, double tensor, double block) {
    return nlohmann::json{
        {"model", "deepseek-v3"}, {"m", m}, {"n", n}, {"k", 7168}, {"fp8_us", tensor},
        {"fp8_block_us", block}};
  };
  nlohmann::json document = bare_profile();
  document["fp8_block_gemm"] = {gemm(64, 4096, 10, 12), gemm(64, 7168, 25, 30),
                                gemm(4096, 4096, 100, 110), gemm(4096, 7168, 50, 54)};
  const MeasuredProfile profile(document, "block.json");
  const double weights = 3.0 * 7168 * 2048;
  EXPECT_DOUBLE_EQ(*profile.fp8_block_over_tensor(64, weights), 1.2);
  EXPECT_DOUBLE_EQ(*profile.fp8_block_over_tensor(4096, weights), 164.0 / 150);
  EXPECT_DOUBLE_EQ(*profile.fp8_block_over_tensor(2080, weights), (1.2 + 164.0 / 150) / 2);
  EXPECT_DOUBLE_EQ(*profile.fp8_block_over_tensor(1, weights), 1.2);
  EXPECT_FALSE(MeasuredProfile(bare_profile(), "b.json").fp8_block_over_tensor(64, weights));
}

TEST(Fp8Block, AnEmptySectionIsRefusedWithItsPath) {
  nlohmann::json document = bare_profile();
  document["fp8_block_gemm"] = nlohmann::json::array();
  try {
    MeasuredProfile(document, "block.json");
    FAIL() << "accepted an empty fp8_block_gemm";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "block.json: /fp8_block_gemm: expected a non-empty array of {m, n, k, fp8_us, "
              "fp8_block_us}");
  }
}

// DeepSeek-V3 prefilling 16,384 tokens a GPU at `weight_bytes` with `scale_block`: the dense
// block's time at `tokens` rows.
double prefill_dense(const char* scale_block, int tokens, const MeasuredProfile& profile,
                     const char* weight_bytes = "1") {
  const std::string text = fmt::format(
      R"({{"schema_version": 1, "model": {{"preset": "deepseek-v3", "weight_bytes": {},
          "weight_scale_block": {}}}, "cluster": "h200x8", "parallelism": {{"expert_parallel": 8}},
          "workload": {{"kind": "prefill", "tokens_per_gpu": 16384, "context_tokens": 4096}}}})",
      weight_bytes, scale_block);
  return LayerCostModel(parse_scenario(text, "block.json"), &profile).dense_time(tokens, false);
}

TEST(Fp8Block, ComputeBoundGemmsPayTheRatioAndWeightBoundOnesDoNot) {
  // 16,384 rows: above the H200's FP8 ridge (1,979e12 / (2 x 4.8e12) = 206 rows), so block scales
  // at 1.2 over per-tensor FP8 at 0.5 of BF16 price as per-tensor FP8 at 0.6: the same dense time.
  // The attention core and elementwise kernels do not depend on either ratio.
  const MeasuredProfile block = flat_profile(0.5, 1.2), tensor_06 = flat_profile(0.6, 0);
  EXPECT_NEAR(prefill_dense("128", 16384, block), prefill_dense("0", 16384, tensor_06),
              1e-12 * prefill_dense("0", 16384, tensor_06));
  EXPECT_GT(prefill_dense("128", 16384, block), prefill_dense("0", 16384, block) * 1.05);
  // 64 rows: below the ridge the weights are streamed as fast with or without block scales.
  EXPECT_DOUBLE_EQ(prefill_dense("128", 64, block), prefill_dense("0", 64, block));
  // FP4 weights (priced as FP8) carry their own scales: no FP8 block ratio.
  EXPECT_DOUBLE_EQ(prefill_dense("128", 16384, block, "0.5"),
                   prefill_dense("0", 16384, block, "0.5"));
  // A profile without block measurements prices block-scaled GEMMs as per-tensor.
  const MeasuredProfile no_block = flat_profile(0.5, 0);
  EXPECT_DOUBLE_EQ(prefill_dense("128", 16384, no_block), prefill_dense("0", 16384, no_block));
}

TEST(Fp8Block, OnlyTheTwoMeasuredRecipesAreAccepted) {
  const auto parse = [](const char* block) {
    return parse_scenario(fmt::format(R"({{"schema_version": 1, "model": {{"preset":
        "mixtral-8x7b", "weight_scale_block": {}}}, "cluster": "h200x8"}})",
                                      block),
                          "s.json");
  };
  EXPECT_EQ(parse("128").model.weight_scale_block, 128);
  EXPECT_EQ(parse("0").model.weight_scale_block, 0);
  try {
    parse("64");
    FAIL() << "accepted 64";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/model/weight_scale_block: expected 0 (one FP8 scale a "
                                         "tensor) or 128"),
              std::string::npos)
        << e.what();
  }
  // DeepSeek-V3's preset carries its checkpoint's recipe; Mixtral's does not.
  EXPECT_EQ(parse_scenario(R"({"schema_version": 1, "model": "deepseek-v3", "cluster": "h200x8"})",
                           "d.json")
                .model.weight_scale_block,
            128);
  EXPECT_EQ(parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h200x8"})",
                           "m.json")
                .model.weight_scale_block,
            0);
}

}  // namespace
}  // namespace moesim::sim

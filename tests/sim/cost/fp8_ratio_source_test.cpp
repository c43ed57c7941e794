// FP8 GEMMs priced at the FP8/BF16 time a profile measured: dense blocks as well as experts, and a
// profile that measured none borrows the ratios of a shipped profile on the same tensor cores.
#include "sim/cost/fp8_ratio_source.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/cost/layer_cost_model.hpp"

namespace moesim::sim {
namespace {

TEST(Fp8RatioSource, AnH100ProfileBorrowsTheH200sMeasuredRatios) {
  // H100 SXM and H200: 989 / 1,979 dense BF16 / FP8 TFLOP/s on both datasheets, one GH100 chip.
  MeasuredProfile h100 = load_profile("h100");
  ASSERT_FALSE(h100.has_fp8_gemm());
  adopt_same_chip_ratios(*find_device("h100-sxm"), h100);
  ASSERT_TRUE(h100.has_fp8_gemm());
  EXPECT_EQ(h100.fp8_ratios_from(), "NVIDIA H200");
  const MeasuredProfile h200 = load_profile("h200");
  const double mixtral_expert = 3.0 * 4096 * 14336;
  EXPECT_DOUBLE_EQ(*h100.fp8_over_bf16(4096, mixtral_expert),
                   *h200.fp8_over_bf16(4096, mixtral_expert));
}

TEST(Fp8RatioSource, OwnMeasurementsStayAndOtherChipsLendNothing) {
  MeasuredProfile h200 = load_profile("h200");
  adopt_same_chip_ratios(*find_device("h200"), h200);
  EXPECT_TRUE(h200.fp8_ratios_from().empty());
  // No shipped profile was measured on a part with the B200's peaks (2,250 / 4,500 TFLOP/s).
  MeasuredProfile h100 = load_profile("h100");
  adopt_same_chip_ratios(*find_device("b200"), h100);
  EXPECT_FALSE(h100.has_fp8_gemm());
}

// A profile of fixed ceilings whose FP8 GEMMs run `ratio` of the BF16 time at every row count
// (two measured row counts, the same ratio); no FP8 section when ratio is 0.
MeasuredProfile flat_fp8_profile(double ratio) {
  nlohmann::json document = nlohmann::json::parse(R"({"schema_version": 1,
      "ceilings": {"dense_bf16_flops_per_s": 6e14, "copy": {"bytes_per_s": 4e12}},
      "overheads": {"count_copy_and_sync": {"median_us": 12}}, "models": []})");
  if (ratio > 0)
    for (int m : {16, 4096})
      document["fp8_gemm"].push_back(
          {{"m", m}, {"n", 18432}, {"k", 7168}, {"bf16_us", 100.0}, {"fp8_us", 100.0 * ratio}});
  return MeasuredProfile(document, "fp8.json");
}

TEST(Fp8RatioSource, DenseFp8GemmsRunAtTheMeasuredRatio) {
  // DeepSeek-V3 with FP8 weights, 16,384 prefill tokens a GPU: the projections and the MLP are
  // FLOP-bound, so their time is FLOPs / (BF16 rate / ratio), linear in the ratio; the attention
  // core (bf16 cache) and the elementwise kernels do not depend on it. Hence equal steps from 0.5
  // to 0.75 and from 0.75 to 1.0, and a profile without FP8 GEMMs prices at the datasheet's
  // 989 / 1,979 = 0.49975.
  const ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": {"preset": "deepseek-v3", "weight_bytes": 1},
          "cluster": "h200x8", "parallelism": {"expert_parallel": 8},
          "workload": {"kind": "prefill", "tokens_per_gpu": 16384, "context_tokens": 4096}})",
      "fp8-dense.json");
  const auto dense = [&](double ratio) {
    const MeasuredProfile profile = flat_fp8_profile(ratio);
    return LayerCostModel(s, &profile).dense_time(16384, false);
  };
  const double half = dense(0.5), three_quarters = dense(0.75), whole = dense(1.0);
  EXPECT_GT(three_quarters, half * 1.2);
  EXPECT_NEAR(whole - three_quarters, three_quarters - half, 1e-9 * whole);
  EXPECT_NEAR(dense(0), dense(989.0 / 1979.0), 1e-12 * half);
}

}  // namespace
}  // namespace moesim::sim

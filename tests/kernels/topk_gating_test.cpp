#include "kernels/topk_gating.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

// Runs the kernel on fresh logits and compares ids (up to near-ties) and weights with the CPU.
void check_gating(const GatingParams& base, int tokens, bool with_bias) {
  std::mt19937_64 rng(fresh_seed());
  std::uniform_real_distribution<float> logit(-4.0f, 4.0f);
  std::vector<float> logits(static_cast<std::size_t>(tokens) * base.experts);
  for (float& v : logits) v = logit(rng);
  std::vector<float> bias;
  std::uniform_real_distribution<float> small(-0.1f, 0.1f);
  if (with_bias)
    for (int e = 0; e < base.experts; ++e) bias.push_back(small(rng));
  auto device_logits = testing::to_device(logits);
  auto device_bias = testing::to_device(bias);
  GatingParams params = base;
  params.bias = with_bias ? device_bias.data() : nullptr;
  const std::size_t entries = static_cast<std::size_t>(tokens) * params.top_k;
  DeviceBuffer<int> ids(entries);
  DeviceBuffer<float> weights(entries);
  MOESIM_CUDA_CHECK(cudaMemset(ids.data(), 0xff, entries * sizeof(int)));        // poison: -1
  MOESIM_CUDA_CHECK(cudaMemset(weights.data(), 0xff, entries * sizeof(float)));  // poison: NaN
  launch_topk_gating(device_logits.data(), tokens, params, ids.data(), weights.data(), nullptr);
  const auto got_ids = testing::to_host(ids.data(), entries);
  const auto got_weights = testing::to_host(weights.data(), entries);
  const auto ref = testing::reference_gating(logits, tokens, params, bias);

  int mismatches = 0;
  std::vector<double> out(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    out[i] = got_weights[i];
    if (got_ids[i] == ref.ids[i]) continue;
    // Different ids are fine only for a near-tie in the reference's own selection scores.
    const std::size_t token = i / params.top_k;
    const int got = got_ids[i];
    ASSERT_GE(got, 0) << "entry " << i << " never written";
    ASSERT_LT(got, params.experts);
    const double gap = std::abs(ref.selection[token * params.experts + got] -
                                ref.selection[token * params.experts + ref.ids[i]]);
    EXPECT_LT(gap, 1e-5) << "token " << token << " slot " << i % params.top_k;
    ++mismatches;
    out[i] = ref.weights[i];  // a swapped near-tie carries the other's weight
  }
  EXPECT_LE(mismatches, tokens / 100 + 1);
  EXPECT_LT(testing::relative_error(out, ref.weights), 1e-4);  // fp32 arithmetic, not bf16
}

TEST(TopkGating, SoftmaxMatchesCpuForMixtralShape) {
  MOESIM_REQUIRE_GPU();
  check_gating({GatingMode::Softmax, 8, 2, 1, 1, true, 1.0f, nullptr}, 4099, false);
}

TEST(TopkGating, SoftmaxMatchesCpuForQwen3ShapeWithoutRenormalising) {
  MOESIM_REQUIRE_GPU();
  check_gating({GatingMode::Softmax, 128, 8, 1, 1, false, 1.0f, nullptr}, 1000, false);
}

TEST(TopkGating, GroupLimitedSigmoidWithBiasMatchesCpuForDeepSeekV3Shape) {
  MOESIM_REQUIRE_GPU();
  // DeepSeek-V3: 256 experts in 8 groups, 4 groups kept, top-8, routed_scaling_factor 2.5.
  check_gating({GatingMode::Sigmoid, 256, 8, 8, 4, true, 2.5f, nullptr}, 777, true);
}

TEST(TopkGating, GroupLimitedSoftmaxMatchesCpu) {
  MOESIM_REQUIRE_GPU();
  check_gating({GatingMode::Softmax, 64, 6, 8, 3, true, 1.0f, nullptr}, 513, false);
}

TEST(TopkGating, RejectsTopKLargerThanKeptGroups) {
  // 2 kept groups of 4 experts hold 8 candidates, fewer than top_k = 9.
  GatingParams params{GatingMode::Sigmoid, 32, 9, 8, 2, true, 1.0f, nullptr};
  EXPECT_THROW(validate_gating_params(params), std::invalid_argument);
}

}  // namespace
}  // namespace moesim::kernels

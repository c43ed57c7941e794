// What a prefill step pays beyond its GEMMs and all-to-alls: the SMs DeepEP's normal kernels hold
// while two-batch overlap runs compute beside them, and the elementwise kernels of every block.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "sim/cost/attention_cost.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/network/deepep_cost.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec deepep_prefill(const std::string& kernels, const std::string& overlap, int ep) {
  return parse_scenario(
      R"({"schema_version": 1, "model": {"preset": "deepseek-v3", "weight_bytes": 1},
          "cluster": {"preset": "h100x64", "nodes": 4},
          "parallelism": {"expert_parallel": )" +
          std::to_string(ep) + R"(, "micro_batches": 2, "overlap": ")" + overlap +
          R"("}, "workload": {"kind": "prefill", "tokens_per_gpu": 8192, "context_tokens": 2000},
          "network": {"all_to_all": ")" +
          kernels + R"("}})",
      "prefill.json");
}

// A profile that says only what these tests read: its ceilings and the GPU's 132 SMs.
MeasuredProfile sm_profile(int sms) {
  nlohmann::json document = {
      {"schema_version", 1},
      {"ceilings", {{"dense_bf16_flops_per_s", 8e14}, {"copy", {{"bytes_per_s", 3e12}}}}},
      {"overheads", {{"count_copy_and_sync", {{"median_us", 9}}}}},
      {"models", nlohmann::json::array()},
      {"provenance", {{"gpu_name", "NVIDIA H100 80GB HBM3"}}}};
  if (sms > 0) document["provenance"]["sm_count"] = sms;
  return MeasuredProfile(document, "sm-profile.json");
}

TEST(DeepEpSmShare, OverlappedComputeRunsOnTheSmsTheNormalKernelsLeave) {
  // 132 SMs less DeepEP's 20 leave 112: compute takes 132 / 112 = 1.178571 as long from the SMs
  // alone, x 1.106 measured beyond them (kGemmBesideResidentKernelExcess) = 1.303500.
  EXPECT_NEAR(
      deepep_overlapped_compute_factor(deepep_prefill("deepep-normal", "two-micro-batch", 32), 132),
      132.0 / 112.0 * 1.106, 1e-12);
  EXPECT_NEAR(
      deepep_overlapped_compute_factor(deepep_prefill("deepep-normal", "comm-compute", 32), 132),
      1.3035, 1e-9);
}

TEST(DeepEpSmShare, NothingSharesTheSmsWithoutOverlapLowLatencyKernelsOrAnSmCount) {
  // Serial phases never run beside a DeepEP kernel; low-latency kernels free their SMs once their
  // messages are out; EP 1 launches none; an unknown SM count prices nothing.
  EXPECT_DOUBLE_EQ(
      deepep_overlapped_compute_factor(deepep_prefill("deepep-normal", "none", 32), 132), 1.0);
  EXPECT_DOUBLE_EQ(deepep_overlapped_compute_factor(
                       deepep_prefill("deepep-low-latency", "two-micro-batch", 32), 132),
                   1.0);
  EXPECT_DOUBLE_EQ(
      deepep_overlapped_compute_factor(deepep_prefill("deepep-normal", "two-micro-batch", 1), 132),
      1.0);
  EXPECT_DOUBLE_EQ(
      deepep_overlapped_compute_factor(deepep_prefill("deepep-normal", "two-micro-batch", 32), 0),
      1.0);
}

TEST(DeepEpSmShare, TheLayerModelReadsTheSmCountFromTheProfile) {
  const ScenarioSpec s = deepep_prefill("deepep-normal", "two-micro-batch", 32);
  const MeasuredProfile with = sm_profile(132);
  const MeasuredProfile without = sm_profile(0);
  EXPECT_EQ(with.sm_count(), 132);
  EXPECT_NEAR(LayerCostModel(s, &with).deepep_compute_factor(), 132.0 / 112.0 * 1.106, 1e-12);
  EXPECT_DOUBLE_EQ(LayerCostModel(s, &without).deepep_compute_factor(), 1.0);
  EXPECT_DOUBLE_EQ(LayerCostModel(s, nullptr).deepep_compute_factor(), 1.0);
}

TEST(ElementwiseBytes, DeepSeekV3BlocksByHand) {
  const ScenarioSpec s = deepep_prefill("deepep-normal", "two-micro-batch", 32);
  const ModelSpec& m = s.model;
  // Hidden 7168, bf16: two fused add-RMSNorms 2 x 4 x 7168 x 2 = 114,688; rotary over 128 heads x
  // 64 rope dims, read and written: 2 x 128 x 64 x 2 = 32,768; FP8 weights quantise two inputs,
  // 2 x (2 + 1) x 7168 = 43,008.
  // MoE block: one shared expert of 2,048, gated: 3 x 2048 x 2 = 12,288. Sum 202,752.
  EXPECT_DOUBLE_EQ(elementwise_bytes_per_token(m, 1, true), 202752);
  // Dense block: MLP of 18,432: 3 x 18432 x 2 = 110,592. Sum 301,056.
  EXPECT_DOUBLE_EQ(elementwise_bytes_per_token(m, 1, false), 301056);
  // Attention TP 2 halves the heads (16,384) and the shared expert's width (6,144): 180,224.
  EXPECT_DOUBLE_EQ(elementwise_bytes_per_token(m, 2, true), 180224);
}

TEST(ElementwiseBytes, DenseWorkCountsThemForEveryQueryToken) {
  const ScenarioSpec s = deepep_prefill("deepep-normal", "two-micro-batch", 32);
  // 8,192 prompt tokens of a MoE block: 8192 x 202,752 = 1,660,944,384 bytes (0.55 ms at 3 TB/s).
  const DenseWork work = dense_work(s.model, {.tokens = 8192, .context = 2000});
  EXPECT_DOUBLE_EQ(work.elementwise_bytes, 8192.0 * 202752);
}

}  // namespace
}  // namespace moesim::sim

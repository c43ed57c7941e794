// A device without a profile of its own priced from the nearest measured device's curves, scaled
// by the datasheets (sim/cost/device_scaled_profile.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "sim/cost/device_scaled_profile.hpp"
#include "sim/report/provenance.hpp"
#include "sim/run/inputs.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// DeepSeek-V3 FP8 decode, EP 8 and attention DP 8 on one 8-GPU node of `cluster`.
ScenarioSpec dsv3_decode_on(const std::string& cluster, int sequences,
                            const std::string& weight_bytes = "1") {
  return parse_scenario(
      R"({"schema_version": 1, "model": {"preset": "deepseek-v3", "weight_bytes": )" +
          weight_bytes + R"(},
          "cluster": {"preset": ")" +
          cluster + R"(", "nodes": 1},
          "parallelism": {"expert_parallel": 8, "attention_data_parallel": 8},
          "workload": {"kind": "decode", "tokens_per_gpu": )" +
          std::to_string(sequences) + R"(, "context_tokens": 2048}})",
      "scaled.json");
}

TEST(DeviceScaledDecode, AutoPricesB200FromTheH200ProfileAndSaysSo) {
  const Report b200 = simulate(resolve_inputs(dsv3_decode_on("b200x64", 32), {}));
  EXPECT_EQ(b200.profile_source, "device-scaled");
  ASSERT_FALSE(b200.pricing_notes.empty());
  EXPECT_NE(b200.pricing_notes[0].find("h200's measured curves scaled to b200"), std::string::npos)
      << b200.pricing_notes[0];
  // NVFP4 experts: no profile measured an FP4 GEMM, and the report says how they were priced.
  const Report fp4 = simulate(resolve_inputs(dsv3_decode_on("b200x64", 32, "0.5"), {}));
  EXPECT_EQ(std::count(fp4.pricing_notes.begin(), fp4.pricing_notes.end(),
                       "FP4 experts priced as FP8 (no measured FP4 GEMMs)"),
            1);
  EXPECT_EQ(std::count(b200.pricing_notes.begin(), b200.pricing_notes.end(),
                       "FP4 experts priced as FP8 (no measured FP4 GEMMs)"),
            0);
  // MI300X has no profile and no AMD device has one: the datasheet prices it.
  EXPECT_EQ(simulate(resolve_inputs(dsv3_decode_on("mi300x8", 32), {})).profile_source, "roofline");
}

TEST(DeviceScaledDecode, ProvenanceHashesTheShippedProfileTheCurvesCameFrom) {
  const auto profile_record = [](const std::string& cluster) {
    const Provenance p = describe_inputs(resolve_inputs(dsv3_decode_on(cluster, 32), {}), "x", "");
    return p.inputs.back();  // scenario, then profile
  };
  const InputRecord b200 = profile_record("b200x64");
  const InputRecord h200 = profile_record("h200x8");
  EXPECT_EQ(b200.role, "profile");
  EXPECT_EQ(b200.path, "h200 scaled to b200");
  EXPECT_EQ(h200.path, "h200");
  EXPECT_FALSE(b200.crc32c.empty());
  EXPECT_EQ(b200.crc32c, h200.crc32c);  // the bytes read are the shipped H200 profile's
}

TEST(DeviceScaledDecode, ExpertsKeepTheirFloorsOnTheFasterDevice) {
  // 32 sequences a rank, top-8, 256 experts over 8 GPUs: 32 x 8 x 8 / 256 = 8 rows an expert, all
  // 32 of a GPU's experts touched. The H200 grouped curve at 32 active experts and 8 rows: 24.534
  // us an expert (BF16; the FP8 ratio scales both devices alike), weight-bound on both devices. Its
  // floor, 3 grouped launches x 4.587 us shared by 32 experts = 0.430 us, stays. Of the other
  // 24.104 us, streaming its 88,408,064 bytes (weights, 8 rows in and out) at the profile's
  // measured copy rate, 4.238 TB/s, takes 20.861 us, which scales by HBM 4.8 / 8 = 0.6; the
  // remaining 3.243 us waited on memory latency and stays: (0.430 + 12.516 + 3.243) / 24.534 =
  // 0.660 of the H200 experts phase (0.607 when all 24.104 us scaled).
  const Report h200 = simulate(resolve_inputs(dsv3_decode_on("h200x8", 32), {}));
  const Report b200 = simulate(resolve_inputs(dsv3_decode_on("b200x64", 32), {}));
  EXPECT_EQ(h200.profile_source, "measured");
  EXPECT_NEAR(b200.layers.back().phases.experts / h200.layers.back().phases.experts, 0.660, 0.005);
}

// Held out: the LMSYS H100 decode row priced from the H200 profile scaled to H100, against the
// same row priced from the measured H100 profile (docs/decode-model.md, "Devices without a
// profile").
TEST(DeviceScaledDecode, H200ScaledToH100PricesTheLmsysRowLikeTheH100Profile) {
  const ScenarioSpec row = load_scenario(std::string(MOESIM_SOURCE_DIR) +
                                         "/docs/validation/decode/lmsys-h100-ep72-bs256.json");
  const RunInputs measured = resolve_inputs(row, {});
  RunInputs scaled = measured;
  scaled.profile =
      scale_profile_to_device(load_profile("h200"), *find_device("h200"), *find_device("h100-sxm"));
  const Report by_h100 = simulate(measured);
  const Report by_scaled_h200 = simulate(scaled);
  ASSERT_EQ(by_h100.profile_source, "measured");
  ASSERT_EQ(by_scaled_h200.profile_source, "device-scaled");
  std::cout << "lmsys-h100-ep72-bs256 TPOT: H100 profile "
            << by_h100.time_per_output_token_s() * 1e3 << " ms, H200 profile scaled to H100 "
            << by_scaled_h200.time_per_output_token_s() * 1e3 << " ms\n";
  EXPECT_NEAR(by_scaled_h200.time_per_output_token_s() / by_h100.time_per_output_token_s(), 1.0,
              0.10);
}

}  // namespace
}  // namespace moesim::sim

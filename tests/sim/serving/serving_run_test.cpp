#include "sim/serving/serving_run.hpp"

#include <gtest/gtest.h>

#include "sim/spec/scenario.hpp"
#include "tests/sim/serving/fake_pricer.hpp"

namespace moesim::sim {
namespace {

TEST(ServingRun, PrefillAndDecodePoolsAreSizedToKeepUp) {
  // Mixtral-8x7B on one H100 node: 8 attention-DP ranks. A prefill step costs 100 us a token, so a
  // full 8,192-token budget takes 0.8192 s: 8,192 x 8 / 0.8192 = 80,000 tokens/s, 80 requests/s of
  // 1,000 prompt tokens. A decode step costs 312.5 us a sequence: 64 a rank take 20 ms, so
  // 64 x 8 / 0.02 = 25,600 tokens/s, 256 requests/s of 100 tokens after the first. The KV cache
  // (~60 GB free a GPU at 131 kB a token) holds far more than 64 x 1,101 tokens a rank.
  const auto scenario = load_scenario("quickstart");
  LinearPricer pricer;
  pricer.per_prefill_token_s = 1e-4;
  pricer.per_sequence_s = 3.125e-4;
  BatchingSpec batching;
  batching.max_batch_per_rank = 64;
  const auto prefill =
      pool_capacity(scenario, ServingRole::PrefillOnly, batching, 0.9, 1000, 1000, 101, pricer);
  const auto decode =
      pool_capacity(scenario, ServingRole::DecodeOnly, batching, 0.9, 1000, 1000, 101, pricer);
  EXPECT_NEAR(prefill.requests_per_s, 80, 1e-9);
  EXPECT_NEAR(decode.requests_per_s, 256, 1e-9);
  EXPECT_DOUBLE_EQ(decode.decode_batch_per_rank, 64);
  // Rate matching: 256 / 80 = 3.2 prefill instances per decode instance. At 200 requests/s and
  // 80% utilisation: prefill ceil(200 / 64) = 4, decode ceil(200 / 204.8) = 1.
  EXPECT_EQ(pool_instances(200, prefill.requests_per_s), 4);
  EXPECT_EQ(pool_instances(200, decode.requests_per_s), 1);
  // Aggregated, one instance takes turns: 1 / (1/80 + 1/256) = 60.95 requests/s.
  const auto both =
      pool_capacity(scenario, ServingRole::Aggregated, batching, 0.9, 1000, 1000, 101, pricer);
  EXPECT_NEAR(both.requests_per_s, 1.0 / (1.0 / 80 + 1.0 / 256), 1e-9);
}

TEST(ServingRun, KvTransferIsItsBytesOverTheNic) {
  // DeepSeek-V3's MLA cache is 1,152 bytes a token and layer on every TP rank, 61 layers: a
  // 2,000-token prompt is 2,000 x 1,152 x 61 = 140,544,000 bytes. ConnectX-7 at 400 Gb/s = 50 GB/s
  // at the 0.8 collective efficiency is 40 GB/s: 3.5136 ms, plus 2 us of adapter latency each side.
  const auto scenario = load_scenario("dsv3-decode-h200x256");
  EXPECT_NEAR(kv_transfer_seconds(scenario, scenario, 2000), 140'544'000 / 40e9 + 4e-6, 1e-9);
}

TEST(ServingRun, DisaggregatedFirstTokenWaitsForTheTransfer) {
  // One request through quickstart-shaped pools with the step tables of the real model: its TTFT
  // is its prefill step plus the KV transfer, and never less than the transfer.
  ServingSpec spec;
  spec.disaggregated = true;
  spec.prefill = {load_scenario("quickstart"), 1};
  spec.decode = {load_scenario("quickstart"), 1};
  spec.traffic.arrival = ArrivalKind::Log;
  spec.traffic.log_requests = {Request{0, 0.5, 2000, 10, 0, -1}};
  const auto outcome = run_serving(spec);
  ASSERT_TRUE(outcome.rejection.empty()) << outcome.rejection;
  ASSERT_EQ(outcome.metrics.completed, 1);
  const double transfer = kv_transfer_seconds(spec.prefill.scenario, spec.decode.scenario, 2000);
  EXPECT_NEAR(outcome.kv_transfer_s, transfer, 1e-12);
  EXPECT_GT(outcome.metrics.ttft.p50, transfer);
  EXPECT_EQ(outcome.prefill_per_decode, 1.0);
}

}  // namespace
}  // namespace moesim::sim

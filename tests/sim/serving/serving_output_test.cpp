// serving.json's pool rates: flat-out tokens per node and per GPU from one instance's capacity.
#include "sim/serving/serving_output.hpp"

#include <gtest/gtest.h>

#include "sim/serving/serving_run.hpp"

namespace moesim::sim {
namespace {

TEST(ServingOutput, PoolRatesArePerNodeAndPerGpu) {
  // One instance of 48 GPUs on 12 four-GPU trays: 960,000 output tokens/s flat out is
  // 960,000 / 12 = 80,000 a node and 960,000 / 48 = 20,000 a GPU; prefill 480,000 -> 40,000 and
  // 10,000. An aggregated pool reports both; a decode pool only its decode rates, a prefill pool
  // only its prefill rates.
  ServingOutcome outcome;
  outcome.rejection = "not simulated";  // the pools alone
  PoolResult& pool = outcome.pools.emplace_back();
  pool.role = "aggregated";
  pool.capacity.gpus_per_instance = 48;
  pool.capacity.nodes_per_instance = 12;
  pool.capacity.decode_tokens_per_s = 960000;
  pool.capacity.prefill_tokens_per_s = 480000;
  const nlohmann::json json = serving_json(outcome)["pools"][0];
  EXPECT_DOUBLE_EQ(json["decode_output_tokens_per_s_per_node"].get<double>(), 80000);
  EXPECT_DOUBLE_EQ(json["decode_output_tokens_per_s_per_gpu"].get<double>(), 20000);
  EXPECT_DOUBLE_EQ(json["prefill_input_tokens_per_s_per_node"].get<double>(), 40000);
  EXPECT_DOUBLE_EQ(json["prefill_input_tokens_per_s_per_gpu"].get<double>(), 10000);
  pool.role = "decode";
  const nlohmann::json decode = serving_json(outcome)["pools"][0];
  EXPECT_DOUBLE_EQ(decode["decode_output_tokens_per_s_per_node"].get<double>(), 80000);
  EXPECT_FALSE(decode.contains("prefill_input_tokens_per_s_per_node"));
  pool.role = "prefill";
  const nlohmann::json prefill = serving_json(outcome)["pools"][0];
  EXPECT_DOUBLE_EQ(prefill["prefill_input_tokens_per_s_per_node"].get<double>(), 40000);
  EXPECT_FALSE(prefill.contains("decode_output_tokens_per_s_per_node"));
  EXPECT_FALSE(prefill.contains("mean_decode_batch_per_rank"));
}

TEST(ServingOutput, TheSlaLineSaysMetMissedOrNone) {
  ServingOutcome outcome;
  outcome.records.push_back({});
  EXPECT_NE(serving_text(outcome).find("  SLA: none set\n"), std::string::npos);
  EXPECT_TRUE(serving_json(outcome)["sla"]["met"].is_null());
  outcome.sla.ttft_p90_s = 0.5;
  EXPECT_NE(serving_text(outcome).find("  SLA met (TTFT p90 <= 500 ms)\n"), std::string::npos)
      << serving_text(outcome);
  EXPECT_EQ(serving_json(outcome)["sla"]["met"], true);
  outcome.sla_failures.push_back("TTFT p90 600.0 ms > 500.0 ms");
  ServingOutcome unset;  // no SLA, but requests that never fit still fail the run
  unset.records.push_back({});
  unset.sla_failures.push_back("6 requests need more KV cache than an instance holds");
  EXPECT_NE(serving_text(unset).find("  SLA: none set\n  failed: 6 requests need more KV"),
            std::string::npos)
      << serving_text(unset);
  EXPECT_EQ(serving_json(unset)["sla"]["met"], false);
  EXPECT_NE(serving_text(outcome).find("SLA missed (TTFT p90 <= 500 ms)\n  SLA missed: TTFT p90"),
            std::string::npos);
}

}  // namespace
}  // namespace moesim::sim

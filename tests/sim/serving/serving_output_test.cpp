// serving.json's pool rates: flat-out tokens per node and per GPU from one instance's capacity.
#include "sim/serving/serving_output.hpp"

#include <gtest/gtest.h>

#include "sim/serving/serving_run.hpp"

namespace moesim::sim {
namespace {

TEST(ServingOutput, PoolRatesArePerNodeAndPerGpu) {
  // One instance of 48 GPUs on 12 four-GPU trays: 960,000 output tokens/s flat out is
  // 960,000 / 12 = 80,000 a node and 960,000 / 48 = 20,000 a GPU; prefill 480,000 -> 40,000 and
  // 10,000.
  ServingOutcome outcome;
  outcome.rejection = "not simulated";  // the pools alone
  PoolResult& pool = outcome.pools.emplace_back();
  pool.role = "decode";
  pool.capacity.gpus_per_instance = 48;
  pool.capacity.nodes_per_instance = 12;
  pool.capacity.decode_tokens_per_s = 960000;
  pool.capacity.prefill_tokens_per_s = 480000;
  const nlohmann::json json = serving_json(outcome)["pools"][0];
  EXPECT_DOUBLE_EQ(json["decode_output_tokens_per_s_per_node"].get<double>(), 80000);
  EXPECT_DOUBLE_EQ(json["decode_output_tokens_per_s_per_gpu"].get<double>(), 20000);
  EXPECT_DOUBLE_EQ(json["prefill_input_tokens_per_s_per_node"].get<double>(), 40000);
  EXPECT_DOUBLE_EQ(json["prefill_input_tokens_per_s_per_gpu"].get<double>(), 10000);
}

}  // namespace
}  // namespace moesim::sim

#include "kernels/moe_layer_executor.hpp"

#include <gtest/gtest.h>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/fill.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

// The whole EP=1 layer against sum_s w[t,s] * down_e(swiglu(gate_up_e(x_t))) on the CPU.
void check_layer(GemmMethod method, bool skewed) {
  std::mt19937_64 rng(fresh_seed());
  const int hidden = 256, ffn = 128, experts = 16, top_k = 4, tokens = 301;
  MoeLayerConfig config;
  config.hidden = hidden;
  config.expert_ffn = ffn;
  config.gating = {GatingMode::Softmax, experts, top_k, 1, 1, true, 1.0f, nullptr};
  config.max_tokens = 512;
  config.method = method;
  config.seed = rng();
  CudaStream stream;
  MoeLayerExecutor layer(config, stream.get());

  std::vector<double> popularity(experts, 1.0);
  if (skewed) {
    popularity[3] = 500;  // one hot expert; experts 8..15 idle
    for (int e = 8; e < experts; ++e) popularity[e] = 0;
  }
  std::vector<int> ids;
  std::vector<float> weights;
  std::uniform_real_distribution<float> weight(0.1f, 1.0f);
  for (int t = 0; t < tokens; ++t) {
    std::vector<double> p = popularity;
    for (int k = 0; k < top_k; ++k) {
      std::discrete_distribution<int> pick(p.begin(), p.end());
      ids.push_back(pick(rng));
      p[ids.back()] = 0;
      weights.push_back(weight(rng));
    }
  }
  layer.set_routing(ids, weights, tokens);
  launch_fill_nan_bf16(layer.mutable_output(), static_cast<long long>(tokens) * hidden,
                       stream.get());
  const MoePhaseTimes times = layer.run();
  EXPECT_GT(times.layer_ms, 0.0);

  const auto x = testing::to_double(
      testing::to_host(layer.input(), static_cast<std::size_t>(tokens) * hidden));
  const auto up = testing::to_double(testing::to_host(
      layer.experts().gate_up_weights(), static_cast<std::size_t>(experts) * 2 * ffn * hidden));
  const auto down = testing::to_double(testing::to_host(
      layer.experts().down_weights(), static_cast<std::size_t>(experts) * hidden * ffn));
  const auto got = testing::to_double(
      testing::to_host(layer.output(), static_cast<std::size_t>(tokens) * hidden));
  std::vector<double> ref(static_cast<std::size_t>(tokens) * hidden, 0.0);
  for (int t = 0; t < tokens; ++t) {
    const std::vector<double> row(x.begin() + static_cast<long>(t) * hidden,
                                  x.begin() + static_cast<long>(t + 1) * hidden);
    for (int k = 0; k < top_k; ++k) {
      const int e = ids[t * top_k + k];
      const std::vector<double> w_up(up.begin() + static_cast<long>(e) * 2 * ffn * hidden,
                                     up.begin() + static_cast<long>(e + 1) * 2 * ffn * hidden);
      const std::vector<double> w_down(down.begin() + static_cast<long>(e) * hidden * ffn,
                                       down.begin() + static_cast<long>(e + 1) * hidden * ffn);
      const auto h = testing::reference_swiglu(
          testing::reference_matmul_nt(row, w_up, 1, 2 * ffn, hidden), 1, ffn);
      const auto y = testing::reference_matmul_nt(h, w_down, 1, hidden, ffn);
      for (int j = 0; j < hidden; ++j)
        ref[static_cast<std::size_t>(t) * hidden + j] += weights[t * top_k + k] * y[j];
    }
  }
  EXPECT_LT(testing::relative_error(got, ref), testing::kBf16Tolerance);
}

TEST(MoeLayerExecutor, SingleRankLayerMatchesCpuWithUniformRouting) {
  MOESIM_REQUIRE_GPU();
  check_layer(GemmMethod::Grouped, false);
}

TEST(MoeLayerExecutor, SingleRankLayerMatchesCpuWithSkewedRoutingAndIdleExperts) {
  MOESIM_REQUIRE_GPU();
  check_layer(GemmMethod::Loop, true);
  check_layer(GemmMethod::Grouped, true);
}

}  // namespace
}  // namespace moesim::kernels

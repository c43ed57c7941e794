#include <gtest/gtest.h>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/combine.hpp"
#include "kernels/fill.hpp"
#include "kernels/swiglu.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

TEST(Swiglu, MatchesCpuOnRandomRows) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(fresh_seed());
  const int rows = 1031;
  const int ffn = 776;  // a multiple of 8 that is not a multiple of the block size
  const auto gate_up = testing::random_bf16(static_cast<std::size_t>(rows) * 2 * ffn, 4.0f, rng);
  auto device_in = testing::to_device(gate_up);
  DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(rows) * ffn);
  launch_fill_nan_bf16(out.data(), static_cast<long long>(out.size()), nullptr);
  launch_swiglu(device_in.data(), rows, ffn, out.data(), nullptr);
  const auto got = testing::to_double(testing::to_host(out.data(), out.size()));
  const auto ref = testing::reference_swiglu(testing::to_double(gate_up), rows, ffn);
  EXPECT_LT(testing::relative_error(got, ref), testing::kBf16Tolerance);
}

TEST(WeightedCombine, MatchesCpuForScatteredRows) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(fresh_seed());
  const int tokens = 613;
  const int top_k = 6;
  const int hidden = 1032;
  const int entries = tokens * top_k;
  const auto rows = testing::random_bf16(static_cast<std::size_t>(entries) * hidden, 1.0f, rng);
  std::vector<int> dest(entries);
  std::iota(dest.begin(), dest.end(), 0);
  std::shuffle(dest.begin(), dest.end(), rng);  // any permutation is a valid dispatch
  std::vector<float> weights(entries);
  std::uniform_real_distribution<float> w(0.0f, 1.0f);
  for (float& v : weights) v = w(rng);
  auto device_rows = testing::to_device(rows);
  auto device_dest = testing::to_device(dest);
  auto device_weights = testing::to_device(weights);
  DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(tokens) * hidden);
  launch_fill_nan_bf16(out.data(), static_cast<long long>(out.size()), nullptr);
  launch_weighted_combine(device_rows.data(), device_dest.data(), device_weights.data(), tokens,
                          top_k, hidden, out.data(), nullptr);
  const auto got = testing::to_double(testing::to_host(out.data(), out.size()));
  const auto values = testing::to_double(rows);
  std::vector<double> ref(static_cast<std::size_t>(tokens) * hidden, 0.0);
  for (int t = 0; t < tokens; ++t)
    for (int s = 0; s < top_k; ++s)
      for (int h = 0; h < hidden; ++h)
        ref[static_cast<std::size_t>(t) * hidden + h] +=
            weights[t * top_k + s] *
            values[static_cast<std::size_t>(dest[t * top_k + s]) * hidden + h];
  EXPECT_LT(testing::relative_error(got, ref), testing::kBf16Tolerance);
}

}  // namespace
}  // namespace moesim::kernels

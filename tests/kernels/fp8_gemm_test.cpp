#include "kernels/fp8_gemm.hpp"

#include <gtest/gtest.h>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/fill.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

std::vector<__nv_fp8_e4m3> random_fp8(std::size_t count, float scale, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> value(-scale, scale);
  std::vector<__nv_fp8_e4m3> out(count);
  for (auto& x : out) x = __nv_fp8_e4m3(value(rng));
  return out;
}

std::vector<double> fp8_values(const std::vector<__nv_fp8_e4m3>& values) {
  std::vector<double> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = static_cast<float>(values[i]);
  return out;
}

// The product of the e4m3 inputs as they are stored (so quantisation is not an error), with fp32
// accumulation and a bf16 result: bf16's tolerance applies.
void check_fp8_gemm(int rows, int n, int k) {
  std::mt19937_64 rng(fresh_seed());
  const auto a = random_fp8(static_cast<std::size_t>(rows) * k, 1.0f, rng);
  const auto w = random_fp8(static_cast<std::size_t>(n) * k, 0.1f, rng);
  auto device_a = testing::to_device(a);
  auto device_w = testing::to_device(w);
  DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(rows) * n);
  launch_fill_nan_bf16(out.data(), static_cast<long long>(out.size()), nullptr);
  Fp8Gemm gemm;
  gemm.run(device_a.data(), device_w.data(), out.data(), rows, n, k, nullptr);
  const auto got = testing::to_double(testing::to_host(out.data(), out.size()));
  const auto ref = testing::reference_matmul_nt(fp8_values(a), fp8_values(w), rows, n, k);
  EXPECT_LT(testing::relative_error(got, ref), testing::kBf16Tolerance)
      << rows << " x " << n << " x " << k;
}

TEST(Fp8Gemm, MatchesCpuFromOneRowToATile) {
  MOESIM_REQUIRE_GPU();
  for (int rows : {1, 7, 64, 300}) check_fp8_gemm(rows, 384, 256);
}

TEST(Fp8Gemm, RefusesAKThatIsNotAMultipleOf16) {
  MOESIM_REQUIRE_GPU();
  Fp8Gemm gemm;
  EXPECT_THROW(gemm.run(nullptr, nullptr, nullptr, 4, 64, 40, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace moesim::kernels

#include "kernels/grouped_gemm.hpp"

#include <gtest/gtest.h>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/fill.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

// Each expert's rows are multiplied by its own weights; rows of all experts sit back to back.
void check_grouped_gemm(const std::vector<int>& rows_per_expert, int n, int k, GemmMethod method) {
  std::mt19937_64 rng(fresh_seed());
  const int experts = static_cast<int>(rows_per_expert.size());
  int total_rows = 0;
  for (int r : rows_per_expert) total_rows += r;
  const auto a = testing::random_bf16(static_cast<std::size_t>(total_rows) * k, 1.0f, rng);
  const auto w = testing::random_bf16(static_cast<std::size_t>(experts) * n * k, 0.1f, rng);
  auto device_a = testing::to_device(a);
  auto device_w = testing::to_device(w);
  DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(total_rows) * n);
  launch_fill_nan_bf16(out.data(), static_cast<long long>(out.size()), nullptr);

  std::vector<GemmGroup> groups;
  int first = 0;
  for (int e = 0; e < experts; ++e) {
    groups.push_back({device_a.data() + static_cast<std::size_t>(first) * k,
                      device_w.data() + static_cast<std::size_t>(e) * n * k,
                      out.data() + static_cast<std::size_t>(first) * n, rows_per_expert[e]});
    first += rows_per_expert[e];
  }
  GroupedGemm gemm(experts);
  gemm.run(groups, n, k, method, nullptr);
  const auto got = testing::to_double(testing::to_host(out.data(), out.size()));

  const auto a_values = testing::to_double(a);
  const auto w_values = testing::to_double(w);
  std::vector<double> ref;
  first = 0;
  for (int e = 0; e < experts; ++e) {
    const int rows = rows_per_expert[e];
    std::vector<double> a_e(a_values.begin() + static_cast<long>(first) * k,
                            a_values.begin() + static_cast<long>(first + rows) * k);
    std::vector<double> w_e(w_values.begin() + static_cast<long>(e) * n * k,
                            w_values.begin() + static_cast<long>(e + 1) * n * k);
    const auto part = testing::reference_matmul_nt(a_e, w_e, rows, n, k);
    ref.insert(ref.end(), part.begin(), part.end());
    first += rows;
  }
  EXPECT_LT(testing::relative_error(got, ref), testing::kBf16Tolerance) << gemm_method_name(method);
}

TEST(GroupedGemm, LoopMatchesCpuWithIdleAndSkewedExperts) {
  MOESIM_REQUIRE_GPU();
  // Expert 0 takes most rows; experts 2 and 5 take none; one expert gets a single row.
  check_grouped_gemm({900, 13, 0, 1, 77, 0, 250, 33}, 384, 256, GemmMethod::Loop);
}

TEST(GroupedGemm, GroupedMatchesCpuWithIdleAndSkewedExperts) {
  MOESIM_REQUIRE_GPU();
  check_grouped_gemm({900, 13, 0, 1, 77, 0, 250, 33}, 384, 256, GemmMethod::Grouped);
}

TEST(GroupedGemm, GroupedMatchesCpuWithBalancedExperts) {
  MOESIM_REQUIRE_GPU();
  check_grouped_gemm(std::vector<int>(16, 64), 256, 512, GemmMethod::Grouped);
}

TEST(GroupedGemm, AllExpertsIdleWritesNothingAndDoesNotFail) {
  MOESIM_REQUIRE_GPU();
  DeviceBuffer<__nv_bfloat16> w(64 * 64);
  std::vector<GemmGroup> groups(4, GemmGroup{nullptr, w.data(), nullptr, 0});
  GroupedGemm gemm(4);
  EXPECT_NO_THROW(gemm.run(groups, 64, 64, GemmMethod::Grouped, nullptr));
  EXPECT_NO_THROW(gemm.run(groups, 64, 64, GemmMethod::Loop, nullptr));
  MOESIM_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace
}  // namespace moesim::kernels

#include "kernels/permute.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/gather_rows.hpp"

namespace moesim::kernels {
namespace {

using testing::fresh_seed;

// Builds routing for `ids`, permutes random rows, unpermutes them back, and checks all against
// a stable CPU sort; the gathers are copies, so rows must match bit for bit.
void check_permute(const std::vector<int>& ids, int tokens, int top_k, int experts, int hidden,
                   std::mt19937_64& rng) {
  const int entries = tokens * top_k;
  std::vector<int> ref_dest;
  std::vector<int> ref_counts;
  testing::reference_routing(ids, experts, ref_dest, ref_counts);

  auto device_ids = testing::to_device(ids);
  DeviceBuffer<int> scratch(permute_scratch_ints(entries, experts));
  DeviceBuffer<int> counts(experts), offsets(experts + 1), dest(entries), source(entries);
  MOESIM_CUDA_CHECK(cudaMemset(dest.data(), 0xff, dest.bytes()));
  MOESIM_CUDA_CHECK(cudaMemset(source.data(), 0xff, source.bytes()));
  MOESIM_CUDA_CHECK(cudaMemset(counts.data(), 0xff, counts.bytes()));
  launch_build_routing(device_ids.data(), entries, top_k, experts, scratch.data(), counts.data(),
                       offsets.data(), dest.data(), source.data(), nullptr);
  EXPECT_EQ(testing::to_host(counts.data(), experts), ref_counts);
  EXPECT_EQ(testing::to_host(dest.data(), entries), ref_dest);
  const auto got_offsets = testing::to_host(offsets.data(), experts + 1);
  EXPECT_EQ(got_offsets.back(), entries);
  const auto got_source = testing::to_host(source.data(), entries);
  for (int i = 0; i < entries; ++i) EXPECT_EQ(got_source[ref_dest[i]], i / top_k);

  const auto x = testing::random_bf16(static_cast<std::size_t>(tokens) * hidden, 1.0f, rng);
  auto device_x = testing::to_device(x);
  DeviceBuffer<__nv_bfloat16> permuted(static_cast<std::size_t>(entries) * hidden);
  DeviceBuffer<__nv_bfloat16> back(static_cast<std::size_t>(entries) * hidden);
  MOESIM_CUDA_CHECK(cudaMemset(permuted.data(), 0xff, permuted.bytes()));
  MOESIM_CUDA_CHECK(cudaMemset(back.data(), 0xff, back.bytes()));
  launch_gather_rows(device_x.data(), source.data(), entries, hidden, permuted.data(), nullptr);
  launch_gather_rows(permuted.data(), dest.data(), entries, hidden, back.data(), nullptr);
  const auto got_permuted = testing::to_host(permuted.data(), permuted.size());
  const auto got_back = testing::to_host(back.data(), back.size());
  const std::size_t row_bytes = sizeof(__nv_bfloat16) * hidden;
  for (int i = 0; i < entries; ++i) {
    const void* token_row = x.data() + static_cast<std::size_t>(i / top_k) * hidden;
    ASSERT_EQ(std::memcmp(got_permuted.data() + static_cast<std::size_t>(ref_dest[i]) * hidden,
                          token_row, row_bytes),
              0)
        << "permuted row of entry " << i;
    ASSERT_EQ(
        std::memcmp(got_back.data() + static_cast<std::size_t>(i) * hidden, token_row, row_bytes),
        0)
        << "unpermuted entry " << i;
  }
}

std::vector<int> distinct_choices(int tokens, int top_k, std::mt19937_64& rng,
                                  const std::vector<double>& popularity) {
  std::vector<int> ids;
  for (int t = 0; t < tokens; ++t) {
    std::vector<double> p = popularity;
    for (int k = 0; k < top_k; ++k) {
      std::discrete_distribution<int> pick(p.begin(), p.end());
      const int e = pick(rng);
      ids.push_back(e);
      p[e] = 0;
    }
  }
  return ids;
}

TEST(Permute, UniformRoutingMatchesStableCpuSort) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(fresh_seed());
  const auto ids = distinct_choices(1500, 8, rng, std::vector<double>(128, 1.0));
  check_permute(ids, 1500, 8, 128, 264, rng);
}

TEST(Permute, SkewedRoutingWithIdleExpertsMatchesCpu) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(fresh_seed());
  // Experts 0..2 take almost everything; experts 32..63 get no token at all.
  std::vector<double> popularity(64, 0.01);
  popularity[0] = 1000, popularity[1] = 300, popularity[2] = 100;
  for (int e = 32; e < 64; ++e) popularity[e] = 0;
  const auto ids = distinct_choices(2049, 4, rng, popularity);
  check_permute(ids, 2049, 4, 64, 512, rng);
}

TEST(Permute, EveryTokenToOneExpert) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(fresh_seed());
  const std::vector<int> ids(700, 5);  // top-1, all to expert 5; the other 15 stay empty
  check_permute(ids, 700, 1, 16, 64, rng);
}

}  // namespace
}  // namespace moesim::kernels

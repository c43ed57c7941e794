#include "kernels/copy_row_chunks.hpp"

#include <gtest/gtest.h>

#include "gpu_test_support.hpp"

namespace moesim::kernels {
namespace {

TEST(CopyRowChunks, PeerMajorToExpertMajorAndBack) {
  MOESIM_REQUIRE_GPU();
  std::mt19937_64 rng(testing::fresh_seed());
  const int hidden = 72;  // 9 16-byte vectors: not a multiple of the block's threads
  // Two peers x two experts, peer-major rows: p0e0 = 2 rows at 0, p0e1 = 3 at 2, p1e0 = 1 at 5,
  // p1e1 = 2 at 6; plus an empty chunk. Expert-major: e0 = p0e0 (dst 0, 1) then p1e0 (dst 2);
  // e1 = p0e1 (dst 3..5) then p1e1 (dst 6, 7). So dst row r holds src row {0,1,5,2,3,4,6,7}[r].
  const std::vector<RowChunk> regroup = {{0, 0, 2}, {2, 3, 3}, {5, 2, 1}, {6, 6, 2}, {8, 8, 0}};
  const std::vector<long long> expected_source = {0, 1, 5, 2, 3, 4, 6, 7};
  const int rows = 8;
  const auto host_in = testing::random_bf16(static_cast<std::size_t>(rows) * hidden, 1.0f, rng);
  auto in = testing::to_device(host_in);
  DeviceBuffer<__nv_bfloat16> grouped(host_in.size()), back(host_in.size());
  auto chunks = testing::to_device(regroup);
  launch_copy_row_chunks(in.data(), chunks.data(), 5, hidden, grouped.data(), nullptr);
  // Reverse every chunk and copy back: the round trip must restore the input exactly.
  std::vector<RowChunk> ungroup;
  for (const RowChunk& c : regroup) ungroup.push_back({c.dst_row, c.src_row, c.rows});
  auto reverse = testing::to_device(ungroup);
  launch_copy_row_chunks(grouped.data(), reverse.data(), 5, hidden, back.data(), nullptr);
  const auto got = testing::to_double(testing::to_host(grouped.data(), host_in.size()));
  const auto in_values = testing::to_double(host_in);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < hidden; ++j)
      ASSERT_EQ(got[r * hidden + j], in_values[expected_source[r] * hidden + j]) << r << "," << j;
  EXPECT_EQ(testing::to_double(testing::to_host(back.data(), host_in.size())), in_values);
}

}  // namespace
}  // namespace moesim::kernels

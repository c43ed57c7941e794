#include "profiler/collective_results.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace moesim::profiler {
namespace {

TEST(BusBandwidth, AllToAllDiscountsEachRanksShareToItself) {
  // 8 ranks: 1/8 of each rank's data stays local, so busbw = algbw * 7 / 8 = 100 * 0.875.
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllToAll, 100e9, 8), 87.5e9);
  // 2 ranks: half of it crosses the link: 100 * 1 / 2.
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllToAllv, 100e9, 2), 50e9);
  // One rank: nothing crosses a link.
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllToAll, 100e9, 1), 0.0);
}

TEST(BusBandwidth, SendRecvIsAlgorithmBandwidth) {
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::SendRecv, 42e9, 2), 42e9);
}

TEST(BusBandwidth, ReductionsFollowNcclTests) {
  // nccl-tests' PERFORMANCE.md: a ring all-reduce moves 2 (n-1)/n of the vector through each
  // rank's link: 8 ranks, 100 GB/s algbw -> 100 * 2 * 7 / 8 = 175 GB/s; 2 ranks -> 100 * 2 / 2.
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllReduce, 100e9, 8), 175e9);
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllReduce, 100e9, 2), 100e9);
  // All-gather and reduce-scatter move (n-1)/n of the whole buffer: 100 * 3 / 4 on 4 ranks.
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::AllGather, 100e9, 4), 75e9);
  EXPECT_DOUBLE_EQ(bus_bandwidth(CollectiveOp::ReduceScatter, 100e9, 4), 75e9);
  EXPECT_EQ(collective_name(CollectiveOp::ReduceScatter), "reduce_scatter");
}

TEST(CollectiveMessageSizes, SpanOneKibibyteToOneGibibyte) {
  const auto full = collective_message_sizes(false);
  // Powers of 2 from 2^10 to 2^30: 21 sizes.
  ASSERT_EQ(full.size(), 21u);
  EXPECT_EQ(full.front(), 1024u);
  EXPECT_EQ(full.back(), 1u << 30);
  // Powers of 16 from 2^10: 2^10, 2^14, 2^18, 2^22, 2^26, 2^30.
  const auto quick = collective_message_sizes(true);
  ASSERT_EQ(quick.size(), 6u);
  EXPECT_EQ(quick[1], 16384u);
  EXPECT_EQ(quick.back(), 1u << 30);
}

TEST(SplitBytes, PiecesFollowSharesInGranulesAndSumToTotal) {
  // 1000 bytes at 3:1 in 16-byte granules: 750 -> 736 (46 granules); the last piece takes the
  // rest, 1000 - 736 = 264 (250 rounded down to 240, plus the 24 left over).
  const auto pieces = split_bytes(1000, {3, 1}, 16);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0], 736u);
  EXPECT_EQ(pieces[1], 264u);
}

TEST(SplitBytes, ZeroShareGetsNothing) {
  // Shares 1:0:1 of 64 bytes in 8-byte granules: 32, 0, 32; the remainder goes to the last
  // non-empty piece, never to the one with share 0.
  const auto pieces = split_bytes(64, {1, 0, 1}, 8);
  EXPECT_EQ(pieces, (std::vector<std::size_t>{32, 0, 32}));
  EXPECT_THROW(split_bytes(64, {0, 0}, 8), std::invalid_argument);
}

TEST(CollectiveEntry, SlowestRankPerRunGivesTimeAndBandwidths) {
  // Rank 0 ran {100, 200, 100} us, rank 1 {150, 100, 150}: the slowest per run is
  // {150, 200, 150}, median 150 us. 1 MiB in 150 us: algbw = 1048576 / 150e-6 = 6.99e9 B/s;
  // all-to-all on 2 ranks: busbw = algbw / 2. A non-member rank (no samples) is left out.
  const auto entry = collective_entry(CollectiveOp::AllToAll, 2, 1 << 20, 20,
                                      {{100, 200, 100}, {150, 100, 150}, {}});
  EXPECT_DOUBLE_EQ(entry["time"]["median_us"].get<double>(), 150.0);
  const double algbw = 1048576.0 / 150e-6;
  EXPECT_DOUBLE_EQ(entry["algbw_bytes_per_s"].get<double>(), algbw);
  EXPECT_DOUBLE_EQ(entry["busbw_bytes_per_s"].get<double>(), algbw / 2);
  // Each member's own median: rank 0 {100, 100, 200} -> 100; rank 1 {100, 150, 150} -> 150.
  EXPECT_EQ(entry["rank_median_us"], nlohmann::json({100.0, 150.0}));
  EXPECT_EQ(entry["ranks"], 2);
}

}  // namespace
}  // namespace moesim::profiler

#include "sim/network/flow_classes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

namespace moesim::sim {
namespace {

// A star of 4 GPUs: GPU g sends on link g and receives on link 4 + g, 100 GB/s each, 1 us.
struct Star {
  std::vector<std::vector<RoutedPath>> paths;
  NetworkLinks links{std::vector<BytesPerSecond>(8, 100e9), {}};
  Star() : paths(4, std::vector<RoutedPath>(4)) {
    for (int s = 0; s < 4; ++s)
      for (int d = 0; d < 4; ++d)
        paths[s][d] = RoutedPath{FlowPath({s, 4 + d}), SimTime::from_ns(1000)};
  }
  PathLookup lookup() const {
    return [this](int s, int d) -> const RoutedPath& { return paths[s][d]; };
  }
  PathFunction function() const {
    return [this](int s, int d) { return paths[s][d]; };
  }
};

ByteMatrix zeros() { return ByteMatrix(4, std::vector<Bytes>(4, 0.0)); }

TEST(FlowClasses, IncastFromThreeSendersIsOneClassAndMatchesThePairs) {
  const Star star;
  ByteMatrix bytes = zeros();
  for (int s = 1; s < 4; ++s) bytes[s][0] = 1e9;
  const auto classes = classify_pairs(bytes, star.lookup(), star.links.capacity);
  ASSERT_EQ(classes.size(), 1u);
  EXPECT_EQ(classes[0].members.size(), 3u);
  // The class crosses each sender's link once and GPU 0's receive link three times over.
  EXPECT_EQ(classes[0].path.links, (std::vector<LinkId>{1, 4, 2, 3}));
  EXPECT_DOUBLE_EQ(classes[0].path.shares[1], 3);
  // GPU 0 receives at 100 GB/s shared by 3: 33.3 GB/s each, 1 GB in 30 ms, after 1 us.
  const auto classed = simulate_classed_all_to_all(bytes, star.lookup(), star.links);
  const auto pairs = simulate_all_to_all(bytes, star.function(), star.links);
  EXPECT_EQ(classed.time, SimTime::from_ns(1000 + 30'000'000));
  EXPECT_EQ(classed.time, pairs.time);
  ASSERT_EQ(classed.link_bytes.size(), pairs.link_bytes.size());
  for (std::size_t link = 0; link < pairs.link_bytes.size(); ++link)
    EXPECT_DOUBLE_EQ(classed.link_bytes[link], pairs.link_bytes[link]) << link;
  EXPECT_EQ(classed.receive_done, pairs.receive_done);
  EXPECT_EQ(classed.flows, 1u);
  EXPECT_EQ(pairs.flows, 3u);
}

// A dispatch: every GPU of a domain (0-1, 2-3) sends the same bytes to a destination; the combine
// sends it back.
ByteMatrix dispatch() {
  ByteMatrix bytes = zeros();
  const double to[4] = {1e9, 2e9, 3e9, 4e9};
  for (int s = 0; s < 4; ++s)
    for (int d = 0; d < 4; ++d)
      if (s != d) bytes[s][d] = to[d] * (s < 2 ? 1.0 : 0.5);
  return bytes;
}

TEST(FlowClasses, ADispatchIsClassedByDestinationAndItsCombineBySource) {
  const Star star;
  // Destination d gets one amount from each source domain: GPU 0 hears 1 GB from GPU 1 (domain
  // 0) and 0.5 GB from each of 2 and 3 (domain 1): 2 classes, and so for every destination: 8.
  // By source, GPU 0's three destinations get 2, 3 and 4 GB: 3 classes a source, 12. So 8; the
  // combine is the transpose, so by source it makes the same 8.
  EXPECT_EQ(classify_pairs(dispatch(), star.lookup(), star.links.capacity).size(), 8u);
  ByteMatrix combine = dispatch();
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b) std::swap(combine[a][b], combine[b][a]);
  EXPECT_EQ(classify_pairs(combine, star.lookup(), star.links.capacity).size(), 8u);
}

TEST(FlowClasses, PairsAreNumberedRowMajorUnderTheAnchorWithFewerClasses) {
  const Star star;
  const auto alone = alone_rates(4, star.lookup(), star.links.capacity);
  constexpr std::uint32_t kNone = kNoPairClass;
  // The combine: GPU s returns to[s] to its own domain's GPUs and half that to the other's.
  // By source each row has two keys: 8 classes; by destination 12 (above), so the source wins.
  // Classes are numbered as their first pair appears row by row: row 0 opens 0 (GPU 1, 1 GB)
  // and 1 (GPUs 2 and 3, 0.5 GB), row 1 opens 2 and 3, row 2 opens 4 (GPUs 0, 1) and 5, row 3 6, 7.
  ByteMatrix combine = dispatch();
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b) std::swap(combine[a][b], combine[b][a]);
  const PairPartition by_source = partition_pairs(combine, alone);
  EXPECT_EQ(by_source.classes, 8u);
  EXPECT_EQ(by_source.class_of, (std::vector<std::uint32_t>{kNone, 0, 1, 1, 2, kNone, 3, 3, 4, 4,
                                                            kNone, 5, 6, 6, 7, kNone}));
  // A uniform matrix makes 4 classes under either anchor; a tie goes to the destination, so
  // row 0 opens classes 0, 1, 2 (destinations 1, 2, 3) and row 1 opens 3 (destination 0).
  ByteMatrix uniform(4, std::vector<Bytes>(4, 1e9));
  for (int g = 0; g < 4; ++g) uniform[g][g] = 0;
  const PairPartition tie = partition_pairs(uniform, alone);
  EXPECT_EQ(tie.classes, 4u);
  EXPECT_EQ(tie.class_of, (std::vector<std::uint32_t>{kNone, 0, 1, 2, 3, kNone, 1, 2, 3, 0, kNone,
                                                      2, 3, 0, 1, kNone}));
}

TEST(FlowClasses, PartitioningChecksRowsTheClassingNeverReads) {
  // 70 GPUs, every pair its own bytes: a source's 69 destinations are 69 keys and a destination's
  // 65th source its 65th key, so both anchors give up before the last row (at row 0 and row 64).
  // A NaN in row 69 must still be refused, in validate_byte_matrix's words.
  const std::size_t gpus = 70;
  ByteMatrix bytes(gpus, std::vector<Bytes>(gpus, 0.0));
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d)
      if (s != d) bytes[s][d] = static_cast<double>(1 + s * gpus + d);
  const std::vector<double> alone(gpus * gpus, 1e9);
  EXPECT_EQ(partition_pairs(bytes, alone).classes, gpus * (gpus - 1));  // one class per pair
  bytes[69][3] = std::nan("");
  try {
    partition_pairs(bytes, alone);
    ADD_FAILURE() << "a NaN entry was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "all-to-all bytes[69][3]: bytes must be finite and >= 0");
  }
}

// Destination anchoring pair by pair, as the classing defines it: a class per distinct (bytes,
// rate alone) at each destination, numbered as its first pair appears row by row.
PairPartition by_destination_pair_by_pair(const ByteMatrix& bytes,
                                          const std::vector<double>& alone) {
  const std::size_t gpus = bytes.size();
  PairPartition partition;
  partition.class_of.assign(gpus * gpus, kNoPairClass);
  std::vector<std::vector<std::pair<std::pair<double, double>, std::uint32_t>>> seen(gpus);
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d) {
      if (s == d || !(bytes[s][d] > 0)) continue;
      const std::pair<double, double> key{bytes[s][d], alone[s * gpus + d]};
      auto& mine = seen[d];
      auto found = std::find_if(mine.begin(), mine.end(),
                                [&](const auto& entry) { return entry.first == key; });
      if (found == mine.end()) {
        mine.push_back({key, partition.classes++});
        found = mine.end() - 1;
      }
      partition.class_of[s * gpus + d] = found->second;
    }
  return partition;
}

TEST(FlowClasses, RowsThatRepeatTheirNeighbourClassAsThePairsDo) {
  // 96 GPUs in 12 domains of 8, each domain's GPUs sending the same row (so most rows repeat the
  // one before) with destination weights 1 + d: a source sees 95 keys, over the 64 a source anchor
  // allows, so destinations anchor. Rates alone: 200 GB/s inside a domain, 50 across, and GPU 13
  // behind a 25 GB/s NIC both ways. Rows that break the repetition: GPU 21 sends 1.5x to GPU 40,
  // GPU 22 (same domain) repeats GPU 21, GPU 30 sends nothing to GPU 31 (its neighbour in the
  // domain, the one column a repeated row still classes on its own).
  const std::size_t gpus = 96;
  ByteMatrix bytes(gpus, std::vector<Bytes>(gpus, 0.0));
  std::vector<double> alone(gpus * gpus, 0.0);
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d) {
      if (s == d) continue;
      bytes[s][d] = 1e6 * static_cast<double>(1 + d) * (s / 8 == 3 ? 2.0 : 1.0);
      alone[s * gpus + d] = s / 8 == d / 8 ? 200e9 : (s == 13 || d == 13 ? 25e9 : 50e9);
    }
  bytes[21][40] *= 1.5;
  bytes[22][40] *= 1.5;
  bytes[30][31] = 0;
  const PairPartition expected = by_destination_pair_by_pair(bytes, alone);
  const PairPartition partition = partition_pairs(bytes, alone);
  EXPECT_EQ(partition.classes, expected.classes);
  EXPECT_EQ(partition.class_of, expected.class_of);
}

TEST(FlowClasses, ClassesOfInterchangeablePairsFinishWhenThePairsDo) {
  const Star star;
  const auto classed = simulate_classed_all_to_all(dispatch(), star.lookup(), star.links);
  const auto pairs = simulate_all_to_all(dispatch(), star.function(), star.links);
  // On the star every class's members share their destination's link, so the rates are the
  // pairs' own: the same completions to the nanosecond.
  EXPECT_EQ(classed.send_done, pairs.send_done);
  EXPECT_EQ(classed.receive_done, pairs.receive_done);
  EXPECT_LT(classed.flows, pairs.flows);
}

TEST(FlowClasses, HierarchicalIsRefused) {
  const Star star;
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 2;
  EXPECT_THROW(simulate_classed_all_to_all(dispatch(), star.lookup(), star.links, options),
               std::invalid_argument);
}

}  // namespace
}  // namespace moesim::sim

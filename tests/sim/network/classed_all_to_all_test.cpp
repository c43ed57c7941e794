#include "sim/network/classed_all_to_all.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace moesim::sim {
namespace {

// 8 GPUs in 2 "domains" of 4: inside a domain a pair has its own 200 GB/s link; across, a
// GPU sends on link 2 x g (50 GB/s, its NIC out) and receives on 2 x g + 1 (its NIC in).
struct TwoDomainNet {
  std::vector<std::vector<RoutedPath>> paths;
  NetworkLinks links;
  TwoDomainNet() : paths(8, std::vector<RoutedPath>(8)) {
    links.capacity.assign(16, 50e9);
    for (int s = 0; s < 8; ++s)
      for (int d = 0; d < 8; ++d) {
        if (s == d) continue;
        if (s / 4 == d / 4) {
          paths[s][d] = {FlowPath({static_cast<LinkId>(links.capacity.size())}),
                         SimTime::from_ns(500)};
          links.capacity.push_back(200e9);
        } else {
          paths[s][d] = {FlowPath({2 * s, 2 * d + 1}), SimTime::from_ns(2000)};
        }
      }
  }
  PathLookup lookup() const {
    return [this](int s, int d) -> const RoutedPath& { return paths[s][d]; };
  }
};

// A dispatch's shape: every GPU of a domain sends the same bytes to a destination.
ByteMatrix domain_dispatch(double scale) {
  ByteMatrix bytes(8, std::vector<Bytes>(8, 0.0));
  for (int s = 0; s < 8; ++s)
    for (int d = 0; d < 8; ++d)
      if (s != d) bytes[s][d] = scale * (1 + d) * (s / 4 == d / 4 ? 1.0 : 3.0);
  return bytes;
}

void expect_identical_results(const AllToAllResult& a, const AllToAllResult& b) {
  EXPECT_EQ(a.send_done, b.send_done);
  EXPECT_EQ(a.receive_done, b.receive_done);
  EXPECT_EQ(a.time, b.time);
  EXPECT_EQ(a.link_bytes, b.link_bytes);
  EXPECT_EQ(a.scale_up_bytes, b.scale_up_bytes);
  EXPECT_EQ(a.flows, b.flows);
  EXPECT_EQ(a.solves, b.solves);
}

TEST(ClassedAllToAll, ReusedPlansGiveTheFreshResultsBitForBit) {
  const TwoDomainNet net;
  AllToAllOptions options;
  options.completion_tolerance = 0.01;
  options.fixed_cost = SimTime::from_ns(10000);
  ClassedAllToAll collectives;
  // Layers of one shape with different bytes share a partition; a combine (the transpose) and
  // a layer where every pair differs need their own.
  ByteMatrix combine = domain_dispatch(1e6);
  for (int a = 0; a < 8; ++a)
    for (int b = a + 1; b < 8; ++b) std::swap(combine[a][b], combine[b][a]);
  ByteMatrix uneven = domain_dispatch(1e6);
  uneven[0][5] *= 1.5;
  const std::vector<ByteMatrix> sequence{
      domain_dispatch(1e6), combine, domain_dispatch(2.5e6), combine, domain_dispatch(7e5), uneven};
  for (const ByteMatrix& bytes : sequence)
    expect_identical_results(collectives.play(bytes, net.lookup(), net.links, options),
                             simulate_classed_all_to_all(bytes, net.lookup(), net.links, options));
  // Dispatch shape, combine shape, uneven: 3 partitions planned for 6 collectives.
  EXPECT_EQ(collectives.plans_made(), 3u);
}

TEST(ClassedAllToAll, DispatchClassesAreOnePerDestinationAndReach) {
  // Destination d receives from 3 same-domain GPUs (200 GB/s links, alone rate 200 GB/s) and 4
  // remote ones (NICs, 50 GB/s): 2 classes per destination, 16 flows.
  const TwoDomainNet net;
  ClassedAllToAll collectives;
  const AllToAllResult result = collectives.play(domain_dispatch(1e6), net.lookup(), net.links, {});
  EXPECT_EQ(result.flows, 16u);
}

TEST(ClassedAllToAll, RefusesWhatTheOneShotRefuses) {
  const TwoDomainNet net;
  ClassedAllToAll collectives;
  AllToAllOptions hierarchical;
  hierarchical.hierarchical = true;
  hierarchical.gpus_per_node = 4;
  EXPECT_THROW(collectives.play(domain_dispatch(1e6), net.lookup(), net.links, hierarchical),
               std::invalid_argument);
  ByteMatrix negative = domain_dispatch(1e6);
  negative[1][2] = -1;
  EXPECT_THROW(collectives.play(negative, net.lookup(), net.links, {}), std::invalid_argument);
}

}  // namespace
}  // namespace moesim::sim

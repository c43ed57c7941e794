// The bound of completion batching (FlowNetworkOptions::completion_tolerance): a flow whose
// remaining time is within tolerance x its time in the sharing completes with the flows ending
// now, so it ends at most that fraction early. The flows it leaves get its capacity that much
// sooner, so a GPU's last flow can gain a little more: on skewed all-to-alls, where every
// destination finishes at its own time, each GPU ends within 2 x tolerance of its exact time and
// the collective within 1 x.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "sim/network/all_to_all.hpp"
#include "sim/network/network_model.hpp"

namespace moesim::sim {
namespace {

// 16 GPUs in 4 domains of 4 on a two-level star: GPU g sends on link g and receives on 16 + g
// (50 GB/s, a NIC); domain n's uplink is 32 + n and downlink 36 + n (100 GB/s, 2:1 under its
// 4 NICs). Pairs inside a domain cross only the GPUs' links.
struct TwoLevelStar {
  NetworkLinks links;
  TwoLevelStar() {
    links.capacity.assign(16, 50e9);
    links.capacity.resize(32, 50e9);
    links.capacity.resize(40, 100e9);
  }
  RoutedPath path(int s, int d) const {
    if (s / 4 == d / 4) return {FlowPath({s, 16 + d}), SimTime::from_ns(1000)};
    return {FlowPath({s, 32 + s / 4, 36 + d / 4, 16 + d}), SimTime::from_ns(2000)};
  }
};

// Destination weights ~ Zipf(1) with +-20% jitter per pair: many distinct completion times.
ByteMatrix skewed(std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  ByteMatrix bytes(16, std::vector<Bytes>(16, 0.0));
  for (int s = 0; s < 16; ++s)
    for (int d = 0; d < 16; ++d)
      if (s != d) bytes[s][d] = 1e8 / (1 + (d * 7 + 3) % 16) * jitter(generator);
  return bytes;
}

TEST(CompletionTolerance, GpusEndWithinTwiceTheToleranceAndTheCollectiveWithinOnce) {
  const TwoLevelStar star;
  const PathFunction path = [&](int s, int d) { return star.path(s, d); };
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    AllToAllOptions exact, batched;
    batched.completion_tolerance = kFlowCompletionTolerance;
    const auto reference = simulate_all_to_all(skewed(seed), path, star.links, exact);
    const auto result = simulate_all_to_all(skewed(seed), path, star.links, batched);
    // Batching must save re-solves here, or the test checks nothing.
    EXPECT_LT(result.solves, reference.solves) << "seed " << seed;
    for (std::size_t gpu = 0; gpu < 16; ++gpu) {
      const double want = reference.receive_done[gpu].seconds();
      EXPECT_NEAR(result.receive_done[gpu].seconds(), want, 2 * kFlowCompletionTolerance * want)
          << "seed " << seed << " gpu " << gpu;
    }
    const double want = reference.time.seconds();
    EXPECT_NEAR(result.time.seconds(), want, kFlowCompletionTolerance * want) << "seed " << seed;
  }
}

}  // namespace
}  // namespace moesim::sim

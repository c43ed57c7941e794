#include "sim/network/flow_network.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace moesim::sim {
namespace {

SimTime ms_time(double value) { return SimTime::from_seconds(value * 1e-3); }

TEST(FlowNetwork, OneFlowOnOneLinkTakesBytesOverBandwidth) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  SimTime seen;
  const FlowId flow =
      network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero(), [&](FlowId, SimTime t) { seen = t; });
  queue.run();
  // 1 GB / 100 GB/s = 10 ms, exactly: no nanosecond lost to rounding.
  EXPECT_EQ(network.finish_time(flow).ns(), 10'000'000);
  EXPECT_EQ(seen, network.finish_time(flow));
  EXPECT_TRUE(network.finished(flow));
}

TEST(FlowNetwork, TwoFlowsSharingALinkFinishAtDerivedTimes) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  const FlowId small = network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  const FlowId large = network.add_flow(FlowPath{{0}}, 2e9, SimTime::zero());
  queue.run();
  // Both at 100 / 2 = 50 GB/s: the 1 GB flow is done at 1 / 50 = 20 ms.
  EXPECT_EQ(network.finish_time(small), ms_time(20));
  // The 2 GB flow has moved 1 GB by then and gets the whole link for the other 1 GB:
  // 20 + 1 / 100 s = 30 ms.
  EXPECT_EQ(network.finish_time(large), ms_time(30));
  // The link carried both: 1 + 2 = 3 GB.
  EXPECT_DOUBLE_EQ(network.link_bytes()[0], 3e9);
  // One solve when both joined, one when the first finished; none when the link went idle.
  EXPECT_EQ(network.solve_count(), 2u);
}

TEST(FlowNetwork, LateJoinerHalvesTheFirstFlowsRateFromTheMomentItJoins) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  const FlowId first = network.add_flow(FlowPath{{0}}, 3e9, SimTime::zero());
  FlowId late = 0;
  queue.schedule_at(ms_time(10),
                    [&] { late = network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero()); });
  BytesPerSecond rate_before = 0, rate_after = 0;
  Bytes left_at_join = 0;
  queue.schedule_at(ms_time(5), [&] { rate_before = network.rate(first); });
  queue.schedule_at(ms_time(15), [&] { rate_after = network.rate(first); });
  queue.schedule_at(ms_time(10), [&] { left_at_join = network.remaining_bytes(first); });
  queue.run();
  // Alone for 10 ms at 100 GB/s: 1 GB moved, 2 GB left when the second flow arrives.
  EXPECT_DOUBLE_EQ(rate_before, 100e9);
  EXPECT_DOUBLE_EQ(left_at_join, 2e9);
  // Then 50 GB/s each: the 1 GB joiner is done after 20 ms, at 30 ms.
  EXPECT_DOUBLE_EQ(rate_after, 50e9);
  EXPECT_EQ(network.finish_time(late), ms_time(30));
  // The first flow moved another 1 GB meanwhile; its last 1 GB alone takes 10 ms: 40 ms.
  EXPECT_EQ(network.finish_time(first), ms_time(40));
}

TEST(FlowNetwork, LatencyDelaysTheFinishAndTheMomentAFlowStartsSharing) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  const FlowId lone = network.add_flow(FlowPath{{0}}, 1e9, SimTime::from_ns(2000));
  queue.run();
  // 2 µs of latency, then 10 ms of transfer: 10,002,000 ns.
  EXPECT_EQ(network.finish_time(lone).ns(), 10'002'000);

  EventQueue second_queue;
  FlowNetwork shared(second_queue, {100e9});
  const FlowId early = shared.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  const FlowId delayed = shared.add_flow(FlowPath{{0}}, 1e9, ms_time(5));
  second_queue.run();
  // The delayed flow takes no bandwidth during its 5 ms latency: the early one moves 0.5 GB
  // alone, then 0.5 GB at 50 GB/s takes 10 ms: done at 15 ms.
  EXPECT_EQ(shared.finish_time(early), ms_time(15));
  // The delayed flow moved 0.5 GB in those 10 ms; its other 0.5 GB alone takes 5 ms: 20 ms.
  EXPECT_EQ(shared.finish_time(delayed), ms_time(20));
  EXPECT_EQ(shared.start_time(delayed), SimTime::zero());
}

TEST(FlowNetwork, SharesSplitTheBytesCarriedOverParallelLinks) {
  EventQueue queue;
  FlowNetwork network(queue, {10e9, 10e9, 40e9});
  // Half the bytes over each of links 0 and 1 (ECMP), all of them over link 2.
  const FlowId flow = network.add_flow(FlowPath{{0, 1, 2}, {0.5, 0.5, 1.0}}, 1e9, SimTime::zero());
  queue.run();
  // Links 0 and 1 each allow 10 / 0.5 = 20 GB/s, link 2 allows 40: 20 GB/s, 1 GB in 50 ms.
  EXPECT_EQ(network.finish_time(flow), ms_time(50));
  const std::vector<Bytes> carried = network.link_bytes();
  EXPECT_DOUBLE_EQ(carried[0], 0.5e9);
  EXPECT_DOUBLE_EQ(carried[1], 0.5e9);
  EXPECT_DOUBLE_EQ(carried[2], 1e9);
}

TEST(FlowNetwork, LinkBytesCountWhatHasMovedSoFar) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  queue.run_until(ms_time(4));
  // 4 ms at 100 GB/s: 0.4 GB through, 0.6 GB to go.
  EXPECT_NEAR(network.link_bytes()[0], 0.4e9, 1);
  EXPECT_NEAR(network.remaining_bytes(0), 0.6e9, 1);
}

TEST(FlowNetwork, ZeroByteFlowCompletesWhenItJoins) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  const FlowId empty = network.add_flow(FlowPath{{0}}, 0, SimTime::from_ns(1000));
  queue.run();
  // Nothing to move: done after its 1 µs latency.
  EXPECT_EQ(network.finish_time(empty).ns(), 1000);
}

TEST(FlowNetwork, CompletionCallbackCanChainTheNextFlow) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  FlowId second = 0;
  network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero(), [&](FlowId, SimTime) {
    second = network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  });
  queue.run();
  // 10 ms for the first, then 10 ms for the second, which starts when the first ends.
  EXPECT_EQ(network.start_time(second), ms_time(10));
  EXPECT_EQ(network.finish_time(second), ms_time(20));
}

TEST(FlowNetwork, FlowOverADeadLinkNeverFinishesAndDoesNotHangTheQueue) {
  EventQueue queue;
  FlowNetwork network(queue, {0.0, 100e9});
  const FlowId stuck = network.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  const FlowId fine = network.add_flow(FlowPath{{1}}, 1e9, SimTime::zero());
  queue.run();
  // Rate 0 on link 0: no completion is ever scheduled for it; link 1 alone: 10 ms.
  EXPECT_FALSE(network.finished(stuck));
  EXPECT_EQ(network.finish_time(stuck), SimTime::max());
  EXPECT_EQ(network.finish_time(fine), ms_time(10));
}

TEST(FlowNetwork, ManyFlowsJoiningTogetherCostOneSolve) {
  EventQueue queue;
  FlowNetwork network(queue, {100e9});
  for (int i = 0; i < 100; ++i) network.add_flow(FlowPath{{0}}, 1e8, SimTime::zero());
  queue.run();
  // 100 flows of 0.1 GB at 1 GB/s each all finish at 0.1 / 1 = 100 ms: one solve at t = 0, and
  // one update at 100 ms that needs none because the link is then idle.
  EXPECT_EQ(network.solve_count(), 1u);
  EXPECT_EQ(network.finish_time(99), ms_time(100));
}

TEST(FlowNetwork, CompletionToleranceBatchesFinishesThatAreCloseInTime) {
  // Two flows share a 100 GB/s link at 50 GB/s each; 1 GB is done at 20 ms. The other, 1.001 GB,
  // has 0.001 GB left then; exact, it runs alone at 100 GB/s for 10 µs more: 20.01 ms, after a
  // second solve.
  EventQueue exact_queue;
  FlowNetwork exact(exact_queue, {100e9});
  exact.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  const FlowId exact_long = exact.add_flow(FlowPath{{0}}, 1.001e9, SimTime::zero());
  exact_queue.run();
  EXPECT_EQ(exact.finish_time(exact_long), ms_time(20.01));
  EXPECT_EQ(exact.solve_count(), 2u);
  // With a tolerance of 0.2%: at 20 ms the long flow's remaining time at its current rate,
  // 0.001 / 50 s = 20 µs, is within 0.2% of the 20 ms it has been moving (40 µs): it completes
  // at 20 ms with the other, and no second solve is needed.
  EventQueue queue;
  FlowNetwork batched(queue, {100e9}, FlowNetworkOptions{2e-3});
  batched.add_flow(FlowPath{{0}}, 1e9, SimTime::zero());
  const FlowId batched_long = batched.add_flow(FlowPath{{0}}, 1.001e9, SimTime::zero());
  queue.run();
  EXPECT_EQ(batched.finish_time(batched_long), ms_time(20));
  EXPECT_EQ(batched.solve_count(), 1u);
  // Its bytes are all booked even though it finished early: 1 + 1.001 GB on the link.
  EXPECT_DOUBLE_EQ(batched.link_bytes()[0], 2.001e9);
}

}  // namespace
}  // namespace moesim::sim

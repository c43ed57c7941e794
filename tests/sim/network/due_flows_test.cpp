#include "sim/network/due_flows.hpp"

#include <gtest/gtest.h>

#include <random>

namespace moesim::sim {
namespace {

SimTime at_ns(std::int64_t value) { return SimTime::from_ns(value); }

TEST(DueTime, WithoutToleranceAFlowIsDueWhenItFinishes) {
  EXPECT_EQ(due_time(at_ns(100), at_ns(5000), 0.0), at_ns(5000));
}

TEST(DueTime, WithToleranceAFlowIsDueWhenItsRemainingTimeIsThatShareOfItsTimeSoFar) {
  // Joined at 0, finishing at 10,100 ns, tolerance 1%: due from t with 10,100 - t <= 0.01 t,
  // t >= 10,100 / 1.01 = 10,000 ns exactly; at 9,999 ns, 101 ns remain against 99.99 allowed.
  EXPECT_EQ(due_time(at_ns(0), at_ns(10'100), 0.01), at_ns(10'000));
  EXPECT_TRUE(completes_at(at_ns(10'000), at_ns(0), at_ns(10'100), 0.01));
  EXPECT_FALSE(completes_at(at_ns(9'999), at_ns(0), at_ns(10'100), 0.01));
}

TEST(DueTime, AFlowThatNeverFinishesIsNeverDue) {
  EXPECT_EQ(due_time(at_ns(0), SimTime::max(), 0.01), SimTime::max());
}

TEST(DueTime, IsTheFirstNanosecondAtWhichTheFlowCompletesOnRandomFlows) {
  // The heap retires a flow at an event iff the event is at or after its due time, so due_time
  // must be exactly the first time completes_at holds (and it holds from then on).
  std::mt19937_64 generator(17);
  std::uniform_int_distribution<std::int64_t> join(0, 4'000'000'000);
  std::uniform_int_distribution<std::int64_t> length(1, 3'000'000'000);
  for (double tolerance : {1e-3, 1e-2, 0.1, 0.5}) {
    for (int trial = 0; trial < 2000; ++trial) {
      const SimTime joined = at_ns(join(generator));
      const SimTime finish = joined + at_ns(trial % 50 == 0 ? trial % 7 : length(generator));
      const SimTime due = due_time(joined, finish, tolerance);
      ASSERT_LE(due, finish);
      ASSERT_TRUE(completes_at(due, joined, finish, tolerance));
      if (due > joined) {
        ASSERT_FALSE(completes_at(due - at_ns(1), joined, finish, tolerance));
      }
      for (std::int64_t later : {1, 2, 5, 1000}) {
        if (due + at_ns(later) <= finish) {
          ASSERT_TRUE(completes_at(due + at_ns(later), joined, finish, tolerance));
        }
      }
    }
  }
}

TEST(FlowTimeHeap, PopsInTimeOrderAndSkipsStaleEntries) {
  FlowTimeHeap heap;
  std::uint32_t stamp[3] = {1, 1, 2};
  heap.push(at_ns(30), 0, 1);
  heap.push(at_ns(10), 1, 1);
  heap.push(at_ns(20), 2, 1);  // flow 2 has since moved to stamp 2: stale
  heap.push(at_ns(40), 2, 2);
  const auto live = [&](std::uint32_t flow, std::uint32_t at) { return stamp[flow] == at; };
  std::vector<std::uint32_t> order;
  for (heap.clean(live); !heap.empty(); heap.clean(live)) {
    order.push_back(heap.top_flow());
    heap.pop();
  }
  // 10 (flow 1), 30 (flow 0), 40 (flow 2); flow 2's entry at 20 is skipped.
  EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 0, 2}));
}

}  // namespace
}  // namespace moesim::sim

#include "sim/engine/event_queue.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace moesim::sim {
namespace {

SimTime ns(std::int64_t value) { return SimTime::from_ns(value); }

TEST(SimTime, ConvertsSecondsToNearestNanosecond) {
  // 1.5 µs = 1500 ns exactly.
  EXPECT_EQ(SimTime::from_seconds(1.5e-6).ns(), 1500);
  // 2.4 ns rounds down to 2, 2.6 ns rounds up to 3.
  EXPECT_EQ(SimTime::from_seconds(2.4e-9).ns(), 2);
  EXPECT_EQ(SimTime::from_seconds(2.6e-9).ns(), 3);
  // 2500 ns = 2.5e-6 s.
  EXPECT_DOUBLE_EQ(ns(2500).seconds(), 2.5e-6);
  // 10 + 5 = 15 ns; 10 - 5 = 5 ns.
  EXPECT_EQ((ns(10) + ns(5)).ns(), 15);
  EXPECT_EQ((ns(10) - ns(5)).ns(), 5);
  EXPECT_LT(ns(4), ns(5));
}

TEST(EventQueue, FiresEventsInTimeOrder) {
  EventQueue queue;
  std::vector<std::int64_t> fired;
  for (std::int64_t t : {30, 10, 20})
    queue.schedule_at(ns(t), [&] { fired.push_back(queue.now().ns()); });
  // Three events scheduled out of order fire at 10, 20, 30; the clock ends at the last.
  EXPECT_EQ(queue.run(), 3u);
  EXPECT_EQ(fired, (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_EQ(queue.now().ns(), 30);
}

TEST(EventQueue, EqualTimesFireInSchedulingOrder) {
  EventQueue queue;
  std::string order;
  // All at t = 5: the sequence number breaks the tie, so a, b, c, d in the order scheduled,
  // whatever the heap's internal layout.
  for (char name : std::string("abcd")) queue.schedule_at(ns(5), [&order, name] { order += name; });
  queue.schedule_at(ns(1), [&order] { order += '0'; });
  queue.run();
  EXPECT_EQ(order, "0abcd");
}

TEST(EventQueue, CancelledEventNeverFires) {
  EventQueue queue;
  std::string order;
  queue.schedule_at(ns(1), [&] { order += 'a'; });
  const EventId b = queue.schedule_at(ns(2), [&] { order += 'b'; });
  queue.schedule_at(ns(3), [&] { order += 'c'; });
  EXPECT_EQ(queue.pending(), 3u);
  EXPECT_TRUE(queue.cancel(b));
  // Cancelling twice, or an id that names nothing, reports false.
  EXPECT_FALSE(queue.cancel(b));
  EXPECT_FALSE(queue.cancel(EventId{}));
  // Three scheduled, one cancelled: two pending, two fire.
  EXPECT_EQ(queue.pending(), 2u);
  EXPECT_EQ(queue.run(), 2u);
  EXPECT_EQ(order, "ac");
}

TEST(EventQueue, CancelAfterFiringIsANoOpEvenWhenTheSlotIsReused) {
  EventQueue queue;
  int fired = 0;
  const EventId first = queue.schedule_at(ns(1), [&] { ++fired; });
  queue.run();
  // The slot of `first` is reused by the next event; the old id must not cancel it.
  queue.schedule_at(ns(2), [&] { ++fired; });
  EXPECT_FALSE(queue.cancel(first));
  queue.run();
  EXPECT_EQ(fired, 2);
}

TEST(EventQueue, CallbacksScheduleAndCancelFurtherEvents) {
  EventQueue queue;
  std::vector<std::int64_t> fired;
  EventId doomed;
  queue.schedule_at(ns(10), [&] {
    fired.push_back(queue.now().ns());
    // From t = 10: one event 5 ns later (t = 15), one at the same time (fires next, after
    // anything already scheduled at 10), and cancel the one pending at 12.
    queue.schedule_after(ns(5), [&] { fired.push_back(queue.now().ns()); });
    queue.schedule_after(ns(0), [&] { fired.push_back(-queue.now().ns()); });
    queue.cancel(doomed);
  });
  doomed = queue.schedule_at(ns(12), [&] { fired.push_back(12000); });
  queue.run();
  EXPECT_EQ(fired, (std::vector<std::int64_t>{10, -10, 15}));
}

TEST(EventQueue, RunUntilStopsAtTheBoundAndAdvancesTheClock) {
  EventQueue queue;
  std::vector<std::int64_t> fired;
  for (std::int64_t t : {10, 20, 30}) queue.schedule_at(ns(t), [&fired, t] { fired.push_back(t); });
  // The bound is inclusive: events at 10 and 20 fire; the clock moves to 25, not 20.
  EXPECT_EQ(queue.run_until(ns(25)), 2u);
  EXPECT_EQ(queue.now().ns(), 25);
  EXPECT_EQ(queue.run_until(ns(20)), 0u);  // never backwards
  EXPECT_EQ(queue.now().ns(), 25);
  EXPECT_EQ(queue.run_until(ns(30)), 1u);
  EXPECT_EQ(fired, (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.next_time(), SimTime::max());
}

TEST(EventQueue, RejectsThePastAndEmptyCallbacks) {
  EventQueue queue;
  queue.run_until(ns(100));
  EXPECT_THROW(queue.schedule_at(ns(99), [] {}), std::invalid_argument);
  EXPECT_THROW(queue.schedule_after(ns(-1), [] {}), std::invalid_argument);
  EXPECT_THROW(queue.schedule_at(ns(200), EventCallback{}), std::invalid_argument);
}

TEST(EventQueue, ManyEventsStayOrdered) {
  EventQueue queue;
  // 10,000 events at times (7919 * i) mod 10007, a permutation of distinct times since 10007
  // is prime: they must fire in strictly increasing time.
  std::int64_t last = -1;
  bool ordered = true;
  for (std::int64_t i = 0; i < 10000; ++i)
    queue.schedule_at(ns((7919 * i) % 10007), [&] {
      ordered = ordered && queue.now().ns() > last;
      last = queue.now().ns();
    });
  EXPECT_EQ(queue.run(), 10000u);
  EXPECT_TRUE(ordered);
}

}  // namespace
}  // namespace moesim::sim

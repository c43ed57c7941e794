#include "sim/serving/serving_sim.hpp"

#include <gtest/gtest.h>

#include "sim/serving/serving_metrics.hpp"
#include "tests/sim/serving/fake_pricer.hpp"

namespace moesim::sim {
namespace {

Request request(std::int64_t id, double arrival, std::int64_t input, std::int64_t output) {
  return Request{id, arrival, input, output, 0, -1};
}

TEST(ServingSim, SingleRequestTtftIsItsPrefillStep) {
  // 1 ms a step + 10 us a prompt token: a 1,000-token prompt's step is 1 + 10 = 11 ms, and its
  // first token comes at the end of that step. Nothing is queued ahead of it.
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  pricer.per_prefill_token_s = 1e-5;
  const auto run =
      simulate_serving({request(0, 2.0, 1000, 1)}, ServingRole::Aggregated, {}, {}, pricer);
  ASSERT_EQ(run.records.size(), 1u);
  EXPECT_NEAR(run.records[0].first_token_s - run.records[0].arrival_s, 0.011, 1e-9);
  EXPECT_NEAR(run.records[0].scheduled_s, 2.0, 1e-9);
}

TEST(ServingSim, SecondRequestTtftAddsTheQueueingBehindTheFirst) {
  // Without chunking, a budget of 1,000 tokens fits one prompt a step. A arrives at 0 and runs
  // 0-11 ms; B arrives at 4 ms and waits for A's step, 7 ms; B's own prefill step then runs with
  // A's first decode (output 2 → A decodes once): 1 + 10 + 0.5 (one decode sequence at 0.5 ms) =
  // 11.5 ms. B's TTFT = 7 + 11.5 = 18.5 ms; its queueing is the 7 ms.
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  pricer.per_prefill_token_s = 1e-5;
  pricer.per_sequence_s = 5e-4;
  BatchingSpec batching;
  batching.token_budget_per_rank = 1000;
  const auto run = simulate_serving({request(0, 0.0, 1000, 2), request(1, 0.004, 999, 2)},
                                    ServingRole::Aggregated, batching, {}, pricer);
  const auto& b = run.records[1];
  EXPECT_NEAR(b.scheduled_s - b.arrival_s, 0.007, 1e-9);
  // B's prompt is 999 tokens: 1 + 9.99 + 0.5 = 11.49 ms.
  EXPECT_NEAR(b.first_token_s - b.arrival_s, 0.007 + 0.01149, 1e-9);
}

TEST(ServingSim, TpotAtBatchOneIsOneDecodeStep) {
  // One request alone: after its prefill, each decode step carries one sequence and costs
  // 1 ms + 20 ms = 21 ms, so each of its 10 later tokens is 21 ms apart.
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  pricer.per_prefill_token_s = 1e-6;
  pricer.per_sequence_s = 2e-2;
  const auto run =
      simulate_serving({request(0, 0, 100, 11)}, ServingRole::Aggregated, {}, {}, pricer);
  const auto metrics = summarize_serving(run.records, 8);
  EXPECT_NEAR(metrics.tpot.p50, 0.021, 1e-9);
  EXPECT_EQ(run.steps, 11);  // 1 prefill + 10 decode steps
}

TEST(ServingSim, ChunkedPrefillSplitsALongPromptOverTheBudget) {
  // 2,500 prompt tokens over a 1,000-token budget: chunks of 1,000, 1,000, 500 → 3 steps of
  // 1 + 10, 1 + 10, 1 + 5 ms = 28 ms to the first token.
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  pricer.per_prefill_token_s = 1e-5;
  BatchingSpec batching;
  batching.token_budget_per_rank = 1000;
  batching.chunked_prefill = true;
  const auto run =
      simulate_serving({request(0, 0, 2500, 1)}, ServingRole::Aggregated, batching, {}, pricer);
  EXPECT_NEAR(run.records[0].first_token_s, 0.028, 1e-9);
  EXPECT_EQ(run.steps, 3);
}

TEST(ServingSim, KvCapacityHoldsBackAdmission) {
  // Each request reserves 100 + 10 = 110 KV tokens; 150 tokens hold one at a time, so the second
  // starts only when the first has finished: 1 prefill + 9 decode steps of 1 ms each = 10 ms.
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  InstanceShape shape;
  shape.kv_capacity_tokens = 150;
  const auto run = simulate_serving({request(0, 0, 100, 10), request(1, 0, 100, 10)},
                                    ServingRole::Aggregated, {}, shape, pricer);
  EXPECT_NEAR(run.records[1].scheduled_s, 0.010, 1e-9);
}

TEST(ServingSim, LittlesLawHoldsInSteadyState) {
  // Poisson at 20 requests/s for 2,000 s on an instance far from saturation. Little's law: the
  // time-average number in the system L equals the arrival rate times the mean time in it W. The
  // integral of the count over the run is exactly the sum of the sojourn times, so L = N W / T;
  // with N / T within a few percent of the offered rate (40,000 Poisson arrivals: 0.5% s.d.) the
  // two sides agree to 2%.
  TrafficSpec traffic;
  traffic.rate_per_s = 20;
  traffic.duration_s = 2000;
  traffic.input = {LengthDistributionKind::Uniform, 0, 100, 900};
  traffic.output = {LengthDistributionKind::Uniform, 0, 10, 200};
  LinearPricer pricer;
  pricer.fixed_s = 5e-3;
  pricer.per_prefill_token_s = 2e-6;
  pricer.per_sequence_s = 1e-4;
  const auto requests = generate_requests(traffic);
  const auto run = simulate_serving(requests, ServingRole::Aggregated, {}, {}, pricer);
  const auto metrics = summarize_serving(run.records, 8);
  ASSERT_EQ(metrics.completed, metrics.requests);
  EXPECT_NEAR(run.mean_requests_in_system / (traffic.rate_per_s * metrics.e2e.mean), 1.0, 0.02);
}

TEST(ServingSim, DecodeOnlyStartsFromThePrefilledToken) {
  // A decode-only instance gets the request with its first token made: 4 more tokens, one 2 ms
  // step each, so it finishes 8 ms after it lands.
  LinearPricer pricer;
  pricer.per_sequence_s = 2e-3;
  const auto run =
      simulate_serving({request(0, 1.0, 500, 5)}, ServingRole::DecodeOnly, {}, {}, pricer);
  EXPECT_NEAR(run.records[0].finish_s, 1.008, 1e-9);
}

TEST(ServingSim, ClosedLoopKeepsTheUsersBusy) {
  // 4 users, fixed 100-token prompts and 3-token outputs, each step 1 ms whatever it holds: all 4
  // prefill together (1 step), decode twice (2 steps), so each round is 3 ms; within 29.5 ms, 10
  // rounds of 4 requests (sent at 0, 3, ..., 27 ms).
  TrafficSpec traffic;
  traffic.arrival = ArrivalKind::Concurrency;
  traffic.users = 4;
  traffic.duration_s = 0.0295;  // the 10th round starts at 27 ms; none at 30
  traffic.input.value = 100;
  traffic.output.value = 3;
  LinearPricer pricer;
  pricer.fixed_s = 1e-3;
  const auto run = simulate_closed_loop(traffic, {}, {}, pricer);
  EXPECT_EQ(run.records.size(), 40u);
}

TEST(ServingSim, SameTrafficGivesTheSameRequests) {
  TrafficSpec traffic;
  traffic.rate_per_s = 50;
  traffic.duration_s = 10;
  traffic.input = {LengthDistributionKind::Lognormal, 0, 1, 8000, 1000, 0.8};
  const auto a = generate_requests(traffic), b = generate_requests(traffic);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_EQ(a[i].input_tokens, b[i].input_tokens);
    EXPECT_LE(a[i].input_tokens, 8000);
  }
  // 50/s over 10 s: 500 expected, s.d. sqrt(500) = 22; 5 s.d. either side.
  EXPECT_NEAR(static_cast<double>(a.size()), 500, 112);
}

TEST(ServingSim, PrefixCacheHitsSkipPromptCompute) {
  // 40% of 1,000 prompt tokens are cached: 400 attended, not computed; the last token always is.
  EXPECT_EQ(cached_prompt_tokens(1000, 0.4), 400);
  EXPECT_EQ(cached_prompt_tokens(10, 0.99), 9);
}

}  // namespace
}  // namespace moesim::sim

#include "sim/plan/serving_plan.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"
#include "sim/plan/plan.hpp"

namespace moesim::sim {
namespace {

// Mixtral-8x7B on H100 or H200 nodes at two prices, EP 4 or 8, two batch limits, against a
// 10 requests/s Poisson load of 1,000-token prompts and 100-token answers.
const char* kServingPlan = R"({
  "schema_version": 1, "name": "sla",
  "base": {"model": "mixtral-8x7b", "workload": {"kind": "decode"}, "profile": "roofline"},
  "search": {
    "clusters": [
      {"system": "hgx-h100", "nodes": [1, 2], "fabric": "ib-fat-tree", "usd_per_gpu_hour": 2, "price_date": "2026-11-01"},
      {"system": "hgx-h200", "nodes": [1], "fabric": "ib-fat-tree", "usd_per_gpu_hour": 3, "price_date": "2026-11-01"}
    ],
    "expert_parallel": [4, 8]
  },
  "serving": {
    "traffic": {"rate_per_s": 10, "duration_s": 60, "input_tokens": 1000, "output_tokens": 100},
    "sla": {"ttft_p90_ms": 2000, "tpot_p90_ms": 60},
    "batching": {"max_batch_per_rank": [8, 64], "chunked_prefill": true},
    "keep": 2
  }
})";

TEST(ServingPlan, ChosenOptionIsNeverPricierThanAnotherThatMeetsTheSla) {
  const auto plan = parse_plan(kServingPlan, "sla.json");
  ASSERT_TRUE(plan.serving.has_value());
  // 3 node options x EP {4, 8} (both divide 8 and 16 GPUs and the 8 experts) x 2 batch limits.
  ASSERT_EQ(plan.candidates.size(), 6u);
  const auto result = run_serving_plan(plan, 2);
  ASSERT_EQ(result.outcomes.size(), 12u);
  const auto& chosen = result.outcomes.front();
  ASSERT_EQ(chosen.verdict, ServingVerdict::Feasible) << chosen.reason;
  for (const auto& o : result.outcomes) {
    if (o.verdict == ServingVerdict::Feasible) {
      EXPECT_LE(chosen.usd_per_hour, o.usd_per_hour);
    }
    // Skipped for price: even its lower bound costs more than the chosen option.
    if (o.verdict == ServingVerdict::Price) {
      EXPECT_GT(o.usd_per_hour, chosen.usd_per_hour);
    }
    if (o.verdict != ServingVerdict::Feasible) {
      EXPECT_FALSE(o.reason.empty()) << o.label;
    }
  }
  EXPECT_TRUE(chosen.simulated);
  EXPECT_LE(chosen.metrics.tpot.p90, 0.060);
  EXPECT_LE(chosen.metrics.ttft.p90, 2.0);
}

TEST(ServingPlan, EachBatchLimitIsAPointOnItsDeploymentsCurve) {
  // A larger batch limit gives more tokens/s per GPU and fewer per user: the curve bends.
  const auto result = run_serving_plan(parse_plan(kServingPlan, "sla.json"), 1);
  for (const auto& small : result.outcomes) {
    if (small.max_batch_per_rank != 8 || small.curve_tokens_per_s_per_gpu <= 0) continue;
    for (const auto& large : result.outcomes)
      if (large.candidate == small.candidate && large.max_batch_per_rank == 64 &&
          large.curve_tokens_per_s_per_gpu > 0) {
        EXPECT_GT(large.curve_tokens_per_s_per_gpu, small.curve_tokens_per_s_per_gpu);
        EXPECT_LT(large.curve_tokens_per_s_per_user, small.curve_tokens_per_s_per_user);
      }
  }
}

TEST(ServingPlan, TooLittleMemoryIsTheReason) {
  std::string text = kServingPlan;
  text.replace(text.find("\"mixtral-8x7b\""), 14, "\"deepseek-v3\"");
  text.replace(text.find("[4, 8]"), 6, "[8]");
  text.replace(text.find("[1, 2]"), 6, "[1]");
  const auto result = run_serving_plan(parse_plan(text, "dsv3.json"), 1);
  for (const auto& o : result.outcomes) {
    EXPECT_EQ(o.verdict, ServingVerdict::Memory);
    EXPECT_NE(o.reason.find("memory"), std::string::npos) << o.reason;
  }
}

// kServingPlan with `count` batch limits 1, 2, ..., count.
std::string with_batch_limits(int count) {
  std::string list = "[1";
  for (int b = 2; b <= count; ++b) list += "," + std::to_string(b);
  std::string text = kServingPlan;
  text.replace(text.find("[8, 64]"), 7, list + "]");
  return text;
}

TEST(ServingPlan, BatchLimitsMultiplyTheCountedGrid) {
  // Session 12: 1,000 batch limits passed validate as 320 candidates and the plan swept 320,000
  // options. kServingPlan makes 6 candidates: H100 x1 (8 GPUs), H100 x2 (16), H200 x1 (8), each
  // at EP 4 and 8 (both divide the GPUs and Mixtral's 8 experts). Each is sized at every batch
  // limit: 6 x 682 = 4,092 options fit kMaxPlanCandidates = 4,096; 6 x 683 = 4,098 do not.
  EXPECT_EQ(parse_plan(with_batch_limits(682), "sla.json").candidates.size(), 6u);
  try {
    parse_plan(with_batch_limits(683), "sla.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "sla.json: /serving/batching/max_batch_per_rank: the search grid makes 6 "
                 "candidates x 683 batch limits = 4098 options; expected at most 4096 "
                 "(docs/limits.md): shorten the lists");
  }
}

TEST(ServingPlan, ServingAndTargetTogetherAreRefused) {
  std::string text = kServingPlan;
  text.replace(text.find("\"search\""), 8, "\"target\": {\"tokens_per_s\": 5}, \"search\"");
  try {
    parse_plan(text, "both.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.problems().front().where, "/target");
  }
}

TEST(ServingPlan, ClosedLoopTrafficIsRefused) {
  std::string text = kServingPlan;
  text.replace(text.find("\"rate_per_s\": 10"), 16, "\"arrival\": \"concurrency\", \"users\": 4");
  EXPECT_THROW(parse_plan(text, "users.json"), ConfigError);
}

TEST(ServingPlan, ReplaysLeftIsTheTightestOfTheThreeCounts) {
  // Requests: (1e6 - 0) / 10 = 100,000 replays; decoded: (3e8 - 1e8) / 5e7 = 4; prompt:
  // 3e9 / 1e3 = 3e6. The decoded tokens bind: 4.
  EXPECT_EQ(replays_left({0, 1e8, 0}, {10, 5e7, 1e3}, {1e6, 3e8, 3e9}), 4u);
  EXPECT_EQ(replays_left({0, 3e8, 0}, {10, 5e7, 1e3}, {1e6, 3e8, 3e9}), 0u);  // spent
}

TEST(ServingPlan, ASweepThatCannotMeetItsSlaStopsAtItsBudget) {
  // E2E p90 <= 1 us (no floor is checked for E2E, so every option is simulated): no option can
  // meet it, so without a budget every sized option would be replayed 1 + 3 times. A budget of 8
  // replays of this traffic: a wave fits while replays_left / 4 >= 1, so option 1 (4 replays, 4
  // left) and option 2 (4 more, 0 left) run, on one thread or on two (a wave of min(2, 8 / 4) = 2),
  // and every other sized option is marked "budget".
  std::string text = kServingPlan;
  const std::string tpot = "\"tpot_p90_ms\": 60";
  text.replace(text.find(tpot), tpot.size(), "\"tpot_p90_ms\": 60, \"e2e_p90_ms\": 0.001");
  const auto plan = parse_plan(text, "sla.json");
  const SimulatedWork one = expected_replay(generate_requests(plan.serving->traffic));
  const SimulatedWork budget{8 * one.requests, 8 * one.decoded, 8 * one.prompt};
  for (const int threads : {1, 2}) {
    const auto result = run_serving_plan(plan, threads, {}, budget);
    EXPECT_EQ(result.simulated, 2) << threads << " threads";
    int budget_marked = 0;
    for (const auto& o : result.outcomes) {
      EXPECT_NE(o.verdict, ServingVerdict::Feasible) << o.label;
      if (o.verdict != ServingVerdict::Budget) continue;
      ++budget_marked;
      EXPECT_FALSE(o.simulated);
      EXPECT_NE(o.reason.find("budget: not simulated; the 2 options simulated"), std::string::npos)
          << o.reason;
    }
    EXPECT_GT(budget_marked, 0);
    // Nothing feasible and options left unsimulated: "infeasible" would be the budget's.
    EXPECT_NE(budget_caveat(result).find("none meeting the SLA"), std::string::npos);
  }
}

TEST(ServingPlan, AnAnswerWithCheaperOptionsLeftUnsimulatedIsNotStoodBy) {
  // A feasible first row at $16/hour and a budget-skipped option whose lower bound is $8: it
  // might have been cheaper. One at $24 could not be, and the answer stands.
  ServingPlanResult result;
  result.outcomes.resize(2);
  result.outcomes[0].verdict = ServingVerdict::Feasible;
  result.outcomes[0].usd_per_hour = 16;
  result.outcomes[1].verdict = ServingVerdict::Budget;
  result.outcomes[1].usd_per_hour = 8;
  EXPECT_NE(budget_caveat(result).find("1 never simulated cost from $8.00/hour, below the "
                                       "$16.00/hour of the first row"),
            std::string::npos)
      << budget_caveat(result);
  result.outcomes[1].usd_per_hour = 24;
  EXPECT_EQ(budget_caveat(result), "");
}

// kServingPlan with `from` replaced by `to`.
PlanSpec edited_plan(const std::string& from, const std::string& to) {
  std::string text = kServingPlan;
  text.replace(text.find(from), from.size(), to);
  return parse_plan(text, "sla.json");
}

TEST(ServingPlan, AnSlaNoInstanceCountCanMeetIsRejectedAtItsFloorUnsimulated) {
  // TPOT p90 <= 1 us: one sequence's decode step alone takes longer on every option, so each is
  // rejected for SLA before any replay, nearest miss first.
  const auto plan = edited_plan("\"tpot_p90_ms\": 60", "\"tpot_p90_ms\": 0.001");
  const auto result = run_serving_plan(plan, 2);
  EXPECT_EQ(result.simulated, 0);
  double previous = 0;
  for (const auto& o : result.outcomes) {
    if (o.verdict == ServingVerdict::Memory) continue;
    ASSERT_EQ(o.verdict, ServingVerdict::Sla) << o.label;
    EXPECT_NE(o.reason.find("SLA at any instance count: TPOT p90 at least"), std::string::npos)
        << o.reason;
    EXPECT_DOUBLE_EQ(o.sla_excess, o.tpot_floor_s / 1e-6);  // the TTFT floor is inside 2 s
    EXPECT_GE(o.sla_excess, previous);
    previous = o.sla_excess;
  }
}

TEST(ServingPlan, TheFloorsAreWhatALoneRequestMeets) {
  // One request (max_requests 1) reaches an empty instance: its TTFT is its one prefill step
  // (1,000 tokens, under the token budget), the TTFT floor exactly (to the engine's 1 ns clock);
  // its decode steps run one sequence at contexts of 1,000 tokens or more, at least the TPOT floor.
  const auto plan = edited_plan("\"duration_s\": 60", "\"duration_s\": 60, \"max_requests\": 1");
  const auto result = run_serving_plan(plan, 1);
  const auto& chosen = result.outcomes.front();
  ASSERT_EQ(chosen.verdict, ServingVerdict::Feasible) << chosen.reason;
  EXPECT_NEAR(chosen.metrics.ttft.p90, chosen.ttft_floor_s, 2e-9);
  EXPECT_GE(chosen.metrics.tpot.p90, chosen.tpot_floor_s);
  EXPECT_GT(chosen.tpot_floor_s, 0);
}

TEST(ServingPlan, NoSimulatedP90FallsUnderItsFloor) {
  // Prompts of 200-3,000 tokens with 20% prefix-cache hits, chunked under a 2,048-token budget a
  // rank, 1-400-token answers, at a load and SLA every option meets: each simulated option's TTFT
  // and TPOT p90 are at least the floors that would have rejected it.
  auto plan =
      edited_plan("\"input_tokens\": 1000, \"output_tokens\": 100",
                  "\"input_tokens\": {\"distribution\": \"uniform\", \"min\": 200, \"max\": 3000}, "
                  "\"output_tokens\": {\"distribution\": \"uniform\", \"min\": 1, \"max\": 400}, "
                  "\"prefix_cache_hit_rate\": 0.2");
  plan.serving->keep = 1000;  // simulate every option, not only the cheapest
  const auto result = run_serving_plan(plan, 2);
  int checked = 0;
  for (const auto& o : result.outcomes) {
    if (!o.simulated) continue;
    ++checked;
    EXPECT_GE(o.metrics.ttft.p90, o.ttft_floor_s * (1 - 1e-9)) << o.label;
    EXPECT_GE(o.metrics.tpot.p90, o.tpot_floor_s * (1 - 1e-9)) << o.label;
    EXPECT_GT(o.ttft_floor_s, 0) << o.label;
  }
  EXPECT_GE(checked, 4);
}

TEST(ServingPlan, AtOnePriceTheOptionFarthestInsideItsSlaComesFirst) {
  // Ties on price rank by TTFT p90 / 2 s + TPOT p90 / 60 ms, smallest first.
  const auto result = run_serving_plan(parse_plan(kServingPlan, "sla.json"), 2);
  int ties = 0;
  for (std::size_t i = 0; i + 1 < result.outcomes.size(); ++i) {
    const auto& a = result.outcomes[i];
    const auto& b = result.outcomes[i + 1];
    if (a.verdict != ServingVerdict::Feasible) break;
    EXPECT_DOUBLE_EQ(a.sla_use, a.metrics.ttft.p90 / 2.0 + a.metrics.tpot.p90 / 0.060);
    if (b.verdict == ServingVerdict::Feasible && a.usd_per_hour == b.usd_per_hour) {
      EXPECT_LE(a.sla_use, b.sla_use) << a.label << " before " << b.label;
      ++ties;
    }
  }
  EXPECT_GT(ties, 0);  // the two batch limits of a shape serve this load alike: a tie to order
}

}  // namespace
}  // namespace moesim::sim

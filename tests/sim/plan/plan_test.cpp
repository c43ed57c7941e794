#include "sim/plan/plan.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

// Mixtral-8x7B prefill on one H100 node at $2/GPU-hour or one H200 node at $3, plus DeepSeek-V3
// on one H200 node, which cannot fit (671B parameters in 8 x 141 GB).
const char* kSmallPlan = R"({
  "schema_version": 1, "name": "small",
  "base": {"model": "mixtral-8x7b", "workload": {"kind": "prefill", "tokens_per_gpu": 4096},
           "profile": "roofline"},
  "target": {"tokens_per_s": 1000000},
  "search": {
    "clusters": [
      {"system": "hgx-h100", "nodes": [1], "fabric": "none", "usd_per_gpu_hour": 2, "price_date": "2026-11-01"},
      {"system": "hgx-h200", "nodes": [1], "fabric": "none", "usd_per_gpu_hour": 3, "price_date": "2026-11-01"}
    ],
    "expert_parallel": [8]
  }
})";

TEST(Plan, CheaperGpuWinsWhenTheComputeIsTheSame) {
  // Priced by the roofline (the two measured profiles time different host sequences), both nodes
  // run the same 989 TFLOP/s of bf16 and the same 450 GB/s NVLink, and the expert GEMMs
  // (compute-bound) dominate, so their tokens/s are within a few percent (only the HBM-bound
  // gate/permute differ). $/Mtok then follows price: H100 costs 2/3 of H200 per token.
  const auto plan = parse_plan(kSmallPlan, "small.json");
  ASSERT_EQ(plan.candidates.size(), 2u);
  const auto outcomes = run_plan(plan, 2);
  ASSERT_TRUE(outcomes[0].fits && outcomes[1].fits);
  EXPECT_NE(outcomes[0].candidate.label.find("hgx-h100"), std::string::npos);
  const double ratio =
      *outcomes[0].usd_per_million_tokens() / *outcomes[1].usd_per_million_tokens();
  EXPECT_NEAR(ratio, 2.0 / 3.0, 0.03);
  // 1M tokens/s over roughly 164k tokens/s per node: 1e6 / 164k = 6.1, so 7 copies. (169k, 6
  // copies, before the blocks' elementwise kernels: 2 add-RMSNorms 65,536 + rotary 16,384 = 81,920
  // bytes a token and block, x 32 blocks x 4,096 tokens = 10.7 GB more a step, about 6 ms.)
  EXPECT_EQ(outcomes[0].replicas_needed, 7);
}

TEST(Plan, CandidatesThatDoNotFitAreRejectedWithTheReason) {
  std::string text = kSmallPlan;
  text.replace(text.find("\"mixtral-8x7b\""), 14, "\"deepseek-v3\"");
  text.replace(text.find("[8]"), 3, "[8]");
  const auto outcomes = run_plan(parse_plan(text, "dsv3.json"), 1);
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.fits);
    EXPECT_NE(o.rejection.find("does not fit"), std::string::npos) << o.rejection;
  }
}

TEST(Plan, SameAnswerOnOneThreadOrTwo) {
  const auto plan = parse_plan(kSmallPlan, "small.json");
  EXPECT_EQ(plan_csv(plan, run_plan(plan, 1)), plan_csv(plan, run_plan(plan, 2)));
}

TEST(Plan, AutoExpertParallelTriesEveryDivisor) {
  // 8 GPUs and 8 experts: EP 1, 2, 4 and 8.
  std::string text = kSmallPlan;
  text.replace(text.find("[8]"), 3, "\"auto\"");
  EXPECT_EQ(parse_plan(text, "auto.json").candidates.size(), 8u);  // 4 EP sizes x 2 clusters
}

TEST(Plan, BadBaseIsReportedUnderBase) {
  std::string text = kSmallPlan;
  text.replace(text.find("\"mixtral-8x7b\""), 14, "\"mixtral-9x7b\"");
  try {
    parse_plan(text, "bad.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.problems().front().where, "/base/model");
  }
}

TEST(Plan, HierarchicalDispatchOnlyWhereTheGroupSpansDomains) {
  // OLMoE (64 experts) on 2 HGX H100 nodes, EP 8 or 16, both dispatch modes: EP 8 fits in one
  // NVLink domain, where hierarchical equals direct and is not a candidate; EP 16 spans two.
  // So 2 EP sizes x direct + 1 hierarchical = 3 candidates, and the base's dedup is kept.
  const char* text = R"({
    "schema_version": 1, "name": "dispatch",
    "base": {"model": "olmoe-1b-7b", "network": {"dedup": true}},
    "search": {"clusters": [{"system": "hgx-h100", "nodes": [2], "usd_per_gpu_hour": 2, "price_date": "2026-11-01"}],
               "expert_parallel": [8, 16], "dispatch": ["direct", "hierarchical"]}
  })";
  const auto plan = parse_plan(text, "dispatch.json");
  ASSERT_EQ(plan.candidates.size(), 3u);
  int hierarchical = 0;
  for (const auto& c : plan.candidates) {
    EXPECT_EQ(c.scenario["network"]["dedup"], true);
    if (c.scenario["network"]["dispatch"] == "hierarchical") {
      ++hierarchical;
      EXPECT_EQ(c.scenario["parallelism"]["expert_parallel"], 16);
      EXPECT_NE(c.label.find(", hierarchical"), std::string::npos);
    }
  }
  EXPECT_EQ(hierarchical, 1);
  std::string bad = text;
  bad.replace(bad.find("\"hierarchical\"]"), 14, "\"deepep\"");
  try {
    parse_plan(bad, "bad.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(
        std::string(error.what())
            .find("/search/dispatch/1: expected \"direct\" or \"hierarchical\", got \"deepep\""),
        std::string::npos)
        << error.what();
  }
}

TEST(Plan, UnknownPlacementStrategyOrOverlapIsAnErrorNamingTheEntry) {
  // Before, each misspelt name reached the candidates and rejected them one by one; now the plan
  // itself is refused, naming the list entry and the table's names.
  std::string text = kSmallPlan;
  text.replace(text.find("\"expert_parallel\""), 17,
               R"("placement_strategies": ["lpt", "greedy"], "overlaps": ["two-microbatch"],
                  "expert_parallel")");
  try {
    parse_plan(text, "typo.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 2u) << error.what();
    EXPECT_EQ(error.problems()[0].where, "/search/placement_strategies/1");
    EXPECT_NE(error.problems()[0].message.find(
                  R"(expected "contiguous", "round-robin", "lpt", "eplb", "topology-aware" or )"
                  R"("explicit", got "greedy")"),
              std::string::npos)
        << error.problems()[0].message;
    EXPECT_EQ(error.problems()[1].where, "/search/overlaps/0");
    EXPECT_NE(error.problems()[1].message.find(R"((did you mean "two-micro-batch"?))"),
              std::string::npos)
        << error.problems()[1].message;
  }
}

// a dominates b: at least as good on both axes (tokens/s per GPU, tokens/s per user), better on
// one.
bool dominates(const PlanOutcome& a, const PlanOutcome& b) {
  const double a_gpu = a.report.tokens_per_s() / a.report.gpus;
  const double b_gpu = b.report.tokens_per_s() / b.report.gpus;
  return a_gpu >= b_gpu && a.tokens_per_s_per_user >= b.tokens_per_s_per_user &&
         (a_gpu > b_gpu || a.tokens_per_s_per_user > b.tokens_per_s_per_user);
}

TEST(Plan, ParetoFrontHoldsExactlyTheUndominatedCandidates) {
  const auto outcomes = run_plan(parse_plan(kSmallPlan, "small.json"), 1);
  int on_front = 0, dominated = 0;
  for (const auto& candidate : outcomes) {
    if (!candidate.fits) {
      EXPECT_FALSE(candidate.pareto) << candidate.candidate.label;  // never simulated
      continue;
    }
    const bool beaten = std::any_of(
        outcomes.begin(), outcomes.end(),
        [&](const PlanOutcome& other) { return other.fits && dominates(other, candidate); });
    EXPECT_EQ(candidate.pareto, !beaten) << candidate.candidate.label;
    on_front += candidate.pareto ? 1 : 0;
    dominated += beaten ? 1 : 0;
  }
  // The small plan's grid has both kinds, so each half of the check above ran.
  EXPECT_GE(on_front, 1);
  EXPECT_GE(dominated, 1);
}

TEST(Plan, FeasiblePlanHasNoNearestMiss) {
  const auto plan = parse_plan(kSmallPlan, "small.json");
  EXPECT_FALSE(plan_nearest_miss(plan, run_plan(plan, 1)).has_value());
}

TEST(Plan, NothingFitsNamesTheCandidateClosestToFitting) {
  // DeepSeek-V3 fits neither node; an H200 (141 GB) is closer to holding it than an H100 (80 GB),
  // with the same weights per GPU, so the H200 candidate is the nearest miss.
  std::string text = kSmallPlan;
  text.replace(text.find("\"mixtral-8x7b\""), 14, "\"deepseek-v3\"");
  const auto plan = parse_plan(text, "dsv3.json");
  const auto miss = plan_nearest_miss(plan, run_plan(plan, 1));
  ASSERT_TRUE(miss.has_value());
  EXPECT_EQ(miss->rfind("hgx-h200 x1, EP 8", 0), 0u) << *miss;
  EXPECT_NE(miss->find("GiB per GPU of the"), std::string::npos) << *miss;
  EXPECT_NE(miss->find("% over)"), std::string::npos) << *miss;
}

TEST(Plan, EveryCandidateTooSlowNamesTheFastestAndByHowMuch) {
  // A 1 us latency target no step meets; the nearest miss is the fastest candidate, and its
  // overshoot is step / target - 1 of it.
  std::string text = kSmallPlan;
  text.replace(text.find("\"target\": {"), 11, "\"target\": {\"max_latency_ms\": 0.001, ");
  const auto plan = parse_plan(text, "slow.json");
  const auto outcomes = run_plan(plan, 1);
  const auto miss = plan_nearest_miss(plan, outcomes);
  ASSERT_TRUE(miss.has_value());
  const PlanOutcome* fastest = &outcomes[0];
  for (const auto& o : outcomes)
    if (o.report.step_time_s < fastest->report.step_time_s) fastest = &o;
  const double step_ms = fastest->report.step_time_s * 1e3;
  EXPECT_EQ(*miss, fmt::format("{}: {:.2f} ms per step against max_latency_ms 0.001 ({:.1f}% over)",
                               fastest->candidate.label, step_ms, 100 * (step_ms / 0.001 - 1)));
}

// "[f(0),f(1),...,f(count - 1)]".
std::string json_list(int count, int (*value)(int)) {
  std::string list = "[";
  for (int i = 0; i < count; ++i) list += fmt::format("{}{}", i ? "," : "", value(i));
  return list + "]";
}

// parse_plan's message for kSmallPlan with `fields` added to its search, or "" when it parses.
std::string small_plan_refusal(const std::string& fields, const std::string& source) {
  std::string text = kSmallPlan;
  text.replace(text.find("\"expert_parallel\": [8]"), 22, "\"expert_parallel\": [8], " + fields);
  try {
    parse_plan(text, source);
    return "";
  } catch (const ConfigError& error) {
    return error.what();
  }
}

TEST(Plan, HugeRedundantGridIsRefusedBeforeItIsBuilt) {
  // Issue 16: a huge redundant list passed validate, then ran for ever. 5,000 redundant counts x
  // 2 cluster options x 1 node count x 1 TP x 1 strategy, overlap and dispatch = 10,000 grid
  // points before EP, over kMaxPlanCandidates = 4,096.
  EXPECT_EQ(small_plan_refusal("\"redundant_experts\": " + json_list(5000, [](int i) { return i; }),
                               "grid.json"),
            "grid.json: /search/redundant_experts: the search grid makes 10000 candidates; "
            "expected at most 4096 (docs/limits.md): shorten the lists");
}

TEST(Plan, GridErrorNamesTheLongestListWhicheverItIs) {
  // Session 12: a 5,000-entry zero_stages list was refused naming /search/expert_parallel (one
  // entry here). 2 cluster options x 1 node count x 1 TP x 1 redundant x 5,000 layouts (ZeRO
  // stages 0-3 repeated) = 10,000 grid points before EP, over kMaxPlanCandidates = 4,096.
  EXPECT_EQ(small_plan_refusal("\"zero_stages\": " + json_list(5000, [](int i) { return i % 4; }),
                               "grid.json"),
            "grid.json: /search/zero_stages: the search grid makes 10000 candidates; "
            "expected at most 4096 (docs/limits.md): shorten the lists");
}

TEST(Plan, LayoutListsAreCountedNotBuilt) {
  // Four 1,000-entry layout lists made 10^12 layouts in memory to learn their count
  // (std::bad_alloc, exit 3). Counted instead: 2 points (one node of H100 or H200, EP 8 dividing 8
  // GPUs and 8 experts) x 1,000^4 layouts = 2 x 10^12 candidates. Equally long, the first list is
  // named.
  const std::string sizes = json_list(1000, [](int i) { return i + 1; });
  EXPECT_EQ(
      small_plan_refusal("\"moe_tensor_parallel\": " + sizes + ", \"pipeline_parallel\": " + sizes +
                             ", \"context_parallel\": " + sizes +
                             ", \"zero_stages\": " + json_list(1000, [](int i) { return i % 4; }),
                         "layouts.json"),
      "layouts.json: /search/moe_tensor_parallel: the search grid makes 2000000000000 "
      "candidates; expected at most 4096 (docs/limits.md): shorten the lists");
}

TEST(Plan, SearchValuesPastTheLimitsAreRefusedNotNarrowed) {
  // 2^32 nodes would narrow to 0 in an int; redundant experts are bounded by kMaxRedundantExperts.
  std::string text = kSmallPlan;
  text.replace(text.find("\"nodes\": [1]"), 12, "\"nodes\": [4294967296]");
  text.replace(text.find("\"expert_parallel\": [8]"), 22,
               "\"expert_parallel\": [8], \"redundant_experts\": [1048576]");
  try {
    parse_plan(text, "big.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    // hgx-h100 has 8 GPUs per node: at most 131072 / 8 = 16384 nodes.
    EXPECT_STREQ(error.what(),
                 "big.json: /search/clusters/0/nodes/0: expected an integer in [1, 16384], got "
                 "4294967296\n"
                 "big.json: /search/redundant_experts/0: expected an integer in [0, 8192], got "
                 "1048576");
  }
}

}  // namespace
}  // namespace moesim::sim

namespace moesim::sim {
namespace {

TEST(Plan, TheParetoFrontIsRankedOnFlowFiguresAndTheRestOnAnalyticOnes) {
  const auto outcomes = run_plan(parse_plan(kSmallPlan, "small.json"), 2);
  int flow = 0, analytic = 0;
  for (const auto& candidate : outcomes) {
    if (!candidate.fits) continue;
    // The front is replayed under the flow network until every member has flow figures (a
    // replayed member that another's flow figures push off the front keeps its flow ones).
    if (candidate.pareto) {
      EXPECT_EQ(candidate.network_model, "flow") << candidate.candidate.label;
    }
    (candidate.network_model == "flow" ? flow : analytic) += 1;
  }
  EXPECT_GE(flow, 1);
  EXPECT_GE(analytic, 1);
  // The plan's JSON says which model drew each row's figures.
  const auto json = plan_json(parse_plan(kSmallPlan, "small.json"), outcomes);
  for (const auto& row : json["candidates"])
    if (row.contains("pareto") && row["pareto"].get<bool>()) {
      EXPECT_EQ(row["network_model"], "flow");
    }
}

}  // namespace
}  // namespace moesim::sim

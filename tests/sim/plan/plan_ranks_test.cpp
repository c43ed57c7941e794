#include "sim/plan/plan_ranks.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace moesim::sim {
namespace {

// Mixtral-8x7B prefill on 1 or 2 nodes of H100 or H200 over InfiniBand, EP 8 or 16 where it
// divides, plus a DeepSeek-V3-sized batch that cannot fit: candidates that fit, one rejected,
// and a front that the flow model plays again.
const char* kRanksPlan = R"({
  "schema_version": 1, "name": "ranks",
  "base": {"model": "mixtral-8x7b", "workload": {"kind": "prefill"}, "profile": "roofline"},
  "target": {"tokens_per_s": 1000000},
  "search": {
    "clusters": [
      {"system": "hgx-h100", "nodes": [1, 2], "fabric": "ib-fat-tree", "usd_per_gpu_hour": 2, "price_date": "2026-11-01"},
      {"system": "hgx-h200", "nodes": [1, 2], "fabric": "ib-fat-tree", "usd_per_gpu_hour": 3, "price_date": "2026-11-01"}
    ],
    "expert_parallel": [8, 16],
    "tokens_per_gpu": [4096, 16384]
  }
})";

// Ranks played by threads of one process: each all_gather returns once every rank has posted.
class ThreadExchange {
 public:
  explicit ThreadExchange(int size) : posted_(static_cast<std::size_t>(size)), size_(size) {}
  std::vector<std::string> all_gather(int rank, const std::string& mine) {
    std::unique_lock lock(mutex_);
    const int round = round_;
    posted_[static_cast<std::size_t>(rank)] = mine;
    if (++arrived_ == size_) {
      gathered_ = posted_;
      arrived_ = 0;
      ++round_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return round_ != round; });
    }
    return gathered_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::string> posted_, gathered_;
  int size_, arrived_ = 0, round_ = 0;
};

TEST(PlanRanks, TwoRanksWriteTheBytesOfOneProcess) {
  const PlanSpec plan = parse_plan(kRanksPlan, "ranks.json");
  const std::vector<PlanOutcome> alone = run_plan(plan, 2);
  ASSERT_GE(plan.candidates.size(), 6u);
  ASSERT_TRUE(std::any_of(alone.begin(), alone.end(),
                          [](const PlanOutcome& o) { return o.network_model == "flow"; }));

  constexpr int kRanks = 2;
  ThreadExchange exchange(kRanks);
  std::vector<std::vector<PlanOutcome>> by_rank(kRanks);
  std::vector<std::thread> ranks;
  for (int r = 0; r < kRanks; ++r)
    ranks.emplace_back([&, r] {
      PlanRanks mine{r, kRanks,
                     [&, r](const std::string& text) { return exchange.all_gather(r, text); }};
      by_rank[static_cast<std::size_t>(r)] = run_plan(plan, 1, {}, mine);
    });
  for (auto& rank : ranks) rank.join();
  for (const auto& outcomes : by_rank) {
    EXPECT_EQ(plan_json(plan, outcomes).dump(2), plan_json(plan, alone).dump(2));
    EXPECT_EQ(plan_csv(plan, outcomes), plan_csv(plan, alone));
    EXPECT_EQ(plan_table_text(plan, outcomes, 50), plan_table_text(plan, alone, 50));
  }
}

TEST(PlanRanks, FiguresRoundTripExactly) {
  const PlanSpec plan = parse_plan(kRanksPlan, "ranks.json");
  for (const PlanOutcome& outcome : run_plan(plan, 2)) {
    const nlohmann::json figures = outcome_figures(outcome);
    const PlanOutcome back =
        outcome_from_figures(outcome.candidate, nlohmann::json::parse(figures.dump()));
    EXPECT_EQ(outcome_figures(back), figures);
    EXPECT_EQ(back.report.memory.total(), outcome.report.memory.total());
    EXPECT_EQ(back.report.tokens_per_s(), outcome.report.tokens_per_s());
  }
}

TEST(PlanRanks, RankOwnsEveryNthCandidate) {
  const PlanRanks second{1, 3, {}};
  EXPECT_FALSE(second.owns(0));
  EXPECT_TRUE(second.owns(1));
  EXPECT_TRUE(second.owns(4));
  EXPECT_FALSE(PlanRanks{}.distributed());
}

}  // namespace
}  // namespace moesim::sim

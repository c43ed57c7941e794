#include "sim/report/timeline_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

// The text writer must give report_to_timeline's bytes, whichever GPUs are drawn and whether the
// step is inference (one or two micro-batches) or training (its own step track).
void expect_same_bytes(const std::string& scenario, int limit) {
  auto s = load_scenario(scenario);
  s.profile.source = "roofline";
  const Report report = simulate(s);
  const std::string text = report_timeline_text(report, limit);
  EXPECT_EQ(text, report_to_timeline(report, limit).dump()) << scenario << ", limit " << limit;
  EXPECT_TRUE(nlohmann::json::accept(text)) << scenario;
}

TEST(TimelineText, SameBytesAsTheJsonTreeOnOneNode) { expect_same_bytes("quickstart", 256); }

TEST(TimelineText, SameBytesWithTwoMicroBatchesAndASelection) {
  // 256 GPUs drawn as 8: the 4 hottest and 4 sampled, so the selection note is in otherData.
  expect_same_bytes("dsv3-prefill-h200x256", 8);
}

TEST(TimelineText, SameBytesForTraining) { expect_same_bytes("mixtral-train-h100x64", 16); }

// How many events carry `name` (the JSON-quoted string, so "L3 dense" does not count "dense").
int count_named(const std::string& timeline, const std::string& name) {
  int count = 0;
  for (auto at = timeline.find(name); at != std::string::npos; at = timeline.find(name, at + 1))
    ++count;
  return count;
}

TEST(TimelineText, SameBytesWithTensorAndMoeTensorParallelCollectives) {
  // TP 8 with MoE TP 8 on one node: every block's TP all-reduce and every MoE block's all-gather
  // and reduce-scatter are slices of their own. 61 blocks (3 dense, 58 MoE) on 8 GPUs, one
  // micro-batch: 61 x 8 = 488 all-reduce slices, 58 x 8 = 464 all-gathers and reduce-scatters.
  auto s = load_scenario("dsr1-fp8-tp8-h200x8");
  s.profile.source = "roofline";
  const std::string text = report_timeline_text(simulate(s), 256);
  EXPECT_EQ(count_named(text, "tp_all_reduce\""), 488);
  EXPECT_EQ(count_named(text, "moe_tp_all_gather\""), 464);
  EXPECT_EQ(count_named(text, "moe_tp_reduce_scatter\""), 464);
  expect_same_bytes("dsr1-fp8-tp8-h200x8", 256);
}

TEST(TimelineText, SameBytesForTrainingWithAPipelineAndTensorParallel) {
  expect_same_bytes("mixtral-train-h100x64-3d", 64);
}

TEST(TimelineText, TrainingDrawsTheBackwardOfEveryBlockAfterItsForward) {
  // mixtral-train-h100x64-3d: 32 identical MoE blocks of 3.789400 ms forward (the report's CSV),
  // so the backward starts at 32 x 3.789400 = 121.261 ms with the last block, L31. Each GPU's
  // backward experts are twice its forward's (input and weight gradients).
  auto s = load_scenario("mixtral-train-h100x64-3d");
  s.profile.source = "roofline";
  const Report r = simulate(s);
  const nlohmann::json timeline = report_to_timeline(r, 64);
  std::vector<double> forward_experts(64, -1), backward_experts(64, -1);
  double l31_dense_ts = -1, backward_end = -1;
  for (const auto& e : timeline["traceEvents"]) {
    if (e["ph"] != "X" || e["tid"] == 3) continue;  // the streams, not the training step track
    const std::string name = e["name"];
    const int gpu = e["pid"];
    if (name == "L31 experts") forward_experts[gpu] = e["dur"].get<double>();
    if (name == "L31 backward experts") backward_experts[gpu] = e["dur"].get<double>();
    if (gpu == 0 && name == "L31 backward dense") l31_dense_ts = e["ts"].get<double>();
    if (gpu == 0 && name.find(" backward ") != std::string::npos)
      backward_end = std::max(backward_end, e["ts"].get<double>() + e["dur"].get<double>());
  }
  EXPECT_NEAR(l31_dense_ts / 1e3, 121.261, 0.001);
  for (int gpu = 0; gpu < 64; ++gpu)
    EXPECT_NEAR(backward_experts[gpu], 2 * forward_experts[gpu], 1e-9) << gpu;
  // The pass ends with block 0's backward: forward 121.261 + 32 backward blocks of 7.372386 ms
  // (the CSV's backward_ms) = 357.177 ms.
  EXPECT_NEAR(backward_end / 1e3, 121.261 + 32 * 7.372386, 0.001);
}

TEST(TimelineText, EmptyReportIsAnEmptyEventListWithItsHeader) {
  const Report empty;
  EXPECT_EQ(report_timeline_text(empty), report_to_timeline(empty).dump());
}

}  // namespace
}  // namespace moesim::sim

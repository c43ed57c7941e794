#include "sim/report/report.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sim/cost/layer_schedule.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

// Events of one GPU whose name ends with `suffix`.
std::vector<nlohmann::json> events(const nlohmann::json& timeline, int pid,
                                   const std::string& suffix) {
  std::vector<nlohmann::json> found;
  for (const auto& e : timeline["traceEvents"])
    if (e["ph"] == "X" && e["pid"] == pid) {
      const auto name = e["name"].get<std::string>();
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        found.push_back(e);
    }
  return found;
}

TEST(Timeline, SkewGivesEachGpuItsOwnExpertTimeAndOneCollectiveEnd) {
  auto s = load_scenario("quickstart");
  s.profile.source = "roofline";
  s.workload.routing = {PopularityKind::Zipf, 1.0, 1};
  const auto timeline = report_to_timeline(simulate(s));
  double shortest = 1e18, longest = 0;
  std::set<double> combine_starts;
  for (int gpu = 0; gpu < 8; ++gpu) {
    const auto experts = events(timeline, gpu, "experts");
    ASSERT_EQ(experts.size(), 32u);  // one per layer
    shortest = std::min(shortest, experts[0]["dur"].get<double>());
    longest = std::max(longest, experts[0]["dur"].get<double>());
    combine_starts.insert(events(timeline, gpu, "combine")[0]["ts"].get<double>());
  }
  EXPECT_LT(shortest, longest);          // the hot expert's GPU computes longer...
  EXPECT_EQ(combine_starts.size(), 1u);  // ...and everyone waits for it at the combine
}

TEST(Timeline, TwoMicroBatchOverlapRunsComputeBesideCommunication) {
  // In MoE layer 3, micro-batch 1's attention runs while micro-batch 0's dispatch is on the wire,
  // and micro-batch 0's experts wait for both.
  auto s = load_scenario("dsv3-prefill-h200x256");
  const auto timeline = report_to_timeline(simulate(s));  // all 256 GPUs, GPU 0 among them
  const auto mb1_dense = events(timeline, 0, "L3 mb1 dense");
  const auto mb0_combine = events(timeline, 0, "L3 mb0 combine");
  ASSERT_EQ(mb1_dense.size(), 1u);
  ASSERT_EQ(mb0_combine.size(), 1u);
  const double mb1_start = mb1_dense[0]["ts"].get<double>();
  EXPECT_LT(mb1_start, mb0_combine[0]["ts"].get<double>() + mb0_combine[0]["dur"].get<double>());
  const auto mb0_dispatch = events(timeline, 0, "L3 mb0 dispatch");
  EXPECT_DOUBLE_EQ(mb1_start, mb0_dispatch[0]["ts"].get<double>());
  const auto mb0_experts = events(timeline, 0, "L3 mb0 experts");
  // Equal in exact arithmetic (the experts start when the dispatch lands); the timeline adds the
  // layer's start to each phase's, so the two sums may differ in the last bits.
  EXPECT_GE(mb0_experts[0]["ts"].get<double>(),
            mb0_dispatch[0]["ts"].get<double>() + mb0_dispatch[0]["dur"].get<double>() - 1e-6);
  bool has_counter = false;
  for (const auto& e : timeline["traceEvents"]) has_counter = has_counter || e["ph"] == "C";
  EXPECT_TRUE(has_counter);
}

TEST(Report, DropsAndUnroutedTokensReachJsonCsvAndSummary) {
  // Two MoE layers of 4 experts on 2 GPUs; layer 1 drops 3 copies at expert 2 (GPU 1) and loses 1
  // token of 100 entering each layer: unrouted rate 1 / (100 tokens x 2 layers) = 0.5%.
  Report r;
  r.gpus = 2;
  r.tokens_per_step = 100;
  r.routed_tokens = 400;
  r.dropped_tokens = 3;
  r.unrouted_tokens = 1;
  for (int l = 0; l < 2; ++l) {
    LayerResult layer;
    layer.layer = l;
    layer.moe = true;
    layer.dropped_per_expert = {0, 0, l == 1 ? 3.0 : 0.0, 0};
    layer.dropped_per_gpu = {0, l == 1 ? 3.0 : 0.0};
    layer.dropped_tokens = l == 1 ? 3 : 0;
    layer.unrouted_tokens = l == 1 ? 1 : 0;
    r.layers.push_back(layer);
  }
  const auto json = report_to_json(r);
  EXPECT_DOUBLE_EQ(json["summary"]["unrouted_tokens"].get<double>(), 1);
  EXPECT_DOUBLE_EQ(json["summary"]["unrouted_rate"].get<double>(), 0.005);
  EXPECT_DOUBLE_EQ(json["summary"]["drop_rate"].get<double>(), 3.0 / 400);
  EXPECT_EQ(json["layers"][1]["dropped_per_expert"], (nlohmann::json{0.0, 0.0, 3.0, 0.0}));
  EXPECT_EQ(json["layers"][1]["dropped_per_gpu"], (nlohmann::json{0.0, 3.0}));
  EXPECT_DOUBLE_EQ(json["layers"][1]["unrouted_tokens"].get<double>(), 1);
  const auto csv = report_to_csv(r);
  EXPECT_NE(csv.find(",dropped_tokens,unrouted_tokens,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",3.0,1.0,"), std::string::npos) << csv;  // layer 1: dropped, unrouted
  const auto text = report_summary_text(r);
  EXPECT_NE(text.find("most at expert 2 (3 over all layers) and EP rank 1 (3 per GPU)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unrouted  1 tokens (0.5000% of tokens into MoE layers"), std::string::npos)
      << text;
}

TEST(Timeline, BeyondTheLimitKeepsTheHottestGpusAndAnEvenSample) {
  // 8 GPUs, limit 4: the hottest half (2) are GPU 5 (most compute) and GPU 2 (next); the sample
  // takes 2 evenly from the other six {0,1,3,4,6,7}: positions 0 * 6 / 2 = 0 and 1 * 6 / 2 = 3,
  // GPUs 0 and 4. Listed ascending: 0 2 4 5.
  Report r;
  r.gpus = 8;
  for (int g = 0; g < 8; ++g) {
    GpuResult gpu;
    gpu.gpu = g;
    gpu.compute_s = 1;
    r.per_gpu.push_back(gpu);
  }
  r.per_gpu[5].compute_s = 3;
  r.per_gpu[2].compute_s = 2;
  const auto selection = select_timeline_gpus(r, 4);
  EXPECT_EQ(selection.gpus, (std::vector<int>{0, 2, 4, 5}));
  EXPECT_EQ(selection.hottest, 2);
  EXPECT_NE(selection.note.find("GPU 5 first"), std::string::npos) << selection.note;
  EXPECT_EQ(select_timeline_gpus(r, 8).gpus.size(), 8u);  // at the limit: every GPU
}

TEST(Timeline, LinkCountersArePerPhase) {
  // FP8 dispatch, BF16 combine: of 3 GB on the fabric, the dispatch moves 1/3 (1 GB in 1 s, so
  // 1 GB/s) and the combine 2 GB in 0.5 s (4 GB/s); one average would have said 2 GB/s for both.
  Report r;
  r.gpus = 1;
  r.per_gpu.push_back({});
  LayerResult layer;
  layer.phases.dispatch = 1;
  layer.phases.combine = 0.5;
  layer.scale_out_bytes = 3e9;
  layer.dispatch_byte_share = 1.0 / 3;
  layer.schedule = schedule_layer(layer.phases, 1, Overlap::None);
  layer.phases.total = layer.schedule.makespan;
  r.layers.push_back(layer);
  std::map<std::string, double> first_rate;
  const auto timeline = report_to_timeline(r);
  for (const auto& e : timeline["traceEvents"]) {
    if (e["ph"] != "C") continue;
    const auto name = e["name"].get<std::string>();
    if (first_rate.count(name) == 0) first_rate[name] = e["args"]["scale_out"].get<double>();
  }
  EXPECT_NEAR(first_rate["dispatch link load GB/s (one EP group)"], 1.0, 1e-12);
  EXPECT_NEAR(first_rate["combine link load GB/s (one EP group)"], 4.0, 1e-12) << timeline.dump();
}

}  // namespace
}  // namespace moesim::sim

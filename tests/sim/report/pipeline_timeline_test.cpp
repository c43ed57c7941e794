// The training step on the timeline (issue 22): each GPU's pipeline stage op by op, its bubbles
// where the schedule leaves it idle, and the parts adding up to the step account; and every
// collective inside a block as a slice of its own.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/report/report.hpp"
#include "sim/report/training_report.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// The "training step" track (tid 3) of one GPU: its spans in order.
std::vector<Json> step_track(const Json& events, int gpu) {
  std::vector<Json> spans;
  for (const Json& e : events)
    if (e["ph"] == "X" && e["pid"] == gpu && e["tid"] == 3) spans.push_back(e);
  return spans;
}

// Milliseconds of spans whose name starts with `prefix`.
double ms_named(const std::vector<Json>& spans, const std::string& prefix) {
  double us = 0;
  for (const Json& e : spans)
    if (e["name"].get<std::string>().starts_with(prefix)) us += e["dur"].get<double>();
  return us / 1e3;
}

TEST(PipelineTimeline, EachStageDrawsItsOwnOneFOneBScheduleAndBubbles) {
  // p = 4, m = 8, F = 1 ms, B = 2 ms, no messages: the schedule drawn by hand in
  // pipeline_schedule_test.cpp. Stage 0 idles 4-10, 24-25, 27-28, 30-31 ms; stage 3 idles 0-3
  // and 27-33. Then the gradient (1 ms) and optimizer (0.5 ms) after the 33 ms pipeline.
  TrainingPhases t;
  t.stages = 4;
  t.micro_batches = 8;
  t.stage_forward = 1e-3;
  t.stage_backward = 2e-3;
  t.forward = 8e-3;
  t.backward = 16e-3;
  t.pipeline_bubble = 9e-3;
  t.gradient_reduce = 1e-3;
  t.optimizer = 0.5e-3;
  t.gpu_stage = {0, 1, 2, 3};
  Json events = Json::array();
  append_training_timeline(t, {0, 3}, events);
  const auto first = step_track(events, 0);
  std::vector<std::pair<double, double>> bubbles;
  for (const Json& e : first)
    if (e["name"] == "step pipeline_bubble")
      bubbles.emplace_back(e["ts"].get<double>() / 1e3, e["dur"].get<double>() / 1e3);
  const std::vector<std::pair<double, double>> drawn{{4, 6}, {24, 1}, {27, 1}, {30, 1}};
  ASSERT_EQ(bubbles.size(), drawn.size());
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    EXPECT_NEAR(bubbles[i].first, drawn[i].first, 1e-9) << i;
    EXPECT_NEAR(bubbles[i].second, drawn[i].second, 1e-9) << i;
  }
  const auto last = step_track(events, 3);
  EXPECT_EQ(last.front()["name"], "step pipeline_bubble");
  EXPECT_DOUBLE_EQ(last.front()["dur"].get<double>(), 3e3);
  EXPECT_EQ(last[1]["name"], "step forward mb0");
  EXPECT_EQ(last[2]["name"], "step backward mb0");
  // Both tracks: 8 forwards (8 ms), 8 backwards (16 ms), 9 ms of bubble, then the gradient from
  // 33 ms and the optimizer from 34 ms: 34.5 ms, the account's step.
  for (const auto* track : {&first, &last}) {
    EXPECT_DOUBLE_EQ(ms_named(*track, "step forward"), 8);
    EXPECT_DOUBLE_EQ(ms_named(*track, "step backward"), 16);
    EXPECT_DOUBLE_EQ(ms_named(*track, "step pipeline_bubble"), 9);
    EXPECT_DOUBLE_EQ(track->back()["ts"].get<double>(), 34e3);
    EXPECT_DOUBLE_EQ(ms_named(*track, "step"), t.total() * 1e3);
  }
}

TEST(PipelineTimeline, ASimulatedStepsTracksSumToItsAccountOnEveryGpu) {
  // Mixtral-8x7B, TP 2 x PP 4 x DP 8 on 64 H100s, interleaved over 2 virtual stages.
  const Report r = simulate(parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
      "cluster": "h100x64", "parallelism": {"expert_parallel": 8, "attention_tensor_parallel": 2,
        "pipeline_parallel": {"size": 4, "schedule": "interleaved", "micro_batches": 8,
                              "virtual_stages": 2}},
      "workload": {"kind": "training", "tokens_per_gpu": 8192},
      "network": {"model": "analytic"}, "profile": "roofline"})",
                                           "train.json"));
  const TrainingPhases& t = *r.training;
  const Json timeline = report_to_timeline(r, 0);
  for (const int gpu : {0, 17, 40, 63}) {
    const auto track = step_track(timeline["traceEvents"], gpu);
    // 8 micro-batches x 2 chunks, forward and backward, each with its message.
    int messages = 0;
    for (const Json& e : track)
      messages += e["name"].get<std::string>().starts_with("step pipeline_send_recv mb") ? 1 : 0;
    EXPECT_EQ(messages, 32) << gpu;
    EXPECT_NEAR(ms_named(track, "step forward mb"), t.forward * 1e3, 1e-9);
    EXPECT_NEAR(ms_named(track, "step pipeline_send_recv"), t.pipeline_send_recv * 1e3, 1e-9);
    EXPECT_NEAR(ms_named(track, "step pipeline_bubble"), t.pipeline_bubble * 1e3, 1e-9);
    EXPECT_NEAR(ms_named(track, "step"), r.step_time_s * 1e3, 1e-9);
  }
  EXPECT_EQ(t.gpu_stage[17], 1);  // stages of 16 consecutive GPUs
}

// The one span of `name` on GPU 0.
Json span_named(const Json& timeline, const std::string& name) {
  for (const Json& e : timeline["traceEvents"])
    if (e["ph"] == "X" && e["pid"] == 0 && e["name"] == name) return e;
  return Json();
}

TEST(Timeline, EachCollectiveIsASliceOfItsOwnInsideItsPhase) {
  // Mixtral-8x7B training, TP 8 x CP 2 x PP 4 on 64 H100s: block 0's dense span ends with its
  // TP all-reduce, then the context-parallel ring's exposed part.
  const Report r = simulate(parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
      "cluster": "h100x64", "parallelism": {"attention_tensor_parallel": 8, "context_parallel": 2,
        "expert_parallel": 8, "pipeline_parallel": {"size": 4, "micro_batches": 8}},
      "workload": {"kind": "training", "tokens_per_gpu": 16384, "context_tokens": 4096},
      "network": {"model": "analytic"}, "profile": "roofline"})",
                                           "cp.json"));
  const Json timeline = report_to_timeline(r, 0);
  const PhaseTimes& p = r.layers.front().phases;
  const Json dense = span_named(timeline, "L0 dense");
  const Json tp = span_named(timeline, "L0 tp_all_reduce");
  const Json cp = span_named(timeline, "L0 cp_kv_exchange");
  ASSERT_FALSE(dense.is_null());
  ASSERT_FALSE(tp.is_null());
  ASSERT_FALSE(cp.is_null());
  EXPECT_NEAR(tp["dur"].get<double>(), p.tp_all_reduce * 1e6, 1e-9);
  EXPECT_NEAR(cp["dur"].get<double>(), p.cp_kv_exchange * 1e6, 1e-9);
  const double dense_end = dense["ts"].get<double>() + dense["dur"].get<double>();
  EXPECT_NEAR(cp["ts"].get<double>() + cp["dur"].get<double>(), dense_end, 1e-9);
  EXPECT_NEAR(tp["ts"].get<double>() + tp["dur"].get<double>(), cp["ts"].get<double>(), 1e-9);
}

}  // namespace
}  // namespace moesim::sim

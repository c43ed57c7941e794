#include "sim/report/step_account.hpp"

#include <gtest/gtest.h>

#include "sim/cost/layer_schedule.hpp"
#include "sim/report/report.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

PhaseTimes phases(double dense, double dispatch, double experts, double combine) {
  PhaseTimes p;
  p.dense = dense;
  p.dispatch = dispatch;
  p.experts = experts;
  p.combine = combine;
  return p;
}

TEST(ExposedPhases, WithoutOverlapEveryPhaseIsExposedInFull) {
  // One micro-batch, one phase after another: dense 1, dispatch 2, experts 3, combine 2 = 8.
  const auto p = phases(1, 2, 3, 2);
  const auto e = exposed_phases(p, schedule_layer(p, 1, Overlap::None));
  EXPECT_DOUBLE_EQ(e.dense, 1);
  EXPECT_DOUBLE_EQ(e.dispatch, 2);
  EXPECT_DOUBLE_EQ(e.experts, 3);
  EXPECT_DOUBLE_EQ(e.combine, 2);
  EXPECT_DOUBLE_EQ(e.total(), 8);
}

TEST(ExposedPhases, TwoMicroBatchesHideCommunicationBehindCompute) {
  // Compute A0 [0,1] A1 [1,2] E0 [3,6] E1 [6,9]; communication D0 [1,3] D1 [3,5] C0 [6,8]
  // C1 [9,11]. Only [2,3] (D0) and [9,11] (C1) run no compute: dispatch 1 and combine 2 are
  // exposed, dense 2 and experts 6 always are; 2 + 1 + 6 + 2 = 11 = the makespan.
  const auto p = phases(1, 2, 3, 2);
  const auto schedule = schedule_layer(p, 2, Overlap::TwoMicroBatch);
  ASSERT_DOUBLE_EQ(schedule.makespan, 11);
  const auto e = exposed_phases(p, schedule);
  EXPECT_DOUBLE_EQ(e.dense, 2);
  EXPECT_DOUBLE_EQ(e.dispatch, 1);
  EXPECT_DOUBLE_EQ(e.experts, 6);
  EXPECT_DOUBLE_EQ(e.combine, 2);
  EXPECT_DOUBLE_EQ(e.wait, 0);
}

TEST(StepAccount, LaunchFloorShowsAsTheWaitBeyondTheWork) {
  // Blocks 8 + LM head 0.5 + overhead 0.25 = 8.75 of work under a launch floor of 10: the launch
  // wait is 10 - 8.75 = 1.25; with 0.1 fixed the step is 10.1, and the account names each part.
  Report r;
  r.workload = "decode";
  LayerResult layer;
  layer.phases = phases(1, 2, 3, 2);
  layer.schedule = schedule_layer(layer.phases, 1, Overlap::None);
  layer.phases.total = layer.schedule.makespan;
  r.layers.push_back(layer);
  r.extras.lm_head = 0.5;
  r.extras.kernel_overhead = 0.25;
  r.extras.launch_floor = 10;
  r.extras.launch_fixed = 0.1;
  r.step_time_s = 10.1;
  const auto a = account_step(r);
  ASSERT_EQ(a.step_items.size(), 4u);
  EXPECT_EQ(a.step_items[2].name, "launch_wait");
  EXPECT_DOUBLE_EQ(a.step_items[2].seconds, 1.25);
  EXPECT_DOUBLE_EQ(a.accounted(), 10.1);
  const auto b = find_bottleneck(r, a);
  EXPECT_EQ(b.phase, "experts");  // 3 of 10.1: more than any other part
  EXPECT_NEAR(b.share, 3 / 10.1, 1e-12);
}

TEST(StepAccount, TwoMicroBatchPrefillAddsUpToTheStepInJsonAndCsv) {
  // The case: the phases' work summed to 1,456 ms against a 2,498 ms step. Exposed times
  // of every layer plus the step items must give the step itself.
  const Report r = simulate(load_scenario("dsv3-prefill-h200x256"));
  const auto json = report_to_json(r);
  double exposed = 0;
  for (const auto& layer : json["layers"]) {
    EXPECT_NEAR(layer["exposed"]["total_ms"].get<double>(), layer["total_ms"].get<double>(), 1e-9);
    exposed += layer["exposed"]["total_ms"].get<double>();
  }
  for (const auto& item : json["summary"]["step_account"]["step_items"])
    exposed += item["ms"].get<double>();
  const double step = json["summary"]["step_time_ms"].get<double>();
  EXPECT_NEAR(exposed, step, 1e-9 * step);
  // The CSV's total_ms column, layers and step rows, adds to the step (6 decimals a row).
  const std::string csv = report_to_csv(r);
  double csv_total = 0;
  std::size_t line_start = csv.find('\n') + 1;
  while (line_start < csv.size()) {
    const std::size_t line_end = csv.find('\n', line_start);
    std::vector<std::string> cells;
    std::size_t cell = line_start;
    for (std::size_t comma; (comma = csv.find(',', cell)) < line_end; cell = comma + 1)
      cells.push_back(csv.substr(cell, comma - cell));
    csv_total += std::stod(cells.at(7));  // total_ms
    line_start = line_end + 1;
  }
  EXPECT_NEAR(csv_total, step, 1e-6 * 70);
  // Combine on the hottest GPU's NIC limits this step (the issue names GPU 232's IB NIC).
  const auto& bottleneck = json["summary"]["step_account"]["bottleneck"];
  EXPECT_EQ(bottleneck["phase"], "combine");
  EXPECT_EQ(bottleneck["resource"], "network");
}

}  // namespace
}  // namespace moesim::sim

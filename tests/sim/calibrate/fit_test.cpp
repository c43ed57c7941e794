#include "sim/calibrate/fit.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/calibrate/nnls.hpp"

namespace moesim::sim {
namespace {

std::size_t at(CalibratedPhase phase) { return static_cast<std::size_t>(phase); }

TimingRecord record(double hidden, double tokens, std::vector<double> histogram, int ranks) {
  TimingRecord r;
  r.stack = "synthetic";
  r.device = "test GPU";
  r.shape = {hidden, 1024, 8, 2, true, 2, 2};
  r.work = {tokens, std::move(histogram), ranks};
  return r;
}

TEST(NonNegativeLeastSquares, ClampsTheTermThatWouldGoNegative) {
  // min (x1-1)^2 + (x2+1)^2 + (x1+x2)^2. Unconstrained: 2x1+x2 = 1, x1+2x2 = -1, so x = (1, -1).
  // With x2 >= 0 it sits at x2 = 0, and then (x1-1)^2 + x1^2 is least at x1 = 1/2.
  Eigen::MatrixXd a(3, 2);
  a << 1, 0, 0, 1, 1, 1;
  Eigen::VectorXd b(3);
  b << 1, -1, 0;
  const Eigen::VectorXd x = non_negative_least_squares(a, b);
  EXPECT_NEAR(x(0), 0.5, 1e-12);
  EXPECT_EQ(x(1), 0.0);
}

TEST(CalibratePhases, RecoversAKneedExpertCurveAndItsKnee) {
  // Synthetic expert times: 0.05 ms + 0.01 ms per active expert + 2e-12 ms per FLOP, where an
  // expert with fewer than 64 tokens costs as if it had 64. Eight experts share T x 2 copies
  // evenly, so n = T/4 per expert: T = 16..4096 gives n = 4..1024, on both sides of the knee.
  std::vector<TimingRecord> records;
  for (double hidden : {1024.0, 2048.0, 4096.0})
    for (double tokens : {16.0, 64.0, 256.0, 1024.0, 4096.0}) {
      auto r = record(hidden, tokens, std::vector<double>(8, tokens / 4), 1);
      const double params = 3 * hidden * 1024;
      const double flops = 2 * params * 8 * std::max(tokens / 4, 64.0);
      r.phase_ms[at(CalibratedPhase::Experts)] = 0.05 + 0.01 * 8 + 2e-12 * flops;
      records.push_back(r);
    }
  const CalibratedPhases phases = calibrate_phases(records);
  const PhaseCurve* experts = phases.curve(CalibratedPhase::Experts);
  ASSERT_NE(experts, nullptr);
  // Exact data: only the true knee fits every shape without error, so leave-one-shape-out picks it.
  EXPECT_EQ(experts->knee_tokens, 64);
  // The floor and the per-expert term always come together (8 active experts in every record), so
  // only their sum 0.05 + 8 x 0.01 = 0.13 ms is determined; the FLOP slope and the unused
  // weight-bytes term are.
  EXPECT_NEAR(experts->coefficients[0] + 8 * experts->coefficients[1], 0.13, 1e-9);
  EXPECT_NEAR(experts->coefficients[2], 2e-12, 1e-20);
  EXPECT_NEAR(experts->coefficients[3], 0.0, 1e-18);
  EXPECT_LT(experts->loo_p90, 1e-6);
  EXPECT_EQ(phases.shapes, 3);
  EXPECT_EQ(phases.records, 15);
}

TEST(CalibratePhases, LeaveOneShapeOutMatchesTheHandDerivedCase) {
  // Dispatch at 2 ranks, one token, top-1, bf16: remote bytes = 1 x 1 x H x 2 x (1/2) = H.
  // Three shapes H = 1000, 2000, 4000 take 1, 2, 3 ms; two points fix [floor, slope] exactly.
  //   without 1000: (2000,2),(4000,3): slope 1/2000, floor 1   -> 1.5 at 1000: error +1/2
  //   without 2000: (1000,1),(4000,3): slope 2/3000, floor 1/3 -> 5/3 at 2000: error -1/6
  //   without 4000: (1000,1),(2000,2): slope 1/1000, floor 0   -> 4 at 4000:   error +1/3
  // rms = sqrt((1/4 + 1/36 + 1/9) / 3) = sqrt(14/108); p90 of 3 values is the largest, 1/2.
  std::vector<TimingRecord> records;
  for (auto [hidden, ms] : {std::pair{1000.0, 1.0}, {2000.0, 2.0}, {4000.0, 3.0}}) {
    auto r = record(hidden, 1, {1}, 2);
    r.shape.top_k = 1;
    r.phase_ms[at(CalibratedPhase::Dispatch)] = ms;
    records.push_back(r);
  }
  const CalibratedPhases phases = calibrate_phases(records);
  const PhaseCurve* dispatch = phases.curve(CalibratedPhase::Dispatch);
  ASSERT_NE(dispatch, nullptr);
  EXPECT_NEAR(dispatch->loo_rms, std::sqrt(14.0 / 108.0), 1e-9);
  EXPECT_NEAR(dispatch->loo_p90, 0.5, 1e-9);
  // The layer is the dispatch alone here, so whole layers err alike: median |error| 1/3.
  EXPECT_NEAR(phases.layer_loo_median, 1.0 / 3.0, 1e-9);
  EXPECT_NEAR(phases.layer_loo_p90, 0.5, 1e-9);
}

TEST(PhaseCurves, BandWidensWithDistanceBeyondTheRangesSeen) {
  // A gate curve whose only recorded range is 100..400 tokens; 1600 tokens is log2(1600/400) = 2
  // doublings past its end, so the band is 0.05 x (1 + 2) = 0.15.
  PhaseCurve curve;
  curve.phase = CalibratedPhase::Gate;
  curve.coefficients = {0.1, 0, 0, 0};
  curve.loo_p90 = 0.05;
  curve.ranges = {{"tokens", 100, 400}};
  const LayerShape shape{1024, 1024, 8, 2, true, 2, 2};
  EXPECT_EQ(extrapolation(curve, shape, {200, {1}, 1}), 0.0);
  const double distance = extrapolation(curve, shape, {1600, {1}, 1});
  EXPECT_NEAR(distance, 2.0, 1e-12);
  EXPECT_NEAR(widened_band(curve.loo_p90, distance), 0.15, 1e-12);
  // Below the range counts the same way: 25 tokens is 2 halvings under 100.
  EXPECT_NEAR(extrapolation(curve, shape, {25, {1}, 1}), 2.0, 1e-12);
}

}  // namespace
}  // namespace moesim::sim

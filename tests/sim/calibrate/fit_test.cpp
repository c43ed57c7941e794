#include "sim/calibrate/fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "base/config_error.hpp"
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

TEST(PhaseCurves, LaunchFloorChargesSmallExpertsTheLaunchesNotTheirFlops) {
  // hidden 4, expert FFN 2, gated: params = 3 x 4 x 2 = 24, 2 x 24 = 48 FLOPs a token. Experts with
  // 1, 10 and 0 tokens: 48 and 480 FLOPs, the idle one nothing. A floor of 100 FLOPs lifts the
  // first: 100 + 480 = 580 (528 without). Active 2; weight bytes 2 x 24 x 2 bytes = 96.
  const LayerShape shape{4, 2, 8, 2, true, 2, 2};
  const RankWork work{5, {1, 10, 0}, 1};
  EXPECT_EQ(phase_features(CalibratedPhase::Experts, shape, work, 0, 100),
            (std::vector<double>{1, 2, 580, 96}));
  EXPECT_EQ(phase_features(CalibratedPhase::Experts, shape, work, 0),
            (std::vector<double>{1, 2, 528, 96}));
}

TEST(PhaseCurves, TileRowsPriceAnExpertsRowsInWholeTiles) {
  // hidden 4, expert FFN 2, gated: 2 x params = 48 FLOPs a row. Experts with 1, 10 and 0 rows in
  // tiles of 8: 8 and 16 rows, 48 x 24 = 1152 FLOPs (the idle one nothing). With a knee of 12 the
  // first costs 12 rows: 48 x 28 = 1344. Active 2; weight bytes 2 x 24 x 2 = 96 as untiled.
  const LayerShape shape{4, 2, 8, 2, true, 2, 2};
  const RankWork work{5, {1, 10, 0}, 1};
  EXPECT_EQ(phase_features(CalibratedPhase::Experts, shape, work, 0, 0, 8),
            (std::vector<double>{1, 2, 1152, 96}));
  EXPECT_EQ(phase_features(CalibratedPhase::Experts, shape, work, 12, 0, 8),
            (std::vector<double>{1, 2, 1344, 96}));
}

TEST(CalibratePhases, RecoversATiledGroupedGemmStaircase) {
  // A grouped GEMM that computes each expert's rows in tiles of 64: 0.05 ms + 1e-12 ms per FLOP of
  // the padded rows, 2 x params = 6 x hidden x 1024 FLOPs a row. Eight experts with n = T/4 rows
  // each; n = 40, 100, 150, 300, 520 pad to 64, 128, 192, 320, 576. Only tiles of 64 fit every
  // shape exactly: untiled, 100 and 150 rows would differ by their rows (they differ by a tile);
  // tiles of 32 pad 150 to 160 (not 192), tiles of 128 pad 40 to 128 (not 64); knees up to 64
  // change nothing under tiles of 64 and so only tie with knee 0, the earlier candidate.
  std::vector<TimingRecord> records;
  for (double hidden : {1024.0, 2048.0, 4096.0})
    for (double rows : {40.0, 100.0, 150.0, 300.0, 520.0}) {
      auto r = record(hidden, 4 * rows, std::vector<double>(8, rows), 1);
      const double padded = 64 * std::ceil(rows / 64);
      r.phase_ms[at(CalibratedPhase::Experts)] = 0.05 + 1e-12 * 8 * 6 * hidden * 1024 * padded;
      records.push_back(r);
    }
  const CalibratedPhases phases = calibrate_phases(records);
  const PhaseCurve* experts = phases.curve(CalibratedPhase::Experts);
  ASSERT_NE(experts, nullptr);
  EXPECT_EQ(experts->tile_rows, 64);
  EXPECT_EQ(experts->knee_tokens, 0);
  EXPECT_EQ(experts->launch_floor_flops, 0);
  EXPECT_NEAR(experts->coefficients[2], 1e-12, 1e-20);
  EXPECT_LT(experts->loo_p90, 1e-6);
  // The staircase, hidden 2048 (6 x 2048 x 1024 = 12,582,912 FLOPs a row, 8 experts): 65 and 128
  // rows both fill two tiles, 0.05 + 1e-12 x 8 x 12,582,912 x 128 = 0.062885 ms; 129 rows take a
  // third tile, 192 rows' worth: 0.05 + 1e-12 x 8 x 12,582,912 x 192 = 0.069327 ms.
  const auto at_rows = [&](double rows) {
    const auto r = record(2048, 4 * rows, std::vector<double>(8, rows), 1);
    return curve_ms(*experts, r.shape, r.work);
  };
  EXPECT_NEAR(at_rows(65), 0.062885, 1e-6);
  EXPECT_NEAR(at_rows(128), 0.062885, 1e-6);
  EXPECT_NEAR(at_rows(129), 0.069327, 1e-6);
  // The tile travels with the profile.
  ProblemList problems;
  const auto read = read_calibrated_phases(nlohmann::json{{"c", to_json(phases)}}, "/c", problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_NE(read.curve(CalibratedPhase::Experts), nullptr);
  EXPECT_EQ(read.curve(CalibratedPhase::Experts)->tile_rows, 64);
}

TEST(CalibratePhases, RecoversAPerExpertLaunchFloor) {
  // A per-expert loop: 0.2 ms + 1e-12 ms per FLOP, where an expert costs at least 2.56e10 FLOPs'
  // time (25.6 us of host launches; 2.56e10 = 2e8 x 2^7 is on the grid). 2P = 6 x hidden x 1024
  // FLOPs a token; eight experts with n = T/4 tokens each, n = 16..16384, so every shape has
  // experts on both sides of the floor (hidden 1024: n = 4069 tokens; 4096: 1017).
  std::vector<TimingRecord> records;
  for (double hidden : {1024.0, 2048.0, 4096.0})
    for (double tokens : {64.0, 1024.0, 4096.0, 16384.0, 65536.0}) {
      auto r = record(hidden, tokens, std::vector<double>(8, tokens / 4), 1);
      const double flops_per_expert = 6 * hidden * 1024 * (tokens / 4);
      r.phase_ms[at(CalibratedPhase::Experts)] = 0.2 + 8e-12 * std::max(flops_per_expert, 2.56e10);
      records.push_back(r);
    }
  const CalibratedPhases phases = calibrate_phases(records);
  const PhaseCurve* experts = phases.curve(CalibratedPhase::Experts);
  ASSERT_NE(experts, nullptr);
  // Exact data: only the true floor fits every shape; knees 8 and 16 change no feature here (n >=
  // 16), so the first candidate, knee 0, stays.
  EXPECT_EQ(experts->launch_floor_flops, 2.56e10);
  EXPECT_EQ(experts->knee_tokens, 0);
  EXPECT_NEAR(experts->coefficients[0] + 8 * experts->coefficients[1], 0.2, 1e-9);
  EXPECT_NEAR(experts->coefficients[2], 1e-12, 1e-20);
  // hidden 2048, T = 1024: n = 256, 6 x 2048 x 1024 x 256 = 3.22e9 FLOPs < 2.56e10, so each of the
  // 8 experts costs 0.0256 ms: 0.2 + 0.2048 = 0.4048 ms.
  const auto r = record(2048, 1024, std::vector<double>(8, 256), 1);
  EXPECT_NEAR(curve_ms(*experts, r.shape, r.work), 0.4048, 1e-9);
}

TEST(CalibratePhases, ALayerAtTwoRanksWaitsForItsSlowestRanksExperts) {
  // One execution of case "c" on 2 ranks: rank 0's experts got {5, 0} tokens (1 active) and took
  // 1.0 ms, rank 1's {3, 4} (2 active) and 1.3 ms. With 0.1 ms per active expert, rank 0 alone
  // would be 0.1 ms; linked, it waits for rank 1's 0.2 ms. Its combine of 0.5 ms held 1.3 - 1.0 =
  // 0.3 ms of that wait, so its curve is fitted to 0.2 ms.
  std::vector<TimingRecord> records;
  for (auto [rank, histogram, experts_ms] :
       {std::tuple{0, std::vector<double>{5, 0}, 1.0}, {1, std::vector<double>{3, 4}, 1.3}}) {
    auto r = record(1024, 4, histogram, 2);
    r.case_name = "c";
    r.rank = rank;
    r.phase_ms[at(CalibratedPhase::Experts)] = experts_ms;
    r.phase_ms[at(CalibratedPhase::Combine)] = 0.5;
    records.push_back(r);
  }
  CalibratedPhases phases;
  PhaseCurve experts;
  experts.phase = CalibratedPhase::Experts;
  experts.coefficients = {0, 0.1, 0, 0};
  phases.curves.push_back(experts);
  EXPECT_NEAR(estimate_record(phases, records[0]).layer_ms, 0.1, 1e-12);  // not linked yet
  link_ranks(records);
  EXPECT_NEAR(estimate_record(phases, records[0]).layer_ms, 0.2, 1e-12);
  EXPECT_NEAR(phase_target_ms(CalibratedPhase::Combine, records[0]), 0.2, 1e-12);
  EXPECT_NEAR(phase_target_ms(CalibratedPhase::Combine, records[1]), 0.5, 1e-12);  // the slowest
  // Without every rank of the case, nothing is linked.
  records.pop_back();
  link_ranks(records);
  EXPECT_TRUE(records[0].rank_histograms.empty());
  EXPECT_FALSE(records[0].slowest_experts_ms.has_value());
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

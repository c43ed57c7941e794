// The leave-one-out fits from QR-compressed rows (phase_rows.hpp, compressed_rows.hpp) against the
// refits they replace: fit_phase to every record but the group left out, as calibrate did before
// session 12 (quadratic in the records). On the shipped timings they agree to rounding.
#include "sim/calibrate/phase_rows.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "sim/calibrate/compressed_rows.hpp"
#include "sim/calibrate/fit.hpp"
#include "tests/sim/calibrate/timing_records.hpp"

namespace moesim::sim {
namespace {

// The two shipped torch recordings (8 shapes x 7 cases at EP 1 and EP 2) of one stack, their ranks
// linked as calibrate_phases links them.
std::vector<TimingRecord> shipped(const std::string& stack) {
  const std::string dir = std::string(MOESIM_SOURCE_DIR) + "/docs/measurements/";
  std::vector<TimingRecord> records;
  for (const char* file : {"h200x2-torch-timings-ep1.json", "h200x2-torch-timings-ep2.json"})
    for (auto& r : load_timings(dir + file))
      if (r.stack == stack) records.push_back(std::move(r));
  link_ranks(records);
  return records;
}

// The refit leave_one_shape_out replaced: each shape (each record, with one shape) predicted by
// fit_phase to the others, in holdout order (shapes by first appearance); the relative errors.
std::vector<double> refit_relative_errors(CalibratedPhase phase,
                                          const std::vector<const TimingRecord*>& rows, double knee,
                                          double floor, double tile) {
  std::map<std::string, std::vector<std::size_t>> by_shape;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (by_shape.count(rows[i]->shape_key()) == 0) order.push_back(rows[i]->shape_key());
    by_shape[rows[i]->shape_key()].push_back(i);
  }
  std::vector<std::vector<std::size_t>> groups;
  if (order.size() > 1)
    for (const auto& key : order) groups.push_back(by_shape[key]);
  else
    for (std::size_t i = 0; i < rows.size(); ++i) groups.push_back({i});
  std::vector<double> errors;
  for (const auto& group : groups) {
    const std::set<std::size_t> out(group.begin(), group.end());
    std::vector<const TimingRecord*> training;
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (out.count(i) == 0) training.push_back(rows[i]);
    const PhaseCurve curve = fit_phase(phase, training, knee, floor, tile);
    for (std::size_t i : group) {
      const double measured = phase_target_ms(phase, *rows[i]);
      if (measured > 0)
        errors.push_back((curve_ms(curve, rows[i]->shape, rows[i]->work) - measured) / measured);
    }
  }
  return errors;
}

// Every phase and a sample of the expert candidates (knees, launch floors, tiles): each held-out
// prediction p = m (1 + e) within 1e-9 of the refit's, |e - e_refit| <= 1e-9 |1 + e_refit|.
// Returns how many were compared.
std::size_t expect_leave_one_out_matches_refits(const std::vector<const TimingRecord*>& all) {
  std::size_t compared = 0;
  for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p) {
    const auto phase = static_cast<CalibratedPhase>(p);
    const auto rows = phase_records(phase, all);
    if (rows.size() < 2) continue;
    const bool experts = phase == CalibratedPhase::Experts;
    for (double knee : experts ? std::vector<double>{0, 64, 512} : std::vector<double>{0})
      for (double floor : experts ? std::vector<double>{0, 1.28e10} : std::vector<double>{0})
        for (double tile : experts ? std::vector<double>{0, 64} : std::vector<double>{0}) {
          const auto refits = refit_relative_errors(phase, rows, knee, floor, tile);
          const auto fast = leave_one_shape_out(phase, rows, knee, floor, tile);
          EXPECT_EQ(fast.relative_errors.size(), refits.size()) << phase_name(phase);
          for (std::size_t k = 0; k < refits.size() && k < fast.relative_errors.size(); ++k)
            EXPECT_NEAR(fast.relative_errors[k], refits[k], 1e-9 * std::abs(1 + refits[k]))
                << phase_name(phase) << " knee " << knee << " floor " << floor << " tile " << tile
                << " row " << k;
          compared += refits.size();
        }
  }
  return compared;
}

TEST(LeaveOneShapeOut, MatchesTheRefitsItReplacedOnTheShippedTimings) {
  for (const char* stack : {"torch-grouped", "torch-loop"}) {
    const auto records = shipped(stack);
    // 168 records of 8 shapes: each phase's shapes left out one at a time.
    EXPECT_GT(expect_leave_one_out_matches_refits(record_pointers(records)), 168u) << stack;
  }
}

TEST(LeaveOneShapeOut, MatchesTheRefitsRecordByRecordWhenAllShareOneShape) {
  // One shape's 21 records (7 cases at EP 1, 14 at EP 2): each record is left out alone, which
  // the closed form (LeaveOneRowOut) answers without a refit.
  const auto records = shipped("torch-grouped");
  std::vector<TimingRecord> one_shape;
  for (const auto& r : records)
    if (r.shape_key() == records.front().shape_key()) one_shape.push_back(r);
  ASSERT_EQ(one_shape.size(), 21u);
  EXPECT_GT(expect_leave_one_out_matches_refits(record_pointers(one_shape)), 21u);
}

TEST(CompressedRows, MergedBlocksFitAsTheirRowsDo) {
  // y = 1 + 2 t at t = 0, 1, 2, 3 exactly, split into blocks {0, 1} and {2, 3}: the merged blocks
  // and all four rows at once fit (1, 2); leaving block {0, 1} out fits (1, 2) too (exact data).
  Eigen::MatrixXd a(4, 2);
  a << 1, 0, 1, 1, 1, 2, 1, 3;
  Eigen::VectorXd b(4);
  b << 1, 3, 5, 7;
  const auto whole = fit_compressed(compress_rows(a, b));
  const auto merged = fit_compressed(merge_rows(compress_rows(a.topRows(2), b.head(2)),
                                                compress_rows(a.bottomRows(2), b.tail(2))));
  const auto others = all_but_each(
      {compress_rows(a.topRows(2), b.head(2)), compress_rows(a.bottomRows(2), b.tail(2))});
  const auto without_first = fit_compressed(others[0]);
  for (const auto& fit : {whole, merged, without_first}) {
    EXPECT_NEAR(fit[0], 1, 1e-12);
    EXPECT_NEAR(fit[1], 2, 1e-12);
  }
  EXPECT_EQ(others[0].rows, 2);
  EXPECT_EQ(others[1].rows, 2);
}

TEST(LeaveOneRowOut, IsTheLeastSquaresOfTheOtherRows) {
  // Rows t = 0, 1, 2 with y = 0, 1, 5 fitted by y = c t (one column). All three: c = sum(t y) /
  // sum(t^2) = (0 + 1 + 10) / 5 = 2.2. Without t = 2: c = 1 / 1 = 1; without t = 1: c = 10 / 4 =
  // 2.5. The row t = 0 has leverage 0: leaving it out changes nothing.
  Eigen::MatrixXd a(3, 1);
  a << 0, 1, 2;
  Eigen::VectorXd b(3);
  b << 0, 1, 5;
  const CompressedRows all = compress_rows(a, b);
  const auto fit = fit_compressed(all);
  EXPECT_NEAR(fit[0], 2.2, 1e-12);
  const LeaveOneRowOut one_out(all, fit);
  EXPECT_NEAR(one_out.without(a.row(2), 5).value()[0], 1.0, 1e-12);
  EXPECT_NEAR(one_out.without(a.row(1), 1).value()[0], 2.5, 1e-12);
  EXPECT_NEAR(one_out.without(a.row(0), 0).value()[0], 2.2, 1e-12);
}

TEST(LeaveOneRowOut, DeclinesWhenTheRowAloneDecidesTheFitOrFreesAColumn) {
  // y = c t from one row t = 1, y = 1, and a row t = 0, y = -1 that the fit cannot use: the first
  // decides c alone (leverage 1), so leaving it out needs a refit. Two columns (1, t) fitted
  // non-negatively to (t, y) = (0, 1), (1, 0), (2, 0): the unconstrained slope would be negative,
  // so only the constant is kept (1/3); without the first row the constant's best is 0 and must
  // be zeroed, which the closed form cannot do.
  Eigen::MatrixXd a(2, 1);
  a << 1, 0;
  Eigen::VectorXd b(2);
  b << 1, -1;
  const CompressedRows alone = compress_rows(a, b);
  EXPECT_FALSE(LeaveOneRowOut(alone, fit_compressed(alone)).without(a.row(0), 1).has_value());
  Eigen::MatrixXd two(3, 2);
  two << 1, 0, 1, 1, 1, 2;
  Eigen::VectorXd y(3);
  y << 1, 0, 0;
  const CompressedRows rows = compress_rows(two, y);
  const auto fit = fit_compressed(rows);
  EXPECT_NEAR(fit[0], 1.0 / 3, 1e-12);
  EXPECT_EQ(fit[1], 0.0);
  EXPECT_FALSE(LeaveOneRowOut(rows, fit).without(two.row(0), 1).has_value());
}

}  // namespace
}  // namespace moesim::sim

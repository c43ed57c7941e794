// leave_one_record_out (record_holdout.hpp) against the refits it replaced: each record predicted
// by fit_with_knees to every other record plus the offset of the others of its group, as
// calibrate did before session 12 (quadratic in the records). They agree to rounding.
#include "sim/calibrate/record_holdout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "sim/calibrate/fit.hpp"
#include "tests/sim/calibrate/timing_records.hpp"

namespace moesim::sim {
namespace {

// The refit leave_one_record_out replaced, record by record.
std::vector<double> refit_predictions(const std::vector<const TimingRecord*>& all,
                                      const CalibratedPhases& chosen) {
  std::vector<double> predictions;
  for (const TimingRecord* left_out : all) {
    std::vector<const TimingRecord*> training, same_group;
    for (const TimingRecord* r : all) {
      if (r == left_out) continue;
      training.push_back(r);
      if (offset_group(*r) == offset_group(*left_out) && r->measured_layer_ms() > 0)
        same_group.push_back(r);
    }
    if (same_group.empty() || !(left_out->measured_layer_ms() > 0)) continue;
    CalibratedPhases unseen = fit_with_knees(training, chosen.curves);
    ShapeOffset offset{same_group.front()->shape, same_group.front()->work.ranks,
                       static_cast<int>(same_group.size()), 0};
    double weighted_residuals = 0, weights = 0;
    for (const TimingRecord* r : same_group) {
      const double measured = r->measured_layer_ms();
      weighted_residuals +=
          (measured - estimate_record(unseen, *r).layer_ms) / (measured * measured);
      weights += 1 / (measured * measured);
    }
    offset.offset_ms = weighted_residuals / weights;
    unseen.offsets = {offset};
    predictions.push_back(estimate_record(unseen, *left_out).layer_ms);
  }
  return predictions;
}

void expect_matches_refits(const std::vector<TimingRecord>& records) {
  const auto all = record_pointers(records);
  const CalibratedPhases chosen = calibrate_phases(records);
  const auto refits = refit_predictions(all, chosen);
  const auto fast = leave_one_record_out(all, chosen);
  ASSERT_EQ(fast.size(), refits.size());
  for (std::size_t k = 0; k < refits.size(); ++k)
    EXPECT_NEAR(fast[k].predicted_ms, refits[k], 1e-9 * std::abs(refits[k])) << "record " << k;
}

TEST(LeaveOneRecordOut, MatchesTheRefitsItReplacedOnTheShippedTimings) {
  // 56 records at EP 1 and 112 at EP 2 (ranks linked: the slowest rank's experts price a layer)
  // of each stack; calibrate_phases links the ranks of the copies it fits.
  const std::string dir = std::string(MOESIM_SOURCE_DIR) + "/docs/measurements/";
  for (const char* stack : {"torch-grouped", "torch-loop"}) {
    std::vector<TimingRecord> records;
    for (const char* file : {"h200x2-torch-timings-ep1.json", "h200x2-torch-timings-ep2.json"})
      for (auto& r : load_timings(dir + file))
        if (r.stack == stack) records.push_back(std::move(r));
    link_ranks(records);
    expect_matches_refits(records);
  }
}

// One rank's record of an EP 2 execution `c` (hidden 1024, 8 experts): its tokens, the rows of
// its local experts, and its gate and experts times.
TimingRecord rank_record(int c, int rank, double tokens, std::vector<double> rows, double gate_ms,
                         double experts_ms) {
  TimingRecord r;
  r.stack = "synthetic";
  r.device = "test GPU";
  r.case_name = "c" + std::to_string(c);
  r.rank = rank;
  r.shape = {1024, 1024, 8, 2, true, 2, 2};
  r.work = {tokens, std::move(rows), 2};
  r.phase_ms[phase_index(CalibratedPhase::Experts)] = experts_ms;
  r.phase_ms[phase_index(CalibratedPhase::Gate)] = gate_ms;
  return r;
}

TEST(LeaveOneRecordOut, MatchesTheRefitsWhereLeavingOneOutMovesTheSlowestRank) {
  // EP 2, one shape, executions of two ranks: rank 0 spreads its rows over 4 experts, rank 1 puts
  // about as many on one expert, so which is slower depends on the fit's per-expert term against
  // its FLOP term; noisy times in few executions move the fit a lot when one record is left out,
  // and the slowest rank of the others with it: their offset terms are recomputed one by one.
  for (int executions : {3, 4, 6}) {
    std::vector<TimingRecord> records;
    for (int c = 0; c < executions; ++c)
      for (int rank = 0; rank < 2; ++rank) {
        const double rows = 16.0 * (c + 1);
        const double noise = 1 + 0.3 * ((c * 7 + rank * 3) % 5 - 2) / 2;
        records.push_back(rank_record(c, rank, 8 * rows,
                                      rank == 0
                                          ? std::vector<double>{rows, rows, rows, rows}
                                          : std::vector<double>{4 * rows + 8 * (c % 2), 0, 0, 0},
                                      0.01 + 0.00001 * rows, (0.02 + 0.0005 * rows) * noise));
      }
    link_ranks(records);
    expect_matches_refits(records);
  }
}

TEST(LeaveOneRecordOut, MatchesTheRefitsWhereRanksTieOnATermTheFitDrops) {
  // EP 2: rank 0 runs r rows on each of two experts, rank 1 2r rows on one, so their FLOPs tie and
  // they differ only in active experts and weight bytes; times that follow the FLOPs alone fit
  // those terms to zero and the ranks stay tied in every fit without one record.
  std::vector<TimingRecord> records;
  for (int c = 0; c < 12; ++c)
    for (int rank = 0; rank < 2; ++rank) {
      const double rows = 32.0 * (1 + c % 6);
      records.push_back(rank_record(c, rank, 4 * rows,
                                    rank == 0 ? std::vector<double>{rows, rows, 0, 0}
                                              : std::vector<double>{2 * rows, 0, 0, 0},
                                    0.01 + 0.00002 * rows, 0.02 + 0.0004 * rows * (1 + 0.01 * c)));
    }
  link_ranks(records);
  expect_matches_refits(records);
}

TEST(LeaveOneRecordOut, PredictsEachRecordFromTheOthersAndItsShapesOffset) {
  // Shape A (hidden 1024, 256 tokens) takes 0.5 ms three times, shape B (2048, 128 tokens: the
  // same token elements) 0.8 ms three times: host overhead the features cannot tell apart. Leave
  // out an A record: the curve fits one value c to rows weighted 1/measured, c = sum(w^2 y) /
  // sum(w^2) = (2 x 2^2 x 0.5 + 3 x 1.25^2 x 0.8) / (2 x 4 + 3 x 1.5625) = 7.75 / 12.6875 =
  // 0.61084 ms (+22% on A); the other two A records leave 0.5 - c each, so the offset brings the
  // prediction back to exactly 0.5 ms. Likewise for B. Every record is predicted exactly.
  std::vector<TimingRecord> records;
  for (int i = 0; i < 3; ++i) records.push_back(gate_record(1024, 256, 1, 0.5));
  for (int i = 0; i < 3; ++i) records.push_back(gate_record(2048, 128, 1, 0.8));
  std::vector<const TimingRecord*> all;
  for (const auto& r : records) all.push_back(&r);
  const CalibratedPhases chosen = calibrate_phases(records);
  const auto errors = leave_one_record_out(all, chosen);
  ASSERT_EQ(errors.size(), 6u);
  for (const auto& e : errors) EXPECT_NEAR(e.error_ms, 0.0, 1e-9);
  // The curve alone, refitted without the first A record, is the hand-derived c.
  const auto training = std::vector<const TimingRecord*>(all.begin() + 1, all.end());
  const CalibratedPhases unseen = fit_with_knees(training, chosen.curves);
  EXPECT_NEAR(estimate_layer(unseen, records[0].shape, records[0].work).layer_ms, 7.75 / 12.6875,
              1e-9);
}

}  // namespace
}  // namespace moesim::sim

#pragma once
// Calibration records for the fit's tests: synthetic gate-only ones, and pointers to a set of them
// (what the leave-one-out functions take).
#include <cstddef>
#include <vector>

#include "sim/calibrate/timings.hpp"

namespace moesim::sim {

inline std::size_t phase_index(CalibratedPhase phase) { return static_cast<std::size_t>(phase); }

// One record of shape (hidden, expert FFN 1024, 8 experts, top-2) whose gate took `gate_ms`.
inline TimingRecord gate_record(double hidden, double tokens, int ranks, double gate_ms) {
  TimingRecord r;
  r.stack = "synthetic";
  r.device = "test GPU";
  r.shape = {hidden, 1024, 8, 2, true, 2, 2};
  r.work = {tokens, {tokens}, ranks};
  r.phase_ms[phase_index(CalibratedPhase::Gate)] = gate_ms;
  return r;
}

inline std::vector<const TimingRecord*> record_pointers(const std::vector<TimingRecord>& records) {
  std::vector<const TimingRecord*> out;
  for (const auto& r : records) out.push_back(&r);
  return out;
}

}  // namespace moesim::sim

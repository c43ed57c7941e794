#pragma once
// Leave-one-record-out for the seen shapes' band (docs/accuracy.md, "How the band is computed"):
// each record predicted by curves fitted without it plus its shape's offset from the other records
// of its shape and EP size. Near-linear in the records: each fit leaves one row out in closed form
// (phase_rows.hpp), and each offset comes from its group's weighted sums less the record's terms.
#include <vector>

#include "sim/calibrate/layer_bands.hpp"
#include "sim/calibrate/timings.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

// Each record predicted by curves fitted without it (the knees of `chosen` kept) plus its shape's
// offset from the other records of its shape and EP size; records alone in their group are skipped
// (they would be an unseen shape).
std::vector<HeldOutError> leave_one_record_out(const std::vector<const TimingRecord*>& records,
                                               const CalibratedPhases& chosen);

}  // namespace moesim::sim

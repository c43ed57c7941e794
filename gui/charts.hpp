#pragma once
// Charts drawn from value results (no state): per-GPU load bars and the per-layer phase breakdown
// (the heat map is heat_map_widget.hpp).
#include <QChart>
#include <vector>

#include "sim/report/report.hpp"

namespace moesim::gui {

// Tokens per GPU in one layer (one EP group, one micro-batch): current beside baseline.
QChart* make_gpu_load_chart(const std::vector<double>& current, const std::vector<double>& baseline,
                            int layer);
// Per block: dense, gate, dispatch, experts and combine of one micro-batch, stacked, with the
// block's total over the step (all micro-batches, after overlap) as a line; milliseconds.
QChart* make_phase_chart(const sim::Report& report);

}  // namespace moesim::gui

#pragma once
// An expert launch whose experts hold different row counts can cost more than the sum of each
// count's balanced cost: cuBLAS picks one kernel for a grouped launch from its largest problem, so
// one hot expert past a tile boundary moves every expert to a slower kernel (Mixtral-8x7B's grouped
// GEMM: 96 us an expert at 64 rows, 175 us at 96; a launch averaging 64 rows with a 72-row expert
// took 1,181 us where the balanced sum gives 803). The profile measures such launches
// (`experts.skewed`: Zipf-routed histograms on both back ends); each becomes a correction factor,
// measured time over the balanced sum, and a launch is priced with the factor of the measured
// launch nearest in shape: log2 of its mean rows per active expert and of its max / mean.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/measured_profile.hpp"

namespace moesim {
class ProblemList;
}

namespace moesim::sim {

// log2(mean rows over the experts with rows) and log2(max rows / mean): the shape of one launch
// (nullopt when no expert has rows).
struct LaunchShape {
  double log_mean_rows = 0;
  double log_max_over_mean = 0;
};
std::optional<LaunchShape> launch_shape(const std::vector<double>& rows_per_expert);

// `experts/skewed` under the model entry at `model_pointer`, when present, as factors against
// `curves`' balanced sums (its curves must be read already). Entries with no rows or a
// non-positive time are problems recorded with their JSON path.
std::vector<SkewedLaunch> read_skewed_launches(const nlohmann::json& document,
                                               const std::string& model_pointer,
                                               const ModelCurves& curves, ProblemList& problems);

// The factor of the measured launch nearest `shape` for `method` ("loop" or "grouped"); 1 when
// the profile measured none.
double skew_factor(const ModelCurves& curves, const LaunchShape& shape, const std::string& method);

}  // namespace moesim::sim

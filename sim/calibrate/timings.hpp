#pragma once
// Phase timings recorded on any stack, in moesim's calibration format (docs/calibrate.md,
// docs/calibration.schema.json): one record per layer, rank and case. `moesim calibrate` fits
// cost curves to them and checks a calibrated profile against them.
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

struct TimingRecord {
  std::string where;  // "file: /records/3", for messages and tables
  std::string file;   // the two halves of `where`, for a ConfigError
  std::string pointer;
  std::string case_name;  // the ranks of one layer execution share it ("" when not given)
  std::string stack;
  std::string device;
  int rank = 0;
  LayerShape shape;
  RankWork work;
  std::array<std::optional<double>, kCalibratedPhaseCount> phase_ms;
  std::optional<double> layer_ms;  // the whole layer, when timed end to end
  // Set by link_ranks when the records hold every rank of this layer execution: each rank's
  // tokens_per_local_expert, and the slowest rank's measured experts. At EP > 1 a layer waits for
  // its slowest rank's experts (the faster ranks wait in the combine), as `moesim run` prices it.
  std::vector<std::vector<double>> rank_histograms;
  std::optional<double> slowest_experts_ms;

  // layer_ms when given, else the sum of the phases recorded.
  double measured_layer_ms() const;
  // Records of one shape and dtypes share this key (leave-one-shape-out leaves them out together).
  std::string shape_key() const;
};

// Parses one calibration document; throws ConfigError naming `source` and the JSON pointer of every
// problem.
std::vector<TimingRecord> read_timings(const nlohmann::json& document, const std::string& source);
// Links the records of one layer execution on its several ranks: those with the same stack, case
// (not empty), shape, ranks and tokens, when there are exactly `ranks` of them, one per rank.
void link_ranks(std::vector<TimingRecord>& records);
// Throws ConfigError at the later of two records holding the same measurement (a file given twice,
// or a copy of it): each left-out record would be predicted from its twin, narrowing the band.
void refuse_duplicate_records(const std::vector<TimingRecord>& records);
// Reads and parses a calibration file (bounded read, strict JSON).
std::vector<TimingRecord> load_timings(const std::string& path);

}  // namespace moesim::sim

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
  std::string where;      // "file: /records/3", for messages and tables
  std::string case_name;  // the ranks of one layer execution share it ("" when not given)
  std::string stack;
  std::string device;
  int rank = 0;
  LayerShape shape;
  RankWork work;
  std::array<std::optional<double>, kCalibratedPhaseCount> phase_ms;
  std::optional<double> layer_ms;  // the whole layer, when timed end to end

  // layer_ms when given, else the sum of the phases recorded.
  double measured_layer_ms() const;
  // Records of one shape and dtypes share this key (leave-one-shape-out leaves them out together).
  std::string shape_key() const;
};

// Parses one calibration document; throws ConfigError naming `source` and the JSON pointer of every
// problem.
std::vector<TimingRecord> read_timings(const nlohmann::json& document, const std::string& source);
// Reads and parses a calibration file (bounded read, strict JSON).
std::vector<TimingRecord> load_timings(const std::string& path);

}  // namespace moesim::sim

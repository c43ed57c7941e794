#pragma once
// Median, percentiles and spread of timed runs: the statistics every profile entry carries.
// CPU only, so CI tests it without a GPU.
#include <nlohmann/json.hpp>
#include <vector>

namespace moesim::profiler {

struct Stats {
  double median_us = 0;
  double p10_us = 0;
  double p90_us = 0;
  double min_us = 0;
  double max_us = 0;
  int runs = 0;
  double spread = 0;  // (p90 - p10) / median
  bool wide = false;  // spread above kWideSpread even after one repeat
};

inline constexpr double kWideSpread = 0.10;

// Percentiles by linear interpolation between order statistics; an empty set gives zeros.
Stats summarise(std::vector<double> samples_us);
nlohmann::json to_json(const Stats& stats);

}  // namespace moesim::profiler

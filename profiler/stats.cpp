#include "profiler/stats.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::profiler {

Stats summarise(std::vector<double> samples_us) {
  Stats s;
  if (samples_us.empty()) return s;
  std::sort(samples_us.begin(), samples_us.end());
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(samples_us.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, samples_us.size() - 1);
    return samples_us[lo] + (pos - static_cast<double>(lo)) * (samples_us[hi] - samples_us[lo]);
  };
  s.median_us = at(0.5);
  s.p10_us = at(0.1);
  s.p90_us = at(0.9);
  s.min_us = samples_us.front();
  s.max_us = samples_us.back();
  s.runs = static_cast<int>(samples_us.size());
  s.spread = s.median_us > 0 ? (s.p90_us - s.p10_us) / s.median_us : 0;
  s.wide = s.spread > kWideSpread;
  return s;
}

nlohmann::json to_json(const Stats& s) {
  return {{"median_us", s.median_us}, {"p10_us", s.p10_us},   {"p90_us", s.p90_us},
          {"min_us", s.min_us},       {"max_us", s.max_us},   {"runs", s.runs},
          {"spread", s.spread},       {"wide_spread", s.wide}};
}

}  // namespace moesim::profiler

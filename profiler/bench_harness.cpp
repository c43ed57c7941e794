#include "profiler/bench_harness.hpp"

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
  return {{"median_us", s.median_us}, {"p10_us", s.p10_us}, {"p90_us", s.p90_us},
          {"min_us", s.min_us},       {"max_us", s.max_us}, {"runs", s.runs},
          {"spread", s.spread},       {"wide_spread", s.wide}};
}

BenchHarness::BenchHarness(cudaStream_t stream, BenchOptions options)
    : stream_(stream), options_(options) {
  int device = 0;
  int l2_bytes = 0;
  MOESIM_CUDA_CHECK(cudaGetDevice(&device));
  MOESIM_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  if (options_.flush_l2) flush_ = kernels::DeviceBuffer<char>(2 * static_cast<std::size_t>(l2_bytes));
}

Stats BenchHarness::time_once(const std::function<void(cudaStream_t)>& op) {
  for (int i = 0; i < options_.warmup; ++i) op(stream_);
  std::vector<double> samples;
  for (int i = 0; i < options_.runs; ++i) {
    if (flush_.size() > 0)
      MOESIM_CUDA_CHECK(cudaMemsetAsync(flush_.data(), i & 0xff, flush_.bytes(), stream_));
    start_.record(stream_);
    op(stream_);
    stop_.record(stream_);
    stop_.synchronize();
    samples.push_back(1000.0 * stop_.elapsed_ms_since(start_));
  }
  return summarise(std::move(samples));
}

Stats BenchHarness::time(const std::function<void(cudaStream_t)>& op) {
  Stats first = time_once(op);
  if (!first.wide) return first;
  Stats second = time_once(op);
  return second.spread < first.spread ? second : first;
}

}  // namespace moesim::profiler

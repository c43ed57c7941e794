#include "profiler/bench_harness.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::profiler {

BenchHarness::BenchHarness(cudaStream_t stream, BenchOptions options)
    : stream_(stream), options_(options) {
  int device = 0;
  int l2_bytes = 0;
  MOESIM_CUDA_CHECK(cudaGetDevice(&device));
  MOESIM_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  if (options_.flush_l2)
    flush_ = kernels::DeviceBuffer<char>(2 * static_cast<std::size_t>(l2_bytes));
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

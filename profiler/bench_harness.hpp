#pragma once
// One timing harness for every measured operation (nccl-tests' pattern): warm-ups, an optional
// L2 flush before each run, CUDA events around each run, median and spread of the runs.
#include <cuda_runtime.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "kernels/cuda_resources.hpp"

namespace moesim::profiler {

struct BenchOptions {
  int warmup = 5;
  int runs = 25;         // at least 20: the profile contract
  bool flush_l2 = true;  // a run must not find its inputs left in L2 by the previous run
};

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

Stats summarise(std::vector<double> samples_us);
nlohmann::json to_json(const Stats& stats);

class BenchHarness {
 public:
  BenchHarness(cudaStream_t stream, BenchOptions options);
  // Times `op` (which enqueues work on the stream). A wide spread is measured once more and the
  // tighter of the two sets kept; if it is still wide the result says so.
  Stats time(const std::function<void(cudaStream_t)>& op);
  const BenchOptions& options() const { return options_; }

 private:
  Stats time_once(const std::function<void(cudaStream_t)>& op);
  cudaStream_t stream_;
  BenchOptions options_;
  kernels::DeviceBuffer<char> flush_;
  kernels::CudaEvent start_, stop_;
};

}  // namespace moesim::profiler

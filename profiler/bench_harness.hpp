#pragma once
// One timing harness for every measured operation (nccl-tests' pattern): warm-ups, an optional
// L2 flush before each run, CUDA events around each run, median and spread of the runs.
#include <cuda_runtime.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "kernels/cuda_resources.hpp"
#include "profiler/stats.hpp"

namespace moesim::profiler {

struct BenchOptions {
  int warmup = 5;
  int runs = 25;         // at least 20: the profile contract
  bool flush_l2 = true;  // a run must not find its inputs left in L2 by the previous run
};

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

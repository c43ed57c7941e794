#pragma once
// The measured operations of a profile, one function per section (docs/profile-format.md).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "profiler/bench_harness.hpp"
#include "profiler/routing.hpp"

namespace moesim::profiler {

// Called with a short description before each measurement (the progress display).
using Progress = std::function<void(const std::string&)>;

// gate / permute / combine by token count for one model shape.
nlohmann::json measure_token_ops(BenchHarness& harness, const ModelShape& shape,
                                 const std::vector<int>& token_counts, const Progress& progress);
// Experts phase (gate_up GEMM, SwiGLU, down GEMM) by tokens per expert, both GEMM back ends,
// balanced histograms plus Zipf-skewed ones.
nlohmann::json measure_experts(BenchHarness& harness, const ModelShape& shape,
                               const std::vector<int>& tokens_per_expert, bool quick,
                               const Progress& progress);
nlohmann::json measure_dense_gemms(BenchHarness& harness, bool quick, const Progress& progress);
nlohmann::json measure_overheads(BenchHarness& harness);
nlohmann::json measure_copy_bandwidth(BenchHarness& harness);
// NCCL all-to-all and send/recv; with one visible GPU, says it was skipped and why.
nlohmann::json measure_collectives(const Progress& progress);

}  // namespace moesim::profiler

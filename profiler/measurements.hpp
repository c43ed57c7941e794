#pragma once
// The measured operations of a profile, one function per section (docs/profile-format.md).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/nccl_comm.hpp"
#include "profiler/bench_harness.hpp"
#include "profiler/rank_comm.hpp"
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
// FP8 (cuBLASLt, e4m3, per-tensor scale) against BF16 per-expert GEMMs at the model's gate_up and
// down shapes, per row count: the profile's `fp8_gemm` entries.
nlohmann::json measure_fp8_gemms(BenchHarness& harness, const ModelShape& shape,
                                 const std::vector<int>& rows_per_expert, const Progress& progress);
nlohmann::json measure_dense_gemms(BenchHarness& harness, bool quick, const Progress& progress);
nlohmann::json measure_overheads(BenchHarness& harness);
nlohmann::json measure_copy_bandwidth(BenchHarness& harness);
struct CollectiveOptions {
  bool quick = false;
  std::string link_kind = "unknown";  // recorded, not detected: "nvlink", "pcie", ...
};
// NCCL all-to-all(v), send/recv, the count exchange and the latency floor on every rank count
// up to comm.size() (docs/profile-format.md). Every rank calls it; rank 0 gets the section.
nlohmann::json measure_collectives(RankComm& comm, const kernels::NcclComm& world,
                                   const CollectiveOptions& options, const Progress& progress);

}  // namespace moesim::profiler

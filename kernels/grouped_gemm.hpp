#pragma once
// bf16 grouped GEMM for experts: for each group g, C_g[rows_g, n] = A_g[rows_g, k] * W_g[n, k]^T
// (row-major; W in nn.Linear's [out, in] layout), fp32 accumulation. Groups with no rows are
// skipped. Two back ends, so the profiler can measure which wins on a given GPU:
//   Loop:    one cublasGemmEx per group on the stream;
//   Grouped: one cublasGemmGroupedBatchedEx call (one group of batch 1 per expert).
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <span>
#include <string_view>
#include <vector>

#include "kernels/cuda_resources.hpp"

namespace moesim::kernels {

enum class GemmMethod { Loop, Grouped };

std::string_view gemm_method_name(GemmMethod method);

struct GemmGroup {
  const __nv_bfloat16* activations;  // [rows, k]
  const __nv_bfloat16* weights;      // [n, k]
  __nv_bfloat16* out;                // [rows, n]
  int rows;
};

class GroupedGemm {
 public:
  explicit GroupedGemm(int max_groups);
  // Enqueues the GEMMs on `stream`; n and k are shared by every group.
  void run(std::span<const GemmGroup> groups, int n, int k, GemmMethod method, cudaStream_t stream);
  cublasHandle_t handle() const { return handle_.get(); }

 private:
  static constexpr int kSlots = 4;  // pointer uploads in flight before a slot is reused
  int max_groups_;
  CublasHandle handle_;
  DeviceBuffer<char> workspace_;
  DeviceBuffer<void*> device_pointers_;  // kSlots x 3 x max_groups
  PinnedBuffer<void*> host_pointers_;
  std::vector<CudaEvent> slot_done_;
  std::vector<bool> slot_used_;
  int next_slot_ = 0;
  std::vector<cublasOperation_t> trans_a_, trans_b_;
  std::vector<int> m_, n_, k_, lda_, ldb_, ldc_, group_size_;
  std::vector<float> alpha_, beta_;
};

}  // namespace moesim::kernels

#pragma once
// FP8 (e4m3) GEMM through cuBLASLt, so the profiler can price FP8 experts from measurements:
// C[rows, n] (bf16) = A[rows, k] * W[n, k]^T with per-tensor scales of 1 and fp32 accumulation.
// The layouts are GroupedGemm's (row-major activations, weights in nn.Linear's [out, in] layout):
// in cuBLAS's column-major terms that is C^T = W^T' * A^T, the "TN" form cuBLASLt's FP8 path
// requires. Plans (descriptors and the heuristic's algorithm) are cached per shape.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>

#include "kernels/cuda_resources.hpp"

namespace moesim::kernels {

class Fp8Gemm {
 public:
  Fp8Gemm();
  ~Fp8Gemm();
  Fp8Gemm(const Fp8Gemm&) = delete;
  Fp8Gemm& operator=(const Fp8Gemm&) = delete;
  // Enqueues one GEMM on `stream`. k must be a multiple of 16 (cuBLASLt's FP8 alignment); throws
  // std::invalid_argument otherwise, or std::runtime_error when cuBLASLt has no algorithm.
  void run(const __nv_fp8_e4m3* activations, const __nv_fp8_e4m3* weights, __nv_bfloat16* out,
           int rows, int n, int k, cudaStream_t stream);

 private:
  struct Plan;
  const Plan& plan_for(int rows, int n, int k);

  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer<char> workspace_;
  DeviceBuffer<float> unit_scale_;  // the per-tensor scale of A, B and D: 1
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;
};

}  // namespace moesim::kernels

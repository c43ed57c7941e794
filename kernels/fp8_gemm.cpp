#include "kernels/fp8_gemm.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

#include "kernels/cuda_check.hpp"

namespace moesim::kernels {
namespace {
constexpr std::size_t kWorkspaceBytes = 32u << 20;  // as GroupedGemm: cuBLAS's Hopper advice
}

struct Fp8Gemm::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    // Destroy failures are logged, never thrown (as every resource in cuda_resources.hpp).
    if (desc != nullptr && cublasLtMatmulDescDestroy(desc) != CUBLAS_STATUS_SUCCESS)
      std::fprintf(stderr, "moesim: cublasLtMatmulDescDestroy failed\n");
    for (cublasLtMatrixLayout_t layout : {a, b, c})
      if (layout != nullptr && cublasLtMatrixLayoutDestroy(layout) != CUBLAS_STATUS_SUCCESS)
        std::fprintf(stderr, "moesim: cublasLtMatrixLayoutDestroy failed\n");
  }
};

Fp8Gemm::Fp8Gemm() : workspace_(kWorkspaceBytes), unit_scale_(1) {
  MOESIM_CUBLAS_CHECK(cublasLtCreate(&handle_));
  const float one = 1.0f;
  MOESIM_CUDA_CHECK(cudaMemcpy(unit_scale_.data(), &one, sizeof one, cudaMemcpyHostToDevice));
}

Fp8Gemm::~Fp8Gemm() {
  plans_.clear();
  if (handle_ != nullptr && cublasLtDestroy(handle_) != CUBLAS_STATUS_SUCCESS)
    std::fprintf(stderr, "moesim: cublasLtDestroy failed\n");
}

const Fp8Gemm::Plan& Fp8Gemm::plan_for(int rows, int n, int k) {
  auto& slot = plans_[{rows, n, k}];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  MOESIM_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
  MOESIM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                                     &transpose, sizeof transpose));
  MOESIM_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &keep, sizeof keep));
  const float* scale = unit_scale_.data();
  for (auto attribute :
       {CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER})
    MOESIM_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(plan->desc, attribute, &scale, sizeof scale));
  // cuBLAS's m is our n (output columns), its n our rows; both operands are k-major.
  MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->a, CUDA_R_8F_E4M3, k, n, k));
  MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->b, CUDA_R_8F_E4M3, k, rows, k));
  MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->c, CUDA_R_16BF, n, rows, n));

  cublasLtMatmulPreference_t preference = nullptr;
  MOESIM_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  const std::size_t workspace = kWorkspaceBytes;
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status =
      cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                           &workspace, sizeof workspace) == CUBLAS_STATUS_SUCCESS
          ? cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->a, plan->b, plan->c, plan->c,
                                           preference, 1, &result, &found)
          : CUBLAS_STATUS_INVALID_VALUE;
  cublasLtMatmulPreferenceDestroy(preference);
  MOESIM_CUBLAS_CHECK(status);
  if (found == 0)
    throw std::runtime_error("cuBLASLt has no FP8 algorithm for rows " + std::to_string(rows) +
                             ", n " + std::to_string(n) + ", k " + std::to_string(k));
  plan->algo = result.algo;
  slot = std::move(plan);
  return *slot;
}

void Fp8Gemm::run(const __nv_fp8_e4m3* activations, const __nv_fp8_e4m3* weights,
                  __nv_bfloat16* out, int rows, int n, int k, cudaStream_t stream) {
  if (rows < 1 || n < 1 || k < 16 || k % 16 != 0 || n % 16 != 0)
    throw std::invalid_argument("Fp8Gemm: need rows >= 1 and n, k multiples of 16");
  const Plan& plan = plan_for(rows, n, k);
  const float one = 1.0f, zero = 0.0f;
  MOESIM_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.desc, &one, weights, plan.a, activations, plan.b,
                                     &zero, out, plan.c, out, plan.c, &plan.algo, workspace_.data(),
                                     workspace_.bytes(), stream));
}

}  // namespace moesim::kernels

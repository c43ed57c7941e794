#include "kernels/grouped_gemm.hpp"

#include <stdexcept>

#include "kernels/cuda_check.hpp"

namespace moesim::kernels {

std::string_view gemm_method_name(GemmMethod method) {
  return method == GemmMethod::Loop ? "loop" : "grouped";
}

namespace {
constexpr std::size_t kWorkspaceBytes = 32u << 20;  // cuBLAS's recommendation for Hopper
}

GroupedGemm::GroupedGemm(int max_groups)
    : max_groups_(max_groups),
      workspace_(kWorkspaceBytes),
      device_pointers_(static_cast<std::size_t>(kSlots) * 3 * max_groups),
      host_pointers_(static_cast<std::size_t>(kSlots) * 3 * max_groups),
      slot_used_(kSlots, false) {
  if (max_groups < 1) throw std::invalid_argument("GroupedGemm: max_groups must be positive");
  slot_done_.resize(kSlots);
  MOESIM_CUBLAS_CHECK(cublasSetWorkspace(handle_.get(), workspace_.data(), workspace_.bytes()));
}

void GroupedGemm::run(std::span<const GemmGroup> groups, int n, int k, GemmMethod method,
                      cudaStream_t stream) {
  MOESIM_CUBLAS_CHECK(cublasSetStream(handle_.get(), stream));
  const float one = 1.0f;
  const float zero = 0.0f;
  // Row-major C = A W^T is column-major C^T (n x rows) = W (k x n, transposed) * A^T (k x rows).
  if (method == GemmMethod::Loop) {
    for (const GemmGroup& g : groups) {
      if (g.rows == 0) continue;
      MOESIM_CUBLAS_CHECK(cublasGemmEx(handle_.get(), CUBLAS_OP_T, CUBLAS_OP_N, n, g.rows, k, &one,
                                       g.weights, CUDA_R_16BF, k, g.activations, CUDA_R_16BF, k,
                                       &zero, g.out, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F,
                                       CUBLAS_GEMM_DEFAULT));
    }
    return;
  }

  const int slot = next_slot_;
  next_slot_ = (next_slot_ + 1) % kSlots;
  if (slot_used_[slot]) slot_done_[slot].synchronize();  // its pinned pointers may still be read
  void** host = host_pointers_.data() + static_cast<std::size_t>(slot) * 3 * max_groups_;
  int count = 0;
  for (const GemmGroup& g : groups) {
    if (g.rows == 0) continue;
    if (count == max_groups_)
      throw std::invalid_argument("GroupedGemm: more groups than max_groups");
    host[count] = const_cast<__nv_bfloat16*>(g.weights);
    host[max_groups_ + count] = const_cast<__nv_bfloat16*>(g.activations);
    host[2 * max_groups_ + count] = g.out;
    m_.resize(count + 1);
    m_[count] = g.rows;
    ++count;
  }
  if (count == 0) return;
  void** device = device_pointers_.data() + static_cast<std::size_t>(slot) * 3 * max_groups_;
  MOESIM_CUDA_CHECK(cudaMemcpyAsync(device, host, sizeof(void*) * 3 * max_groups_,
                                    cudaMemcpyHostToDevice, stream));
  slot_done_[slot].record(stream);
  slot_used_[slot] = true;

  trans_a_.assign(count, CUBLAS_OP_T);
  trans_b_.assign(count, CUBLAS_OP_N);
  n_.assign(count, n);
  k_.assign(count, k);
  lda_.assign(count, k);
  ldb_.assign(count, k);
  ldc_.assign(count, n);
  group_size_.assign(count, 1);
  alpha_.assign(count, one);
  beta_.assign(count, zero);
  // cuBLAS's m is our n (output columns) and its n is the group's rows.
  MOESIM_CUBLAS_CHECK(cublasGemmGroupedBatchedEx(
      handle_.get(), trans_a_.data(), trans_b_.data(), n_.data(), m_.data(), k_.data(),
      alpha_.data(), device, CUDA_R_16BF, lda_.data(), device + max_groups_, CUDA_R_16BF,
      ldb_.data(), beta_.data(), device + 2 * max_groups_, CUDA_R_16BF, ldc_.data(), count,
      group_size_.data(), CUBLAS_COMPUTE_32F));
}

}  // namespace moesim::kernels

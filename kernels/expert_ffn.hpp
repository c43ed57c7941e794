#pragma once
// The experts of one GPU: bf16 weights and the gate_up GEMM -> SwiGLU -> down GEMM pipeline
// over expert-sorted rows.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/cuda_resources.hpp"
#include "kernels/grouped_gemm.hpp"

namespace moesim::kernels {

// A run of consecutive rows that all go to one local expert.
struct ExpertSegment {
  int expert;
  long long first_row;
  int rows;
};

class ExpertFfn {
 public:
  // Weights are random (uniform, scaled by 1/sqrt(fan-in)) from `seed`; max_rows bounds a run.
  ExpertFfn(int local_experts, int hidden, int ffn, long long max_rows, int max_segments,
            std::uint64_t seed, cudaStream_t stream);
  // out[r] = down_e(swiglu(gate_up_e(in[r]))) for each row r of each segment (expert e).
  void run(const __nv_bfloat16* in, std::span<const ExpertSegment> segments, __nv_bfloat16* out,
           GemmMethod method, cudaStream_t stream);

  int local_experts() const { return local_experts_; }
  int hidden() const { return hidden_; }
  int ffn() const { return ffn_; }
  const __nv_bfloat16* gate_up_weights() const { return gate_up_.data(); }  // [E, 2F, H]
  const __nv_bfloat16* down_weights() const { return down_.data(); }        // [E, H, F]
  const __nv_bfloat16* activations() const { return activated_.data(); }    // [rows, F]

 private:
  int local_experts_, hidden_, ffn_;
  long long max_rows_;
  DeviceBuffer<__nv_bfloat16> gate_up_, down_, hidden_rows_, activated_;
  GroupedGemm gemm_;
  std::vector<GemmGroup> groups_;
};

}  // namespace moesim::kernels

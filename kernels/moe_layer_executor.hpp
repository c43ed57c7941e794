#pragma once
// A real expert-parallel MoE layer on one GPU (one rank of `world`): gate + permute, dispatch
// (count exchange, then grouped ncclSend/ncclRecv with per-peer counts), experts, combine
// (the reverse exchange), unpermute (weighted combine). Experts are split contiguously:
// rank r owns experts [r * E / world, (r + 1) * E / world). Received rows arrive peer-major;
// dispatch regroups them expert-major (each local expert one GEMM, its weights read once) and
// combine restores peer order before sending them back.
// The gating kernel runs on random logits so its cost is real; the routing that is replayed
// comes from set_routing (a trace or a generator), so cases are reproducible.
#include <cuda_bf16.h>
#include <nccl.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/copy_row_chunks.hpp"
#include "kernels/cuda_resources.hpp"
#include "kernels/expert_ffn.hpp"
#include "kernels/grouped_gemm.hpp"
#include "kernels/topk_gating.hpp"

namespace moesim::kernels {

struct MoeLayerConfig {
  int hidden = 0;
  int expert_ffn = 0;
  GatingParams gating;  // experts and top_k live here
  int max_tokens = 0;   // tokens per rank per forward, at most
  int rank = 0;
  int world = 1;
  ncclComm_t comm = nullptr;  // required when world > 1
  GemmMethod method = GemmMethod::Grouped;
  std::uint64_t seed = 1;
};

struct MoePhaseTimes {
  double gate_permute_ms = 0;
  double dispatch_ms = 0;        // count exchange + host sync + the rows' all-to-allv
  double count_exchange_ms = 0;  // the part of dispatch before the rows move
  double experts_ms = 0;
  double combine_ms = 0;
  double unpermute_ms = 0;
  double layer_ms = 0;
};

class MoeLayerExecutor {
 public:
  MoeLayerExecutor(const MoeLayerConfig& config, cudaStream_t stream);
  // Host [tokens * top_k] global expert ids and combine weights for this rank's tokens.
  void set_routing(std::span<const int> expert_ids, std::span<const float> weights, int tokens);
  // One forward pass; returns when it has finished, with each phase timed by CUDA events.
  MoePhaseTimes run();
  void set_gemm_method(GemmMethod method) { config_.method = method; }

  int local_experts() const { return local_experts_; }
  const __nv_bfloat16* input() const { return input_.data(); }    // [max_tokens, hidden]
  const __nv_bfloat16* output() const { return output_.data(); }  // [tokens, hidden]
  __nv_bfloat16* mutable_output() { return output_.data(); }
  const ExpertFfn& experts() const { return *experts_; }

 private:
  void exchange_counts();
  void plan_regroup();
  void exchange_rows(const __nv_bfloat16* send, const std::vector<long long>& send_offsets,
                     const std::vector<long long>& send_rows, __nv_bfloat16* recv,
                     const std::vector<long long>& recv_offsets,
                     const std::vector<long long>& recv_rows);

  MoeLayerConfig config_;
  cudaStream_t stream_;
  int experts_total_, top_k_, local_experts_, tokens_ = 0;
  DeviceBuffer<float> logits_, gate_weights_, route_weights_;
  DeviceBuffer<int> gate_ids_, route_ids_, scratch_, counts_, offsets_, dest_row_, source_token_;
  DeviceBuffer<int> recv_counts_;
  DeviceBuffer<__nv_bfloat16> input_, permuted_, received_, expert_out_, returned_, output_;
  PinnedBuffer<int> counts_host_, recv_counts_host_;
  std::unique_ptr<ExpertFfn> experts_;
  std::vector<ExpertSegment> segments_;          // EP=1: one per local expert of permuted_
  std::vector<ExpertSegment> grouped_segments_;  // EP>1: one per local expert of grouped_
  DeviceBuffer<__nv_bfloat16> grouped_;          // EP>1: received rows, expert-major
  PinnedBuffer<RowChunk> chunks_host_;           // [regroup (world*local) | ungroup (same)]
  DeviceBuffer<RowChunk> chunks_;
  std::vector<CudaEvent> marks_;
  std::vector<long long> send_offsets_, send_rows_, recv_offsets_, recv_rows_;
};

}  // namespace moesim::kernels

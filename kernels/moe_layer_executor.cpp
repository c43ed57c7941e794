#include "kernels/moe_layer_executor.hpp"

#include <stdexcept>

#include "kernels/combine.hpp"
#include "kernels/fill.hpp"
#include "kernels/gather_rows.hpp"
#include "kernels/permute.hpp"

namespace moesim::kernels {
namespace {
// start, after gate+permute, dispatch, experts, combine, unpermute, and after the count exchange
constexpr int kMarks = 7;
constexpr int kCountsKnown = 6;
}  // namespace

MoeLayerExecutor::MoeLayerExecutor(const MoeLayerConfig& config, cudaStream_t stream)
    : config_(config),
      stream_(stream),
      experts_total_(config.gating.experts),
      top_k_(config.gating.top_k) {
  validate_gating_params(config.gating);
  if (config.world < 1 || config.rank < 0 || config.rank >= config.world)
    throw std::invalid_argument("MoeLayerExecutor: rank/world");
  if (experts_total_ % config.world != 0)
    throw std::invalid_argument("MoeLayerExecutor: experts must divide evenly over the ranks");
  if (config.world > 1 && config.comm == nullptr)
    throw std::invalid_argument("MoeLayerExecutor: world > 1 needs a communicator");
  local_experts_ = experts_total_ / config.world;
  const std::size_t entries = static_cast<std::size_t>(config.max_tokens) * top_k_;
  const std::size_t hidden = config.hidden;
  // Worst case every rank sends every row to us.
  const std::size_t max_received = entries * config.world;
  logits_ = DeviceBuffer<float>(static_cast<std::size_t>(config.max_tokens) * experts_total_);
  gate_weights_ = DeviceBuffer<float>(entries);
  gate_ids_ = DeviceBuffer<int>(entries);
  route_weights_ = DeviceBuffer<float>(entries);
  route_ids_ = DeviceBuffer<int>(entries);
  scratch_ = DeviceBuffer<int>(permute_scratch_ints(static_cast<int>(entries), experts_total_));
  counts_ = DeviceBuffer<int>(experts_total_);
  offsets_ = DeviceBuffer<int>(experts_total_ + 1);
  dest_row_ = DeviceBuffer<int>(entries);
  source_token_ = DeviceBuffer<int>(entries);
  recv_counts_ = DeviceBuffer<int>(static_cast<std::size_t>(local_experts_) * config.world);
  input_ = DeviceBuffer<__nv_bfloat16>(static_cast<std::size_t>(config.max_tokens) * hidden);
  permuted_ = DeviceBuffer<__nv_bfloat16>(entries * hidden);
  received_ = DeviceBuffer<__nv_bfloat16>(config.world > 1 ? max_received * hidden : 0);
  expert_out_ = DeviceBuffer<__nv_bfloat16>(max_received * hidden);
  returned_ = DeviceBuffer<__nv_bfloat16>(config.world > 1 ? entries * hidden : 0);
  output_ = DeviceBuffer<__nv_bfloat16>(static_cast<std::size_t>(config.max_tokens) * hidden);
  grouped_ = DeviceBuffer<__nv_bfloat16>(config.world > 1 ? max_received * hidden : 0);
  chunks_host_ = PinnedBuffer<RowChunk>(
      config.world > 1 ? 2 * static_cast<std::size_t>(local_experts_) * config.world : 0);
  chunks_ = DeviceBuffer<RowChunk>(chunks_host_.size());
  counts_host_ = PinnedBuffer<int>(experts_total_);
  recv_counts_host_ = PinnedBuffer<int>(static_cast<std::size_t>(local_experts_) * config.world);
  experts_ = std::make_unique<ExpertFfn>(
      local_experts_, config.hidden, config.expert_ffn, static_cast<long long>(max_received),
      local_experts_ * config.world, config.seed * 7919 + 17, stream);
  marks_.resize(kMarks);
  launch_fill_uniform_f32(logits_.data(), static_cast<long long>(logits_.size()), 2.0f,
                          config.seed * 31 + config.rank, stream);
  launch_fill_uniform_bf16(input_.data(), static_cast<long long>(input_.size()), 1.0f,
                           config.seed * 131 + config.rank, stream);
  MOESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
}

void MoeLayerExecutor::set_routing(std::span<const int> expert_ids, std::span<const float> weights,
                                   int tokens) {
  const std::size_t entries = static_cast<std::size_t>(tokens) * top_k_;
  if (tokens < 0 || tokens > config_.max_tokens || expert_ids.size() != entries ||
      weights.size() != entries)
    throw std::invalid_argument("MoeLayerExecutor::set_routing: sizes");
  for (int id : expert_ids)
    if (id < 0 || id >= experts_total_) throw std::invalid_argument("set_routing: expert id");
  tokens_ = tokens;
  if (entries == 0) return;
  MOESIM_CUDA_CHECK(cudaMemcpy(route_ids_.data(), expert_ids.data(), entries * sizeof(int),
                               cudaMemcpyHostToDevice));
  MOESIM_CUDA_CHECK(cudaMemcpy(route_weights_.data(), weights.data(), entries * sizeof(float),
                               cudaMemcpyHostToDevice));
}

void MoeLayerExecutor::exchange_counts() {
  const int world = config_.world;
  const int local = local_experts_;
  MOESIM_CUDA_CHECK(cudaMemcpyAsync(counts_host_.data(), counts_.data(),
                                    sizeof(int) * experts_total_, cudaMemcpyDeviceToHost, stream_));
  if (world > 1) {
    MOESIM_NCCL_CHECK(ncclGroupStart());
    for (int peer = 0; peer < world; ++peer) {
      MOESIM_NCCL_CHECK(
          ncclSend(counts_.data() + peer * local, local, ncclInt32, peer, config_.comm, stream_));
      MOESIM_NCCL_CHECK(ncclRecv(recv_counts_.data() + peer * local, local, ncclInt32, peer,
                                 config_.comm, stream_));
    }
    MOESIM_NCCL_CHECK(ncclGroupEnd());
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(recv_counts_host_.data(), recv_counts_.data(),
                                      sizeof(int) * local * world, cudaMemcpyDeviceToHost,
                                      stream_));
  }
  // The host needs the counts to size the sends and the GEMMs: the one sync of a dropless layer.
  MOESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (world == 1)
    for (int e = 0; e < local; ++e) recv_counts_host_[e] = counts_host_[e];

  send_offsets_.assign(world, 0);
  send_rows_.assign(world, 0);
  recv_offsets_.assign(world, 0);
  recv_rows_.assign(world, 0);
  long long sent = 0;
  long long received = 0;
  segments_.clear();
  for (int peer = 0; peer < world; ++peer) {
    send_offsets_[peer] = sent;
    recv_offsets_[peer] = received;
    for (int e = 0; e < local; ++e) {
      send_rows_[peer] += counts_host_[peer * local + e];
      const int rows = recv_counts_host_[peer * local + e];
      segments_.push_back({e, received + recv_rows_[peer], rows});
      recv_rows_[peer] += rows;
    }
    sent += send_rows_[peer];
    received += recv_rows_[peer];
  }
  if (world > 1) plan_regroup();
}

// Chunk (peer p, expert e) of the received rows sits at segments_[p * local + e] (peer-major);
// expert-major it goes after every earlier expert's rows and expert e's rows from peers < p.
void MoeLayerExecutor::plan_regroup() {
  const int world = config_.world;
  const int local = local_experts_;
  const std::size_t chunks = static_cast<std::size_t>(world) * local;
  grouped_segments_.clear();
  long long row = 0;
  for (int e = 0; e < local; ++e) {
    const long long first = row;
    for (int peer = 0; peer < world; ++peer) {
      const ExpertSegment& s = segments_[static_cast<std::size_t>(peer) * local + e];
      chunks_host_[peer * local + e] = {s.first_row, row, s.rows};           // regroup
      chunks_host_[chunks + peer * local + e] = {row, s.first_row, s.rows};  // ungroup
      row += s.rows;
    }
    grouped_segments_.push_back({e, first, static_cast<int>(row - first)});
  }
  MOESIM_CUDA_CHECK(cudaMemcpyAsync(chunks_.data(), chunks_host_.data(), chunks_.bytes(),
                                    cudaMemcpyHostToDevice, stream_));
}

void MoeLayerExecutor::exchange_rows(const __nv_bfloat16* send,
                                     const std::vector<long long>& send_offsets,
                                     const std::vector<long long>& send_rows, __nv_bfloat16* recv,
                                     const std::vector<long long>& recv_offsets,
                                     const std::vector<long long>& recv_rows) {
  const long long hidden = config_.hidden;
  MOESIM_NCCL_CHECK(ncclGroupStart());
  for (int peer = 0; peer < config_.world; ++peer) {
    if (send_rows[peer] > 0)
      MOESIM_NCCL_CHECK(ncclSend(send + send_offsets[peer] * hidden, send_rows[peer] * hidden,
                                 ncclBfloat16, peer, config_.comm, stream_));
    if (recv_rows[peer] > 0)
      MOESIM_NCCL_CHECK(ncclRecv(recv + recv_offsets[peer] * hidden, recv_rows[peer] * hidden,
                                 ncclBfloat16, peer, config_.comm, stream_));
  }
  MOESIM_NCCL_CHECK(ncclGroupEnd());
}

MoePhaseTimes MoeLayerExecutor::run() {
  const int entries = tokens_ * top_k_;
  marks_[0].record(stream_);
  launch_topk_gating(logits_.data(), tokens_, config_.gating, gate_ids_.data(),
                     gate_weights_.data(), stream_);
  launch_build_routing(route_ids_.data(), entries, top_k_, experts_total_, scratch_.data(),
                       counts_.data(), offsets_.data(), dest_row_.data(), source_token_.data(),
                       stream_);
  launch_gather_rows(input_.data(), source_token_.data(), entries, config_.hidden, permuted_.data(),
                     stream_);
  marks_[1].record(stream_);

  exchange_counts();
  marks_[kCountsKnown].record(stream_);
  const bool local_only = config_.world == 1;
  const int chunks = local_only ? 0 : config_.world * local_experts_;
  if (!local_only) {
    exchange_rows(permuted_.data(), send_offsets_, send_rows_, received_.data(), recv_offsets_,
                  recv_rows_);
    launch_copy_row_chunks(received_.data(), chunks_.data(), chunks, config_.hidden,
                           grouped_.data(), stream_);
  }
  marks_[2].record(stream_);

  // EP>1: the experts' output lands in received_ (free once regrouped), expert-major.
  if (local_only)
    experts_->run(permuted_.data(), segments_, expert_out_.data(), config_.method, stream_);
  else
    experts_->run(grouped_.data(), grouped_segments_, received_.data(), config_.method, stream_);
  marks_[3].record(stream_);

  __nv_bfloat16* combined = local_only ? expert_out_.data() : returned_.data();
  if (!local_only) {
    launch_copy_row_chunks(received_.data(), chunks_.data() + chunks, chunks, config_.hidden,
                           expert_out_.data(), stream_);
    exchange_rows(expert_out_.data(), recv_offsets_, recv_rows_, returned_.data(), send_offsets_,
                  send_rows_);
  }
  marks_[4].record(stream_);

  launch_weighted_combine(combined, dest_row_.data(), route_weights_.data(), tokens_, top_k_,
                          config_.hidden, output_.data(), stream_);
  marks_[5].record(stream_);
  marks_[5].synchronize();

  MoePhaseTimes t;
  t.gate_permute_ms = marks_[1].elapsed_ms_since(marks_[0]);
  t.dispatch_ms = marks_[2].elapsed_ms_since(marks_[1]);
  t.count_exchange_ms = marks_[kCountsKnown].elapsed_ms_since(marks_[1]);
  t.experts_ms = marks_[3].elapsed_ms_since(marks_[2]);
  t.combine_ms = marks_[4].elapsed_ms_since(marks_[3]);
  t.unpermute_ms = marks_[5].elapsed_ms_since(marks_[4]);
  t.layer_ms = marks_[5].elapsed_ms_since(marks_[0]);
  return t;
}

}  // namespace moesim::kernels

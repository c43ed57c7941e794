#include "profiler/collective_ops.hpp"

#include <stdexcept>

#include "kernels/cuda_check.hpp"

namespace moesim::profiler {

void enqueue_all_to_allv(const char* send, const std::vector<std::size_t>& send_bytes, char* recv,
                         const std::vector<std::size_t>& recv_bytes, ncclComm_t comm,
                         cudaStream_t stream) {
  int ranks = 0;
  MOESIM_NCCL_CHECK(ncclCommCount(comm, &ranks));
  if (send_bytes.size() != static_cast<std::size_t>(ranks) ||
      recv_bytes.size() != send_bytes.size())
    throw std::invalid_argument("enqueue_all_to_allv: one size per peer");
  std::size_t send_offset = 0;
  std::size_t recv_offset = 0;
  MOESIM_NCCL_CHECK(ncclGroupStart());
  for (int peer = 0; peer < ranks; ++peer) {
    if (send_bytes[peer] > 0)
      MOESIM_NCCL_CHECK(
          ncclSend(send + send_offset, send_bytes[peer], ncclInt8, peer, comm, stream));
    if (recv_bytes[peer] > 0)
      MOESIM_NCCL_CHECK(
          ncclRecv(recv + recv_offset, recv_bytes[peer], ncclInt8, peer, comm, stream));
    send_offset += send_bytes[peer];
    recv_offset += recv_bytes[peer];
  }
  MOESIM_NCCL_CHECK(ncclGroupEnd());
}

void enqueue_send_recv(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                       cudaStream_t stream) {
  int ranks = 0;
  int rank = 0;
  MOESIM_NCCL_CHECK(ncclCommCount(comm, &ranks));
  MOESIM_NCCL_CHECK(ncclCommUserRank(comm, &rank));
  MOESIM_NCCL_CHECK(ncclGroupStart());
  MOESIM_NCCL_CHECK(ncclSend(send, bytes, ncclInt8, (rank + 1) % ranks, comm, stream));
  MOESIM_NCCL_CHECK(ncclRecv(recv, bytes, ncclInt8, (rank + ranks - 1) % ranks, comm, stream));
  MOESIM_NCCL_CHECK(ncclGroupEnd());
}

namespace {
// bf16 elements each rank contributes to (or receives from) one slice of `bytes`.
std::size_t slice_elements(std::size_t bytes, ncclComm_t comm) {
  int ranks = 0;
  MOESIM_NCCL_CHECK(ncclCommCount(comm, &ranks));
  const std::size_t slice = static_cast<std::size_t>(ranks) * 2;
  if (bytes % slice != 0)
    throw std::invalid_argument("reduction collectives: bytes must split into bf16 per rank");
  return bytes / slice;
}
}  // namespace

void enqueue_all_reduce(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                        cudaStream_t stream) {
  MOESIM_NCCL_CHECK(ncclAllReduce(send, recv, bytes / 2, ncclBfloat16, ncclSum, comm, stream));
}

void enqueue_all_gather(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                        cudaStream_t stream) {
  MOESIM_NCCL_CHECK(
      ncclAllGather(send, recv, slice_elements(bytes, comm), ncclBfloat16, comm, stream));
}

void enqueue_reduce_scatter(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                            cudaStream_t stream) {
  MOESIM_NCCL_CHECK(ncclReduceScatter(send, recv, slice_elements(bytes, comm), ncclBfloat16,
                                      ncclSum, comm, stream));
}

void run_count_exchange(const int* counts, int experts, int* received, int* host_counts,
                        int* host_received, ncclComm_t comm, cudaStream_t stream) {
  MOESIM_CUDA_CHECK(
      cudaMemcpyAsync(host_counts, counts, sizeof(int) * experts, cudaMemcpyDeviceToHost, stream));
  if (comm != nullptr) {
    int ranks = 0;
    MOESIM_NCCL_CHECK(ncclCommCount(comm, &ranks));
    const int local = experts / ranks;
    MOESIM_NCCL_CHECK(ncclGroupStart());
    for (int peer = 0; peer < ranks; ++peer) {
      MOESIM_NCCL_CHECK(ncclSend(counts + peer * local, local, ncclInt32, peer, comm, stream));
      MOESIM_NCCL_CHECK(ncclRecv(received + peer * local, local, ncclInt32, peer, comm, stream));
    }
    MOESIM_NCCL_CHECK(ncclGroupEnd());
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(host_received, received, sizeof(int) * experts,
                                      cudaMemcpyDeviceToHost, stream));
  }
  MOESIM_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace moesim::profiler

#pragma once
// The NCCL operations the collectives section times, each enqueued on a stream as one NCCL group
// (nccl-tests builds all-to-all the same way: grouped ncclSend/ncclRecv to every peer).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstddef>
#include <vector>

namespace moesim::profiler {

// all-to-all(v): send_bytes[p] from `send` (packed in peer order) to peer p, recv_bytes[p] from
// peer p into `recv` (packed likewise). Even splits are the all-to-all; uneven the all-to-allv.
void enqueue_all_to_allv(const char* send, const std::vector<std::size_t>& send_bytes, char* recv,
                         const std::vector<std::size_t>& recv_bytes, ncclComm_t comm,
                         cudaStream_t stream);

// nccl-tests' sendrecv: `bytes` to the next rank, `bytes` from the previous one (a ring).
void enqueue_send_recv(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                       cudaStream_t stream);

// nccl-tests' all_reduce, all_gather and reduce_scatter on bf16 (sum), sized as nccl-tests sizes
// them: `bytes` is the all-reduced vector, the all-gather's output, the reduce-scatter's input.
// `bytes` must divide into 2-byte elements on every rank.
void enqueue_all_reduce(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                        cudaStream_t stream);
void enqueue_all_gather(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                        cudaStream_t stream);
void enqueue_reduce_scatter(const char* send, char* recv, std::size_t bytes, ncclComm_t comm,
                            cudaStream_t stream);

// What a dropless EP layer does before it can size its receive buffers (the executor's
// exchange_counts): expert counts to the host, an all-to-all of the counts, the received counts
// to the host, and a stream synchronisation. `counts` holds `experts` ints; `received` and the
// host buffers hold `experts` ints too. comm may be null on one rank (no exchange, as at EP=1).
void run_count_exchange(const int* counts, int experts, int* received, int* host_counts,
                        int* host_received, ncclComm_t comm, cudaStream_t stream);

}  // namespace moesim::profiler

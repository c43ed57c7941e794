#pragma once
// One rank's GPU side of a multi-process run: which GPU it drives, NCCL's unique id from rank 0
// to every rank (as nccl-tests does over MPI), the world communicator, and what provenance
// records about the ranks and the links between their GPUs.
#include <memory>
#include <nlohmann/json.hpp>

#include "kernels/nccl_comm.hpp"
#include "profiler/rank_comm.hpp"

namespace moesim::profiler {

// GPUs this process may use, counted in a forked child so that this process never initialises
// CUDA (the fork launcher forks after this).
int count_gpus_without_cuda_init();

// cudaSetDevice(local_rank % visible GPUs); returns the device.
int select_rank_device(const RankComm& comm);

// Every rank of `comm` joins one NCCL communicator; rank 0 makes the unique id.
std::unique_ptr<kernels::NcclComm> make_world_nccl_comm(RankComm& comm);

// At rank 0: launcher, ranks, and per rank its host, device, GPU name and PCI bus id; the peer
// access between rank 0's GPU and each other GPU on its host. Collective: every rank calls it.
nlohmann::json ranks_provenance(RankComm& comm);

}  // namespace moesim::profiler

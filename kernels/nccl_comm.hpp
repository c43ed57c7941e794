#pragma once
// RAII owner of one NCCL communicator (one rank of one process).
#include <nccl.h>

#include <cstdio>

#include "kernels/cuda_check.hpp"

namespace moesim::kernels {

class NcclComm {
 public:
  NcclComm(const ncclUniqueId& id, int world_size, int rank) {
    MOESIM_NCCL_CHECK(ncclCommInitRank(&comm_, world_size, id, rank));
  }
  ~NcclComm() {
    if (comm_ != nullptr && ncclCommDestroy(comm_) != ncclSuccess)
      std::fprintf(stderr, "moesim: ncclCommDestroy failed\n");
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ncclComm_t get() const { return comm_; }

 private:
  ncclComm_t comm_ = nullptr;
};

}  // namespace moesim::kernels

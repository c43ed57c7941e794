#pragma once
// RAII owner of one NCCL communicator (one rank of one process).
#include <nccl.h>

#include <cstdio>
#include <memory>

#include "kernels/cuda_check.hpp"

namespace moesim::kernels {

class NcclComm {
 public:
  NcclComm(const ncclUniqueId& id, int world_size, int rank) {
    MOESIM_NCCL_CHECK(ncclCommInitRank(&comm_, world_size, id, rank));
  }
  // Takes ownership of a communicator NCCL made elsewhere (ncclCommSplit).
  explicit NcclComm(ncclComm_t adopted) : comm_(adopted) {}
  ~NcclComm() {
    if (comm_ != nullptr && ncclCommDestroy(comm_) != ncclSuccess)
      std::fprintf(stderr, "moesim: ncclCommDestroy failed\n");
  }
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;
  ncclComm_t get() const { return comm_; }
  // ncclCommSplit, collective over this communicator: ranks passing one color share a new
  // communicator, ordered by key; NCCL_SPLIT_NOCOLOR gives this rank none (null).
  std::unique_ptr<NcclComm> split(int color, int key) const {
    ncclComm_t part = nullptr;
    MOESIM_NCCL_CHECK(ncclCommSplit(comm_, color, key, &part, nullptr));
    return part == nullptr ? nullptr : std::make_unique<NcclComm>(part);
  }

 private:
  ncclComm_t comm_ = nullptr;
};

}  // namespace moesim::kernels

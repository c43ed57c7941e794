#pragma once
// RankComm over MPI, for runs started by mpirun (one host or many). Built only where CMake finds
// MPI (MOESIM_HAVE_MPI); nothing else in moesim depends on MPI.
#include <memory>

#include "profiler/rank_comm.hpp"

namespace moesim::profiler {

// Initialises MPI (finalised when the returned object is destroyed) and wraps MPI_COMM_WORLD.
// local_rank is the rank among the processes sharing this host (MPI_COMM_TYPE_SHARED).
std::unique_ptr<RankComm> make_mpi_comm(int* argc, char*** argv);

}  // namespace moesim::profiler

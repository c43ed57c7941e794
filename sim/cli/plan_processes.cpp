#include "sim/cli/plan_processes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#if MOESIM_CLI_MPI
#include <mpi.h>
#endif

namespace moesim::cli {
namespace {

// The world size mpirun announces (Open MPI, then the PMI launchers of MPICH); 1 otherwise.
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* value = std::getenv(name)) return std::max(1, std::atoi(value));
  return 1;
}

#if MOESIM_CLI_MPI
void check_mpi(int code, const char* call) {
  if (code != MPI_SUCCESS) throw std::runtime_error(fmt::format("{} failed ({})", call, code));
}

// Every rank's text at every rank: the lengths first, then the characters.
std::vector<std::string> gather_texts(const std::string& mine) {
  int size = 0;
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
  if (mine.size() > static_cast<std::size_t>(INT_MAX))
    throw std::runtime_error("plan figures over 2 GB on one rank");
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size));
  check_mpi(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
            "MPI_Allgather");
  std::vector<int> offsets(static_cast<std::size_t>(size), 0);
  long long total = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    if (total > INT_MAX) throw std::runtime_error("plan figures over 2 GB in all");
    offsets[r] = static_cast<int>(total);
    total += lengths[r];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  check_mpi(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(),
                           offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
            "MPI_Allgatherv");
  std::vector<std::string> texts;
  for (std::size_t r = 0; r < lengths.size(); ++r)
    texts.push_back(
        all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r])));
  return texts;
}
#endif

}  // namespace

PlanProcesses::PlanProcesses() {
  const int launched = launched_ranks();
  if (launched <= 1) return;
#if MOESIM_CLI_MPI
  check_mpi(MPI_Init(nullptr, nullptr), "MPI_Init");
  started_ = true;
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &ranks_.rank), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &ranks_.size), "MPI_Comm_size");
  ranks_.all_gather = gather_texts;
#else
  error_ = fmt::format(
      "launched by mpirun as one of {} ranks, but this moesim was built without MPI "
      "(configure with MOESIM_MPI=ON and Open MPI's development files), so every rank would "
      "run the whole plan",
      launched);
#endif
}

PlanProcesses::~PlanProcesses() {
#if MOESIM_CLI_MPI
  if (started_) MPI_Finalize();
#endif
}

}  // namespace moesim::cli

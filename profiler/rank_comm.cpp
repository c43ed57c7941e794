#include "profiler/rank_comm.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace moesim::profiler {

bool started_by_mpi_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

std::vector<std::vector<double>> gather_samples(RankComm& comm,
                                                const std::vector<double>& samples) {
  std::string bytes(samples.size() * sizeof(double), '\0');
  if (!samples.empty()) std::memcpy(bytes.data(), samples.data(), bytes.size());
  std::vector<std::vector<double>> per_rank;
  for (const std::string& from : comm.gather_to_root(bytes)) {
    if (from.size() % sizeof(double) != 0)
      throw std::runtime_error("gather_samples: a rank sent a partial sample");
    std::vector<double>& values = per_rank.emplace_back(from.size() / sizeof(double));
    if (!values.empty()) std::memcpy(values.data(), from.data(), from.size());
  }
  return per_rank;
}

std::vector<double> max_over_ranks(const std::vector<std::vector<double>>& per_rank) {
  if (per_rank.empty()) return {};
  std::vector<double> result = per_rank.front();
  for (const auto& samples : per_rank) {
    if (samples.size() != result.size())
      throw std::runtime_error("max_over_ranks: ranks timed different numbers of runs");
    for (std::size_t i = 0; i < samples.size(); ++i) result[i] = std::max(result[i], samples[i]);
  }
  return result;
}

}  // namespace moesim::profiler

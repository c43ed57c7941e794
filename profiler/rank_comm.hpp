#pragma once
// The host-side link between the ranks of one moesim-profile run (one process per GPU): bootstrap
// (broadcasting NCCL's unique id), barriers around timed runs, and gathering results at rank 0.
// Three back ends: MPI (under mpirun), the built-in fork launcher (one host, no MPI), and a single
// rank. CPU only: CI tests every back end without a GPU.
#include <memory>
#include <string>
#include <vector>

namespace moesim::profiler {

class RankComm {
 public:
  virtual ~RankComm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the processes on this host: picks the GPU.
  virtual int local_rank() const = 0;
  // "mpi", "fork" or "single": which launcher started the ranks (recorded in provenance).
  virtual std::string launcher() const = 0;
  virtual void barrier() = 0;
  // Rank 0's `bytes` reach every rank (the others' are replaced, whatever their size).
  virtual void broadcast_from_root(std::string& bytes) = 0;
  // Rank 0 gets every rank's `bytes`, in rank order; the other ranks get an empty vector.
  virtual std::vector<std::string> gather_to_root(const std::string& bytes) = 0;
  // After a rank's failure: end every rank rather than leave them waiting on it (MPI_Abort).
  // The fork launcher needs nothing: a dead rank's closed socket ends the others' waits.
  virtual void abort_all(int /*exit_code*/) {}
};

// world = 1: every collective call is the identity.
class SingleRankComm final : public RankComm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string launcher() const override { return "single"; }
  void barrier() override {}
  void broadcast_from_root(std::string&) override {}
  std::vector<std::string> gather_to_root(const std::string& bytes) override { return {bytes}; }
};

// True when an MPI launcher (Open MPI, MPICH, Slurm's PMI) started this process.
bool started_by_mpi_launcher();

// Each rank's samples at rank 0 (rank order); empty elsewhere.
std::vector<std::vector<double>> gather_samples(RankComm& comm, const std::vector<double>& samples);
// Per-run maximum over ranks: a collective has finished when its slowest rank has. Runs are
// aligned by a barrier, so sample i of every rank belongs to the same run. Sizes must agree.
std::vector<double> max_over_ranks(const std::vector<std::vector<double>>& per_rank);

}  // namespace moesim::profiler

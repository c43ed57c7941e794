#pragma once
// `moesim plan` under mpirun (docs/plan.md): the thin MPI adapter of the plan's sweep. Only this
// file of the CLI touches MPI, and only when the build found it (MOESIM_MPI); the plan stage sees
// a sim::PlanRanks. MPI is started only when mpirun launched this process with several ranks, so a
// plain `moesim plan` never initialises it.
#include <string>

#include "sim/plan/plan_ranks.hpp"

namespace moesim::cli {

class PlanProcesses {
 public:
  PlanProcesses();   // MPI_Init when launched by mpirun with more than one rank
  ~PlanProcesses();  // MPI_Finalize, when it was started
  PlanProcesses(const PlanProcesses&) = delete;
  PlanProcesses& operator=(const PlanProcesses&) = delete;

  const sim::PlanRanks& ranks() const { return ranks_; }
  // Non-empty when launched with several ranks by a moesim built without MPI.
  const std::string& error() const { return error_; }

 private:
  sim::PlanRanks ranks_;
  std::string error_;
  [[maybe_unused]] bool started_ = false;  // unused in a build without MPI
};

}  // namespace moesim::cli

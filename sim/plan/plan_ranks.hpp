#pragma once
// Spreading a plan's candidates over processes (`mpirun -np N moesim plan`, docs/plan.md). The
// plan stage knows nothing of MPI: the CLI hands it a rank, a size and a way to gather every
// rank's text at every rank. Ranks exchange only the figures the plan's outputs read from each
// candidate (as JSON, whose numbers round-trip exactly), not whole reports, so every rank ends
// with the same outcomes and rank 0 writes the same plan.json and plan.csv as one process.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/plan/plan.hpp"

namespace moesim::sim {

struct PlanRanks {
  int rank = 0;
  int size = 1;
  // Every rank's text, by rank; called by every rank at the same point (a collective).
  std::function<std::vector<std::string>(const std::string& mine)> all_gather;
  bool distributed() const { return size > 1; }
  // Candidate i is evaluated by rank i % size.
  bool owns(std::size_t index) const { return static_cast<int>(index % size) == rank; }
};

// What plan_table_text, plan_csv, plan_json, plan_chart and plan_nearest_miss read from an
// outcome, besides its candidate (every rank has those from the plan file).
nlohmann::json outcome_figures(const PlanOutcome& outcome);
// The outcome of `candidate` from its figures. Throws nlohmann::json::exception on figures that
// outcome_figures did not write.
PlanOutcome outcome_from_figures(const PlanCandidate& candidate, const nlohmann::json& figures);

// The candidate as the flow replay plays it: its scenario's network.model set to "auto" (flows
// within the flow model's work bounds).
PlanCandidate flow_candidate(PlanCandidate candidate);

}  // namespace moesim::sim

#pragma once
// --validate at EP = the number of ranks: the real MoE-layer executor over NCCL, one rank per
// GPU, on the same cases as EP=1. Measured per-phase timings only: the simulator compares its
// own EP prediction against them (moesim-executor-timings JSON, docs/profiling.md).
#include <nlohmann/json.hpp>

#include "kernels/nccl_comm.hpp"
#include "profiler/measurements.hpp"
#include "profiler/rank_comm.hpp"
#include "sim/cost/measured_profile.hpp"

namespace moesim::profiler {

// Every rank calls it; rank 0 gets the cases, the others an empty array.
nlohmann::json run_ep_validation(RankComm& comm, const kernels::NcclComm& world,
                                 const sim::MeasuredProfile& profile, int runs,
                                 const Progress& progress);

}  // namespace moesim::profiler

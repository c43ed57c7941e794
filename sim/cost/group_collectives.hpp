#pragma once
// What a tensor-, data- or pipeline-parallel collective costs on its group (docs/parallelism.md).
// Inside one scale-up domain, from the profile's measured NCCL curve of that collective when it
// has one: on the nearest measured rank count, carried to the group's size at equal bus bandwidth
// (nccl-tests' busbw, defined so that it does not depend on the rank count). Otherwise, and across
// domains, a default: a ring at line rate x efficiency, hierarchical across domains (reduce inside
// each domain, the fabric carrying each domain's 1/k share on k rails, gather inside again).
// Every price says which of these priced it, for the report's pricing notes.
#include <string>

#include "sim/cost/collective_model.hpp"
#include "sim/spec/parallel_groups.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

class MeasuredProfile;

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter, SendRecv };

struct CollectivePrice {
  double seconds = 0;
  std::string source;  // e.g. "measured NCCL all_reduce on 2 ranks, busbw-scaled to 8"
};

// nccl-tests' bus factor: the share of `bytes` that crosses each rank's link.
double bus_factor(CollectiveKind kind, int ranks);

// The least a collective kernel takes inside a scale-up domain, whatever its size: launching it
// and signalling between the GPUs. Measured on the H200 pair (scenarios/profiles/h200.json,
// collectives): NCCL all_gather of 1 KiB on 2 ranks 10.5 us, send_recv of 4 bytes 11.7 us, and
// 9.9 us on one rank; the serving stacks' one-shot all-reduce kernels (step_costs.cpp) are priced
// at the same 10 us.
inline constexpr double kInDomainCollectiveFloor = 10e-6;
const char* collective_kind_name(CollectiveKind kind);  // "all_reduce", ...

class GroupCollectives {
 public:
  // `profile` may be null (every collective then priced by the default).
  GroupCollectives(const ScenarioSpec& scenario, const MeasuredProfile* profile);
  // `bytes` as nccl-tests counts them: the all-reduced vector, the all-gather's output, the
  // reduce-scatter's input, the message sent. 0 for one rank or no bytes.
  CollectivePrice price(CollectiveKind kind, double bytes, const GroupLayout& group) const;
  // Line rate x efficiency (the link kind's own, else profile.network_efficiency), per GPU.
  double scale_up_rate() const;   // bytes/s inside the NVLink/PCIe domain
  double scale_out_rate() const;  // bytes/s onto the fabric (RoCE and oversubscription included)

 private:
  const CollectiveTimes* measured(CollectiveKind kind, int ranks) const;
  CollectivePrice default_price(CollectiveKind kind, double bytes, const GroupLayout& group) const;

  const ScenarioSpec& s_;
  const MeasuredProfile* profile_ = nullptr;
};

}  // namespace moesim::sim

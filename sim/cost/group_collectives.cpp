#include "sim/cost/group_collectives.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/cost/measured_profile.hpp"

namespace moesim::sim {

double bus_factor(CollectiveKind kind, int ranks) {
  const double n = ranks;
  switch (kind) {
    case CollectiveKind::AllReduce:
      return 2 * (n - 1) / n;
    case CollectiveKind::AllGather:
    case CollectiveKind::ReduceScatter:
      return (n - 1) / n;
    case CollectiveKind::SendRecv:
      return 1;
  }
  return 1;
}

const char* collective_kind_name(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::AllReduce:
      return "all_reduce";
    case CollectiveKind::AllGather:
      return "all_gather";
    case CollectiveKind::ReduceScatter:
      return "reduce_scatter";
    case CollectiveKind::SendRecv:
      return "send_recv";
  }
  return "?";
}

GroupCollectives::GroupCollectives(const ScenarioSpec& scenario, const MeasuredProfile* profile)
    : s_(scenario), profile_(profile) {}

const CollectiveTimes* GroupCollectives::measured(CollectiveKind kind, int ranks) const {
  if (profile_ == nullptr) return nullptr;
  const MeasuredCollectives& c = profile_->collectives();
  switch (kind) {
    case CollectiveKind::AllReduce:
      return nearest_times(c.all_reduce, ranks);
    case CollectiveKind::AllGather:
      return nearest_times(c.all_gather, ranks);
    case CollectiveKind::ReduceScatter:
      return nearest_times(c.reduce_scatter, ranks);
    case CollectiveKind::SendRecv:
      return nearest_times(c.send_recv, ranks);
  }
  return nullptr;
}

double GroupCollectives::scale_up_rate() const {
  const double efficiency = s_.cluster.scale_up_link.efficiency;
  return s_.cluster.system.scale_up_bandwidth *
         (efficiency > 0 ? efficiency : s_.profile.network_efficiency);
}

double GroupCollectives::scale_out_rate() const {
  const auto& c = s_.cluster;
  double rate = c.nic.bandwidth * c.system.nics_per_node / c.system.gpus_per_node;
  if (c.fabric == FabricKind::Roce) rate *= c.roce_efficiency;
  const double efficiency =
      c.nic_link.efficiency > 0 ? c.nic_link.efficiency : s_.profile.network_efficiency;
  return rate * efficiency / c.oversubscription;
}

CollectivePrice GroupCollectives::default_price(CollectiveKind kind, double bytes,
                                                const GroupLayout& group) const {
  const int n = group.size;
  const double latency_steps = kind == CollectiveKind::SendRecv    ? 1.0
                               : kind == CollectiveKind::AllReduce ? 2.0 * (n - 1)
                                                                   : n - 1.0;
  if (!group.crosses_domains() || kind == CollectiveKind::SendRecv) {
    const bool fabric = group.crosses_domains();
    const double rate = fabric ? scale_out_rate() : scale_up_rate();
    const double latency = fabric ? s_.cluster.nic.latency : s_.cluster.system.scale_up_latency;
    const double startup = fabric ? latency_steps * latency
                                  : std::max(latency_steps * latency, kInDomainCollectiveFloor);
    return {bus_factor(kind, n) * bytes / rate + startup,
            fabric ? std::string("default: ring at NIC line rate x efficiency")
                   : std::string("default: ring at scale-up line rate x efficiency, 10 us floor")};
  }
  // Hierarchical: inside each domain over the scale-up links, then the domains' 1/k shares over
  // the fabric, k GPUs (rails) per domain in parallel; the slower leg sets the time.
  const int domains = group.domains;
  const double per_domain = static_cast<double>(n) / domains;
  const double inside = bus_factor(kind, std::max(1, n / domains)) * bytes / scale_up_rate();
  const double across = bus_factor(kind, domains) * bytes / per_domain / scale_out_rate();
  const double latency = (kind == CollectiveKind::AllReduce ? 2.0 : 1.0) *
                         ((domains - 1) * s_.cluster.nic.latency +
                          (per_domain - 1) * s_.cluster.system.scale_up_latency);
  return {std::max(inside, across) + latency,
          fmt::format("default: hierarchical over {} domains, NIC line rate x efficiency (no "
                      "measured curve across domains)",
                      domains)};
}

CollectivePrice GroupCollectives::price(CollectiveKind kind, double bytes,
                                        const GroupLayout& group) const {
  if (group.size <= 1 || bytes <= 0) return {0, ""};
  const CollectiveTimes* curve = group.crosses_domains() ? nullptr : measured(kind, group.size);
  if (curve == nullptr || curve->points.empty()) return default_price(kind, bytes, group);
  // Equal bus bytes: what crosses each link on the group's n ranks is what crossed it on the
  // curve's m ranks at bytes x f(n) / f(m).
  const int m = curve->ranks;
  const double equivalent = bytes * bus_factor(kind, group.size) / bus_factor(kind, m);
  const double us = loglog_interpolate(curve->points, equivalent);
  const std::string scaled =
      group.size == m ? "" : fmt::format(", busbw-scaled to {} ranks", group.size);
  return {us * 1e-6, fmt::format("measured NCCL {} on {} ranks ({}){}", collective_kind_name(kind),
                                 m, profile_->source(), scaled)};
}

}  // namespace moesim::sim

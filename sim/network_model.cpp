#include "sim/network_model.hpp"

#include <algorithm>

#include "sim/topology_paths.hpp"
#include "topology/cluster_builders.hpp"

namespace moesim::sim {
namespace {

topology::FabricKind to_topology(FabricKind fabric) {
  switch (fabric) {
    case FabricKind::None: return topology::FabricKind::None;
    case FabricKind::InfinibandFatTree: return topology::FabricKind::InfinibandFatTree;
    case FabricKind::Roce: return topology::FabricKind::Roce;
  }
  return topology::FabricKind::InfinibandFatTree;
}

bool is_scale_out(topology::LinkKind kind) {
  return kind == topology::LinkKind::Ib || kind == topology::LinkKind::Roce || kind == topology::LinkKind::Ethernet;
}

}  // namespace

NetworkModel::NetworkModel(const ScenarioSpec& s, double fixed_cost_seconds) {
  topology::ClusterTopologyParams params;
  params.system = s.cluster.system;
  params.nodes = s.cluster.nodes;
  params.nic = s.cluster.nic;
  params.fabric = to_topology(s.cluster.fabric);
  params.oversubscription = s.cluster.oversubscription;
  params.roce_efficiency = s.cluster.roce_efficiency;
  graph_ = std::make_unique<topology::ClusterGraph>(topology::build_cluster(params));
  router_ = std::make_unique<topology::Router>(*graph_);
  links_ = network_links(*graph_);
  // Every link kind delivers the profile's share of line rate (NCCL's protocol overheads).
  for (auto kind : links_.kind) options_.efficiency[kind] = s.profile.network_efficiency;
  options_.fixed_cost = SimTime::from_seconds(fixed_cost_seconds);
  options_.completion_tolerance = 1e-3;
  const int ep = s.parallelism.expert_parallel;
  const int domain = std::min(ep, s.cluster.system.gpus_per_scale_up_domain);
  options_.hierarchical = s.network.dispatch == DispatchKind::Hierarchical && ep > domain;
  options_.gpus_per_node = domain;
  paths_.assign(ep, std::vector<RoutedPath>(ep));
  for (int a = 0; a < ep; ++a)
    for (int b = 0; b < ep; ++b)
      if (a != b) paths_[a][b] = routed_path(*router_, a, b);
}

std::vector<CostedLink> NetworkModel::costed_links() const {
  std::vector<CostedLink> links;
  for (std::size_t id = 0; id < graph_->link_count(); ++id) {
    const auto link = static_cast<topology::LinkId>(id);
    const auto& info = graph_->link(link);
    links.push_back({graph_->vertex(graph_->link_source(link)).name + " -> " + graph_->vertex(graph_->link_target(link)).name,
                     std::string(topology::link_kind_name(info.kind)), info.bandwidth});
  }
  return links;
}

CollectiveTiming NetworkModel::all_to_all(const ByteMatrix& bytes, const ByteMatrix& fabric_leg,
                                          double scale_up_efficiency) const {
  AllToAllOptions options = options_;
  if (scale_up_efficiency > 0)
    for (auto& [kind, efficiency] : options.efficiency)
      if (!is_scale_out(kind)) efficiency = scale_up_efficiency;
  if (options.hierarchical) options.node_bytes = fabric_leg;
  const auto result = simulate_all_to_all(
      bytes, [this](int a, int b) { return paths_[a][b]; }, links_, options);
  CollectiveTiming timing;
  timing.time = result.time.seconds();
  timing.gpu_time.resize(bytes.size());
  timing.link_bytes = result.link_bytes;
  for (std::size_t g = 0; g < bytes.size(); ++g)
    timing.gpu_time[g] = std::max(result.send_done[g], result.receive_done[g]).seconds();
  // A byte crossing the fabric rides several fabric links; count it once, where it leaves a NIC.
  for (std::size_t link = 0; link < result.link_bytes.size(); ++link) {
    const auto kind = links_.kind[link];
    if (!is_scale_out(kind)) {
      if (kind != topology::LinkKind::Pcie) timing.scale_up_bytes += result.link_bytes[link];
      continue;
    }
    if (graph_->vertex(graph_->link_source(static_cast<topology::LinkId>(link))).kind == topology::VertexKind::Nic) timing.scale_out_bytes += result.link_bytes[link];
  }
  return timing;
}

}  // namespace moesim::sim

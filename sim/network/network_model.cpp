#include "sim/network/network_model.hpp"

#include <algorithm>

#include "sim/network/classed_all_to_all.hpp"
#include "sim/network/hierarchical_all_to_all.hpp"
#include "sim/network/segment_routes.hpp"
#include "sim/network/topology_paths.hpp"
#include "sim/spec/parallel_groups.hpp"
#include "sim/spec/scenario_paths.hpp"
#include "topology/cluster_builders.hpp"
#include "topology/topology_json.hpp"

namespace moesim::sim {
namespace {

topology::FabricKind to_topology(FabricKind fabric) {
  switch (fabric) {
    case FabricKind::None:
      return topology::FabricKind::None;
    case FabricKind::InfinibandFatTree:
      return topology::FabricKind::InfinibandFatTree;
    case FabricKind::Roce:
      return topology::FabricKind::Roce;
  }
  return topology::FabricKind::InfinibandFatTree;
}

}  // namespace

topology::LinkKind scale_up_link_kind(topology::ScaleUpKind kind) {
  switch (kind) {
    case topology::ScaleUpKind::NvSwitch:
      return topology::LinkKind::Nvlink;
    case topology::ScaleUpKind::Pcie:
      return topology::LinkKind::Pcie;
    case topology::ScaleUpKind::InfinityFabric:
      return topology::LinkKind::Xgmi;
  }
  return topology::LinkKind::Nvlink;
}

topology::ClusterGraph scenario_cluster_graph(const ScenarioSpec& s) {
  if (!s.cluster.topology_file.empty()) return load_scenario_topology(s.cluster.topology_file);
  topology::ClusterTopologyParams params;
  params.system = s.cluster.system;
  params.nodes = s.cluster.nodes;
  params.nic = s.cluster.nic;
  params.fabric = to_topology(s.cluster.fabric);
  params.oversubscription = s.cluster.oversubscription;
  params.roce_efficiency = s.cluster.roce_efficiency;
  return topology::build_cluster(params);
}

NetworkModel::NetworkModel(const ScenarioSpec& s, double fixed_cost_seconds) {
  graph_ = std::make_unique<topology::ClusterGraph>(scenario_cluster_graph(s));
  router_ = std::make_unique<topology::Router>(*graph_);
  links_ = network_links(*graph_);
  // Every link kind delivers the profile's share of line rate (NCCL's protocol overheads), or the
  // scenario's own for its scale-up links and its NICs' fabric (cluster.links).
  for (auto kind : links_.kind) options_.efficiency[kind] = s.profile.network_efficiency;
  scale_up_kind_ = scale_up_link_kind(s.cluster.system.scale_up_kind);
  if (s.cluster.scale_up_link.efficiency > 0)
    options_.efficiency[scale_up_kind_] = s.cluster.scale_up_link.efficiency;
  if (s.cluster.nic_link.efficiency > 0)
    for (auto kind : {topology::LinkKind::Ib, topology::LinkKind::Roce})
      options_.efficiency[kind] = s.cluster.nic_link.efficiency;
  options_.fixed_cost = SimTime::from_seconds(fixed_cost_seconds);
  options_.completion_tolerance = kFlowCompletionTolerance;
  const int ep = s.parallelism.expert_parallel;
  // Under MoE TP k an EP group strides over the shards: a domain holds a k-th as many of its ranks.
  const int domain = std::min(ep, std::max(1, s.cluster.system.gpus_per_scale_up_domain /
                                                  s.parallelism.moe_tensor_parallel));
  options_.hierarchical = s.network.dispatch == DispatchKind::Hierarchical && ep > domain;
  options_.gpus_per_node = domain;
  ep_ = ep;
  // Rank r of played group j sits on the GPU the rank order gives it (parallel_groups.hpp).
  const auto groups = expert_groups(s);
  played_groups_ = s.cluster.gpus() <= kFlowAllGroupsMaxGpus ? static_cast<int>(groups.size()) : 1;
  const std::vector<std::vector<int>> played(groups.begin(), groups.begin() + played_groups_);
  place_moe_tp_rings(s, groups);
  std::vector<char> fabric(links_.kind.size());
  for (std::size_t link = 0; link < fabric.size(); ++link)
    fabric[link] = is_scale_out_kind(links_.kind[link]) ? 1 : 0;
  GroupedRoutes routes = grouped_routes(*router_, links_.capacity.size(), fabric, played);
  groups_ = std::move(routes.groups);
  paths_ = std::move(routes.paths);
  for (char out : groups_.scale_out)
    group_kind_.push_back(out ? topology::LinkKind::Ib : scale_up_kind_);
  classed_ = std::make_unique<ClassedAllToAll>();
  hierarchical_ = std::make_unique<HierarchicalAllToAll>();
}

void NetworkModel::place_moe_tp_rings(const ScenarioSpec& s,
                                      const std::vector<std::vector<int>>& expert_groups) {
  moe_tp_ring_links_.assign(graph_->link_count(), 0.0);
  if (s.parallelism.moe_tensor_parallel <= 1) return;
  // Each played GPU sends to the next shard of its MoE TP group (NCCL's ring), on the route's
  // links at their ECMP shares.
  std::vector<int> next(static_cast<std::size_t>(s.cluster.gpus()), -1);
  for (const auto& ring : moe_tensor_groups(s))
    for (std::size_t i = 0; i < ring.size(); ++i) next[ring[i]] = ring[(i + 1) % ring.size()];
  for (int group = 0; group < played_groups_; ++group)
    for (const int gpu : expert_groups[static_cast<std::size_t>(group)]) {
      const RoutedPath hop = routed_path(*router_, gpu, next[gpu]);
      for (std::size_t i = 0; i < hop.path.links.size(); ++i)
        moe_tp_ring_links_[hop.path.links[i]] += hop.path.share(i);
      (stays_inside(hop.path, links_) ? moe_tp_ring_scale_up_ : moe_tp_ring_scale_out_) +=
          1.0 / played_groups_;
    }
}

MoeTpRingBytes NetworkModel::moe_tp_ring_bytes(double bytes_per_hop) const {
  MoeTpRingBytes placed;
  placed.link_bytes.reserve(moe_tp_ring_links_.size());
  for (double hops : moe_tp_ring_links_) placed.link_bytes.push_back(hops * bytes_per_hop);
  placed.scale_up_bytes = moe_tp_ring_scale_up_ * bytes_per_hop;
  placed.scale_out_bytes = moe_tp_ring_scale_out_ * bytes_per_hop;
  return placed;
}

NetworkModel::~NetworkModel() = default;
NetworkModel::NetworkModel(NetworkModel&&) noexcept = default;
NetworkModel& NetworkModel::operator=(NetworkModel&&) noexcept = default;

std::vector<CostedLink> NetworkModel::costed_links() const {
  std::vector<CostedLink> links;
  for (std::size_t id = 0; id < graph_->link_count(); ++id) {
    const auto link = static_cast<topology::LinkId>(id);
    const auto& info = graph_->link(link);
    links.push_back({graph_->vertex(graph_->link_source(link)).name + " -> " +
                         graph_->vertex(graph_->link_target(link)).name,
                     std::string(topology::link_kind_name(info.kind)), info.bandwidth});
  }
  return links;
}

CollectiveTiming NetworkModel::all_to_all(const ByteMatrix& bytes, const ByteMatrix& fabric_leg,
                                          double scale_up_efficiency) const {
  AllToAllOptions options = options_;
  // The measured curve describes the scale-up links only, not the PCIe between GPUs and NICs.
  if (scale_up_efficiency > 0) options.efficiency[scale_up_kind_] = scale_up_efficiency;
  // Every played EP group replays the same matrix on its own GPUs, all at once, so groups that
  // share fabric links contend as they would.
  const auto ep = static_cast<std::size_t>(ep_),
             played = static_cast<std::size_t>(played_groups_) * ep;
  ByteMatrix replayed;  // every group's copy of the matrix, when more than one group plays
  if (played_groups_ > 1) {
    replayed.assign(played, std::vector<Bytes>(played, 0.0));
    for (std::size_t a = 0; a < played; ++a)
      std::copy(bytes[a % ep].begin(), bytes[a % ep].end(),
                replayed[a].begin() + static_cast<std::ptrdiff_t>(a / ep * ep));
  }
  const ByteMatrix& all = played_groups_ > 1 ? replayed : bytes;
  if (options.hierarchical && !fabric_leg.empty() && played_groups_ > 1) {
    const std::size_t domains = fabric_leg.front().size();
    options.node_bytes.assign(
        played, std::vector<Bytes>(played / static_cast<std::size_t>(options.gpus_per_node), 0.0));
    for (std::size_t a = 0; a < played; ++a)
      std::copy(fabric_leg[a % ep].begin(), fabric_leg[a % ep].end(),
                options.node_bytes[a].begin() + static_cast<std::ptrdiff_t>(a / ep * domains));
  } else if (options.hierarchical) {
    options.node_bytes = fabric_leg;
  }
  // The solver sees link groups: each the tightest of its members at their efficiencies.
  NetworkLinks grouped{group_capacity(groups_, effective_capacity(links_, options.efficiency)),
                       group_kind_};
  options.efficiency.clear();
  const auto lookup = [this](int a, int b) -> const RoutedPath& {
    return paths_[static_cast<std::size_t>(a)][static_cast<std::size_t>(b % ep_)];
  };
  AllToAllResult result = options.hierarchical ? hierarchical_->play(all, lookup, grouped, options)
                                               : classed_->play(all, lookup, grouped, options);
  result.link_bytes = link_bytes_from_groups(groups_, result.link_bytes);
  CollectiveTiming timing;
  timing.time = result.time.seconds();
  timing.gpu_time.assign(ep, 0.0);
  for (std::size_t g = 0; g < played; ++g)
    timing.gpu_time[g % ep] = std::max(
        timing.gpu_time[g % ep], std::max(result.send_done[g], result.receive_done[g]).seconds());
  timing.link_bytes = result.link_bytes;
  // A byte between GPUs counts once however many links it rides (GPU -> NVSwitch -> GPU is two);
  // a byte crossing the fabric rides several fabric links and counts once, where it leaves a NIC.
  timing.scale_up_bytes = result.scale_up_bytes;
  for (std::size_t link = 0; link < result.link_bytes.size(); ++link)
    if (is_scale_out_kind(links_.kind[link]) &&
        graph_->vertex(graph_->link_source(static_cast<topology::LinkId>(link))).kind ==
            topology::VertexKind::Nic)
      timing.scale_out_bytes += result.link_bytes[link];
  timing.scale_up_bytes /= played_groups_;  // per EP group, as the analytic model counts
  timing.scale_out_bytes /= played_groups_;
  return timing;
}

}  // namespace moesim::sim

#include "topology/cluster_builders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "topology/fabric_builders.hpp"

namespace moesim::topology {
namespace {

constexpr std::array<std::string_view, 3> kFabricNames = {"none", "ib-fat-tree", "roce"};

// The GPUs and NICs of one node, and the NVSwitch of its domain when it has one.
struct NodeParts {
  std::vector<VertexId> gpus;
  std::vector<VertexId> nics;
};

NodeParts build_node(ClusterGraph& graph, const ClusterTopologyParams& params, int node,
                     std::vector<VertexId>& domain_switches) {
  const NodeSystem& system = params.system;
  const int gpus = system.gpus_per_node;
  const int nics = system.nics_per_node;
  const int domain = node * gpus / system.gpus_per_scale_up_domain;
  // A NIC faster than PCIe Gen5 x16 (ConnectX-8 at 100 GB/s) sits on Gen6.
  const BytesPerSecond pcie = params.nic.bandwidth > kPcieGen5X16 ? kPcieGen6X16 : kPcieGen5X16;
  const int switches = std::max(1, gpus / 2);  // HGX: 4 PCIe switches, 2 GPUs + 2 NICs each

  NodeParts parts;
  const VertexId host = graph.add_vertex(
      {VertexKind::HostBridge, fmt::format("n{}.host", node), node, domain, kNoIndex, kNoIndex});
  std::vector<VertexId> pcie_switches;
  for (int s = 0; s < switches; ++s) {
    pcie_switches.push_back(
        graph.add_vertex({VertexKind::PcieSwitch, fmt::format("n{}.pcie{}", node, s), node, domain,
                          kNoIndex, kNoIndex}));
    graph.add_duplex(pcie_switches.back(), host, pcie, kPcieHopLatency, LinkKind::Pcie);
  }
  for (int i = 0; i < gpus; ++i) {
    const int rail = i * nics / gpus;
    parts.gpus.push_back(graph.add_vertex(
        {VertexKind::Gpu, fmt::format("n{}.gpu{}", node, i), node, domain, rail, kNoIndex}));
    graph.add_duplex(parts.gpus.back(),
                     pcie_switches[static_cast<std::size_t>(i * switches / gpus)], pcie,
                     kPcieHopLatency, LinkKind::Pcie);
  }
  for (int k = 0; k < nics; ++k) {
    parts.nics.push_back(graph.add_vertex(
        {VertexKind::Nic, fmt::format("n{}.nic{}", node, k), node, domain, k, kNoIndex}));
    graph.add_duplex(parts.nics.back(),
                     pcie_switches[static_cast<std::size_t>(k * switches / nics)], pcie,
                     kPcieHopLatency, LinkKind::Pcie);
  }

  const Seconds half_hop = system.scale_up_latency / 2;
  switch (system.scale_up_kind) {
    case ScaleUpKind::NvSwitch: {
      // One vertex stands for all NVSwitch chips of a domain: what limits a GPU is its own
      // NVLink bandwidth, and the switches are non-blocking.
      if (static_cast<int>(domain_switches.size()) <= domain)
        domain_switches.push_back(
            graph.add_vertex({VertexKind::NvSwitch, fmt::format("d{}.nvswitch", domain), kNoIndex,
                              domain, kNoIndex, kNoIndex}));
      for (const VertexId gpu : parts.gpus)
        graph.add_duplex(gpu, domain_switches[static_cast<std::size_t>(domain)],
                         system.scale_up_bandwidth, half_hop, LinkKind::Nvlink);
      break;
    }
    case ScaleUpKind::InfinityFabric: {
      // Fully connected: each GPU's bandwidth is split over direct links to its peers.
      const BytesPerSecond per_link = system.scale_up_bandwidth / std::max(1, gpus - 1);
      for (int a = 0; a < gpus; ++a)
        for (int b = a + 1; b < gpus; ++b)
          graph.add_duplex(parts.gpus[static_cast<std::size_t>(a)],
                           parts.gpus[static_cast<std::size_t>(b)], per_link,
                           system.scale_up_latency, LinkKind::Xgmi);
      break;
    }
    case ScaleUpKind::Pcie:
      break;  // peers talk through the PCIe switches built above
  }
  return parts;
}

void check_params(const ClusterTopologyParams& params) {
  ProblemList problems;
  const auto& system = params.system;
  if (params.nodes < 1)
    problems.add("/cluster/nodes", fmt::format("expected an integer >= 1, got {}", params.nodes));
  if (system.gpus_per_node < 1 || system.nics_per_node < 1 || system.gpus_per_scale_up_domain < 1)
    problems.add("/cluster/system",
                 fmt::format("system \"{}\" has no GPUs or no NICs", system.name));
  if (system.scale_up_bandwidth <= 0)
    problems.add("/cluster/system",
                 fmt::format("system \"{}\" has a non-positive scale-up bandwidth", system.name));
  if (params.nic.bandwidth <= 0)
    problems.add("/cluster/nic",
                 fmt::format("NIC \"{}\" has a non-positive bandwidth", params.nic.name));
  if (!(params.oversubscription >= 1.0))
    problems.add("/cluster/oversubscription",
                 fmt::format("expected a number >= 1, got {}", params.oversubscription));
  if (!(params.roce_efficiency > 0.0 && params.roce_efficiency <= 1.0))
    problems.add("/cluster/roce_efficiency",
                 fmt::format("expected a number in (0, 1], got {}", params.roce_efficiency));
  if (params.nodes_per_leaf < 1 || params.nodes_per_pod < 1 || params.switch_radix < 2)
    problems.add("/cluster", "expected a positive fat-tree shape (nodes per leaf, per pod, radix)");
  if (problems.empty() && params.fabric == FabricKind::None &&
      params.nodes * system.gpus_per_node > system.gpus_per_scale_up_domain)
    problems.add("/cluster/fabric",
                 fmt::format("expected a scale-out fabric for {} nodes of {} (one scale-up domain "
                             "holds {} GPUs), got \"none\"",
                             params.nodes, system.name, system.gpus_per_scale_up_domain));
  problems.throw_if_any("cluster");
}

}  // namespace

std::string_view fabric_kind_name(FabricKind kind) {
  return kFabricNames[static_cast<std::size_t>(kind)];
}

std::optional<FabricKind> parse_fabric_kind(std::string_view name) {
  for (std::size_t i = 0; i < kFabricNames.size(); ++i)
    if (kFabricNames[i] == name) return static_cast<FabricKind>(i);
  return std::nullopt;
}

ClusterTopologyParams cluster_params(std::string_view system, int nodes, std::string_view nic,
                                     FabricKind fabric, double oversubscription) {
  ProblemList problems;
  ClusterTopologyParams params;
  const NodeSystem* found_system = find_node_system(system);
  if (found_system == nullptr) {
    std::vector<std::string> names;
    for (const auto& known : node_systems()) names.push_back(known.name);
    const auto suggestion = did_you_mean(system, names);
    problems.add(
        "/cluster/system",
        fmt::format("unknown system \"{}\"{}", system,
                    suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : ""));
    problems.throw_if_any("cluster");
  }
  params.system = *found_system;
  const std::string_view nic_name = nic.empty() ? std::string_view(params.system.default_nic) : nic;
  const NicSpec* found_nic = find_nic(nic_name);
  if (found_nic == nullptr) {
    problems.add("/cluster/nic", fmt::format("unknown NIC \"{}\"", nic_name));
    problems.throw_if_any("cluster");
  }
  params.nic = *found_nic;
  params.nodes = nodes;
  params.fabric = fabric;
  params.oversubscription = oversubscription;
  return params;
}

ClusterGraph build_cluster(const ClusterTopologyParams& params) {
  check_params(params);
  const bool fabric = params.fabric != FabricKind::None;
  ClusterGraph graph(fmt::format("{}x{}", params.system.name, params.nodes));
  graph.set_description(fmt::format(
      "{} nodes of {}, {}{}", params.nodes, params.system.name,
      fabric ? fmt::format("{} at {}:1 on {}", fabric_kind_name(params.fabric),
                           params.oversubscription, params.nic.name)
             : std::string("no scale-out fabric"),
      params.fabric == FabricKind::Roce ? fmt::format(" (efficiency {})", params.roce_efficiency)
                                        : ""));
  std::vector<VertexId> domain_switches;
  std::vector<std::vector<VertexId>> nics_by_node;
  for (int node = 0; node < params.nodes; ++node)
    nics_by_node.push_back(build_node(graph, params, node, domain_switches).nics);
  if (fabric) build_fat_tree(graph, params, nics_by_node);
  return graph;
}

}  // namespace moesim::topology

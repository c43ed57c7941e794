#include "gui/link_utilisation.hpp"

#include <algorithm>
#include <regex>
#include <unordered_map>

namespace moesim::gui {
namespace {

bool is_fabric_kind(topology::LinkKind kind) {
  return kind == topology::LinkKind::Ib || kind == topology::LinkKind::Roce ||
         kind == topology::LinkKind::Ethernet;
}

double phase_value(const sim::LinkLoad& load, LinkPhase phase) {
  switch (phase) {
    case LinkPhase::Dispatch:
      return load.dispatch_utilisation;
    case LinkPhase::Combine:
      return load.combine_utilisation;
    case LinkPhase::Step:
      break;
  }
  return load.utilisation;
}

// The NIC a GPU's traffic leaves by: its node's NIC on the GPU's rail, else the node's first.
std::optional<topology::VertexId> nic_of(const topology::ClusterGraph& graph,
                                         topology::VertexId gpu) {
  const auto& info = graph.vertex(gpu);
  std::optional<topology::VertexId> first;
  for (auto vertex : boost::make_iterator_range(boost::vertices(graph.graph()))) {
    const auto& candidate = graph.vertex(vertex);
    if (candidate.kind != topology::VertexKind::Nic || candidate.node != info.node) continue;
    if (candidate.rail == info.rail) return vertex;
    if (!first) first = vertex;
  }
  return first;
}

// The links of one analytic port: a vertex's outgoing (or incoming) links that `wanted` accepts.
template <typename Accept>
void mark_port(const topology::ClusterGraph& graph, topology::VertexId vertex, bool outgoing,
               Accept wanted, double value, std::vector<double>& utilisation) {
  const auto mark = [&](auto edges) {
    for (auto edge : boost::make_iterator_range(edges)) {
      const auto& link = graph.graph()[edge];
      if (!wanted(link.kind)) continue;
      auto& slot = utilisation[static_cast<std::size_t>(link.index)];
      slot = std::max(slot, value);
    }
  };
  if (outgoing)
    mark(boost::out_edges(vertex, graph.graph()));
  else
    mark(boost::in_edges(vertex, graph.graph()));
}

// "gpu3 nvlink out" / "gpu3 nic in": false when the name is not an analytic port.
bool mark_analytic_port(const topology::ClusterGraph& graph, const sim::LinkLoad& load,
                        double value, std::vector<double>& utilisation) {
  static const std::regex port(R"(gpu(\d+) (\S+) (out|in))");
  std::smatch match;
  if (!std::regex_match(load.name, match, port)) return false;
  const auto rank = static_cast<std::size_t>(std::stoul(match[1].str()));
  if (rank >= graph.gpus().size()) return false;
  const topology::VertexId gpu = graph.gpus()[rank];
  const bool outgoing = match[3].str() == "out";
  if (match[2].str() == "nic") {
    const auto nic = nic_of(graph, gpu);
    if (!nic) return false;
    mark_port(graph, *nic, outgoing, is_fabric_kind, value, utilisation);
    return true;
  }
  const std::string kind = load.kind;
  mark_port(
      graph, gpu, outgoing,
      [&kind](topology::LinkKind link) { return topology::link_kind_name(link) == kind; }, value,
      utilisation);
  return true;
}

}  // namespace

std::string graph_link_name(const topology::ClusterGraph& graph, topology::LinkId link) {
  return graph.vertex(graph.link_source(link)).name + " -> " +
         graph.vertex(graph.link_target(link)).name;
}

std::vector<double> graph_link_utilisation(const topology::ClusterGraph& graph,
                                           const std::vector<sim::LinkLoad>& loads,
                                           LinkPhase phase) {
  std::vector<double> utilisation(graph.link_count(), 0.0);
  std::unordered_map<std::string, topology::LinkId> by_name;
  for (std::size_t id = 0; id < graph.link_count(); ++id) {
    const auto link = static_cast<topology::LinkId>(id);
    by_name.emplace(graph_link_name(graph, link), link);
  }
  for (const auto& load : loads) {
    const double value = phase_value(load, phase);
    if (value <= 0) continue;
    if (const auto found = by_name.find(load.name); found != by_name.end()) {
      auto& slot = utilisation[static_cast<std::size_t>(found->second)];
      slot = std::max(slot, value);
      continue;
    }
    mark_analytic_port(graph, load, value, utilisation);
  }
  return utilisation;
}

int busiest_graph_link(const std::vector<double>& utilisation) {
  int busiest = -1;
  for (std::size_t id = 0; id < utilisation.size(); ++id)
    if (utilisation[id] > 0 && (busiest < 0 || utilisation[id] > utilisation[busiest]))
      busiest = static_cast<int>(id);
  return busiest;
}

}  // namespace moesim::gui

#include "topology/bandwidth_queries.hpp"

#include <boost/graph/push_relabel_max_flow.hpp>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace moesim::topology {
namespace {

using FlowTraits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<
        boost::edge_capacity_t, std::int64_t,
        boost::property<boost::edge_residual_capacity_t, std::int64_t,
                        boost::property<boost::edge_reverse_t, FlowTraits::edge_descriptor>>>>;

// Bandwidths are whole bytes per second in every figure used here; integer capacities keep the
// push-relabel solver exact.

void add_arc(FlowGraph& flow, std::size_t from, std::size_t to, std::int64_t capacity) {
  auto capacities = boost::get(boost::edge_capacity, flow);
  auto reverses = boost::get(boost::edge_reverse, flow);
  const auto forward = boost::add_edge(from, to, flow).first;
  const auto backward = boost::add_edge(to, from, flow).first;
  capacities[forward] = capacity;
  capacities[backward] = 0;
  reverses[forward] = backward;
  reverses[backward] = forward;
}

// Maximum flow from the vertices `side` marks 1 to those it marks 2, over links `usable` admits.
template <class Usable>
BytesPerSecond max_flow(const ClusterGraph& graph, const std::vector<int>& side, Usable usable) {
  const std::size_t vertices = graph.vertex_count();
  FlowGraph flow(vertices + 2);
  const std::size_t source = vertices;
  const std::size_t sink = vertices + 1;
  for (LinkId id = 0; id < static_cast<LinkId>(graph.link_count()); ++id) {
    const LinkInfo& link = graph.link(id);
    if (!usable(link)) continue;
    add_arc(flow, graph.link_source(id), graph.link_target(id), std::llround(link.bandwidth));
  }
  // A side's arcs carry what its vertex can send or take, not infinity: keeps excesses finite.
  std::vector<std::int64_t> out_capacity(vertices, 0), in_capacity(vertices, 0);
  for (LinkId id = 0; id < static_cast<LinkId>(graph.link_count()); ++id) {
    if (!usable(graph.link(id))) continue;
    out_capacity[graph.link_source(id)] += std::llround(graph.link(id).bandwidth);
    in_capacity[graph.link_target(id)] += std::llround(graph.link(id).bandwidth);
  }
  for (std::size_t v = 0; v < vertices; ++v) {
    if (side[v] == 1) add_arc(flow, source, v, out_capacity[v]);
    if (side[v] == 2) add_arc(flow, v, sink, in_capacity[v]);
  }
  return static_cast<BytesPerSecond>(boost::push_relabel_max_flow(flow, source, sink));
}

// 1 for the lower half of [0, count), 2 for the upper half, 0 for the middle one of an odd count.
int half_of(int index, int count) {
  const int half = count / 2;
  return index < half ? 1 : (index >= count - half ? 2 : 0);
}

}  // namespace

InjectionBandwidth injection_bandwidth(Router& router, int rank) {
  const ClusterGraph& graph = router.graph();
  const Graph& g = graph.graph();
  InjectionBandwidth result;
  const VertexId gpu = graph.gpus()[static_cast<std::size_t>(rank)];
  for (const auto edge : boost::make_iterator_range(boost::out_edges(gpu, g)))
    if (g[edge].kind == LinkKind::Nvlink || g[edge].kind == LinkKind::Xgmi)
      result.scale_up += g[edge].bandwidth;
  if (const RouteSegment* up = router.uplink(rank)) result.scale_out = up->bottleneck;
  return result;
}

Bisection bisection_bandwidth(const ClusterGraph& graph) {
  const Graph& g = graph.graph();
  const std::size_t vertices = graph.vertex_count();
  auto fabric = [](const LinkInfo& link) {
    return link.kind == LinkKind::Ib || link.kind == LinkKind::Roce ||
           link.kind == LinkKind::Ethernet;
  };
  // NICs cabled to a leaf take part in the scale-out splits.
  std::vector<VertexId> nics;
  int rails = 0;
  for (VertexId v = 0; v < vertices; ++v) {
    if (g[v].kind != VertexKind::Nic) continue;
    for (const auto edge : boost::make_iterator_range(boost::out_edges(v, g)))
      if (g[boost::target(edge, g)].kind == VertexKind::Leaf) {
        nics.push_back(v);
        rails = std::max(rails, g[v].rail + 1);
        break;
      }
  }
  Bisection narrowest;
  auto consider = [&](const std::vector<int>& side, const char* name, auto usable) {
    const BytesPerSecond bandwidth = max_flow(graph, side, usable);
    if (narrowest.split.empty() || bandwidth < narrowest.bandwidth) narrowest = {bandwidth, name};
  };
  if (!nics.empty()) {
    const int nodes = graph.node_count();
    if (nodes >= 2) {
      std::vector<int> side(vertices, 0);
      for (const VertexId nic : nics) side[nic] = half_of(g[nic].node, nodes);
      consider(side, "nodes", fabric);
    }
    if (rails >= 2) {
      std::vector<int> side(vertices, 0);
      for (const VertexId nic : nics) side[nic] = half_of(g[nic].rail, rails);
      consider(side, "rails", fabric);
    }
    if (!narrowest.split.empty()) return narrowest;
  }
  const auto gpus = graph.gpus();
  if (gpus.size() < 2) return {0, "gpus"};
  std::vector<int> side(vertices, 0);
  const std::size_t half = gpus.size() / 2;
  for (std::size_t rank = 0; rank < 2 * half; ++rank) side[gpus[rank]] = rank < half ? 1 : 2;
  consider(side, "gpus", [](const LinkInfo&) { return true; });
  return narrowest;
}

TrafficMatrix TrafficMatrix::uniform_all_to_all(std::vector<int> ranks, Bytes bytes_per_pair) {
  TrafficMatrix traffic;
  const std::size_t count = ranks.size();
  traffic.ranks = std::move(ranks);
  traffic.bytes.assign(count * count, bytes_per_pair);
  for (std::size_t i = 0; i < count; ++i) traffic.bytes[i * count + i] = 0;
  return traffic;
}

std::vector<Bytes> link_loads(Router& router, const TrafficMatrix& traffic) {
  const std::size_t count = traffic.ranks.size();
  if (traffic.bytes.size() != count * count)
    throw std::invalid_argument("traffic matrix is not ranks x ranks");
  std::vector<Bytes> loads(router.graph().link_count(), 0.0);
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = 0; j < count; ++j) {
      const Bytes bytes = traffic.bytes[i * count + j];
      if (bytes == 0 || i == j) continue;
      router.route(traffic.ranks[i], traffic.ranks[j])
          .for_each_link([&](LinkId link, double share) {
            loads[static_cast<std::size_t>(link)] += bytes * share;
          });
    }
  }
  return loads;
}

LinkLoad bottleneck(Router& router, const TrafficMatrix& traffic) {
  const auto loads = link_loads(router, traffic);
  LinkLoad worst;
  for (LinkId id = 0; id < static_cast<LinkId>(loads.size()); ++id) {
    const Bytes bytes = loads[static_cast<std::size_t>(id)];
    const Seconds busy = bytes / router.graph().link(id).bandwidth;
    if (busy > worst.busy) worst = {id, bytes, busy};
  }
  return worst;
}

}  // namespace moesim::topology

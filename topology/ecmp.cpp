#include "topology/ecmp.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

namespace moesim::topology {

void summarise_segment(const ClusterGraph& graph, RouteSegment& segment) {
  segment.latency = 0;
  segment.bottleneck = 0;
  bool first = true;
  for (const auto& hop : segment.links) {
    const LinkInfo& link = graph.link(hop.link);
    segment.latency += hop.share * link.latency;
    const BytesPerSecond rate = link.bandwidth / hop.share;
    segment.bottleneck = first ? rate : std::min(segment.bottleneck, rate);
    first = false;
  }
}

std::optional<RouteSegment> ecmp_segment(const ClusterGraph& graph, VertexId from, VertexId to,
                                         const VertexFilter& transit, const LinkFilter& usable) {
  const Graph& g = graph.graph();
  // Hop distance to `to`, by a breadth-first search over reversed links.
  std::unordered_map<VertexId, int> distance{{to, 0}};
  std::vector<VertexId> frontier{to};
  while (!frontier.empty() && !distance.contains(from)) {
    std::vector<VertexId> next;
    for (const VertexId v : frontier) {
      for (const auto edge : boost::make_iterator_range(boost::in_edges(v, g))) {
        const VertexId u = boost::source(edge, g);
        if (distance.contains(u) || !usable(g[edge])) continue;
        if (u != from && !transit(u)) continue;
        distance.emplace(u, distance.at(v) + 1);
        next.push_back(u);
      }
    }
    frontier = std::move(next);
  }
  const auto found = distance.find(from);
  if (found == distance.end()) return std::nullopt;

  // Push the unit forward, one hop closer each step, splitting evenly over the next hops.
  RouteSegment segment;
  segment.hops = found->second;
  std::map<VertexId, std::pair<double, double>> layer{{from, {1.0, 1.0}}};  // mass, path count
  for (int step = segment.hops; step > 0; --step) {
    std::map<VertexId, std::pair<double, double>> next;
    for (const auto& [v, carried] : layer) {
      std::vector<EdgeId> hops;
      for (const auto edge : boost::make_iterator_range(boost::out_edges(v, g))) {
        const auto it = distance.find(boost::target(edge, g));
        if (it != distance.end() && it->second == step - 1 && usable(g[edge])) hops.push_back(edge);
      }
      const double share = carried.first / static_cast<double>(hops.size());
      for (const auto edge : hops) {
        segment.links.push_back({g[edge].index, share});
        auto& into = next[boost::target(edge, g)];
        into.first += share;
        into.second += carried.second;
      }
    }
    layer = std::move(next);
  }
  segment.paths = layer.empty() ? 1.0 : layer.begin()->second.second;
  summarise_segment(graph, segment);
  return segment;
}

RouteSegment fabric_climb(const ClusterGraph& graph, VertexId leaf, int tier, bool downward) {
  const Graph& g = graph.graph();
  RouteSegment segment;
  std::map<VertexId, std::pair<double, double>> layer{{leaf, {1.0, 1.0}}};  // mass, path count
  for (int level = 1; level <= tier; ++level) {
    std::map<VertexId, std::pair<double, double>> next;
    for (const auto& [v, carried] : layer) {
      std::vector<EdgeId> hops;
      if (downward) {
        for (const auto edge : boost::make_iterator_range(boost::in_edges(v, g)))
          if (fabric_tier(g[boost::source(edge, g)].kind) == level) hops.push_back(edge);
      } else {
        for (const auto edge : boost::make_iterator_range(boost::out_edges(v, g)))
          if (fabric_tier(g[boost::target(edge, g)].kind) == level) hops.push_back(edge);
      }
      const double share = carried.first / static_cast<double>(hops.size());
      for (const auto edge : hops) {
        segment.links.push_back({g[edge].index, share});
        auto& into = next[downward ? boost::source(edge, g) : boost::target(edge, g)];
        into.first += share;
        into.second += carried.second;
      }
    }
    layer = std::move(next);
  }
  segment.paths = 0;
  for (const auto& [v, carried] : layer) {
    segment.top.push_back(v);  // std::map iterates in vertex order: `top` comes out sorted
    segment.paths += carried.second;
  }
  if (downward) std::reverse(segment.links.begin(), segment.links.end());
  segment.hops = segment.top.empty() ? 0 : tier;
  summarise_segment(graph, segment);
  return segment;
}

RouteSegment concatenate(const ClusterGraph& graph, const RouteSegment& first,
                         const RouteSegment& second) {
  RouteSegment joined = first;
  joined.links.insert(joined.links.end(), second.links.begin(), second.links.end());
  joined.hops += second.hops;
  joined.paths *= second.paths;
  joined.top.clear();
  summarise_segment(graph, joined);
  return joined;
}

}  // namespace moesim::topology

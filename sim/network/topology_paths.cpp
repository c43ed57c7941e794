#include "sim/network/topology_paths.hpp"

namespace moesim::sim {

NetworkLinks network_links(const topology::ClusterGraph& graph) {
  NetworkLinks links;
  links.capacity.reserve(graph.link_count());
  links.kind.reserve(graph.link_count());
  for (std::size_t id = 0; id < graph.link_count(); ++id) {
    const topology::LinkInfo& info = graph.link(static_cast<topology::LinkId>(id));
    links.capacity.push_back(info.bandwidth);
    links.kind.push_back(info.kind);
  }
  return links;
}

RoutedPath routed_path(topology::Router& router, int source_rank, int destination_rank) {
  const topology::Route route = router.route(source_rank, destination_rank);
  RoutedPath routed;
  route.for_each_link([&](topology::LinkId link, double share) {
    routed.path.links.push_back(link);
    routed.path.shares.push_back(share);
  });
  routed.latency = SimTime::from_seconds(route.latency());
  return routed;
}

PathFunction router_paths(topology::Router& router) {
  return
      [&router](int source, int destination) { return routed_path(router, source, destination); };
}

}  // namespace moesim::sim

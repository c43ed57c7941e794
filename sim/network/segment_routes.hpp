#pragma once
// Every played GPU pair's route over link groups, built from the router's cached segments. A
// route is at most six segments (topology/routes.hpp: GPU -> leaf, the climb, the descent,
// leaf -> GPU, NVLink inside a domain), and a 256-GPU EP group's 65,280 routes share a few
// hundred distinct segments. Links are grouped over those segments rather than over the pair
// routes: links alike in every segment are alike in every sum of segments, so the groups are
// exact (link_groups.hpp), and the grouping costs the segments' links instead of the routes'.
#include <vector>

#include "sim/network/all_to_all.hpp"
#include "sim/network/link_groups.hpp"
#include "topology/routes.hpp"

namespace moesim::sim {

struct GroupedRoutes {
  LinkGroups groups;
  // [source GPU][destination rank in the source's EP group]: the route over groups (a group
  // crossed twice counts once, at its first crossing, as grouped_path does); empty on the diagonal.
  std::vector<std::vector<RoutedPath>> paths;
};

// Routes between the GPUs of each played EP group (`groups[j][r]`: the GPU of rank r of group j,
// parallel_groups.hpp); a route's source index is j x ep + r. `scale_out_link`: by graph link, 1
// for fabric links (LinkGroups::scale_out).
GroupedRoutes grouped_routes(topology::Router& router, std::size_t link_count,
                             const std::vector<char>& scale_out_link,
                             const std::vector<std::vector<int>>& groups);

}  // namespace moesim::sim

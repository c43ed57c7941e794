#include "sim/network/segment_routes.hpp"

#include <array>
#include <cstdint>
#include <unordered_map>

namespace moesim::sim {

namespace {

// A pair's route as indices into the distinct segments, in route order.
struct SegmentList {
  std::array<std::uint32_t, topology::Route::kMaxSegments> segment{};
  std::uint8_t count = 0;
  SimTime latency;
};

FlowPath segment_path(const topology::RouteSegment& segment) {
  FlowPath path;
  for (const topology::LinkShare& hop : segment.links) {
    path.links.push_back(hop.link);
    path.shares.push_back(hop.share);
  }
  return path;
}

}  // namespace

GroupedRoutes grouped_routes(topology::Router& router, std::size_t link_count,
                             const std::vector<char>& scale_out_link,
                             const std::vector<std::vector<int>>& groups) {
  const int ep = groups.empty() ? 0 : static_cast<int>(groups.front().size());
  const int played = static_cast<int>(groups.size()) * ep;
  auto gpu = [&](int index) {
    return groups[static_cast<std::size_t>(index / ep)][static_cast<std::size_t>(index % ep)];
  };
  // Distinct segments by address (the router keeps each one once), numbered as first met.
  std::unordered_map<const topology::RouteSegment*, std::uint32_t> index;
  std::vector<FlowPath> segments;
  std::vector<SegmentList> routes(static_cast<std::size_t>(played) * static_cast<std::size_t>(ep));
  for (int a = 0; a < played; ++a) {
    const int first = a / ep * ep;  // the first GPU of a's EP group
    for (int b = 0; b < ep; ++b) {
      if (first + b == a) continue;
      const topology::Route route = router.route(gpu(a), gpu(first + b));
      SegmentList& list = routes[static_cast<std::size_t>(a * ep + b)];
      for (const topology::RouteSegment* segment : route.segments()) {
        const auto [at, added] =
            index.emplace(segment, static_cast<std::uint32_t>(segments.size()));
        if (added) segments.push_back(segment_path(*segment));
        list.segment[list.count++] = at->second;
      }
      list.latency = SimTime::from_seconds(route.latency());
    }
  }
  std::vector<const FlowPath*> segment_pointers;
  for (const FlowPath& segment : segments) segment_pointers.push_back(&segment);
  GroupedRoutes result;
  result.groups = group_links(link_count, segment_pointers, scale_out_link);
  std::vector<FlowPath> grouped;
  for (const FlowPath& segment : segments) grouped.push_back(grouped_path(segment, result.groups));

  // Each route: its segments' groups in order, a group already crossed skipped.
  std::vector<std::uint32_t> seen(result.groups.group_count, 0);
  std::uint32_t mark = 0;
  // Gathered first, then copied once: one allocation a vector, not one per doubling, for the
  // 65,280 routes of a 256-GPU group.
  std::vector<LinkId> links;
  std::vector<double> shares;
  result.paths.assign(static_cast<std::size_t>(played),
                      std::vector<RoutedPath>(static_cast<std::size_t>(ep)));
  for (int a = 0; a < played; ++a)
    for (int b = 0; b < ep; ++b) {
      const SegmentList& list = routes[static_cast<std::size_t>(a * ep + b)];
      RoutedPath& routed = result.paths[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)];
      routed.latency = list.latency;
      ++mark;
      links.clear();
      shares.clear();
      for (std::uint8_t i = 0; i < list.count; ++i) {
        const FlowPath& segment = grouped[list.segment[i]];
        for (std::size_t hop = 0; hop < segment.links.size(); ++hop) {
          auto& stamp = seen[static_cast<std::size_t>(segment.links[hop])];
          if (stamp == mark) continue;
          stamp = mark;
          links.push_back(segment.links[hop]);
          shares.push_back(segment.share(hop));
        }
      }
      routed.path.links.assign(links.begin(), links.end());
      routed.path.shares.assign(shares.begin(), shares.end());
    }
  return result;
}

}  // namespace moesim::sim

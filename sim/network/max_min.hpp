#pragma once
// Max-min fair sharing of link bandwidth among flows (the fluid model of SimGrid's network):
// every flow's rate is as high as it can be without lowering the rate of a flow that is no
// faster. Solved by progressive filling: raise all rates together, freeze the flows of the first
// link to saturate (or the first flow to reach its cap), repeat.
#include <limits>
#include <utility>
#include <vector>

#include "base/units.hpp"

namespace moesim::sim {

using LinkId = int;

// The links one flow crosses. `shares`, when given (one per link), is the fraction of the flow's
// bytes that crosses each link: an ECMP split over 4 uplinks puts 0.25 of the flow on each. A
// flow at rate r uses r * share of a link's capacity. Empty `shares` means 1 for every link.
struct FlowPath {
  FlowPath() = default;
  explicit FlowPath(std::vector<LinkId> path_links, std::vector<double> path_shares = {},
                    BytesPerSecond cap = std::numeric_limits<double>::infinity())
      : links(std::move(path_links)), shares(std::move(path_shares)), rate_cap(cap) {}

  std::vector<LinkId> links;
  std::vector<double> shares;
  // The share of the flow's bytes on its hop-th link (all of them when no shares are given).
  double share(std::size_t hop) const { return shares.empty() ? 1.0 : shares[hop]; }
  // visit(link, share) for each hop in order, with no test of `shares` per hop: the loop of the
  // flow network's per-event bookkeeping.
  template <class Visit>
  void for_each_hop(Visit&& visit) const {
    const LinkId* link = links.data();
    const std::size_t count = links.size();
    if (shares.empty()) {
      for (std::size_t hop = 0; hop < count; ++hop) visit(link[hop], 1.0);
      return;
    }
    const double* share = shares.data();
    for (std::size_t hop = 0; hop < count; ++hop) visit(link[hop], share[hop]);
  }
  // An upper bound on the flow's rate whatever the links allow (a NIC's injection limit, a
  // sender that cannot go faster); infinity when unbounded.
  BytesPerSecond rate_cap = std::numeric_limits<double>::infinity();
};

// Rates (bytes/s), one per flow, in the order of `flows`. A flow on no links and with no cap
// gets infinity; a flow crossing a zero-capacity link gets 0. Throws std::invalid_argument for
// a link id out of range, a negative capacity, cap or share, or shares of the wrong length.
// Cost: O(P log L) for P (flow, link) crossings over L links, not O(F^2 L).
std::vector<BytesPerSecond> solve_max_min(const std::vector<BytesPerSecond>& link_capacity,
                                          const std::vector<FlowPath>& flows);

// Throws std::invalid_argument, as solve_max_min would, for a path that does not fit `link_count`
// links; O(path length), for callers that check flows one at a time.
void validate_flow_path(std::size_t link_count, const FlowPath& path);

// Throws std::invalid_argument, as solve_max_min would, for a negative or NaN capacity.
void validate_link_capacities(const std::vector<BytesPerSecond>& link_capacity);

// The same on flows given by pointer, so a caller that keeps its flows elsewhere (the flow
// network's active set) need not copy their paths. `prevalidated`: the caller has passed every
// path through validate_flow_path and the capacities through validate_link_capacities, so a
// re-solve skips the checks. `bottleneck`, when given, receives by flow the link whose saturation
// froze it, or kNoBottleneckLink for a flow held by its cap or crossing no link: what an
// incremental re-solve needs to know which rates a completion can change (flow_network.cpp).
inline constexpr LinkId kNoBottleneckLink = -1;
std::vector<BytesPerSecond> solve_max_min(const std::vector<BytesPerSecond>& link_capacity,
                                          const std::vector<const FlowPath*>& flows,
                                          bool prevalidated = false,
                                          std::vector<LinkId>* bottleneck = nullptr);

}  // namespace moesim::sim

#pragma once
// Links that constrain the same flows in the same proportions are one max-min constraint. The 32
// uplinks of a leaf share every flow that leaves it evenly (ECMP), and a GPU -> PCIe switch ->
// NIC -> leaf chain carries exactly one GPU's fabric traffic: the solver need see each such set
// once, as its tightest member. On a 256-GPU fat-tree this takes a cross-rail route from about 70
// links to 4 (docs/network-model.md, "Cost and its limits"). Exact: the rates do not change.
#include <cstddef>
#include <vector>

#include "base/units.hpp"
#include "sim/network/max_min.hpp"

namespace moesim::sim {

struct LinkGroups {
  // By link: its group, and the share of every flow it carries relative to the group's
  // representative (its lowest link id): 0.5 where it carries half of what the representative does.
  std::vector<LinkId> group_of;
  std::vector<double> scale;
  std::size_t group_count = 0;
  // By group: whether some member is a scale-out (fabric) link, for scale-up byte counting.
  std::vector<char> scale_out;
};

// Groups the links that carry, for every one of `paths`, share = scale x the representative's
// share (checked entry by entry, so two links never merge on a hash alone). Links no path crosses
// stay alone. `scale_out_link`: by link, 1 for fabric links (may be empty: none).
LinkGroups group_links(std::size_t link_count, const std::vector<const FlowPath*>& paths,
                       const std::vector<char>& scale_out_link = {});

// The same path over groups: one hop per group it crosses, with the representative's share.
FlowPath grouped_path(const FlowPath& path, const LinkGroups& groups);

// By group: the tightest member's capacity / scale, the rate at which the group fills first.
std::vector<BytesPerSecond> group_capacity(const LinkGroups& groups,
                                           const std::vector<BytesPerSecond>& link_capacity);

// A collective's class paths as the flow network sees them: the link groups over `paths`, the
// groups some path crosses (ascending: the network's links, so a re-solve costs the constraints in
// use, not every link of the graph), and each path over those (indices into `crossed`, renumbered
// in the groups' own order, which keeps the solver's tie-breaks).
struct CrossedGroups {
  LinkGroups groups;
  std::vector<LinkId> crossed;
  std::vector<FlowPath> grouped;
};
CrossedGroups group_class_paths(std::size_t link_count, const std::vector<const FlowPath*>& paths);

// By crossed group (CrossedGroups::crossed): the rate at which it fills first.
std::vector<BytesPerSecond> crossed_capacity(const CrossedGroups& crossed,
                                             const std::vector<BytesPerSecond>& link_capacity);

// Bytes by link from the bytes each crossed group carried (by index into `crossed`).
std::vector<Bytes> link_bytes_from_crossed(const CrossedGroups& crossed,
                                           const std::vector<Bytes>& carried);

// Bytes by link from bytes by group: each member carried scale x its group's bytes.
std::vector<Bytes> link_bytes_from_groups(const LinkGroups& groups,
                                          const std::vector<Bytes>& group_bytes);

}  // namespace moesim::sim

#include "sim/network/link_groups.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <tuple>

namespace moesim::sim {

namespace {

// A link's column (the flows crossing it, with their shares relative to the first), hashed.
struct Column {
  std::uint32_t count = 0;
  double first_share = 0;
  std::uint64_t hash_a = 0;
  std::uint64_t hash_b = 0;
};

std::uint64_t splitmix(std::uint64_t value) {
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::vector<Column> hash_columns(std::size_t link_count,
                                 const std::vector<const FlowPath*>& paths) {
  std::vector<Column> columns(link_count);
  for (std::size_t flow = 0; flow < paths.size(); ++flow) {
    const FlowPath& path = *paths[flow];
    for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
      const double share = path.share(hop);
      if (share <= 0) continue;
      Column& column = columns[static_cast<std::size_t>(path.links[hop])];
      if (column.count++ == 0) column.first_share = share;
      const std::uint64_t ratio = std::bit_cast<std::uint64_t>(share / column.first_share);
      column.hash_a = splitmix(column.hash_a ^ splitmix(flow) ^ ratio);
      column.hash_b = splitmix(column.hash_b + 0x632be59bd9b4e019ULL * (flow + 1) + ratio);
    }
  }
  return columns;
}

// Representative (lowest link id) of each link's group of equal columns; links no flow crosses
// are their own.
std::vector<LinkId> representatives(const std::vector<Column>& columns) {
  std::vector<LinkId> order(columns.size());
  std::iota(order.begin(), order.end(), 0);
  const auto key = [&](LinkId link) {
    const Column& c = columns[static_cast<std::size_t>(link)];
    return std::tuple(c.count, c.hash_a, c.hash_b, link);
  };
  std::sort(order.begin(), order.end(), [&](LinkId a, LinkId b) { return key(a) < key(b); });
  std::vector<LinkId> rep(columns.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto link = static_cast<std::size_t>(order[i]);
    const Column& c = columns[link];
    const bool same_as_previous =
        i > 0 && c.count > 0 && std::get<0>(key(order[i - 1])) == c.count &&
        std::get<1>(key(order[i - 1])) == c.hash_a && std::get<2>(key(order[i - 1])) == c.hash_b;
    rep[link] = same_as_previous ? rep[static_cast<std::size_t>(order[i - 1])] : order[i];
  }
  return rep;
}

// Checks every crossing against the representative's share in the same flow; a link that
// disagrees anywhere (a hash collision) leaves its group.
void verify(const std::vector<const FlowPath*>& paths, const std::vector<Column>& columns,
            std::vector<LinkId>& rep) {
  std::vector<double> share_here(columns.size(), 0.0);
  std::vector<std::uint32_t> stamp(columns.size(), 0);
  std::vector<char> bad(columns.size(), 0);
  for (std::size_t flow = 0; flow < paths.size(); ++flow) {
    const FlowPath& path = *paths[flow];
    const auto mark = static_cast<std::uint32_t>(flow + 1);
    for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
      const auto link = static_cast<std::size_t>(path.links[hop]);
      if (stamp[link] != mark) share_here[link] = 0;
      stamp[link] = mark;
      share_here[link] += std::max(path.share(hop), 0.0);
    }
    for (LinkId id : path.links) {
      const auto link = static_cast<std::size_t>(id), head = static_cast<std::size_t>(rep[link]);
      if (head == link || share_here[link] <= 0) continue;
      const double scale = columns[link].first_share / columns[head].first_share;
      if (stamp[head] != mark ||
          std::abs(share_here[link] - scale * share_here[head]) > 1e-12 * share_here[link])
        bad[link] = 1;
    }
  }
  for (std::size_t link = 0; link < rep.size(); ++link)
    if (bad[link]) rep[link] = static_cast<LinkId>(link);
}

}  // namespace

LinkGroups group_links(std::size_t link_count, const std::vector<const FlowPath*>& paths,
                       const std::vector<char>& scale_out_link) {
  for (const FlowPath* path : paths) validate_flow_path(link_count, *path);
  const std::vector<Column> columns = hash_columns(link_count, paths);
  std::vector<LinkId> rep = representatives(columns);
  verify(paths, columns, rep);

  LinkGroups groups;
  groups.group_of.assign(link_count, 0);
  groups.scale.assign(link_count, 1.0);
  // Groups numbered in the order of their representatives: the same paths, the same numbering.
  for (std::size_t link = 0; link < link_count; ++link) {
    const auto head = static_cast<std::size_t>(rep[link]);
    if (head == link) {
      groups.group_of[link] = static_cast<LinkId>(groups.group_count++);
      groups.scale_out.push_back(0);
    } else {
      groups.group_of[link] = groups.group_of[head];
      groups.scale[link] = columns[link].first_share / columns[head].first_share;
    }
    if (!scale_out_link.empty() && scale_out_link[link])
      groups.scale_out[static_cast<std::size_t>(groups.group_of[link])] = 1;
  }
  return groups;
}

FlowPath grouped_path(const FlowPath& path, const LinkGroups& groups) {
  FlowPath grouped;
  grouped.rate_cap = path.rate_cap;
  // Groups already on the path, by stamp: a search of the path per hop was 10% of a run.
  thread_local std::vector<std::uint64_t> seen;
  thread_local std::uint64_t mark = 0;
  if (seen.size() < groups.group_count) seen.assign(groups.group_count, 0);
  ++mark;
  for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
    const double share = path.share(hop);
    if (share <= 0) continue;
    const auto link = static_cast<std::size_t>(path.links[hop]);
    const LinkId group = groups.group_of.at(link);
    // Two members of one group on a path are one constraint, not two: keep the first.
    auto& stamp = seen[static_cast<std::size_t>(group)];
    if (stamp == mark) continue;
    stamp = mark;
    grouped.links.push_back(group);
    grouped.shares.push_back(share / groups.scale[link]);
  }
  return grouped;
}

std::vector<BytesPerSecond> group_capacity(const LinkGroups& groups,
                                           const std::vector<BytesPerSecond>& link_capacity) {
  if (link_capacity.size() != groups.group_of.size())
    throw std::invalid_argument("group_capacity: one capacity per link expected");
  std::vector<BytesPerSecond> capacity(groups.group_count, std::numeric_limits<double>::infinity());
  for (std::size_t link = 0; link < link_capacity.size(); ++link) {
    auto& tightest = capacity[static_cast<std::size_t>(groups.group_of[link])];
    tightest = std::min(tightest, link_capacity[link] / groups.scale[link]);
  }
  return capacity;
}

std::vector<Bytes> link_bytes_from_groups(const LinkGroups& groups,
                                          const std::vector<Bytes>& group_bytes) {
  std::vector<Bytes> bytes(groups.group_of.size(), 0.0);
  for (std::size_t link = 0; link < bytes.size(); ++link)
    bytes[link] =
        groups.scale[link] * group_bytes.at(static_cast<std::size_t>(groups.group_of[link]));
  return bytes;
}

CrossedGroups group_class_paths(std::size_t link_count, const std::vector<const FlowPath*>& paths) {
  CrossedGroups result;
  result.groups = group_links(link_count, paths);
  for (const FlowPath* path : paths) result.grouped.push_back(grouped_path(*path, result.groups));
  constexpr LinkId kUncrossed = -1;
  std::vector<LinkId> local(result.groups.group_count, kUncrossed);
  for (const FlowPath& grouped : result.grouped)
    for (LinkId group : grouped.links) local[static_cast<std::size_t>(group)] = 0;
  for (std::size_t group = 0; group < local.size(); ++group)
    if (local[group] != kUncrossed) {
      local[group] = static_cast<LinkId>(result.crossed.size());
      result.crossed.push_back(static_cast<LinkId>(group));
    }
  for (FlowPath& grouped : result.grouped)
    for (LinkId& group : grouped.links) group = local[static_cast<std::size_t>(group)];
  return result;
}

std::vector<BytesPerSecond> crossed_capacity(const CrossedGroups& crossed,
                                             const std::vector<BytesPerSecond>& link_capacity) {
  const std::vector<BytesPerSecond> by_group = group_capacity(crossed.groups, link_capacity);
  std::vector<BytesPerSecond> capacity;
  capacity.reserve(crossed.crossed.size());
  for (LinkId group : crossed.crossed)
    capacity.push_back(by_group[static_cast<std::size_t>(group)]);
  return capacity;
}

std::vector<Bytes> link_bytes_from_crossed(const CrossedGroups& crossed,
                                           const std::vector<Bytes>& carried) {
  std::vector<Bytes> group_bytes(crossed.groups.group_count, 0.0);
  for (std::size_t i = 0; i < crossed.crossed.size(); ++i)
    group_bytes[static_cast<std::size_t>(crossed.crossed[i])] = carried[i];
  return link_bytes_from_groups(crossed.groups, group_bytes);
}

}  // namespace moesim::sim

#include "sim/network/flow_classes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "sim/network/classed_all_to_all.hpp"

namespace moesim::sim {

namespace {

// Beyond this many classes on one anchor GPU the anchor is not worth classing by.
constexpr std::size_t kMaxClassesPerAnchor = 64;
constexpr std::uint32_t kNoClass = std::numeric_limits<std::uint32_t>::max();

// The rate a path allows a flow alone: its tightest link relative to the share it carries.
double alone_rate(const FlowPath& path, const std::vector<BytesPerSecond>& capacity) {
  double rate = std::numeric_limits<double>::infinity();
  for (std::size_t hop = 0; hop < path.links.size(); ++hop) {
    const double share = path.shares.empty() ? 1.0 : path.shares[hop];
    if (share > 0)
      rate = std::min(rate, capacity[static_cast<std::size_t>(path.links[hop])] / share);
  }
  return rate;
}

// Latency is not part of the key: a same-rail and a cross-rail route differ by two switch hops
// (under a microsecond), and splitting on it would keep every GPU's NIC its own constraint.
struct ClassKey {
  Bytes bytes;
  double alone;
  bool operator==(const ClassKey&) const = default;
};

// Class ids per pair (row-major, kNoClass where no bytes) with every pair anchored at its
// destination (`by_destination`) or its source; an empty vector when an anchor has too many.
// Anchor by anchor, so an anchor that classes badly is found after kMaxClassesPerAnchor + 1 of its
// pairs (a combine's destinations each see every source's own bytes); ids are renumbered later.
std::vector<std::uint32_t> class_ids(const ByteMatrix& bytes, const std::vector<double>& alone,
                                     bool by_destination, std::uint32_t& count) {
  const std::size_t gpus = bytes.size();
  std::vector<std::uint32_t> ids(gpus * gpus, kNoClass);
  std::vector<std::pair<ClassKey, std::uint32_t>> seen;
  count = 0;
  for (std::size_t anchor = 0; anchor < gpus; ++anchor) {
    seen.clear();
    std::size_t last = 0;  // index in `seen` of the class the previous pair fell in
    for (std::size_t other = 0; other < gpus; ++other) {
      const std::size_t s = by_destination ? other : anchor, d = by_destination ? anchor : other;
      if (s == d || bytes[s][d] <= 0) continue;
      const ClassKey key{bytes[s][d], alone[s * gpus + d]};
      // Neighbours in a scale-up domain send alike, so the last class met is the likely one;
      // keys in `seen` are distinct, so it is the one find_if would return.
      if (last != seen.size() && seen[last].first == key) {
        ids[s * gpus + d] = seen[last].second;
        continue;
      }
      const auto found = std::find_if(seen.begin(), seen.end(),
                                      [&](const auto& entry) { return entry.first == key; });
      if (found != seen.end()) {
        last = static_cast<std::size_t>(found - seen.begin());
        ids[s * gpus + d] = found->second;
        continue;
      }
      if (seen.size() >= kMaxClassesPerAnchor) return {};
      last = seen.size();
      seen.emplace_back(key, count);
      ids[s * gpus + d] = count++;
    }
  }
  return ids;
}

// The class's path: every member's hops added link by link, in the order first met.
void sum_member_paths(FlowClass& flow_class, const PathLookup& path,
                      std::vector<std::int32_t>& position, std::vector<std::uint32_t>& stamp,
                      std::uint32_t mark) {
  FlowPath& summed = flow_class.path;
  for (const GpuPair& pair : flow_class.members) {
    const FlowPath& member = path(pair.source, pair.destination).path;
    for (std::size_t hop = 0; hop < member.links.size(); ++hop) {
      const double share = member.shares.empty() ? 1.0 : member.shares[hop];
      if (share <= 0) continue;
      const auto link = static_cast<std::size_t>(member.links[hop]);
      if (stamp[link] != mark) {
        stamp[link] = mark;
        position[link] = static_cast<std::int32_t>(summed.links.size());
        summed.links.push_back(member.links[hop]);
        summed.shares.push_back(0.0);
      }
      summed.shares[static_cast<std::size_t>(position[link])] += share;
    }
  }
}

}  // namespace

std::vector<double> alone_rates(std::size_t gpus, const PathLookup& path,
                                const std::vector<BytesPerSecond>& capacity) {
  std::vector<double> alone(gpus * gpus, 0.0);
  for (std::size_t s = 0; s < gpus; ++s)
    for (std::size_t d = 0; d < gpus; ++d)
      if (s != d)
        alone[s * gpus + d] =
            alone_rate(path(static_cast<int>(s), static_cast<int>(d)).path, capacity);
  return alone;
}

PairPartition partition_pairs(const ByteMatrix& bytes, const std::vector<double>& alone) {
  validate_byte_matrix(bytes, bytes.size(), bytes.size(), "all-to-all bytes");
  const std::size_t gpus = bytes.size();
  std::uint32_t by_destination_count = 0, by_source_count = 0;  // classes under each anchor
  std::vector<std::uint32_t> ids = class_ids(bytes, alone, true, by_destination_count);
  std::vector<std::uint32_t> by_source = class_ids(bytes, alone, false, by_source_count);
  if (ids.empty() || (!by_source.empty() && by_source_count < by_destination_count)) {
    ids = std::move(by_source);
    by_destination_count = by_source_count;
  }
  if (ids.empty()) {  // neither anchor classes well: one class per pair
    ids.assign(gpus * gpus, kNoClass);
    by_destination_count = 0;
    for (std::size_t s = 0; s < gpus; ++s)
      for (std::size_t d = 0; d < gpus; ++d)
        if (s != d && bytes[s][d] > 0) ids[s * gpus + d] = by_destination_count++;
  }
  // Number classes in the order their first pair appears, whichever anchor made them.
  std::vector<std::uint32_t> order(by_destination_count, kNoClass);
  PairPartition partition;
  partition.class_of.assign(gpus * gpus, kNoPairClass);
  for (std::size_t pair = 0; pair < gpus * gpus; ++pair) {
    if (ids[pair] == kNoClass) continue;
    std::uint32_t& slot = order[ids[pair]];
    if (slot == kNoClass) slot = partition.classes++;
    partition.class_of[pair] = slot;
  }
  return partition;
}

std::vector<FlowClass> partition_classes(const PairPartition& partition, const ByteMatrix& bytes,
                                         const PathLookup& path, std::size_t link_count) {
  const std::size_t gpus = bytes.size();
  std::vector<FlowClass> classes(partition.classes);
  for (std::size_t pair = 0; pair < partition.class_of.size(); ++pair) {
    if (partition.class_of[pair] == kNoPairClass) continue;
    FlowClass& flow_class = classes[partition.class_of[pair]];
    const auto s = static_cast<int>(pair / gpus), d = static_cast<int>(pair % gpus);
    if (flow_class.members.empty()) flow_class.bytes = bytes[pair / gpus][pair % gpus];
    flow_class.members.push_back({s, d});
  }
  std::vector<std::int32_t> position(link_count, 0);
  std::vector<std::uint32_t> stamp(link_count, 0);
  for (std::size_t c = 0; c < classes.size(); ++c) {
    sum_member_paths(classes[c], path, position, stamp, static_cast<std::uint32_t>(c + 1));
    std::int64_t latency_ns = 0;
    for (const GpuPair& pair : classes[c].members)
      latency_ns += path(pair.source, pair.destination).latency.ns();
    const auto members = static_cast<std::int64_t>(classes[c].members.size());
    classes[c].latency = SimTime::from_ns((latency_ns + members / 2) / members);
  }
  return classes;
}

std::vector<FlowClass> classify_pairs(const ByteMatrix& bytes, const PathLookup& path,
                                      const std::vector<BytesPerSecond>& capacity) {
  validate_byte_matrix(bytes, bytes.size(), bytes.size(), "all-to-all bytes");
  const PairPartition partition = partition_pairs(bytes, alone_rates(bytes.size(), path, capacity));
  return partition_classes(partition, bytes, path, capacity.size());
}

AllToAllResult simulate_classed_all_to_all(const ByteMatrix& bytes, const PathLookup& path,
                                           const NetworkLinks& links,
                                           const AllToAllOptions& options) {
  return ClassedAllToAll().play(bytes, path, links, options);
}

}  // namespace moesim::sim

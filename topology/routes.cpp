#include "topology/routes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "topology/ecmp.hpp"

namespace moesim::topology {
namespace {

constexpr VertexId kNoVertex = static_cast<VertexId>(-1);

std::uint64_t pair_key(std::uint64_t a, std::uint64_t b) { return (a << 32) | b; }

bool scale_up_link(const LinkInfo& link) {
  return link.kind == LinkKind::Nvlink || link.kind == LinkKind::Xgmi;
}
bool pcie_link(const LinkInfo& link) { return link.kind == LinkKind::Pcie; }

bool intersects(const std::vector<VertexId>& a, const std::vector<VertexId>& b) {
  const auto& small = a.size() <= b.size() ? a : b;
  const auto& large = a.size() <= b.size() ? b : a;
  return std::any_of(small.begin(), small.end(),
                     [&](VertexId v) { return std::binary_search(large.begin(), large.end(), v); });
}

}  // namespace

int Route::hops() const {
  int total = 0;
  for (std::size_t i = 0; i < count_; ++i) total += segments_[i]->hops;
  return total;
}

Seconds Route::latency() const {
  Seconds total = 0;
  for (std::size_t i = 0; i < count_; ++i) total += segments_[i]->latency;
  return total;
}

BytesPerSecond Route::bottleneck() const {
  BytesPerSecond tightest = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (segments_[i]->links.empty()) continue;
    const BytesPerSecond rate = segments_[i]->bottleneck;
    tightest = tightest == 0 ? rate : std::min(tightest, rate);
  }
  return tightest;
}

Router::Router(const ClusterGraph& graph, RouteOptions options) : graph_(graph), options_(options) {
  const Graph& g = graph.graph();
  const auto gpus = graph.gpus();
  // Each node's NIC per rail, then each GPU's own NIC and the leaf that NIC is cabled to.
  std::vector<std::vector<VertexId>> rail_nic(static_cast<std::size_t>(graph.node_count()));
  for (VertexId v = 0; v < graph.vertex_count(); ++v) {
    const VertexInfo& info = g[v];
    if (info.kind != VertexKind::Nic || info.node < 0 || info.rail < 0) continue;
    auto& rails = rail_nic[static_cast<std::size_t>(info.node)];
    if (rails.size() <= static_cast<std::size_t>(info.rail))
      rails.resize(static_cast<std::size_t>(info.rail) + 1, kNoVertex);
    if (rails[static_cast<std::size_t>(info.rail)] == kNoVertex)
      rails[static_cast<std::size_t>(info.rail)] = v;
  }
  rail_peer_.resize(static_cast<std::size_t>(graph.node_count()));
  for (std::size_t rank = 0; rank < gpus.size(); ++rank) {
    const VertexInfo& info = g[gpus[rank]];
    VertexId nic = kNoVertex;
    VertexId leaf = kNoVertex;
    if (info.node >= 0 && info.rail >= 0) {
      const auto& rails = rail_nic[static_cast<std::size_t>(info.node)];
      if (static_cast<std::size_t>(info.rail) < rails.size())
        nic = rails[static_cast<std::size_t>(info.rail)];
      auto& peers = rail_peer_[static_cast<std::size_t>(info.node)];
      if (peers.size() <= static_cast<std::size_t>(info.rail))
        peers.resize(static_cast<std::size_t>(info.rail) + 1, kNoIndex);
      if (peers[static_cast<std::size_t>(info.rail)] == kNoIndex)
        peers[static_cast<std::size_t>(info.rail)] = static_cast<int>(rank);
    }
    if (nic != kNoVertex)
      for (const auto edge : boost::make_iterator_range(boost::out_edges(nic, g)))
        if (g[boost::target(edge, g)].kind == VertexKind::Leaf) {
          leaf = boost::target(edge, g);
          break;
        }
    nic_.push_back(nic);
    leaf_.push_back(leaf);
  }
  up_.resize(gpus.size());
  down_.resize(gpus.size());
  fabric_up_.resize(graph.vertex_count() * kFabricTiers);
  fabric_down_.resize(graph.vertex_count() * kFabricTiers);
  up_group_.assign(graph.vertex_count(), -1);
  down_group_.assign(graph.vertex_count(), -1);
}

VertexId Router::nic_of(int rank) const { return nic_[static_cast<std::size_t>(rank)]; }
VertexId Router::leaf_of(int rank) const { return leaf_[static_cast<std::size_t>(rank)]; }

const RouteSegment& Router::intra_domain(int source_rank, int destination_rank) {
  auto& slot = intra_[pair_key(static_cast<std::uint64_t>(source_rank),
                               static_cast<std::uint64_t>(destination_rank))];
  if (slot) return *slot;
  const Graph& g = graph_.graph();
  const VertexId from = graph_.gpus()[static_cast<std::size_t>(source_rank)];
  const VertexId to = graph_.gpus()[static_cast<std::size_t>(destination_rank)];
  const int domain = g[from].domain;
  // NVLink (or Infinity Fabric) when the domain has it; PCIe peer-to-peer otherwise.
  auto through_switch = [&](VertexId v) {
    return g[v].domain == domain && g[v].kind == VertexKind::NvSwitch;
  };
  auto through_pcie = [&](VertexId v) {
    return g[v].domain == domain &&
           (g[v].kind == VertexKind::PcieSwitch || g[v].kind == VertexKind::HostBridge);
  };
  auto segment = ecmp_segment(graph_, from, to, through_switch, scale_up_link);
  if (!segment) segment = ecmp_segment(graph_, from, to, through_pcie, pcie_link);
  if (!segment)
    throw std::runtime_error(
        fmt::format("no route inside domain {} from {} to {}", domain, g[from].name, g[to].name));
  slot = std::make_unique<RouteSegment>(std::move(*segment));
  return *slot;
}

std::optional<RouteSegment> Router::nic_segment(int rank, bool up) const {
  const VertexId nic = nic_of(rank);
  const VertexId leaf = leaf_of(rank);
  if (nic == kNoVertex || leaf == kNoVertex) return std::nullopt;
  const Graph& g = graph_.graph();
  const VertexId gpu = graph_.gpus()[static_cast<std::size_t>(rank)];
  const int node = g[gpu].node;
  auto in_node = [&](VertexId v) {
    return g[v].node == node &&
           (g[v].kind == VertexKind::PcieSwitch || g[v].kind == VertexKind::HostBridge);
  };
  // GPU -> PCIe -> NIC -> leaf going up; the mirror image coming down.
  const auto inside = up ? ecmp_segment(graph_, gpu, nic, in_node, pcie_link)
                         : ecmp_segment(graph_, nic, gpu, in_node, pcie_link);
  const auto [edge, cabled] = up ? boost::edge(nic, leaf, g) : boost::edge(leaf, nic, g);
  if (!inside || !cabled) return std::nullopt;
  RouteSegment wire;
  wire.hops = 1;
  wire.links.push_back({g[edge].index, 1.0});
  return up ? concatenate(graph_, *inside, wire) : concatenate(graph_, wire, *inside);
}

const RouteSegment* Router::cached_nic_segment(std::vector<std::unique_ptr<RouteSegment>>& cache,
                                               int rank, bool up) {
  auto& slot = cache[static_cast<std::size_t>(rank)];
  // An empty segment caches "no NIC on a fabric" so the search runs once per rank either way.
  if (!slot) slot = std::make_unique<RouteSegment>(nic_segment(rank, up).value_or(RouteSegment{}));
  return slot->links.empty() ? nullptr : slot.get();
}

const RouteSegment* Router::uplink(int rank) { return cached_nic_segment(up_, rank, true); }

const RouteSegment* Router::downlink(int rank) { return cached_nic_segment(down_, rank, false); }

const RouteSegment& Router::fabric_up(VertexId leaf, int tier) {
  auto& slot = fabric_up_[leaf * kFabricTiers + static_cast<std::size_t>(tier)];
  if (!slot) slot = std::make_unique<RouteSegment>(fabric_climb(graph_, leaf, tier, false));
  return *slot;
}

const RouteSegment& Router::fabric_down(VertexId leaf, int tier) {
  auto& slot = fabric_down_[leaf * kFabricTiers + static_cast<std::size_t>(tier)];
  if (!slot) slot = std::make_unique<RouteSegment>(fabric_climb(graph_, leaf, tier, true));
  return *slot;
}

int Router::spine_group(VertexId leaf, bool downward) {
  int& group = (downward ? down_group_ : up_group_)[leaf];
  if (group < 0) {
    const auto& top = (downward ? fabric_down(leaf, 1) : fabric_up(leaf, 1)).top;
    group = groups_.emplace(top, static_cast<int>(groups_.size())).first->second;
  }
  return group;
}

int Router::meeting_tier(VertexId from_leaf, VertexId to_leaf) {
  const auto key = pair_key(static_cast<std::uint64_t>(spine_group(from_leaf, false)),
                            static_cast<std::uint64_t>(spine_group(to_leaf, true)));
  if (const auto known = meeting_.find(key); known != meeting_.end()) return known->second;
  // Spines inside a pod, cores across pods; 0 when the two leaves share neither.
  int tier = 0;
  for (int candidate = 1; candidate < static_cast<int>(kFabricTiers) && tier == 0; ++candidate) {
    const auto& climb = fabric_up(from_leaf, candidate).top;
    const auto& descend = fabric_down(to_leaf, candidate).top;
    if (!climb.empty() && !descend.empty() && intersects(climb, descend)) tier = candidate;
  }
  meeting_.emplace(key, tier);
  return tier;
}

Route Router::route(int source_rank, int destination_rank) {
  const auto gpus = graph_.gpus();
  const auto count = static_cast<int>(gpus.size());
  if (source_rank < 0 || source_rank >= count || destination_rank < 0 || destination_rank >= count)
    throw std::out_of_range(
        fmt::format("GPU rank {} or {} outside [0, {})", source_rank, destination_rank, count));
  Route route;
  if (source_rank == destination_rank) return route;
  const Graph& g = graph_.graph();
  const VertexInfo& source = g[gpus[static_cast<std::size_t>(source_rank)]];
  const VertexInfo& destination = g[gpus[static_cast<std::size_t>(destination_rank)]];
  if (source.domain == destination.domain) {
    const RouteSegment& inside = intra_domain(source_rank, destination_rank);
    route.append(&inside);
    route.set_paths(inside.paths);
    return route;
  }
  // PXN: hand over to the peer on the destination's rail, which then sends on its own NIC.
  int sender = source_rank;
  if (options_.pxn && source.rail != destination.rail && source.node >= 0 &&
      destination.rail >= 0) {
    const auto& peers = rail_peer_[static_cast<std::size_t>(source.node)];
    if (static_cast<std::size_t>(destination.rail) < peers.size() &&
        peers[static_cast<std::size_t>(destination.rail)] != kNoIndex) {
      const int peer = peers[static_cast<std::size_t>(destination.rail)];
      if (g[gpus[static_cast<std::size_t>(peer)]].domain == source.domain) {
        route.append(&intra_domain(source_rank, peer));
        sender = peer;
      }
    }
  }
  const RouteSegment* up = uplink(sender);
  const RouteSegment* down = downlink(destination_rank);
  if (up == nullptr || down == nullptr)
    throw std::runtime_error(fmt::format(
        "no route from {} to {}: {} has no NIC on a fabric", source.name, destination.name,
        up == nullptr ? g[gpus[static_cast<std::size_t>(sender)]].name : destination.name));
  route.append(up);
  double paths = route.segments().empty() ? 1.0 : route.segments().front()->paths;
  const VertexId from_leaf = leaf_of(sender);
  const VertexId to_leaf = leaf_of(destination_rank);
  if (from_leaf != to_leaf) {
    // Climb to the lowest tier both leaves reach: spines inside a pod, cores across pods.
    const int tier = meeting_tier(from_leaf, to_leaf);
    if (tier > 0) {
      const RouteSegment& climb = fabric_up(from_leaf, tier);
      const RouteSegment& descend = fabric_down(to_leaf, tier);
      route.append(&climb);
      route.append(&descend);
      // Symmetric trees: every top switch is reached over climb.paths / |top| paths.
      paths *= climb.paths * descend.paths / static_cast<double>(climb.top.size());
    } else
      throw std::runtime_error(
          fmt::format("no route from {} to {}: their leaves share no spine "
                      "or core",
                      source.name, destination.name));
  }
  route.append(down);
  route.set_paths(paths);
  return route;
}

std::size_t Router::cached_segments() const {
  std::size_t total = intra_.size();
  for (const auto* table : {&up_, &down_, &fabric_up_, &fabric_down_})
    for (const auto& slot : *table) total += slot ? 1 : 0;
  return total;
}

std::size_t Router::memory_bytes() const {
  auto segment_bytes = [](const std::unique_ptr<RouteSegment>& slot) -> std::size_t {
    if (!slot) return sizeof(slot);
    return sizeof(slot) + sizeof(RouteSegment) + slot->links.capacity() * sizeof(LinkShare) +
           slot->top.capacity() * sizeof(VertexId);
  };
  std::size_t bytes = sizeof(*this) + (nic_.capacity() + leaf_.capacity()) * sizeof(VertexId);
  for (const auto* table : {&up_, &down_, &fabric_up_, &fabric_down_})
    for (const auto& slot : *table) bytes += segment_bytes(slot);
  for (const auto& [key, slot] : intra_)
    bytes += sizeof(key) + 2 * sizeof(void*) + segment_bytes(slot);
  bytes += (up_group_.capacity() + down_group_.capacity()) * sizeof(int) +
           meeting_.size() * (sizeof(std::uint64_t) + sizeof(int) + 2 * sizeof(void*));
  for (const auto& [top, group] : groups_) bytes += top.capacity() * sizeof(VertexId) + 64;
  return bytes;
}

}  // namespace moesim::topology

#include "topology/cluster_graph.hpp"

#include <algorithm>
#include <array>

namespace moesim::topology {
namespace {

constexpr std::array<std::string_view, 8> kVertexKindNames = {
    "gpu", "nvswitch", "pcie_switch", "host_bridge", "nic", "leaf", "spine", "core"};
constexpr std::array<std::string_view, 6> kLinkKindNames = {"nvlink", "pcie",     "ib",
                                                            "roce",   "ethernet", "xgmi"};

}  // namespace

std::string_view vertex_kind_name(VertexKind kind) {
  return kVertexKindNames[static_cast<std::size_t>(kind)];
}

std::string_view link_kind_name(LinkKind kind) {
  return kLinkKindNames[static_cast<std::size_t>(kind)];
}

std::optional<VertexKind> parse_vertex_kind(std::string_view name) {
  for (std::size_t i = 0; i < kVertexKindNames.size(); ++i)
    if (kVertexKindNames[i] == name) return static_cast<VertexKind>(i);
  return std::nullopt;
}

std::optional<LinkKind> parse_link_kind(std::string_view name) {
  for (std::size_t i = 0; i < kLinkKindNames.size(); ++i)
    if (kLinkKindNames[i] == name) return static_cast<LinkKind>(i);
  return std::nullopt;
}

std::span<const std::string_view> vertex_kind_names() { return kVertexKindNames; }
std::span<const std::string_view> link_kind_names() { return kLinkKindNames; }

int fabric_tier(VertexKind kind) {
  switch (kind) {
    case VertexKind::Leaf:
      return 0;
    case VertexKind::Spine:
      return 1;
    case VertexKind::Core:
      return 2;
    default:
      return -1;
  }
}

ClusterGraph::ClusterGraph(const ClusterGraph& other)
    : name_(other.name_),
      description_(other.description_),
      graph_(other.graph_),
      gpus_(other.gpus_),
      gpu_rank_(other.gpu_rank_),
      node_count_(other.node_count_),
      domain_count_(other.domain_count_) {
  reindex_links();
}

ClusterGraph::ClusterGraph(ClusterGraph&& other) noexcept
    : name_(std::move(other.name_)),
      description_(std::move(other.description_)),
      graph_(std::move(other.graph_)),
      gpus_(std::move(other.gpus_)),
      gpu_rank_(std::move(other.gpu_rank_)),
      node_count_(other.node_count_),
      domain_count_(other.domain_count_) {
  reindex_links();
}

ClusterGraph& ClusterGraph::operator=(const ClusterGraph& other) {
  if (this != &other) *this = ClusterGraph(other);
  return *this;
}

ClusterGraph& ClusterGraph::operator=(ClusterGraph&& other) noexcept {
  if (this == &other) return *this;
  name_ = std::move(other.name_);
  description_ = std::move(other.description_);
  graph_ = std::move(other.graph_);
  gpus_ = std::move(other.gpus_);
  gpu_rank_ = std::move(other.gpu_rank_);
  node_count_ = other.node_count_;
  domain_count_ = other.domain_count_;
  reindex_links();
  return *this;
}

void ClusterGraph::reindex_links() {
  links_.assign(boost::num_edges(graph_), EdgeId{});
  for (const auto edge : boost::make_iterator_range(boost::edges(graph_)))
    links_[static_cast<std::size_t>(graph_[edge].index)] = edge;
}

VertexId ClusterGraph::add_vertex(VertexInfo info) {
  const bool gpu = info.kind == VertexKind::Gpu;
  node_count_ = std::max(node_count_, info.node + 1);
  if (gpu) domain_count_ = std::max(domain_count_, info.domain + 1);
  const VertexId id = boost::add_vertex(std::move(info), graph_);
  gpu_rank_.push_back(gpu ? static_cast<int>(gpus_.size()) : kNoIndex);
  if (gpu) gpus_.push_back(id);
  return id;
}

LinkId ClusterGraph::add_link(VertexId from, VertexId to, BytesPerSecond bandwidth, Seconds latency,
                              LinkKind kind) {
  const auto index = static_cast<LinkId>(links_.size());
  const auto [edge, added] =
      boost::add_edge(from, to, LinkInfo{bandwidth, latency, kind, index}, graph_);
  (void)added;  // parallel edges are allowed (vecS out-edge lists)
  links_.push_back(edge);
  return index;
}

void ClusterGraph::add_duplex(VertexId a, VertexId b, BytesPerSecond bandwidth, Seconds latency,
                              LinkKind kind) {
  add_link(a, b, bandwidth, latency, kind);
  add_link(b, a, bandwidth, latency, kind);
}

VertexId ClusterGraph::link_source(LinkId id) const {
  return boost::source(links_[static_cast<std::size_t>(id)], graph_);
}

VertexId ClusterGraph::link_target(LinkId id) const {
  return boost::target(links_[static_cast<std::size_t>(id)], graph_);
}

int ClusterGraph::gpu_rank(VertexId id) const {
  return id < gpu_rank_.size() ? gpu_rank_[id] : kNoIndex;
}

std::optional<VertexId> ClusterGraph::find_vertex(std::string_view name) const {
  for (VertexId v = 0; v < vertex_count(); ++v)
    if (graph_[v].name == name) return v;
  return std::nullopt;
}

std::size_t ClusterGraph::count(VertexKind kind) const {
  std::size_t total = 0;
  for (VertexId v = 0; v < vertex_count(); ++v) total += graph_[v].kind == kind ? 1 : 0;
  return total;
}

std::size_t ClusterGraph::count(LinkKind kind) const {
  std::size_t total = 0;
  for (const auto& edge : links_) total += graph_[edge].kind == kind ? 1 : 0;
  return total;
}

int ClusterGraph::tiers() const {
  int highest = -1;
  for (VertexId v = 0; v < vertex_count(); ++v)
    highest = std::max(highest, fabric_tier(graph_[v].kind));
  return highest + 1;
}

std::size_t ClusterGraph::memory_bytes() const {
  // Per vertex: the stored property, its out- and in-edge lists' headers and the rank slot; per
  // edge: the edge list node, one out- and one in-edge entry and our index entry.
  std::size_t bytes = 0;
  for (VertexId v = 0; v < vertex_count(); ++v) {
    bytes += sizeof(VertexInfo) + 2 * sizeof(std::vector<int>) + sizeof(int);
    if (graph_[v].name.size() >= 16) bytes += graph_[v].name.capacity() + 1;
  }
  const std::size_t per_edge =
      sizeof(LinkInfo) + 3 * sizeof(void*) + 4 * sizeof(void*) + sizeof(EdgeId);
  bytes += links_.size() * per_edge + gpus_.size() * sizeof(VertexId);
  return bytes;
}

}  // namespace moesim::topology

#pragma once
// The cluster as a directed graph on Boost.Graph: GPUs, NVSwitch domains, PCIe switches, host
// bridges, NICs and leaf/spine/core switches; each direction of a cable is its own edge with its
// own capacity. Builders (cluster_builders.hpp) and the JSON reader (topology_json.hpp) fill it.
#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.hpp"

namespace moesim::topology {

enum class VertexKind { Gpu, NvSwitch, PcieSwitch, HostBridge, Nic, Leaf, Spine, Core };
// Xgmi is AMD Infinity Fabric between MI300X GPUs (no switch in between).
enum class LinkKind { Nvlink, Pcie, Ib, Roce, Ethernet, Xgmi };

std::string_view vertex_kind_name(VertexKind kind);
std::string_view link_kind_name(LinkKind kind);
std::optional<VertexKind> parse_vertex_kind(std::string_view name);
std::optional<LinkKind> parse_link_kind(std::string_view name);
std::span<const std::string_view> vertex_kind_names();
std::span<const std::string_view> link_kind_names();

// Fabric tier of a switch kind: leaf 0, spine 1, core 2; -1 for everything inside a node.
int fabric_tier(VertexKind kind);

inline constexpr int kNoIndex = -1;

struct VertexInfo {
  VertexKind kind = VertexKind::Gpu;
  std::string name;
  int node = kNoIndex;    // host the vertex sits in (GPUs, NICs, in-node switches)
  int domain = kNoIndex;  // scale-up (NVLink) domain of a GPU; a node unless the system spans more
  int rail = kNoIndex;    // NIC rail; for a GPU, the rail of its own NIC; for a leaf, its rail
  int pod = kNoIndex;     // leaf/spine pod in a three-tier fabric
};

struct LinkInfo {
  BytesPerSecond bandwidth = 0;
  Seconds latency = 0;
  LinkKind kind = LinkKind::Pcie;
  int index = 0;  // position in ClusterGraph::links(), stable for the graph's lifetime
};

using Graph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexInfo, LinkInfo>;
using VertexId = Graph::vertex_descriptor;
using EdgeId = Graph::edge_descriptor;
using LinkId = int;

// A graph plus dense indices of its GPUs and links, which queries use as array positions.
class ClusterGraph {
 public:
  ClusterGraph() = default;
  explicit ClusterGraph(std::string name) : name_(std::move(name)) {}
  // Edge descriptors point into the graph's own storage: copies and moves re-index them.
  ClusterGraph(const ClusterGraph& other);
  ClusterGraph(ClusterGraph&& other) noexcept;
  ClusterGraph& operator=(const ClusterGraph& other);
  ClusterGraph& operator=(ClusterGraph&& other) noexcept;
  ~ClusterGraph() = default;

  VertexId add_vertex(VertexInfo info);
  // One direction of a cable.
  LinkId add_link(VertexId from, VertexId to, BytesPerSecond bandwidth, Seconds latency,
                  LinkKind kind);
  // Both directions, same figures.
  void add_duplex(VertexId a, VertexId b, BytesPerSecond bandwidth, Seconds latency, LinkKind kind);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::string& description() const { return description_; }
  void set_description(std::string text) { description_ = std::move(text); }

  const Graph& graph() const { return graph_; }
  std::size_t vertex_count() const { return boost::num_vertices(graph_); }
  std::size_t link_count() const { return links_.size(); }
  const VertexInfo& vertex(VertexId id) const { return graph_[id]; }
  const LinkInfo& link(LinkId id) const { return graph_[links_[static_cast<std::size_t>(id)]]; }
  VertexId link_source(LinkId id) const;
  VertexId link_target(LinkId id) const;
  // GPUs in the order they were added: GPU rank r is gpus()[r].
  std::span<const VertexId> gpus() const { return gpus_; }
  int gpu_rank(VertexId id) const;  // kNoIndex when not a GPU
  std::optional<VertexId> find_vertex(std::string_view name) const;
  std::size_t count(VertexKind kind) const;
  std::size_t count(LinkKind kind) const;
  int node_count() const { return node_count_; }
  int domain_count() const { return domain_count_; }
  int tiers() const;  // switch tiers of the fabric: 0 (none), 1 (leaf only), 2 or 3
  // Rough heap footprint of the graph, for benchmarks.
  std::size_t memory_bytes() const;

 private:
  void reindex_links();

  std::string name_;
  std::string description_;
  Graph graph_;
  std::vector<EdgeId> links_;
  std::vector<VertexId> gpus_;
  std::vector<int> gpu_rank_;  // by vertex
  int node_count_ = 0;
  int domain_count_ = 0;
};

}  // namespace moesim::topology

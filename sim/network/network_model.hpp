#pragma once
// The all-to-all collectives of a MoE layer played as flows over the cluster's real topology
// (topology/ builds the graph and routes; sim/all_to_all.* shares links max-min fairly). One EP
// group is simulated; every group replays the same routing.
#include <memory>
#include <string>
#include <vector>

#include "sim/network/all_to_all.hpp"
#include "sim/network/link_groups.hpp"
#include "sim/spec/scenario.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/routes.hpp"

namespace moesim::sim {

class ClassedAllToAll;
class HierarchicalAllToAll;

// A link the all-to-alls load, one direction: a graph link under the flow model; a GPU's
// scale-up port or NIC share under the analytic model (the links that model prices).
struct CostedLink {
  std::string name;
  std::string kind;     // "nvlink", "pcie", "ib", "roce", ...
  double capacity = 0;  // bytes/s, line rate
};

// Clusters up to this size play every EP group's all-to-all at once under the flow model; larger
// ones play the first group (flows grow with groups x EP^2).
inline constexpr int kFlowAllGroupsMaxGpus = 64;

// Completions within 1% of a flow's transfer time are batched into one re-solve: DeepSeek-V3 on
// 256 GPUs takes 127 re-solves a collective instead of 513, with the same collective times
// (docs/network-model.md; the bound is tested in tests/sim/network/completion_tolerance_test.cpp).
inline constexpr double kFlowCompletionTolerance = 1e-2;

struct CollectiveTiming {
  double time = 0;                 // seconds, the slowest GPU
  std::vector<double> gpu_time;    // per GPU of the EP group: when its sends and receives end
  double scale_up_bytes = 0;       // GPU-to-GPU bytes off the fabric, each counted once
  double scale_out_bytes = 0;      // bytes on NIC-to-fabric links (counted once, at injection)
  std::vector<double> link_bytes;  // by graph link id
};

// The scenario's cluster as a graph: its topology file, or the preset built out; throws
// ConfigError for a cluster it cannot build. The flow model plays on it; the GUI draws it.
topology::ClusterGraph scenario_cluster_graph(const ScenarioSpec& scenario);

// MoE TP's ring traffic of the played EP groups on the graph's links (bytes by link id) and, per
// EP group as the all-to-all's bytes count, what stays inside a domain and what crosses the
// fabric.
struct MoeTpRingBytes {
  std::vector<double> link_bytes;
  double scale_up_bytes = 0;
  double scale_out_bytes = 0;
};

// The kind of link a node system's scale-up fabric is made of.
topology::LinkKind scale_up_link_kind(topology::ScaleUpKind kind);

class NetworkModel {
 public:
  // Builds the cluster graph of the scenario; throws ConfigError for a cluster it cannot build.
  explicit NetworkModel(const ScenarioSpec& scenario, double fixed_cost_seconds);
  ~NetworkModel();
  NetworkModel(NetworkModel&&) noexcept;
  NetworkModel& operator=(NetworkModel&&) noexcept;
  // bytes[s][d] between ranks s and d of an EP group, played on every group at once when the
  // cluster has at most kFlowAllGroupsMaxGpus GPUs, else on the first (GPUs 0 .. ep-1). Under
  // hierarchical dispatch `fabric_leg` may give the deduplicated [source][domain] RDMA bytes.
  // Not thread-safe: it keeps the flow classes of earlier collectives (classed_all_to_all.hpp).
  // `scale_up_efficiency` > 0 replaces the efficiency of the system's scale-up links (NVLink, xGMI,
  // or PCIe on a PCIe-only node) for this collective (the measured NCCL curve at its size).
  CollectiveTiming all_to_all(const ByteMatrix& bytes, const ByteMatrix& fabric_leg = {},
                              double scale_up_efficiency = 0) const;
  // Every graph link by id, named "from -> to", for link-utilisation reports.
  std::vector<CostedLink> costed_links() const;
  const topology::ClusterGraph& graph() const { return *graph_; }
  // EP groups played per collective: all of them, or the first on clusters over the limit.
  int played_groups() const { return played_groups_; }
  // A MoE TP all-gather or reduce-scatter on the played GPUs' rings, each GPU sending
  // `bytes_per_hop` to its group's next shard: where those bytes go. Its time comes from the
  // group's price (group_collectives.hpp); the ring runs alone between the all-to-alls.
  MoeTpRingBytes moe_tp_ring_bytes(double bytes_per_hop) const;

 private:
  void place_moe_tp_rings(const ScenarioSpec& s, const std::vector<std::vector<int>>& groups);

  std::unique_ptr<topology::ClusterGraph> graph_;
  std::unique_ptr<topology::Router> router_;
  NetworkLinks links_;
  AllToAllOptions options_;
  // Links that constrain the same flows alike, solved as one (link_groups.hpp); paths_ run over
  // the groups, whose kind is IB where a member is a fabric link and scale_up_kind_ elsewhere.
  LinkGroups groups_;
  std::vector<topology::LinkKind> group_kind_;
  std::vector<std::vector<RoutedPath>> paths_;  // [source GPU][destination rank in its group]
  topology::LinkKind scale_up_kind_ = topology::LinkKind::Nvlink;
  std::unique_ptr<ClassedAllToAll> classed_;            // mutable state behind a const interface
  std::unique_ptr<HierarchicalAllToAll> hierarchical_;  // the same, for hierarchical dispatch
  int ep_ = 0;
  int played_groups_ = 1;
  std::vector<double> moe_tp_ring_links_;  // ring hops over each graph link (ECMP shares)
  double moe_tp_ring_scale_up_ = 0;        // hops inside a domain, per EP group
  double moe_tp_ring_scale_out_ = 0;       // hops over the fabric, per EP group
};

}  // namespace moesim::sim

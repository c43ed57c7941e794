#pragma once
// Topology files: a cluster graph as JSON (schema_version 1), for systems no builder describes.
//
//   {"schema_version": 1, "name": "two-gpus", "description": "...",
//    "vertices": [{"id": "n0.gpu0", "kind": "gpu", "node": 0, "domain": 0, "rail": 0}, ...],
//    "links": [{"from": "n0.gpu0", "to": "sw", "kind": "nvlink", "bandwidth_gb_per_s": 450,
//               "latency_us": 0.5, "duplex": true}, ...]}
//
// Validation names every problem with its JSON path: dangling link ends, non-positive bandwidth,
// duplicate ids, GPUs that cannot reach each other. See docs/topology.md.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "topology/cluster_graph.hpp"

namespace moesim::topology {

inline constexpr int kTopologySchemaVersion = 1;

// Throws ConfigError naming `source` and every problem found.
ClusterGraph parse_topology(std::string_view text, const std::string& source);
ClusterGraph load_topology_file(const std::string& path);

// Links with a reverse twin of the same figures are written once with "duplex": true.
nlohmann::json topology_to_json(const ClusterGraph& graph);

}  // namespace moesim::topology

#pragma once
// A report's link loads (sim::LinkLoad) laid onto the scenario's cluster graph, for drawing. The
// flow model names graph links ("n0.nic0 -> leaf0") and maps one to one; the analytic model names
// each GPU's ports ("gpu3 nvlink out", "gpu3 nic in"), which colour that GPU's scale-up links and
// its NIC's fabric links in that direction. No Qt.
#include <string>
#include <vector>

#include "sim/run/run_result.hpp"
#include "topology/cluster_graph.hpp"

namespace moesim::gui {

enum class LinkPhase { Step, Dispatch, Combine };

// Utilisation of every graph link (by LinkId) in `phase`; a link no load names stays 0. Where
// several ports land on one link (GPUs sharing a NIC) the link takes the largest.
std::vector<double> graph_link_utilisation(const topology::ClusterGraph& graph,
                                           const std::vector<sim::LinkLoad>& loads,
                                           LinkPhase phase);

// The graph link with the highest utilisation (ties: the lowest id), or -1 when all are 0.
int busiest_graph_link(const std::vector<double>& utilisation);

// "n0.gpu3 -> d0.nvswitch".
std::string graph_link_name(const topology::ClusterGraph& graph, topology::LinkId link);

}  // namespace moesim::gui

#include "sim/network/all_to_all.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/network/flow_network.hpp"
#include "sim/network/hierarchical_legs.hpp"

namespace moesim::sim {

void validate_byte_matrix(const ByteMatrix& matrix, std::size_t rows, std::size_t columns,
                          const std::string& name) {
  if (matrix.size() != rows)
    throw std::invalid_argument(name + ": expected " + std::to_string(rows) + " rows, got " +
                                std::to_string(matrix.size()));
  for (std::size_t row = 0; row < rows; ++row) validate_byte_row(matrix, row, columns, name);
}

void validate_byte_row(const ByteMatrix& matrix, std::size_t row, std::size_t columns,
                       const std::string& name) {
  if (matrix[row].size() != columns)
    throw std::invalid_argument(name + "[" + std::to_string(row) + "]: expected " +
                                std::to_string(columns) + " entries, got " +
                                std::to_string(matrix[row].size()));
  // A branch-free pass over the row first (it vectorises); the search only on a bad row.
  const auto bad = [](double bytes) {
    return !((bytes >= 0) & (bytes < std::numeric_limits<double>::infinity()));
  };
  bool row_bad = false;
  for (const double bytes : matrix[row]) row_bad |= bad(bytes);
  if (!row_bad) return;
  const auto column = static_cast<std::size_t>(
      std::find_if(matrix[row].begin(), matrix[row].end(), bad) - matrix[row].begin());
  throw std::invalid_argument(name + "[" + std::to_string(row) + "][" + std::to_string(column) +
                              "]: bytes must be finite and >= 0");
}

namespace {

// A flow and the GPU pairs whose completion waits on it.
struct PairLeg {
  int source;
  int destination;
  FlowId flow;
};

}  // namespace

bool stays_inside(const FlowPath& path, const NetworkLinks& links) {
  if (links.kind.empty()) return true;
  return std::none_of(path.links.begin(), path.links.end(), [&](LinkId link) {
    return is_scale_out_kind(links.kind[static_cast<std::size_t>(link)]);
  });
}

bool is_scale_out_kind(topology::LinkKind kind) {
  return kind == topology::LinkKind::Ib || kind == topology::LinkKind::Roce ||
         kind == topology::LinkKind::Ethernet;
}

std::vector<BytesPerSecond> effective_capacity(
    const NetworkLinks& links, const std::map<topology::LinkKind, double>& efficiency) {
  if (!links.kind.empty() && links.kind.size() != links.capacity.size())
    throw std::invalid_argument("all-to-all: link kinds and capacities differ in length");
  for (const auto& [kind, share] : efficiency)
    if (!(share > 0 && share <= 1))
      throw std::invalid_argument("all-to-all: efficiency of " +
                                  std::string(topology::link_kind_name(kind)) +
                                  " must be in (0, 1]");
  std::vector<BytesPerSecond> capacity = links.capacity;
  if (links.kind.empty()) return capacity;
  for (std::size_t link = 0; link < capacity.size(); ++link)
    if (const auto found = efficiency.find(links.kind[link]); found != efficiency.end())
      capacity[link] *= found->second;
  return capacity;
}

void validate_all_to_all(const ByteMatrix& bytes, const AllToAllOptions& options) {
  const std::size_t gpus = bytes.size();
  validate_byte_matrix(bytes, gpus, gpus, "all-to-all bytes");
  const int per_node = options.gpus_per_node;
  if (options.hierarchical) {
    if (per_node <= 0 || static_cast<int>(gpus) % per_node != 0)
      throw std::invalid_argument("all-to-all: hierarchical needs gpus_per_node dividing " +
                                  std::to_string(gpus) + " GPUs");
    if (!options.node_bytes.empty())
      validate_byte_matrix(options.node_bytes, gpus, gpus / static_cast<std::size_t>(per_node),
                           "all-to-all node_bytes");
  }
  if (options.fixed_cost < SimTime::zero())
    throw std::invalid_argument("all-to-all: negative fixed cost");
}

AllToAllResult simulate_all_to_all(const ByteMatrix& bytes, const PathFunction& path,
                                   const NetworkLinks& links, const AllToAllOptions& options) {
  validate_all_to_all(bytes, options);
  const std::size_t gpus = bytes.size();
  const int gpu_count = static_cast<int>(gpus);

  EventQueue queue;
  FlowNetwork network(queue, effective_capacity(links, options.efficiency),
                      FlowNetworkOptions{options.completion_tolerance});
  std::vector<PairLeg> legs;
  Bytes scale_up_bytes = 0;
  const auto add_routed = [&](RoutedPath route, Bytes size, SimTime extra_latency) {
    if (stays_inside(route.path, links)) scale_up_bytes += size;
    return network.add_flow(std::move(route.path), size,
                            options.fixed_cost + extra_latency + route.latency);
  };
  const auto add = [&](int source, int destination, Bytes size, SimTime extra_latency) {
    return add_routed(path(source, destination), size, extra_latency);
  };
  const auto entry = [&](int source, int destination) {
    return bytes[static_cast<std::size_t>(source)][static_cast<std::size_t>(destination)];
  };

  if (!options.hierarchical) {
    for (int source = 0; source < gpu_count; ++source)
      for (int destination = 0; destination < gpu_count; ++destination)
        if (source != destination && entry(source, destination) > 0)
          legs.push_back({source, destination,
                          add(source, destination, entry(source, destination), SimTime::zero())});
  } else {
    const HierarchicalLegs hierarchical = hierarchical_legs(
        bytes, options,
        [&](int source, int destination) { return path(source, destination).latency; });
    std::vector<FlowId> flow_of;
    flow_of.reserve(hierarchical.flows.size());
    for (const LegFlow& flow : hierarchical.flows)
      flow_of.push_back(add(flow.source, flow.destination, flow.bytes, flow.wait));
    for (const PairWait& wait : hierarchical.waits)
      legs.push_back({wait.source, wait.destination, flow_of[wait.flow]});
  }

  queue.run();

  AllToAllResult result;
  result.send_done.assign(gpus, options.fixed_cost);
  result.receive_done.assign(gpus, options.fixed_cost);
  for (const PairLeg& leg : legs) {
    const SimTime finish = network.finish_time(leg.flow);
    auto& sent = result.send_done[static_cast<std::size_t>(leg.source)];
    auto& received = result.receive_done[static_cast<std::size_t>(leg.destination)];
    sent = std::max(sent, finish);
    received = std::max(received, finish);
  }
  result.time = options.fixed_cost;
  for (std::size_t gpu = 0; gpu < gpus; ++gpu)
    result.time = std::max({result.time, result.send_done[gpu], result.receive_done[gpu]});
  result.link_bytes = network.link_bytes();
  result.scale_up_bytes = scale_up_bytes;
  result.flows = network.flow_count();
  result.solves = network.solve_count();
  return result;
}

}  // namespace moesim::sim

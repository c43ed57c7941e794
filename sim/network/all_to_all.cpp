#include "sim/network/all_to_all.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/network/flow_network.hpp"

namespace moesim::sim {

void validate_byte_matrix(const ByteMatrix& matrix, std::size_t rows, std::size_t columns,
                          const std::string& name) {
  if (matrix.size() != rows)
    throw std::invalid_argument(name + ": expected " + std::to_string(rows) + " rows, got " +
                                std::to_string(matrix.size()));
  for (std::size_t row = 0; row < rows; ++row) {
    if (matrix[row].size() != columns)
      throw std::invalid_argument(name + "[" + std::to_string(row) + "]: expected " +
                                  std::to_string(columns) + " entries, got " +
                                  std::to_string(matrix[row].size()));
    for (std::size_t column = 0; column < columns; ++column)
      if (!(matrix[row][column] >= 0) || std::isinf(matrix[row][column]))
        throw std::invalid_argument(name + "[" + std::to_string(row) + "][" +
                                    std::to_string(column) + "]: bytes must be finite and >= 0");
  }
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

AllToAllResult simulate_all_to_all(const ByteMatrix& bytes, const PathFunction& path,
                                   const NetworkLinks& links, const AllToAllOptions& options) {
  const std::size_t gpus = bytes.size();
  validate_byte_matrix(bytes, gpus, gpus, "all-to-all bytes");
  const int gpu_count = static_cast<int>(gpus);
  const int per_node = options.gpus_per_node;
  if (options.hierarchical) {
    if (per_node <= 0 || gpu_count % per_node != 0)
      throw std::invalid_argument("all-to-all: hierarchical needs gpus_per_node dividing " +
                                  std::to_string(gpus) + " GPUs");
    if (!options.node_bytes.empty())
      validate_byte_matrix(options.node_bytes, gpus, gpus / static_cast<std::size_t>(per_node),
                           "all-to-all node_bytes");
  }
  if (options.fixed_cost < SimTime::zero())
    throw std::invalid_argument("all-to-all: negative fixed cost");

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
    const int nodes = gpu_count / per_node;
    // Forwarding on the destination node, one flow per (relay, destination): bytes from every
    // source that shares the relay travel as one stream.
    ByteMatrix forward(gpus, std::vector<Bytes>(gpus, 0.0));
    std::vector<std::vector<SimTime>> forward_wait(gpus, std::vector<SimTime>(gpus));
    std::vector<std::pair<int, std::size_t>> waits_on_forward;  // (leg index, relay * gpus + dst)
    for (int source = 0; source < gpu_count; ++source) {
      const int home = source / per_node;
      for (int node = 0; node < nodes; ++node) {
        const int first = node * per_node;
        if (node == home) {  // inside the node: straight over NVLink
          for (int destination = first; destination < first + per_node; ++destination)
            if (destination != source && entry(source, destination) > 0)
              legs.push_back(
                  {source, destination,
                   add(source, destination, entry(source, destination), SimTime::zero())});
          continue;
        }
        const int relay = first + source % per_node;
        Bytes rdma = 0;
        for (int destination = first; destination < first + per_node; ++destination)
          rdma += entry(source, destination);
        if (!options.node_bytes.empty())
          rdma =
              options.node_bytes[static_cast<std::size_t>(source)][static_cast<std::size_t>(node)];
        if (rdma <= 0) continue;
        RoutedPath rdma_route = path(source, relay);
        const SimTime rdma_latency = rdma_route.latency;
        const FlowId rdma_flow = add_routed(std::move(rdma_route), rdma, SimTime::zero());
        // Deduplicated bytes with no per-GPU entries still occupy the sender until delivered.
        if (std::all_of(bytes[static_cast<std::size_t>(source)].begin() + first,
                        bytes[static_cast<std::size_t>(source)].begin() + first + per_node,
                        [](Bytes size) { return size <= 0; }))
          legs.push_back({source, relay, rdma_flow});
        for (int destination = first; destination < first + per_node; ++destination) {
          if (entry(source, destination) <= 0) continue;
          legs.push_back({source, destination, rdma_flow});
          if (destination == relay) continue;
          const auto r = static_cast<std::size_t>(relay), d = static_cast<std::size_t>(destination);
          forward[r][d] += entry(source, destination);
          // The first chunk reaches the relay after the RDMA leg's latency.
          forward_wait[r][d] = std::max(forward_wait[r][d], rdma_latency);
          waits_on_forward.emplace_back(static_cast<int>(legs.size() - 1), r * gpus + d);
        }
      }
    }
    std::vector<FlowId> forward_flow(gpus * gpus, 0);
    for (std::size_t relay = 0; relay < gpus; ++relay)
      for (std::size_t destination = 0; destination < gpus; ++destination)
        if (forward[relay][destination] > 0)
          forward_flow[relay * gpus + destination] =
              add(static_cast<int>(relay), static_cast<int>(destination),
                  forward[relay][destination], forward_wait[relay][destination]);
    // A pair waiting on a forward leg gets a second entry: its done time is the later of both.
    for (const auto& [leg, key] : waits_on_forward) {
      PairLeg second = legs[static_cast<std::size_t>(leg)];
      second.flow = forward_flow[key];
      legs.push_back(second);
    }
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

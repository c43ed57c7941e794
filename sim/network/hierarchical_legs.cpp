#include "sim/network/hierarchical_legs.hpp"

#include <algorithm>

namespace moesim::sim {

namespace {

// Forward legs accumulate over sources before they become flows: bytes and the wait per
// (relay, destination), and which pair waits find their forward flow once it exists.
struct ForwardTable {
  explicit ForwardTable(std::size_t gpu_count)
      : gpus(gpu_count), bytes(gpu_count * gpu_count, 0.0), wait(gpu_count * gpu_count) {}
  std::size_t gpus;
  std::vector<Bytes> bytes;
  std::vector<SimTime> wait;
  std::vector<std::pair<std::size_t, std::size_t>> pending;  // (wait index, relay * gpus + dst)
};

// Source's bytes for the GPUs of another node: one fabric flow to the relay on the sender's rail.
void add_remote_node(const ByteMatrix& bytes, const AllToAllOptions& options,
                     const std::function<SimTime(int, int)>& latency, int source, int node,
                     HierarchicalLegs& legs, ForwardTable& forward) {
  const int per_node = options.gpus_per_node, first = node * per_node;
  const int relay = first + source % per_node;
  const auto& row = bytes[static_cast<std::size_t>(source)];
  Bytes rdma = 0;
  for (int destination = first; destination < first + per_node; ++destination)
    rdma += row[static_cast<std::size_t>(destination)];
  if (!options.node_bytes.empty())
    rdma = options.node_bytes[static_cast<std::size_t>(source)][static_cast<std::size_t>(node)];
  if (rdma <= 0) return;
  const auto rdma_flow = static_cast<std::uint32_t>(legs.flows.size());
  legs.flows.push_back({LegKind::Fabric, source, relay, rdma, SimTime::zero()});
  const SimTime rdma_latency = latency(source, relay);
  // Deduplicated bytes with no per-GPU entries still occupy the sender until delivered.
  if (std::all_of(row.begin() + first, row.begin() + first + per_node,
                  [](Bytes size) { return size <= 0; }))
    legs.waits.push_back({source, relay, rdma_flow});
  for (int destination = first; destination < first + per_node; ++destination) {
    const Bytes entry = row[static_cast<std::size_t>(destination)];
    if (entry <= 0) continue;
    legs.waits.push_back({source, destination, rdma_flow});
    if (destination == relay) continue;
    const std::size_t key =
        static_cast<std::size_t>(relay) * forward.gpus + static_cast<std::size_t>(destination);
    forward.bytes[key] += entry;
    // The first chunk reaches the relay after the fabric leg's latency.
    forward.wait[key] = std::max(forward.wait[key], rdma_latency);
    forward.pending.emplace_back(legs.waits.size() - 1, key);
  }
}

}  // namespace

HierarchicalLegs hierarchical_legs(const ByteMatrix& bytes, const AllToAllOptions& options,
                                   const std::function<SimTime(int, int)>& latency) {
  const std::size_t gpus = bytes.size();
  const int gpu_count = static_cast<int>(gpus), per_node = options.gpus_per_node;
  const int nodes = gpu_count / per_node;
  HierarchicalLegs legs;
  ForwardTable forward(gpus);
  for (int source = 0; source < gpu_count; ++source) {
    const int home = source / per_node;
    for (int node = 0; node < nodes; ++node) {
      if (node != home) {
        add_remote_node(bytes, options, latency, source, node, legs, forward);
        continue;
      }
      for (int destination = node * per_node; destination < (node + 1) * per_node; ++destination) {
        const Bytes entry =
            bytes[static_cast<std::size_t>(source)][static_cast<std::size_t>(destination)];
        if (destination == source || entry <= 0) continue;
        legs.waits.push_back({source, destination, static_cast<std::uint32_t>(legs.flows.size())});
        legs.flows.push_back({LegKind::Local, source, destination, entry, SimTime::zero()});
      }
    }
  }
  // Forwarding on the destination node, one flow per (relay, destination): bytes from every
  // source that shares the relay travel as one stream.
  std::vector<std::uint32_t> forward_flow(gpus * gpus, 0);
  for (std::size_t key = 0; key < gpus * gpus; ++key)
    if (forward.bytes[key] > 0) {
      forward_flow[key] = static_cast<std::uint32_t>(legs.flows.size());
      legs.flows.push_back({LegKind::Forward, static_cast<int>(key / gpus),
                            static_cast<int>(key % gpus), forward.bytes[key], forward.wait[key]});
    }
  // A pair waiting on a forward leg gets a second wait: its done time is the later of both.
  for (const auto& [wait, key] : forward.pending) {
    PairWait second = legs.waits[wait];
    second.flow = forward_flow[key];
    legs.waits.push_back(second);
  }
  return legs;
}

}  // namespace moesim::sim

#pragma once
// One all-to-all collective (MoE dispatch or combine) played on the fluid flow network: one flow
// per (source, destination) GPU pair with bytes to send, all starting together, sharing links
// max-min fairly. Token deduplication is the caller's: it shapes the byte matrix (and, for the
// hierarchical mode, the per-node matrix). See docs/network-model.md.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/engine/event_queue.hpp"
#include "sim/network/flow_network.hpp"
#include "sim/network/max_min.hpp"
#include "topology/cluster_graph.hpp"

namespace moesim::sim {

// [source GPU][destination GPU] bytes; square. The diagonal (a GPU's tokens for its own
// experts) is a local copy and moves over no link.
using ByteMatrix = std::vector<std::vector<Bytes>>;

// The links a message from one GPU to another crosses, and the latency before its bytes flow.
struct RoutedPath {
  FlowPath path;
  SimTime latency;
};
using PathFunction = std::function<RoutedPath(int source, int destination)>;

// The links as the collective sees them, by link id.
struct NetworkLinks {
  std::vector<BytesPerSecond> capacity;  // line rate, one direction
  std::vector<topology::LinkKind> kind;  // empty: every link efficiency 1
};

struct AllToAllOptions {
  // Share of line rate a protocol delivers per link kind (e.g. NCCL over IB ~0.8-0.9); a link
  // carries capacity * efficiency. A kind not listed keeps its full line rate.
  std::map<topology::LinkKind, double> efficiency;
  // FlowNetworkOptions::completion_tolerance: 0 is exact; 1e-3 batches completions within 0.1%
  // of a flow's transfer time, which bounds the cost of skewed matrices (docs/network-model.md).
  double completion_tolerance = 0;
  // Fixed cost of the collective (launch, handshake) before any byte moves; from the profile.
  SimTime fixed_cost;

  // DeepEP-style two-stage dispatch. Bytes from GPU s for a GPU d on another node first cross the
  // fabric to the relay: the GPU on d's node with s's local index (same rail, so the RDMA leg
  // stays on one rail), which forwards them to d over NVLink. The two legs are pipelined (chunks
  // stream through the relay), so a pair is done when the later of its two legs is done.
  // GPU g sits on node g / gpus_per_node at local index g % gpus_per_node.
  bool hierarchical = false;
  int gpus_per_node = 0;
  // Optional [source GPU][destination node] bytes of the RDMA leg, after deduplication (a token
  // crosses the fabric once per destination node however many of its experts live there).
  // Empty: the sum of the byte matrix over the node's GPUs (no deduplication).
  ByteMatrix node_bytes;
};

struct AllToAllResult {
  // From the start of the collective. A GPU with nothing to send (receive) is done at fixed_cost;
  // SimTime::max() where a flow never finishes (a zero-capacity link on its path).
  std::vector<SimTime> send_done;
  std::vector<SimTime> receive_done;
  SimTime time;                   // the collective: the slowest GPU gates it
  std::vector<Bytes> link_bytes;  // by link id, for link utilisation: bytes / (capacity * time)
  // Bytes of the flows whose route crosses no scale-out link (is_scale_out_kind): GPU-to-GPU
  // traffic inside a node or scale-up domain (NVLink, xGMI or PCIe), each byte once however many
  // links its route crosses (GPU -> NVSwitch -> GPU is two). Hierarchical forwarding legs count;
  // RDMA legs do not. Links without kinds count as scale-up.
  Bytes scale_up_bytes = 0;
  std::size_t flows = 0;
  std::size_t solves = 0;  // rate re-solves: the cost of the simulation
};

// IB, RoCE and Ethernet: the fabric between nodes, as opposed to the links inside a node.
bool is_scale_out_kind(topology::LinkKind kind);

// Whether a route stays off the fabric: it crosses no scale-out link (true when `links` has no
// kinds).
bool stays_inside(const FlowPath& path, const NetworkLinks& links);

// Throws std::invalid_argument naming `name`, the row and the column for a matrix that is not
// rows x columns or holds a negative or non-finite entry.
void validate_byte_matrix(const ByteMatrix& matrix, std::size_t rows, std::size_t columns,
                          const std::string& name);
// The same checks on one row, for a caller that reads the matrix row by row anyway: checking each
// row just before reading it, in row order, throws what validate_byte_matrix would.
void validate_byte_row(const ByteMatrix& matrix, std::size_t row, std::size_t columns,
                       const std::string& name);

// Throws std::invalid_argument for a matrix that is not square or has negative or non-finite
// entries, links whose vectors disagree, or hierarchical options that do not fit the matrix.
AllToAllResult simulate_all_to_all(const ByteMatrix& bytes, const PathFunction& path,
                                   const NetworkLinks& links, const AllToAllOptions& options = {});

// The capacities a flow network should use: capacity * efficiency of each link's kind.
std::vector<BytesPerSecond> effective_capacity(
    const NetworkLinks& links, const std::map<topology::LinkKind, double>& efficiency);

}  // namespace moesim::sim

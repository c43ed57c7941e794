#pragma once
// Where one EP group's token copies go in a MoE all-to-all, from expected loads: which replica of
// an expert each copy picks (the scenario's replica choice), and the tokens each hop carries under
// direct or hierarchical (DeepEP) dispatch, with or without token deduplication.
//
// Every GPU of a scale-up domain sends the same mix (sources are spread evenly over the group), so
// the traffic is one row of destination shares per source domain: domains x GPUs, not GPUs^2.
#include <vector>

#include "sim/network/all_to_all.hpp"
#include "sim/placement/placement.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

struct DispatchTraffic {
  int gpus = 0;
  int domain_size = 0;  // GPUs per scale-up domain within the group (the last may be partial)
  int domains = 0;
  int top_k = 1;
  double tokens_per_gpu = 0;  // tokens each GPU routes (per micro-batch)
  // share[n][g]: of the copies a GPU in domain n sends, the share bound for GPU g (rows sum to 1).
  std::vector<std::vector<double>> share;
  // local_tokens[g]: token copies each expert slot of GPU g computes, in slot order.
  std::vector<std::vector<double>> local_tokens;
  std::vector<double> received;  // copies per GPU: the sum of its local_tokens
  // Group-limited routing (DeepSeek's n_group / topk_group): each token picks topk_groups of the
  // expert groups and its top_k experts inside them. group_share[n][q][g]: the part of share[n][g]
  // that belongs to experts of group q. Empty when routing is not group-limited.
  int topk_groups = 1;
  std::vector<std::vector<std::vector<double>>> group_share;
  std::vector<std::vector<double>> group_total;  // [n][q]: group q's share of domain n's copies

  int domain_of(int gpu) const { return gpu / domain_size; }
  int members(int domain) const;
  // Tokens, per token a GPU of `domain` routes, bound for GPUs [first, first + count): top_k x
  // their share of its copies, or with deduplication those with at least one copy there
  // (tokens_for_share; under a group limit, a token reaches them only through its chosen groups).
  double tokens_to(int domain, int first, int count, bool dedup) const;
};

// DeepSeek-style group-limited routing: experts in `groups` equal groups by index, each token
// choosing `chosen` of them. {1, 1} (or chosen >= groups) is no limit.
struct GroupLimit {
  int groups = 1;
  int chosen = 1;
};

// `load` holds copies per logical expert over the EP group (sums to tokens_per_gpu x top_k x GPUs
// unless tokens were dropped). Round-robin splits each expert evenly over its replicas;
// same-node-first keeps a copy in the sender's scale-up domain when a replica lives there;
// least-loaded fills replicas so the GPUs' totals level (water-filling, heaviest expert first).
DispatchTraffic plan_dispatch(const Placement& placement, const std::vector<double>& load,
                              ReplicaChoice choice, int domain_size, double tokens_per_gpu,
                              int top_k, GroupLimit limit = {});

// Copies each GPU computes under a replica choice (plan_dispatch's `received`): what `moesim place`
// prints and what the imbalance of a placement is under that choice.
std::vector<double> replica_gpu_loads(const Placement& placement, const std::vector<double>& load,
                                      ReplicaChoice choice, int domain_size);

// Tokens one GPU sends to one destination (GPU or domain) that receives `share` of its copies:
// top_k x share copies, or with deduplication the expected tokens with at least one copy there,
// 1 - (1 - share)^top_k (copies treated as independent draws; exact for top-1).
double tokens_for_share(double share, int top_k, bool dedup);

// With deduplication under a group limit: a token that picks `chosen` groups reaches group q's
// part of the destination with probability pi_q = min(1, chosen x p_q) (p_q: group q's share of
// the copies; the inclusion probability of sampling groups without replacement) and, once q is
// chosen, with 1 - (1 - f_q)^(top_k / chosen) (f_q: the destination's share of q's copies).
// Groups taken as independent: 1 - prod_q (1 - pi_q (1 - (1 - f_q)^(top_k / chosen))).
// With one group and chosen = 1 it is tokens_for_share(share, top_k, true).
double grouped_tokens_for_share(const std::vector<double>& group_copies,
                                const std::vector<double>& group_to_destination, int top_k,
                                int chosen);

// Per-GPU tokens on each hop of one all-to-all (dispatch direction; the combine mirrors it).
struct HopTokens {
  std::vector<double> send_intra, receive_intra;  // scale-up (NVLink, PCIe) port
  std::vector<double> send_inter, receive_inter;  // NIC
};
HopTokens hop_tokens(const DispatchTraffic& traffic, DispatchKind dispatch, bool dedup);

// The same traffic as matrices for the flow model: [source][destination GPU] and, hierarchical,
// the fabric leg's [source][destination domain] (AllToAllOptions::node_bytes).
ByteMatrix gpu_byte_matrix(const DispatchTraffic& traffic, bool dedup, double bytes_per_token);
ByteMatrix domain_byte_matrix(const DispatchTraffic& traffic, bool dedup, double bytes_per_token);

}  // namespace moesim::sim

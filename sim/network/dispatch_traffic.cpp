#include "sim/network/dispatch_traffic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace moesim::sim {
namespace {

// Splits `amount` over GPUs with these current totals so the lowest rise to one level first
// (water-filling); returns each GPU's part, in the order given.
std::vector<double> water_fill(const std::vector<double>& current, double amount) {
  std::vector<std::size_t> order(current.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return current[a] < current[b]; });
  // Raise the k lowest to the (k+1)-th until the amount runs out.
  double level = current[order[0]], left = amount;
  std::size_t filled = 1;
  while (filled < order.size()) {
    const double step = (current[order[filled]] - level) * static_cast<double>(filled);
    if (step >= left) break;
    left -= step;
    level = current[order[filled]];
    ++filled;
  }
  level += left / static_cast<double>(filled);
  std::vector<double> parts(current.size(), 0.0);
  for (std::size_t i = 0; i < filled; ++i) parts[order[i]] = level - current[order[i]];
  return parts;
}

// split[e][i]: the share of expert e's copies from a sender in `domain` that replica i takes.
std::vector<std::vector<double>> replica_split(const Placement& p, const std::vector<double>& load,
                                               ReplicaChoice choice, const DispatchTraffic& t,
                                               int domain) {
  std::vector<std::vector<double>> split(p.replicas.size());
  for (std::size_t e = 0; e < p.replicas.size(); ++e) {
    const auto& replicas = p.replicas[e];
    split[e].assign(replicas.size(), 1.0 / static_cast<double>(replicas.size()));
    if (choice != ReplicaChoice::SameNodeFirst) continue;
    const auto near = std::count_if(replicas.begin(), replicas.end(),
                                    [&](int g) { return t.domain_of(g) == domain; });
    if (near == 0) continue;
    for (std::size_t i = 0; i < replicas.size(); ++i)
      split[e][i] = t.domain_of(replicas[i]) == domain ? 1.0 / static_cast<double>(near) : 0.0;
  }
  if (choice == ReplicaChoice::LeastLoaded) {
    // Experts with one replica have no choice and go first; then replicated experts, heaviest
    // first, each filling its least-loaded replicas (as per-token picks of the least-loaded
    // replica converge to). Every sender picks alike.
    std::vector<std::size_t> order(load.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const bool single_a = p.replicas[a].size() == 1, single_b = p.replicas[b].size() == 1;
      return single_a != single_b ? single_a : load[a] > load[b];
    });
    std::vector<double> gpu_total(static_cast<std::size_t>(p.gpus), 0.0);
    for (std::size_t e : order) {
      const auto& replicas = p.replicas[e];
      if (load[e] <= 0 || replicas.size() == 1) {
        gpu_total[static_cast<std::size_t>(replicas.front())] += load[e];
        continue;
      }
      std::vector<double> current;
      for (int g : replicas) current.push_back(gpu_total[static_cast<std::size_t>(g)]);
      const auto parts = water_fill(current, load[e]);
      for (std::size_t i = 0; i < replicas.size(); ++i) {
        gpu_total[static_cast<std::size_t>(replicas[i])] += parts[i];
        split[e][i] = parts[i] / load[e];
      }
    }
  }
  return split;
}

// Fills group_share and group_total from the split of copies plan_dispatch made.
void split_by_group(DispatchTraffic& t, const Placement& p,
                    const std::vector<std::vector<std::vector<double>>>& part_of,
                    GroupLimit limit) {
  const auto groups = static_cast<std::size_t>(limit.groups);
  const std::size_t per_group = p.replicas.size() / groups;
  t.topk_groups = limit.chosen;
  t.group_share.assign(static_cast<std::size_t>(t.domains),
                       std::vector<std::vector<double>>(
                           groups, std::vector<double>(static_cast<std::size_t>(t.gpus), 0.0)));
  t.group_total.assign(static_cast<std::size_t>(t.domains), std::vector<double>(groups, 0.0));
  for (std::size_t n = 0; n < t.group_share.size(); ++n)
    for (std::size_t e = 0; e < p.replicas.size(); ++e)
      for (std::size_t i = 0; i < p.replicas[e].size(); ++i) {
        const auto g = static_cast<std::size_t>(p.replicas[e][i]);
        t.group_share[n][e / per_group][g] += part_of[n][e][i];
        t.group_total[n][e / per_group] += part_of[n][e][i];
      }
}

}  // namespace

int DispatchTraffic::members(int domain) const {
  return std::min(domain_size, gpus - domain * domain_size);
}

double DispatchTraffic::tokens_to(int domain, int first, int count, bool dedup) const {
  const auto n = static_cast<std::size_t>(domain);
  const auto begin = static_cast<std::size_t>(first), end = begin + static_cast<std::size_t>(count);
  double part = 0;
  for (std::size_t g = begin; g < end; ++g) part += share[n][g];
  if (!dedup || group_share.empty()) return tokens_for_share(part, top_k, dedup);
  std::vector<double> to_destination(group_total[n].size(), 0.0);
  for (std::size_t q = 0; q < to_destination.size(); ++q)
    for (std::size_t g = begin; g < end; ++g) to_destination[q] += group_share[n][q][g];
  return grouped_tokens_for_share(group_total[n], to_destination, top_k, topk_groups);
}

DispatchTraffic plan_dispatch(const Placement& p, const std::vector<double>& load,
                              ReplicaChoice choice, int domain_size, double tokens_per_gpu,
                              int top_k, GroupLimit limit) {
  DispatchTraffic t;
  t.gpus = p.gpus;
  t.domain_size = std::clamp(domain_size, 1, std::max(1, p.gpus));
  t.domains = (t.gpus + t.domain_size - 1) / t.domain_size;
  t.top_k = top_k;
  t.tokens_per_gpu = tokens_per_gpu;
  const double total = std::accumulate(load.begin(), load.end(), 0.0);
  t.share.assign(static_cast<std::size_t>(t.domains),
                 std::vector<double>(static_cast<std::size_t>(t.gpus), 0.0));
  t.received.assign(static_cast<std::size_t>(t.gpus), 0.0);
  t.local_tokens.assign(static_cast<std::size_t>(t.gpus), {});
  for (int g = 0; g < t.gpus; ++g)
    t.local_tokens[static_cast<std::size_t>(g)].assign(p.slots[static_cast<std::size_t>(g)].size(),
                                                       0.0);
  // Only same-node-first makes a sender's domain matter; the others share one split.
  const int distinct = choice == ReplicaChoice::SameNodeFirst ? t.domains : 1;
  const bool grouped = limit.chosen < limit.groups;
  if (grouped && (limit.chosen < 1 || load.size() % static_cast<std::size_t>(limit.groups) != 0))
    throw std::invalid_argument("plan_dispatch: expert groups must divide the experts");
  // part_of[n][e][i]: share of domain n's copies bound for replica i of expert e (grouped only).
  std::vector<std::vector<std::vector<double>>> part_of(grouped ? t.domains : 0);
  std::vector<std::vector<double>> split;
  for (int n = 0; n < t.domains; ++n) {
    if (n < distinct) split = replica_split(p, load, choice, t, n);
    if (grouped) part_of[static_cast<std::size_t>(n)].resize(p.replicas.size());
    // The copies this domain's senders route, in the load's units.
    const double domain_part = total * t.members(n) / static_cast<double>(t.gpus);
    for (std::size_t e = 0; e < p.replicas.size(); ++e) {
      const double expert_share = total > 0 ? load[e] / total : 0.0;
      for (std::size_t i = 0; i < p.replicas[e].size(); ++i) {
        const int g = p.replicas[e][i];
        const double part = expert_share * split[e][i];
        t.share[static_cast<std::size_t>(n)][static_cast<std::size_t>(g)] += part;
        if (grouped) part_of[static_cast<std::size_t>(n)][e].push_back(part);
        const auto& slots = p.slots[static_cast<std::size_t>(g)];
        const auto slot = static_cast<std::size_t>(
            std::find(slots.begin(), slots.end(), static_cast<int>(e)) - slots.begin());
        t.local_tokens[static_cast<std::size_t>(g)][slot] += domain_part * part;
      }
    }
  }
  for (int g = 0; g < t.gpus; ++g) {
    const auto& tokens = t.local_tokens[static_cast<std::size_t>(g)];
    t.received[static_cast<std::size_t>(g)] = std::accumulate(tokens.begin(), tokens.end(), 0.0);
  }
  if (grouped) split_by_group(t, p, part_of, limit);
  return t;
}

std::vector<double> replica_gpu_loads(const Placement& placement, const std::vector<double>& load,
                                      ReplicaChoice choice, int domain_size) {
  // The split of copies over replicas depends on shares only, not on the token count.
  return plan_dispatch(placement, load, choice, domain_size, 1.0, 1).received;
}

double tokens_for_share(double share, int top_k, bool dedup) {
  if (!dedup) return top_k * share;
  return 1.0 - std::pow(1.0 - std::clamp(share, 0.0, 1.0), top_k);
}

double grouped_tokens_for_share(const std::vector<double>& group_copies,
                                const std::vector<double>& group_to_destination, int top_k,
                                int chosen) {
  const double per_group = static_cast<double>(top_k) / chosen;  // copies in each chosen group
  double miss = 1;
  for (std::size_t q = 0; q < group_copies.size(); ++q) {
    if (group_copies[q] <= 0) continue;
    const double picked = std::min(1.0, chosen * group_copies[q]);
    const double there = std::clamp(group_to_destination[q] / group_copies[q], 0.0, 1.0);
    miss *= 1 - picked * (1 - std::pow(1 - there, per_group));
  }
  return 1 - miss;
}

HopTokens hop_tokens(const DispatchTraffic& t, DispatchKind dispatch, bool dedup) {
  const auto gpus = static_cast<std::size_t>(t.gpus);
  HopTokens h{std::vector<double>(gpus, 0.0), std::vector<double>(gpus, 0.0),
              std::vector<double>(gpus, 0.0), std::vector<double>(gpus, 0.0)};
  const double T = t.tokens_per_gpu;
  const auto f = [&](int domain, int gpu) { return T * t.tokens_to(domain, gpu, 1, dedup); };
  // Tokens a GPU of domain m sends to every GPU of domain n (before any forwarding).
  std::vector<std::vector<double>> to_domain(
      static_cast<std::size_t>(t.domains),
      std::vector<double>(static_cast<std::size_t>(t.domains), 0.0));
  for (int m = 0; m < t.domains; ++m)
    for (int g = 0; g < t.gpus; ++g)
      to_domain[static_cast<std::size_t>(m)][static_cast<std::size_t>(t.domain_of(g))] += f(m, g);
  // Deduplicated per domain: a token crosses to domain n once (the fabric leg).
  const auto once_to = [&](int from, int domain) {
    return T * t.tokens_to(from, domain * t.domain_size, t.members(domain), true);
  };
  const bool hierarchical = dispatch == DispatchKind::Hierarchical && t.domains > 1;
  for (int g = 0; g < t.gpus; ++g) {
    const int n = t.domain_of(g);
    const auto gi = static_cast<std::size_t>(g);
    // Inside the domain: straight over the scale-up fabric either way.
    h.send_intra[gi] =
        to_domain[static_cast<std::size_t>(n)][static_cast<std::size_t>(n)] - f(n, g);
    h.receive_intra[gi] = (t.members(n) - 1) * f(n, g);
    for (int m = 0; m < t.domains; ++m) {
      if (m == n) continue;
      const auto ni = static_cast<std::size_t>(n), mi = static_cast<std::size_t>(m);
      if (!hierarchical) {
        h.send_inter[gi] += to_domain[ni][mi];
        h.receive_inter[gi] += t.members(m) * f(m, g);
        continue;
      }
      // Hierarchical (domains all full): one fabric leg per (sender, domain) to the same-rail
      // relay, deduplicated per domain when asked; the relay forwards each GPU's part.
      h.send_inter[gi] += dedup ? once_to(n, m) : to_domain[ni][mi];
      h.receive_inter[gi] += dedup ? once_to(m, n) : to_domain[mi][ni];
      // As relay for m's sender on its rail: forward to the other GPUs of this domain.
      h.send_intra[gi] += to_domain[mi][ni] - f(m, g);
      // As destination: every sender of m off this GPU's rail arrives through another relay.
      h.receive_intra[gi] += (t.members(m) - 1) * f(m, g);
    }
  }
  return h;
}

ByteMatrix gpu_byte_matrix(const DispatchTraffic& t, bool dedup, double bytes_per_token) {
  const auto gpus = static_cast<std::size_t>(t.gpus);
  // Every GPU of a domain sends the same mix: one row of tokens per domain.
  std::vector<std::vector<double>> tokens(static_cast<std::size_t>(t.domains),
                                          std::vector<double>(gpus, 0.0));
  for (int n = 0; n < t.domains; ++n)
    for (int d = 0; d < t.gpus; ++d)
      tokens[static_cast<std::size_t>(n)][static_cast<std::size_t>(d)] =
          t.tokens_to(n, d, 1, dedup);
  ByteMatrix bytes(gpus, std::vector<Bytes>(gpus, 0.0));
  for (int s = 0; s < t.gpus; ++s) {
    const auto& row = tokens[static_cast<std::size_t>(t.domain_of(s))];
    auto& out = bytes[static_cast<std::size_t>(s)];
    // The whole row, then the diagonal back to 0: a loop without a test vectorises.
    for (std::size_t d = 0; d < gpus; ++d) out[d] = t.tokens_per_gpu * row[d] * bytes_per_token;
    out[static_cast<std::size_t>(s)] = 0.0;
  }
  return bytes;
}

ByteMatrix domain_byte_matrix(const DispatchTraffic& t, bool dedup, double bytes_per_token) {
  ByteMatrix bytes(static_cast<std::size_t>(t.gpus),
                   std::vector<Bytes>(static_cast<std::size_t>(t.domains), 0.0));
  for (int s = 0; s < t.gpus; ++s)
    for (int n = 0; n < t.domains; ++n)
      if (n != t.domain_of(s))
        bytes[static_cast<std::size_t>(s)][static_cast<std::size_t>(n)] =
            t.tokens_per_gpu * t.tokens_to(t.domain_of(s), n * t.domain_size, t.members(n), dedup) *
            bytes_per_token;
  return bytes;
}

}  // namespace moesim::sim

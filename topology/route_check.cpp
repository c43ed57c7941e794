#include "topology/route_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "topology/routes.hpp"

namespace moesim::topology {
namespace {

constexpr std::size_t kMaxReported = 20;

// The two ways Router::intra_domain goes: NVSwitches over scale-up links, else PCIe switches and
// host bridges over PCIe links; a GPU never relays.
enum class WayInside { ScaleUp, Pcie };

bool usable_inside(WayInside way, const LinkInfo& link) {
  return way == WayInside::ScaleUp ? link.kind == LinkKind::Nvlink || link.kind == LinkKind::Xgmi
                                   : link.kind == LinkKind::Pcie;
}

bool transit_inside(WayInside way, const VertexInfo& vertex, int domain) {
  if (vertex.domain != domain) return false;
  return way == WayInside::ScaleUp
             ? vertex.kind == VertexKind::NvSwitch
             : vertex.kind == VertexKind::PcieSwitch || vertex.kind == VertexKind::HostBridge;
}

// Which GPUs of one domain each GPU reaches inside it. GPUs entering the switches through the same
// transit vertices reach the same GPUs, so one search serves them all (every GPU of a star).
class DomainReach {
 public:
  DomainReach(const ClusterGraph& graph, int domain, const std::vector<int>& ranks)
      : graph_(graph), domain_(domain), ranks_(ranks) {
    for (std::size_t local = 0; local < ranks.size(); ++local)
      local_of_.emplace(graph.gpus()[static_cast<std::size_t>(ranks[local])], local);
  }

  // A GPU of the domain that `local` cannot reach, or nullopt when it reaches them all.
  std::optional<std::size_t> first_unreached(std::size_t local) {
    const Reach& up = reach(WayInside::ScaleUp, local);
    const Reach& pcie = reach(WayInside::Pcie, local);
    const std::size_t others = ranks_.size() - 1;
    for (const Reach* r : {&up, &pcie})
      if (r->count - (r->mask[local] ? 1 : 0) == others) return std::nullopt;
    // Neither way reaches every GPU: add the GPUs linked to directly, then look for one missed.
    std::vector<char> reached(ranks_.size(), 0);
    const Graph& g = graph_.graph();
    for (const auto edge : boost::make_iterator_range(boost::out_edges(gpu_of(local), g)))
      if (const auto it = local_of_.find(boost::target(edge, g));
          it != local_of_.end() &&
          (usable_inside(WayInside::ScaleUp, g[edge]) || usable_inside(WayInside::Pcie, g[edge])))
        reached[it->second] = 1;
    for (std::size_t other = 0; other < ranks_.size(); ++other)
      if (other != local && !reached[other] && !up.mask[other] && !pcie.mask[other]) return other;
    return std::nullopt;
  }

 private:
  struct Reach {
    std::vector<char> mask;  // by local index
    std::size_t count = 0;
  };

  VertexId gpu_of(std::size_t local) const {
    return graph_.gpus()[static_cast<std::size_t>(ranks_[local])];
  }

  const Reach& reach(WayInside way, std::size_t local) {
    const Graph& g = graph_.graph();
    std::vector<VertexId> entries;
    for (const auto edge : boost::make_iterator_range(boost::out_edges(gpu_of(local), g)))
      if (usable_inside(way, g[edge]) && transit_inside(way, g[boost::target(edge, g)], domain_))
        entries.push_back(boost::target(edge, g));
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    auto& memo = memo_[static_cast<int>(way)];
    // Bounded memory when nearly every GPU has its own way in: recompute rather than hoard masks.
    if (memo.size() * ranks_.size() > (std::size_t{1} << 26)) memo.clear();
    auto [slot, fresh] = memo.try_emplace(entries);
    if (fresh) slot->second = search(way, entries);
    return slot->second;
  }

  // A search from the entry switches through transit vertices; every GPU of the domain a
  // usable link leads to from one of them is reached.
  Reach search(WayInside way, const std::vector<VertexId>& entries) const {
    const Graph& g = graph_.graph();
    Reach result{std::vector<char>(ranks_.size(), 0), 0};
    std::set<VertexId> seen(entries.begin(), entries.end());
    std::vector<VertexId> stack(entries.begin(), entries.end());
    while (!stack.empty()) {
      const VertexId v = stack.back();
      stack.pop_back();
      for (const auto edge : boost::make_iterator_range(boost::out_edges(v, g))) {
        if (!usable_inside(way, g[edge])) continue;
        const VertexId w = boost::target(edge, g);
        if (const auto it = local_of_.find(w); it != local_of_.end()) {
          if (!result.mask[it->second]) result.mask[it->second] = 1, ++result.count;
        } else if (transit_inside(way, g[w], domain_) && seen.insert(w).second) {
          stack.push_back(w);
        }
      }
    }
    return result;
  }

  const ClusterGraph& graph_;
  int domain_;
  const std::vector<int>& ranks_;
  std::unordered_map<VertexId, std::size_t> local_of_;
  std::map<std::vector<VertexId>, Reach> memo_[2];
};

// Asks the Router for a pair's route once, and records its own words when there is none.
class RouteAttempts {
 public:
  RouteAttempts(const ClusterGraph& graph, std::span<const std::size_t> vertex_entry,
                ProblemList& problems)
      : router_(graph), graph_(graph), vertex_entry_(vertex_entry), problems_(problems) {}

  void operator()(int a, int b) {
    if (problems_.problems().size() >= kMaxReported || !attempted_.emplace(a, b).second) return;
    try {
      router_.route(a, b);
    } catch (const std::runtime_error& error) {
      const VertexId gpu = graph_.gpus()[static_cast<std::size_t>(a)];
      problems_.add(fmt::format("/vertices/{}", vertex_entry_[gpu]), error.what());
    }
  }
  Router& router() { return router_; }

 private:
  Router router_;
  const ClusterGraph& graph_;
  std::span<const std::size_t> vertex_entry_;
  ProblemList& problems_;
  std::set<std::pair<int, int>> attempted_;
};

using DomainRanks = std::map<int, std::vector<int>>;  // domain -> its GPU ranks

// Across domains: each GPU's way out and in (to and from a GPU of another domain), then pairs of
// leaves. Leaves cabled to the same switches above route alike, so GPUs behind two leaves of each
// such class stand for all (two, so leaves of one class that share no switch are caught too).
void check_across_domains(const ClusterGraph& graph, const DomainRanks& domains,
                          RouteAttempts& attempt) {
  const auto gpus = graph.gpus();
  const Graph& g = graph.graph();
  const auto domain_of = [&](int rank) { return g[gpus[static_cast<std::size_t>(rank)]].domain; };
  const int first = domains.begin()->second.front();
  const int second = std::next(domains.begin())->second.front();
  std::map<std::vector<VertexId>, std::vector<std::pair<VertexId, int>>> leaf_classes;
  for (int r = 0; r < static_cast<int>(gpus.size()); ++r) {
    const int other = domain_of(r) == domain_of(first) ? second : first;
    attempt(r, other);
    attempt(other, r);
    const RouteSegment* up = attempt.router().uplink(r);
    if (up == nullptr) continue;
    const VertexId leaf = graph.link_target(up->links.back().link);
    std::vector<VertexId> above;
    for (const auto edge : boost::make_iterator_range(boost::out_edges(leaf, g)))
      if (fabric_tier(g[boost::target(edge, g)].kind) > 0) above.push_back(boost::target(edge, g));
    std::sort(above.begin(), above.end());
    auto& members = leaf_classes[above];
    if (members.size() < 2 && (members.empty() || members.front().first != leaf))
      members.emplace_back(leaf, r);
  }
  std::vector<int> representatives;
  for (const auto& [above, members] : leaf_classes)
    for (const auto& [leaf, rank] : members) representatives.push_back(rank);
  for (const int a : representatives)
    for (const int b : representatives)
      if (domain_of(a) != domain_of(b)) attempt(a, b);
}

}  // namespace

void check_routes(const ClusterGraph& graph, std::span<const std::size_t> vertex_entry,
                  ProblemList& problems) {
  const auto gpus = graph.gpus();
  RouteAttempts attempt(graph, vertex_entry, problems);
  DomainRanks domains;
  for (std::size_t rank = 0; rank < gpus.size(); ++rank)
    domains[graph.vertex(gpus[rank]).domain].push_back(static_cast<int>(rank));
  // Inside each domain: only a GPU whose reach misses another is routed, to get the Router's words.
  for (const auto& [domain, ranks] : domains) {
    DomainReach reach(graph, domain, ranks);
    for (std::size_t local = 0; local < ranks.size(); ++local)
      if (const auto missed = reach.first_unreached(local)) attempt(ranks[local], ranks[*missed]);
  }
  if (domains.size() >= 2) check_across_domains(graph, domains, attempt);
}

}  // namespace moesim::topology

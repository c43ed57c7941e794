#include "sim/plan/search_grid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "base/config_error.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

// (point, EP size) pairs the exact count may walk: a few milliseconds.
constexpr double kMaxPlanWalk = 1 << 22;

// The longest search list, by its path: the one to shorten when the grid is too large. Every list
// that multiplies the grid is considered; the first of equally long ones is named.
std::string longest_list(const SearchLists& search) {
  std::pair<std::size_t, std::string> longest{0, "/search"};
  const auto consider = [&](std::size_t size, std::string path) {
    if (size > longest.first) longest = {size, std::move(path)};
  };
  consider(search.clusters.size(), "/search/clusters");
  for (std::size_t i = 0; i < search.clusters.size(); ++i)
    consider(search.clusters[i].nodes.size(), fmt::format("/search/clusters/{}/nodes", i));
  consider(search.expert_parallel.size(), "/search/expert_parallel");
  consider(search.attention_tensor_parallel.size(), "/search/attention_tensor_parallel");
  consider(search.redundant_experts.size(), "/search/redundant_experts");
  consider(search.placement_strategies.size(), "/search/placement_strategies");
  consider(search.overlaps.size(), "/search/overlaps");
  consider(search.dispatches.size(), "/search/dispatch");
  consider(search.tokens_per_gpu.size(), "/search/tokens_per_gpu");
  const ParallelSearch& parallel = search.parallel;
  consider(parallel.moe_tensor_parallel.size(), "/search/moe_tensor_parallel");
  consider(parallel.pipeline_parallel.size(), "/search/pipeline_parallel");
  consider(parallel.zero_stages.size(), "/search/zero_stages");
  consider(parallel.context_parallel.size(), "/search/context_parallel");
  consider(search.batch_limits.size(), "/serving/batching/max_batch_per_rank");
  return longest.second;
}

// The candidates of one grid point before EP multiplies it: every layout (MoE TP x pipeline x
// ZeRO x CP, counted, never built: four long lists would make billions), strategy, overlap,
// dispatch mode and batch size, in double so the product cannot wrap.
double candidates_per_point(const SearchLists& search) {
  double product = static_cast<double>(std::max<std::size_t>(1, search.tokens_per_gpu.size()));
  for (std::size_t size :
       {search.placement_strategies.size(), search.overlaps.size(), search.dispatches.size(),
        search.parallel.moe_tensor_parallel.size(), search.parallel.pipeline_parallel.size(),
        search.parallel.zero_stages.size(), search.parallel.context_parallel.size()})
    product *= static_cast<double>(size);
  return product;
}

// The exact candidate count, walking the (cluster, nodes, TP, redundant) points for their EP
// sizes (each at most min(GPUs, slots) divisions).
double exact_candidates(const SearchLists& search, int experts, double per_point) {
  double count = 0;
  for (const auto& option : search.clusters)
    for (int nodes : option.nodes)
      for (int tp : search.attention_tensor_parallel)
        for (int redundant : search.redundant_experts) {
          const int gpus = nodes * option.gpus_per_node;
          if (tp >= 1 && gpus % tp == 0)
            count += static_cast<double>(
                         expert_parallel_sizes(search, gpus, experts + redundant).size()) *
                     per_point;
        }
  return count;
}

}  // namespace

std::vector<int> expert_parallel_sizes(const SearchLists& search, int gpus, int expert_slots) {
  std::vector<int> sizes = search.expert_parallel;
  if (search.expert_parallel_auto) {
    sizes.clear();
    // a divisor of both is at most the smaller: slots <= kMaxExpertSlots, GPUs far more
    for (int d = 1; d <= (expert_slots > 0 ? std::min(gpus, expert_slots) : gpus); ++d)
      if (gpus % d == 0 && expert_slots % d == 0) sizes.push_back(d);
  }
  std::erase_if(sizes, [&](int ep) { return ep < 1 || gpus % ep != 0 || expert_slots % ep != 0; });
  return sizes;
}

// The (cluster, nodes, TP, redundant) points are counted first; when they and their EP list are
// few enough to walk, each point's EP sizes are counted exactly, else the product of the list
// sizes stands for the grid.
void check_grid_size(const SearchLists& search, int experts, const std::string& source) {
  const double per_point = candidates_per_point(search);
  const double batches = static_cast<double>(std::max<std::size_t>(1, search.batch_limits.size()));
  double points = 0;
  for (const auto& option : search.clusters)
    points += static_cast<double>(option.nodes.size()) *
              static_cast<double>(search.attention_tensor_parallel.size()) *
              static_cast<double>(search.redundant_experts.size());
  // auto EP tries at most kMaxExpertSlots divisors a point; a given list is copied a point
  const double ep_list =
      search.expert_parallel_auto ? 1.0 : static_cast<double>(search.expert_parallel.size());
  const bool walk = points <= static_cast<double>(kMaxPlanCandidates) &&
                    points * ep_list <= static_cast<double>(kMaxPlanWalk);
  const double count =
      walk ? exact_candidates(search, experts, per_point) : points * ep_list * per_point;
  if (count * batches <= static_cast<double>(kMaxPlanCandidates)) return;
  const std::string options =
      search.batch_limits.empty()
          ? fmt::format("{:.0f} candidates", count)
          : fmt::format("{:.0f} candidates x {:.0f} batch limits = {:.0f} options", count, batches,
                        count * batches);
  throw ConfigError(
      source, {{longest_list(search), fmt::format("the search grid makes {}; expected at most {} "
                                                  "(docs/limits.md): shorten the lists",
                                                  options, kMaxPlanCandidates)}});
}

}  // namespace moesim::sim

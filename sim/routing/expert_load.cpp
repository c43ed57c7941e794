#include "sim/routing/expert_load.hpp"

#include <cmath>
#include <numeric>
#include <random>

namespace moesim::sim {

std::vector<double> expert_popularity(const RoutingSpec& routing, int experts, int layer) {
  std::vector<double> popularity(experts, 1.0);
  if (routing.generator == PopularityKind::Zipf) {
    std::vector<int> rank(experts);
    std::iota(rank.begin(), rank.end(), 0);
    // Fisher-Yates over mt19937_64 (fully specified by the standard) keeps runs bit-identical.
    std::mt19937_64 rng(routing.seed * 1000003ULL + static_cast<std::uint64_t>(layer));
    for (int i = experts - 1; i > 0; --i) {
      const auto j = static_cast<int>(rng() % static_cast<std::uint64_t>(i + 1));
      std::swap(rank[i], rank[j]);
    }
    for (int e = 0; e < experts; ++e)
      popularity[e] = 1.0 / std::pow(static_cast<double>(rank[e] + 1), routing.zipf_exponent);
  }
  const double total = std::accumulate(popularity.begin(), popularity.end(), 0.0);
  for (double& p : popularity) p /= total;
  return popularity;
}

std::vector<double> expected_expert_load(const std::vector<double>& popularity, double tokens,
                                         int top_k) {
  const int experts = static_cast<int>(popularity.size());
  std::vector<double> load(experts, 0.0);
  std::vector<bool> capped(experts, false);
  double remaining = tokens * top_k;
  // Water-filling: cap the experts that would exceed `tokens`, share the rest by popularity.
  for (int round = 0; round < experts; ++round) {
    double free_share = 0;
    for (int e = 0; e < experts; ++e)
      if (!capped[e]) free_share += popularity[e];
    if (free_share <= 0) break;
    const double lambda = remaining / free_share;
    bool newly_capped = false;
    for (int e = 0; e < experts; ++e) {
      if (!capped[e] && lambda * popularity[e] > tokens) {
        capped[e] = true;
        load[e] = tokens;
        remaining -= tokens;
        newly_capped = true;
      }
    }
    if (!newly_capped) {
      for (int e = 0; e < experts; ++e)
        if (!capped[e]) load[e] = lambda * popularity[e];
      break;
    }
  }
  return load;
}

}  // namespace moesim::sim

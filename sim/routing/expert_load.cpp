#include "sim/routing/expert_load.hpp"

#include <cmath>
#include <numeric>

#include "sim/routing/zipf.hpp"

namespace moesim::sim {

std::vector<double> expert_popularity(const RoutingSpec& routing, int experts, int layer) {
  std::vector<double> popularity(experts, 1.0);
  if (routing.generator == PopularityKind::Zipf) {
    const auto rank_of = zipf_ranking(routing.seed, static_cast<std::uint32_t>(layer),
                                      static_cast<std::uint32_t>(experts));
    for (int e = 0; e < experts; ++e)
      popularity[e] = zipf_weight(rank_of[e], routing.zipf_exponent);
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

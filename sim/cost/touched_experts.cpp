#include "sim/cost/touched_experts.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::sim {

double touched_probability(double load, double tokens) {
  if (load <= 0 || tokens <= 0) return 0;
  const double per_token = std::min(1.0, load / tokens);
  // log1p keeps the small-probability end exact: (1 - q)^T = exp(T log(1 - q)).
  return per_token >= 1 ? 1.0 : -std::expm1(tokens * std::log1p(-per_token));
}

double expected_touched_experts(const std::vector<double>& loads, double tokens) {
  double touched = 0;
  for (double load : loads) touched += touched_probability(load, tokens);
  return touched;
}

}  // namespace moesim::sim

#include "sim/cost/row_spread.hpp"

#include <algorithm>
#include <cmath>

#include "sim/cost/touched_experts.hpp"

namespace moesim::sim {

namespace {

constexpr double kSigmas = 6;        // beyond 6 sigma the binomial's mass is under 1e-8
constexpr double kExactCounts = 64;  // row counts summed one by one before tiles take over

// Sum over k = lo..hi of pmf(k) cost(k), over the pmf's mass there.
double exact_binomial(double tokens, double q, double lo, double hi,
                      const std::function<double(double)>& cost) {
  const double log_n = std::lgamma(tokens + 1);
  double mass = 0, total = 0;
  for (double k = lo; k <= hi; ++k) {
    const double p = std::exp(log_n - std::lgamma(k + 1) - std::lgamma(tokens - k + 1) +
                              k * std::log(q) + (tokens - k) * std::log1p(-q));
    mass += p;
    if (k > 0) total += p * cost(k);
  }
  return mass > 0 ? total / mass : 0;
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Tile by tile: the normal mass of rows (b - 1) T + 1 .. b T, priced at the row count nearest the
// mean within the tile.
double by_tiles(double mean, double sigma, double lo, double hi, double tile,
                const std::function<double(double)>& cost) {
  double mass = 0, total = 0;
  for (double b = std::max(1.0, std::ceil(lo / tile)); (b - 1) * tile < hi; ++b) {
    const double first = (b - 1) * tile + 1, last = b * tile;
    const double p =
        normal_cdf((last + 0.5 - mean) / sigma) - normal_cdf((first - 0.5 - mean) / sigma);
    mass += p;
    total += p * cost(std::clamp(mean, first, last));
  }
  return mass > 0 ? total / mass : 0;
}

}  // namespace

double expected_cost_over_row_spread(double load, double tokens, double tile_rows,
                                     const std::function<double(double)>& cost) {
  if (load <= 0 || tokens <= 0) return 0;
  const double q = std::min(1.0, load / tokens);
  const double sigma = std::sqrt(tokens * q * (1 - q));
  if (tile_rows <= 0 || sigma < 1) return expected_expert_cost(load, tokens, cost);
  const double lo = std::max(0.0, std::floor(load - kSigmas * sigma));
  const double hi = std::min(std::floor(tokens), std::ceil(load + kSigmas * sigma));
  if (hi - lo <= kExactCounts) return exact_binomial(tokens, q, lo, hi, cost);
  return by_tiles(load, sigma, lo, hi, tile_rows, cost);
}

}  // namespace moesim::sim

#include "sim/cost/row_spread.hpp"

#include <algorithm>
#include <cmath>

#include "sim/cost/touched_experts.hpp"

namespace moesim::sim {

namespace {

constexpr double kSigmas = 6;        // beyond 6 sigma the binomial's mass is under 1e-8
constexpr double kExactCounts = 64;  // row counts summed one by one before tiles take over

// Sum over k = lo..hi of pmf(k) cost(k), over the pmf's mass there. The pmf from lgamma at lo,
// then by its ratio pmf(k + 1) / pmf(k) = (n - k) / (k + 1) x q / (1 - q): at most kExactCounts
// products (a relative drift near 1e-14), where lgamma at every k was most of serving's time.
double exact_binomial(double tokens, double q, double lo, double hi,
                      const std::function<double(double)>& cost) {
  // q < 1 here: the caller takes sigma < 1 (q = 1 among them) the other way.
  const double odds = q / (1 - q);
  double p = std::exp(std::lgamma(tokens + 1) - std::lgamma(lo + 1) - std::lgamma(tokens - lo + 1) +
                      lo * std::log(q) + (tokens - lo) * std::log1p(-q));
  double mass = 0, total = 0;
  for (double k = lo; k <= hi; ++k) {
    mass += p;
    if (k > 0) total += p * cost(k);
    p *= (tokens - k) / (k + 1) * odds;
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

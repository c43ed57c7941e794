#include "sim/routing/zipf.hpp"

#include <cmath>
#include <numeric>
#include <random>
#include <utility>

namespace moesim::sim {

std::vector<std::uint32_t> zipf_ranking(std::uint64_t seed, std::uint32_t layer,
                                        std::uint32_t experts) {
  std::vector<std::uint32_t> rank_of(experts);
  std::iota(rank_of.begin(), rank_of.end(), 0U);
  std::mt19937_64 rng(seed * 1000003ULL + layer);
  for (std::uint32_t i = experts; i > 1; --i) {
    const auto j = static_cast<std::uint32_t>(rng() % i);
    std::swap(rank_of[i - 1], rank_of[j]);
  }
  return rank_of;
}

double zipf_weight(std::uint32_t rank, double exponent) {
  return 1.0 / std::pow(static_cast<double>(rank) + 1.0, exponent);
}

}  // namespace moesim::sim

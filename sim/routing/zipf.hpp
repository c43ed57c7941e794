#pragma once
// moesim's one seeded Zipf popularity. Each layer ranks its experts by a Fisher-Yates shuffle
// seeded from (seed, layer); the expert at rank r weighs 1 / (r + 1)^s. A scenario's
// "generator": "zipf" and `moesim trace gen --kind zipf` with the same seed give every expert the
// same rank.
#include <cstdint>
#include <vector>

namespace moesim::sim {

// rank_of[e] = expert e's popularity rank (0 = hottest), a uniformly random permutation.
// mt19937_64 is fully specified by the standard, so rankings are bit-identical everywhere.
std::vector<std::uint32_t> zipf_ranking(std::uint64_t seed, std::uint32_t layer,
                                        std::uint32_t experts);

// The weight of popularity rank `rank` under exponent `exponent`.
double zipf_weight(std::uint32_t rank, double exponent);

}  // namespace moesim::sim

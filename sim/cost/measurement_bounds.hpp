#pragma once
// What a measurement in a profile can plausibly be: one phase under 1000 s, a rate under 10^18 per
// second (FLOP/s or bytes/s), a size (tokens, bytes, ranks) under 10^12. 1e308 us is a typo, not a
// GPU. Values past these are refused with their JSON pointers.
namespace moesim::sim {

inline constexpr double kMaxMicroseconds = 1e9;
inline constexpr double kMaxPerSecond = 1e18;
inline constexpr double kMaxSize = 1e12;

}  // namespace moesim::sim

#pragma once
// The largest topology moesim accepts; sim/spec/limits.hpp holds the same GPU bound for scenarios
// (a static_assert keeps them equal) and docs/limits.md explains it.
#include <cstddef>

namespace moesim::topology {

// GPUs one topology file may declare.
inline constexpr std::size_t kMaxTopologyGpus = std::size_t{1} << 17;

}  // namespace moesim::topology

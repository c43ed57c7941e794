#include "sim/run/run_result.hpp"

namespace moesim::sim {

std::optional<double> Report::cost_per_million_tokens() const {
  if (!usd_per_gpu_hour || tokens_per_s() <= 0) return std::nullopt;
  const double usd_per_second = *usd_per_gpu_hour * gpus / 3600.0;
  return usd_per_second / tokens_per_s() * 1e6;
}

}  // namespace moesim::sim

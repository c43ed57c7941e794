#pragma once
// The executor cases --validate runs at every EP size: decode- and prefill-sized batches per
// rank, uniform and Zipf routing. Token counts and seeds differ from the profile's grid.
#include "kernels/moe_layer_executor.hpp"
#include "profiler/routing.hpp"

namespace moesim::profiler {

struct ValidationCase {
  const char* batch;
  int tokens;  // per rank
  const char* routing;
  double zipf;
};

// The first case comes back last: a first-case-only slowdown would show as a difference.
inline constexpr ValidationCase kValidationCases[] = {{"decode", 96, "uniform", 0.0},
                                                      {"decode", 96, "zipf-1.2", 1.2},
                                                      {"prefill", 3000, "uniform", 0.0},
                                                      {"prefill", 3000, "zipf-1.2", 1.2},
                                                      {"decode-again", 96, "uniform", 0.0}};

// The case's routing for one rank. Every rank routes alike (one seed): the hot experts are hot
// for every rank, as in a real batch, and EP=N runs N copies of the EP=1 case's batch.
inline Routing validation_routing(const ModelShape& shape, const ValidationCase& c) {
  return generate_routing(c.tokens, shape.top_k, shape.experts, c.zipf, 987654321ull + c.tokens);
}

// The executor's configuration for one profiled model shape, the same at every EP size; the
// caller sets rank, world and communicator for EP > 1.
inline kernels::MoeLayerConfig validation_config(const ModelShape& shape) {
  kernels::MoeLayerConfig config;
  config.hidden = shape.hidden;
  config.expert_ffn = shape.expert_ffn;
  config.gating = shape.gating;
  config.max_tokens = 4096;
  config.seed = 2024;
  return config;
}

}  // namespace moesim::profiler

#pragma once
// Turns a routing trace (any importable file) into the per-layer expert popularity the simulator
// replays, checked against the scenario's model.
#include <memory>
#include <string>
#include <vector>

#include "sim/spec/model_spec.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {

struct TraceReplayOptions {
  // A trace that recorded fewer layers than the model has (the real-routing data holds 3 of 16)
  // tiles its layers over the model's when set; otherwise the mismatch is an error.
  bool repeat_layers = false;
};

// Per MoE layer of `model`: token copies per expert, summed over the trace's steps. Throws
// ConfigError naming the file when experts, top-k or layers do not match.
std::vector<std::vector<double>> trace_expert_popularity(const std::string& path,
                                                         const ModelSpec& model,
                                                         const TraceReplayOptions& options = {});
// The same over an opened source (named `path` in messages), read from its current block to the
// end.
std::vector<std::vector<double>> trace_expert_popularity(RoutingSource& source,
                                                         const std::string& path,
                                                         const ModelSpec& model,
                                                         const TraceReplayOptions& options = {});
// How the simulator opens a trace for `model`: experts and top-k given for formats that need them.
std::unique_ptr<RoutingSource> open_trace_for(const std::string& path, const ModelSpec& model);

}  // namespace moesim::sim

#include "sim/routing/trace_replay.hpp"

#include <fmt/format.h>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {

std::unique_ptr<RoutingSource> open_trace_for(const std::string& path, const ModelSpec& model) {
  ImportOptions import;
  import.experts = static_cast<std::uint32_t>(model.experts);
  import.top_k = static_cast<std::uint32_t>(model.top_k);
  return open_routing(path, import);
}

std::vector<std::vector<double>> trace_expert_popularity(const std::string& path,
                                                         const ModelSpec& model,
                                                         const TraceReplayOptions& options) {
  auto source = open_trace_for(path, model);
  return trace_expert_popularity(*source, path, model, options);
}

std::vector<std::vector<double>> trace_expert_popularity(RoutingSource& source,
                                                         const std::string& path,
                                                         const ModelSpec& model,
                                                         const TraceReplayOptions& options) {
  const TraceShape shape = source.shape();
  std::vector<Problem> problems;
  if (shape.experts != static_cast<std::uint32_t>(model.experts))
    problems.push_back({"experts", fmt::format("expected {} experts ({}), the trace has {}",
                                               model.experts, model.name, shape.experts)});
  if (shape.top_k != static_cast<std::uint32_t>(model.top_k))
    problems.push_back({"top_k", fmt::format("expected top-{} ({}), the trace has top-{}",
                                             model.top_k, model.name, shape.top_k)});
  const auto model_layers = static_cast<std::uint32_t>(model.moe_layers);
  if (shape.layers == 0 || (shape.layers != model_layers && !options.repeat_layers))
    problems.push_back(
        {"layers",
         fmt::format("expected {} MoE layers ({}), the trace has {}{}", model_layers, model.name,
                     shape.layers, shape.layers > 0 ? " (--repeat-layers tiles them)" : "")});
  if (!problems.empty()) throw ConfigError(path, problems);

  std::vector<std::vector<double>> recorded(shape.layers, std::vector<double>(shape.experts, 0.0));
  if (const CountMatrix* counts = source.counts()) {
    for (std::uint32_t l = 0; l < shape.layers; ++l)
      for (std::uint32_t e = 0; e < shape.experts; ++e)
        recorded[l][e] = static_cast<double>(counts->tokens_per_expert[l][e]);
  } else {
    TraceBlock block;
    while (source.next(block))
      for (std::uint32_t id : block.expert_ids) recorded[block.layer][id] += 1;
  }
  std::vector<std::vector<double>> popularity(model_layers);
  for (std::uint32_t l = 0; l < model_layers; ++l) popularity[l] = recorded[l % shape.layers];
  return popularity;
}

}  // namespace moesim::sim

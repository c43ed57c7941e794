// Prints, as JSON, each --validate case's per-expert counts (one rank's; every rank routes alike),
// from the executor's seeded generator on the CPU: for timings files written before
// validate_ep.cpp recorded `expert_histogram`. Not in the build (routing.hpp needs the CUDA
// headers, not a GPU); docs/accuracy.md gives the one-line g++ command.
#include <cstdio>

#include "profiler/routing.hpp"
#include "profiler/validation_cases.hpp"

int main() {
  using namespace moesim::profiler;
  struct Shape {
    const char* name;
    int experts, top_k;
  };
  // The presets' experts and top_k (profiled_models() holds them, but needs the model presets).
  const Shape shapes[] = {
      {"mixtral-8x7b", 8, 2}, {"deepseek-v3", 256, 8}, {"qwen3-30b-a3b", 128, 8}};
  std::printf("[");
  const char* separator = "\n";
  for (const Shape& shape : shapes)
    for (const ValidationCase& c : kValidationCases) {
      ModelShape model;
      model.experts = shape.experts;
      model.top_k = shape.top_k;
      const Routing routing = validation_routing(model, c);
      const auto histogram = expert_histogram(routing.expert_ids, shape.experts);
      std::printf("%s{\"model\": \"%s\", \"batch\": \"%s\", \"routing\": \"%s\", \"histogram\": [",
                  separator, shape.name, c.batch, c.routing);
      for (std::size_t e = 0; e < histogram.size(); ++e)
        std::printf("%s%d", e > 0 ? ", " : "", histogram[e]);
      std::printf("]}");
      separator = ",\n";
    }
  std::printf("\n]\n");
}

#include "profiler/routing.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "sim/spec/model_presets.hpp"

namespace moesim::profiler {

Routing generate_routing(int tokens, int top_k, int experts, double zipf_exponent,
                         std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> order(experts);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<double> popularity(experts);
  for (int r = 0; r < experts; ++r) popularity[order[r]] = std::pow(1.0 / (r + 1), zipf_exponent);
  Routing routing;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> cumulative(experts);
  for (int t = 0; t < tokens; ++t) {
    std::vector<double> p = popularity;
    float weight_sum = 0;
    for (int k = 0; k < top_k; ++k) {
      std::partial_sum(p.begin(), p.end(), cumulative.begin());
      const double draw = unit(rng) * cumulative.back();
      int e = static_cast<int>(std::lower_bound(cumulative.begin(), cumulative.end(), draw) -
                               cumulative.begin());
      e = std::min(e, experts - 1);
      while (p[e] == 0) e = (e + 1) % experts;  // a draw on a boundary of a removed expert
      p[e] = 0;
      routing.expert_ids.push_back(e);
      const auto w = static_cast<float>(0.5 + unit(rng));
      routing.weights.push_back(w);
      weight_sum += w;
    }
    for (int k = 0; k < top_k; ++k) routing.weights[routing.weights.size() - 1 - k] /= weight_sum;
  }
  return routing;
}

std::vector<int> expert_histogram(const std::vector<int>& expert_ids, int experts) {
  std::vector<int> counts(experts, 0);
  for (int id : expert_ids) ++counts.at(id);
  return counts;
}

std::vector<ModelShape> profiled_models() {
  std::vector<ModelShape> shapes;
  for (const char* name : {"mixtral-8x7b", "deepseek-v3", "qwen3-30b-a3b"}) {
    const sim::ModelSpec* spec = sim::find_model(name);
    if (spec == nullptr) throw std::logic_error(std::string("model preset missing: ") + name);
    ModelShape shape;
    shape.name = name;
    shape.hidden = static_cast<int>(spec->hidden);
    shape.expert_ffn = static_cast<int>(spec->expert_ffn);
    shape.experts = spec->experts;
    shape.top_k = spec->top_k;
    kernels::GatingParams& g = shape.gating;
    g.experts = spec->experts;
    g.top_k = spec->top_k;
    g.groups = spec->expert_groups;
    g.topk_groups = spec->topk_groups;
    g.mode = spec->gating == sim::Gating::Sigmoid ? kernels::GatingMode::Sigmoid
                                                  : kernels::GatingMode::Softmax;
    g.scaling = spec->gating == sim::Gating::Sigmoid ? 2.5f : 1.0f;  // DeepSeek-V3's factor
    shapes.push_back(shape);
  }
  return shapes;
}

}  // namespace moesim::profiler

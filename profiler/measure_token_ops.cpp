#include <algorithm>

#include "kernels/combine.hpp"
#include "kernels/fill.hpp"
#include "kernels/gather_rows.hpp"
#include "kernels/permute.hpp"
#include "kernels/topk_gating.hpp"
#include "profiler/measurements.hpp"

namespace moesim::profiler {

using kernels::DeviceBuffer;

nlohmann::json measure_token_ops(BenchHarness& harness, const ModelShape& shape,
                                 const std::vector<int>& token_counts, const Progress& progress) {
  const int max_tokens = *std::max_element(token_counts.begin(), token_counts.end());
  const std::size_t max_entries = static_cast<std::size_t>(max_tokens) * shape.top_k;
  cudaStream_t stream = nullptr;
  DeviceBuffer<float> logits(static_cast<std::size_t>(max_tokens) * shape.experts);
  DeviceBuffer<float> bias(shape.experts);
  DeviceBuffer<int> gate_ids(max_entries), route_ids(max_entries), dest(max_entries),
      source(max_entries), counts(shape.experts), offsets(shape.experts + 1),
      scratch(kernels::permute_scratch_ints(static_cast<int>(max_entries), shape.experts));
  DeviceBuffer<float> gate_weights(max_entries), route_weights(max_entries);
  DeviceBuffer<__nv_bfloat16> x(static_cast<std::size_t>(max_tokens) * shape.hidden);
  DeviceBuffer<__nv_bfloat16> permuted(max_entries * shape.hidden);
  DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(max_tokens) * shape.hidden);
  kernels::launch_fill_uniform_f32(logits.data(), static_cast<long long>(logits.size()), 2.0f, 11,
                                   stream);
  kernels::launch_fill_uniform_f32(bias.data(), shape.experts, 0.05f, 12, stream);
  kernels::launch_fill_uniform_bf16(x.data(), static_cast<long long>(x.size()), 1.0f, 13, stream);
  kernels::launch_fill_uniform_bf16(permuted.data(), static_cast<long long>(permuted.size()), 1.0f,
                                    14, stream);
  kernels::GatingParams gating = shape.gating;
  if (gating.mode == kernels::GatingMode::Sigmoid) gating.bias = bias.data();

  nlohmann::json gate = nlohmann::json::array();
  nlohmann::json permute = nlohmann::json::array();
  nlohmann::json combine = nlohmann::json::array();
  for (int tokens : token_counts) {
    progress(shape.name + ": gate/permute/combine, " + std::to_string(tokens) + " tokens");
    const int entries = tokens * shape.top_k;
    const Routing routing =
        generate_routing(tokens, shape.top_k, shape.experts, 0.0, 1000 + tokens);
    MOESIM_CUDA_CHECK(cudaMemcpy(route_ids.data(), routing.expert_ids.data(), sizeof(int) * entries,
                                 cudaMemcpyHostToDevice));
    MOESIM_CUDA_CHECK(cudaMemcpy(route_weights.data(), routing.weights.data(),
                                 sizeof(float) * entries, cudaMemcpyHostToDevice));
    const Stats g = harness.time([&](cudaStream_t s) {
      kernels::launch_topk_gating(logits.data(), tokens, gating, gate_ids.data(),
                                  gate_weights.data(), s);
    });
    const Stats p = harness.time([&](cudaStream_t s) {
      kernels::launch_build_routing(route_ids.data(), entries, shape.top_k, shape.experts,
                                    scratch.data(), counts.data(), offsets.data(), dest.data(),
                                    source.data(), s);
      kernels::launch_gather_rows(x.data(), source.data(), entries, shape.hidden, permuted.data(),
                                  s);
    });
    const Stats c = harness.time([&](cudaStream_t s) {
      kernels::launch_weighted_combine(permuted.data(), dest.data(), route_weights.data(), tokens,
                                       shape.top_k, shape.hidden, out.data(), s);
    });
    // Bytes the permute must move: each routed row read once and written once.
    const double permute_bytes = 2.0 * entries * shape.hidden * 2;
    gate.push_back({{"tokens", tokens}, {"time", to_json(g)}});
    permute.push_back({{"tokens", tokens},
                       {"bytes_moved", permute_bytes},
                       {"bytes_per_s", permute_bytes / (p.median_us * 1e-6)},
                       {"time", to_json(p)}});
    combine.push_back({{"tokens", tokens}, {"time", to_json(c)}});
  }
  return {{"gate", gate}, {"permute", permute}, {"combine", combine}};
}

}  // namespace moesim::profiler

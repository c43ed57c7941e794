#include <algorithm>

#include "kernels/expert_ffn.hpp"
#include "kernels/fill.hpp"
#include "profiler/measurements.hpp"

namespace moesim::profiler {
namespace {

// Rows in one measurement at most: bounds memory (DeepSeek-V3 at 256 experts) and run time.
constexpr long long kMaxRows = 256 * 1024;

std::vector<kernels::ExpertSegment> segments_for(const std::vector<int>& histogram) {
  std::vector<kernels::ExpertSegment> segments;
  long long row = 0;
  for (int e = 0; e < static_cast<int>(histogram.size()); ++e) {
    segments.push_back({e, row, histogram[e]});
    row += histogram[e];
  }
  return segments;
}

double expert_flops(const ModelShape& shape, long long rows) {
  return 2.0 * rows * shape.hidden * shape.expert_ffn * 3;  // gate, up and down matrices
}

}  // namespace

nlohmann::json measure_experts(BenchHarness& harness, const ModelShape& shape,
                               const std::vector<int>& tokens_per_expert, bool quick,
                               const Progress& progress) {
  cudaStream_t stream = nullptr;
  kernels::ExpertFfn experts(shape.experts, shape.hidden, shape.expert_ffn, kMaxRows, shape.experts,
                             42, stream);
  kernels::DeviceBuffer<__nv_bfloat16> in(static_cast<std::size_t>(kMaxRows) * shape.hidden);
  kernels::DeviceBuffer<__nv_bfloat16> out(static_cast<std::size_t>(kMaxRows) * shape.hidden);
  kernels::launch_fill_uniform_bf16(in.data(), static_cast<long long>(in.size()), 1.0f, 43, stream);
  const kernels::GemmMethod methods[] = {kernels::GemmMethod::Loop, kernels::GemmMethod::Grouped};

  auto measure = [&](const std::vector<int>& histogram, kernels::GemmMethod method) {
    const auto segments = segments_for(histogram);
    return harness.time(
        [&](cudaStream_t s) { experts.run(in.data(), segments, out.data(), method, s); });
  };

  nlohmann::json balanced = nlohmann::json::object();
  for (kernels::GemmMethod method : methods)
    balanced[std::string(gemm_method_name(method))] = nlohmann::json::array();
  for (int tokens : tokens_per_expert) {
    // At large counts only some experts are active: the model prices experts one by one, and
    // per-expert time is what the curve records.
    const int active = static_cast<int>(std::min<long long>(shape.experts, kMaxRows / tokens));
    if (active < 1) continue;
    std::vector<int> histogram(shape.experts, 0);
    std::fill(histogram.begin(), histogram.begin() + active, tokens);
    for (kernels::GemmMethod method : methods) {
      progress(shape.name + ": experts " + std::string(gemm_method_name(method)) + ", " +
               std::to_string(tokens) + " tokens/expert x " + std::to_string(active));
      const Stats s = measure(histogram, method);
      const long long rows = static_cast<long long>(tokens) * active;
      balanced[std::string(gemm_method_name(method))].push_back(
          {{"tokens_per_expert", tokens},
           {"active_experts", active},
           {"per_expert_us", s.median_us / active},
           {"flops_per_s", expert_flops(shape, rows) / (s.median_us * 1e-6)},
           {"time", to_json(s)}});
    }
  }

  // The grouped back end with fewer experts in the launch, as EP leaves them on a GPU: halving
  // from half the model's experts down to one, at the power-of-two token counts (the simulator
  // interpolates in log(active experts), docs/profile-format.md).
  nlohmann::json fewer_active = nlohmann::json::array();
  for (int active = shape.experts / 2; active >= 1; active /= 2) {
    for (int tokens : tokens_per_expert) {
      if ((tokens & (tokens - 1)) != 0) continue;
      if (static_cast<long long>(tokens) * active > kMaxRows) break;
      progress(shape.name + ": experts grouped, " + std::to_string(tokens) + " tokens/expert x " +
               std::to_string(active) + " of " + std::to_string(shape.experts));
      std::vector<int> histogram(shape.experts, 0);
      std::fill(histogram.begin(), histogram.begin() + active, tokens);
      const Stats s = measure(histogram, kernels::GemmMethod::Grouped);
      fewer_active.push_back({{"tokens_per_expert", tokens},
                              {"active_experts", active},
                              {"per_expert_us", s.median_us / active},
                              {"time", to_json(s)}});
    }
  }

  nlohmann::json skewed = nlohmann::json::array();
  // Uniform routing (zipf 0) still gives uneven histograms: at decode sizes, many small,
  // different row counts, which is where the GEMM back ends part ways.
  const std::vector<int> batch_tokens =
      quick ? std::vector<int>{64, 4096} : std::vector<int>{32, 64, 128, 256, 512, 4096, 16384};
  for (int tokens : batch_tokens) {
    for (double zipf : {0.0, 0.8, 1.2}) {
      if (static_cast<long long>(tokens) * shape.top_k > kMaxRows) continue;
      const Routing routing =
          generate_routing(tokens, shape.top_k, shape.experts, zipf, 77 + tokens);
      const std::vector<int> histogram = expert_histogram(routing.expert_ids, shape.experts);
      nlohmann::json entry = {
          {"tokens", tokens}, {"zipf_exponent", zipf}, {"histogram", histogram}};
      for (kernels::GemmMethod method : methods) {
        progress(shape.name + ": experts skewed zipf " + std::to_string(zipf) + ", " +
                 std::to_string(tokens) + " tokens, " + std::string(gemm_method_name(method)));
        entry[std::string(gemm_method_name(method))] = to_json(measure(histogram, method));
      }
      skewed.push_back(entry);
    }
  }
  return {{"balanced", balanced}, {"by_active", {{"grouped", fewer_active}}}, {"skewed", skewed}};
}

}  // namespace moesim::profiler

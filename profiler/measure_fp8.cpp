// FP8 against BF16 at the expert GEMMs' shapes (docs/profile-format.md, `fp8_gemm`): the simulator
// prices FP8 experts as the measured BF16 expert curve x the FP8/BF16 time ratio at the same row
// count, so both sides here run the same way: one GEMM per expert, back to back on one stream, as
// the loop back end does, over distinct weights so each reads its own from HBM.
#include <algorithm>

#include "kernels/fill.hpp"
#include "kernels/fp8_gemm.hpp"
#include "kernels/grouped_gemm.hpp"
#include "profiler/measurements.hpp"

namespace moesim::profiler {
namespace {

// Experts in one timed loop: enough weights to spill the 50 MB L2 for every profiled shape
// (Qwen3-30B's gate_up is 6.3 MB in BF16 an expert) without allocating all of DeepSeek-V3's.
constexpr int kExpertsInLoop = 32;

struct GemmShape {
  const char* name;
  int n, k;
};

struct Buffers {
  kernels::DeviceBuffer<__nv_bfloat16> a16, w16, out;
  kernels::DeviceBuffer<__nv_fp8_e4m3> a8, w8;
  Buffers(long long rows, const GemmShape& g, int experts)
      : a16(static_cast<std::size_t>(rows) * g.k),
        w16(static_cast<std::size_t>(experts) * g.n * g.k),
        out(static_cast<std::size_t>(rows) * g.n),
        a8(a16.size()),
        w8(w16.size()) {
    kernels::launch_fill_uniform_bf16(a16.data(), static_cast<long long>(a16.size()), 1.0f, 11,
                                      nullptr);
    kernels::launch_fill_uniform_bf16(w16.data(), static_cast<long long>(w16.size()), 0.05f, 12,
                                      nullptr);
    kernels::launch_fill_uniform_fp8_e4m3(a8.data(), static_cast<long long>(a8.size()), 1.0f, 11,
                                          nullptr);
    kernels::launch_fill_uniform_fp8_e4m3(w8.data(), static_cast<long long>(w8.size()), 0.05f, 12,
                                          nullptr);
  }
};

}  // namespace

nlohmann::json measure_fp8_gemms(BenchHarness& harness, const ModelShape& shape,
                                 const std::vector<int>& rows_per_expert,
                                 const Progress& progress) {
  const GemmShape gemms[] = {{"gate_up", 2 * shape.expert_ffn, shape.hidden},
                             {"down", shape.hidden, shape.expert_ffn}};
  const int experts = std::min(shape.experts, kExpertsInLoop);
  const int max_rows = *std::max_element(rows_per_expert.begin(), rows_per_expert.end());
  kernels::GroupedGemm bf16(1);
  kernels::Fp8Gemm fp8;
  nlohmann::json results = nlohmann::json::array();
  for (const GemmShape& g : gemms) {
    Buffers b(max_rows, g, experts);
    const std::size_t weight_elems = static_cast<std::size_t>(g.n) * g.k;
    for (int rows : rows_per_expert) {
      progress(shape.name + ": fp8 vs bf16 " + g.name + ", " + std::to_string(rows) + " rows x " +
               std::to_string(experts) + " experts");
      const Stats s16 = harness.time([&](cudaStream_t stream) {
        for (int e = 0; e < experts; ++e) {
          const kernels::GemmGroup group{b.a16.data(), b.w16.data() + e * weight_elems,
                                         b.out.data(), rows};
          bf16.run({&group, 1}, g.n, g.k, kernels::GemmMethod::Loop, stream);
        }
      });
      const Stats s8 = harness.time([&](cudaStream_t stream) {
        for (int e = 0; e < experts; ++e)
          fp8.run(b.a8.data(), b.w8.data() + e * weight_elems, b.out.data(), rows, g.n, g.k,
                  stream);
      });
      results.push_back({{"model", shape.name},
                         {"gemm", g.name},
                         {"m", rows},
                         {"n", g.n},
                         {"k", g.k},
                         {"experts_in_loop", experts},
                         {"bf16_us", s16.median_us / experts},
                         {"fp8_us", s8.median_us / experts},
                         {"bf16_time", to_json(s16)},
                         {"fp8_time", to_json(s8)}});
    }
  }
  return results;
}

}  // namespace moesim::profiler

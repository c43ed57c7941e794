// Trace ingest: how fast a recorded routing trace becomes per-expert and per-GPU loads. One
// synthetic DeepSeek-V3-shaped trace (256 experts, top-8, 4 steps x 4 layers x 65,536 tokens, Zipf
// popularity, seeded) is written once; each iteration reads every block (checksums and ids
// verified) and aggregates. items/s = token-expert assignments/s. Also both CRC-32C paths alone.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/routing/generators.hpp"
#include "sim/traces/import.hpp"
#include "sim/traces/reader.hpp"
#include "sim/traces/stats.hpp"
#include "sim/traces/writer.hpp"

namespace moesim::sim {
namespace {

constexpr std::uint32_t kExperts = 256;
constexpr std::uint32_t kTopK = 8;
constexpr std::uint32_t kLayers = 4;
constexpr std::uint32_t kSteps = 4;
constexpr std::uint32_t kTokens = 65'536;
constexpr std::uint32_t kExpertParallel = 32;  // EP 32: 8 experts per GPU, contiguous
constexpr std::int64_t kAssignments = std::int64_t{kSteps} * kLayers * kTokens * kTopK;

// The synthetic trace, written on first use and removed when the program ends.
class SyntheticTrace {
 public:
  SyntheticTrace()
      : path_((std::filesystem::temp_directory_path() /
               ("moesim_trace_ingest_bench_" + std::to_string(::getpid()) + ".mtrace"))
                  .string()) {
    GeneratorSpec spec;
    spec.kind = TraceGeneratorKind::Zipf;
    spec.zipf_exponent = 0.8;
    spec.layers = kLayers;
    spec.experts = kExperts;
    spec.top_k = kTopK;
    spec.tokens = kTokens;
    spec.steps = kSteps;
    spec.seed = 7;
    TraceGenerator generator(spec);
    TraceWriter writer(path_, generator.shape());
    TraceBlock block;
    while (generator.next(block)) writer.write_block(block);
    writer.finish();
  }
  SyntheticTrace(const SyntheticTrace&) = delete;
  SyntheticTrace& operator=(const SyntheticTrace&) = delete;
  ~SyntheticTrace() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const std::string& trace_path() {
  static const SyntheticTrace trace;
  return trace.path();
}

// Read + verify + count: the work `run --trace` and `place` do before placing anything.
void BM_TraceIngestCounts(benchmark::State& state) {
  const std::string& path = trace_path();
  for (auto _ : state) {
    TraceReader reader(path);
    std::vector<std::vector<std::uint64_t>> per_expert(kLayers,
                                                       std::vector<std::uint64_t>(kExperts, 0));
    TraceBlock block;
    while (reader.next(block)) {
      auto& counts = per_expert[block.layer];
      for (const std::uint32_t expert : block.expert_ids) ++counts[expert];
    }
    std::vector<std::vector<std::uint64_t>> per_gpu(kLayers,
                                                    std::vector<std::uint64_t>(kExpertParallel, 0));
    constexpr std::uint32_t kExpertsPerGpu = kExperts / kExpertParallel;
    for (std::uint32_t l = 0; l < kLayers; ++l)
      for (std::uint32_t e = 0; e < kExperts; ++e)
        per_gpu[l][e / kExpertsPerGpu] += per_expert[l][e];
    benchmark::DoNotOptimize(per_gpu.data());
  }
  state.SetItemsProcessed(state.iterations() * kAssignments);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(std::filesystem::file_size(path)));
}
BENCHMARK(BM_TraceIngestCounts)->Unit(benchmark::kMillisecond);

// What `moesim trace stats` computes: counts, imbalance, entropy and co-activation (k(k-1)/2 = 28
// pairs per token at top-8).
void BM_TraceStats(benchmark::State& state) {
  const std::string& path = trace_path();
  for (auto _ : state) {
    auto source = open_routing(path);
    const TraceStats stats = compute_trace_stats(*source);
    benchmark::DoNotOptimize(stats.layers.data());
  }
  state.SetItemsProcessed(state.iterations() * kAssignments);
}
BENCHMARK(BM_TraceStats)->Unit(benchmark::kMillisecond);

// The two CRC-32C paths over 1 MiB (bytes/s): the tables every CPU can run, and SSE4.2's crc32.
std::vector<std::byte> crc_input() {
  std::vector<std::byte> bytes(1 << 20);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::byte>((i * 167 + 13) & 0xFFU);
  return bytes;
}

void BM_Crc32cPortable(benchmark::State& state) {
  const auto bytes = crc_input();
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_portable(bytes));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Crc32cPortable);

void BM_Crc32cHardware(benchmark::State& state) {
  if (!crc32c_hardware_supported()) {
    state.SkipWithError("no SSE4.2 crc32 instruction on this CPU");
    return;
  }
  const auto bytes = crc_input();
  for (auto _ : state) benchmark::DoNotOptimize(crc32c_hardware(bytes));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Crc32cHardware);

}  // namespace
}  // namespace moesim::sim

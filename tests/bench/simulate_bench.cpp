// Whole-scenario simulation cost as the cluster grows: DeepSeek-V3 prefill at 64, 256, 1,024 and
// 2,048 H200s (EP 64 or 256) under the analytic and the flow network, side by side; and the flow
// network on one 8-GPU node. `peak_rss_mib` is the process's peak so far (both models' cases
// run in one process, so read it from the first case of each size up).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec deepseek(int nodes, int ep, NetworkModelKind network) {
  auto s = load_scenario("dsv3-prefill-h200x256");
  s.cluster.nodes = nodes;
  s.parallelism.expert_parallel = ep;
  s.parallelism.attention_data_parallel = s.cluster.gpus();
  s.network.model = network;
  return s;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void simulate_deepseek(benchmark::State& state, NetworkModelKind network) {
  const int gpus = static_cast<int>(state.range(0));
  const auto scenario = deepseek(gpus / 8, std::min(gpus, 256), network);
  for (auto _ : state) benchmark::DoNotOptimize(simulate(scenario).step_time_s);
  state.counters["gpus"] = gpus;
  state.counters["peak_rss_mib"] = peak_rss_mib();
}

void BM_SimulateDeepSeekPrefill(benchmark::State& state) {
  simulate_deepseek(state, NetworkModelKind::Analytic);
}
void BM_SimulateDeepSeekPrefillFlow(benchmark::State& state) {
  simulate_deepseek(state, NetworkModelKind::Flow);
}
BENCHMARK(BM_SimulateDeepSeekPrefill)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimulateDeepSeekPrefillFlow)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);

void BM_SimulateQuickstartFlow(benchmark::State& state) {
  auto scenario = load_scenario("quickstart");
  scenario.network.model = NetworkModelKind::Flow;
  for (auto _ : state) benchmark::DoNotOptimize(simulate(scenario).step_time_s);
}
BENCHMARK(BM_SimulateQuickstartFlow)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moesim::sim

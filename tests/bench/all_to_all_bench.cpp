// All-to-all on the fluid network (issue 5's engine): one 256-GPU collective (32 HGX H200 nodes on
// an IB fat-tree, EP 256) simulated end to end: routes, flow set-up, max-min solves, completions.
// Uniform bytes (every flow alike: few distinct completion times) and a skewed matrix (hot
// destinations: many distinct completion times, each a re-solve, unless completions within a
// tolerance are batched) bound the cost from both sides.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "sim/network/all_to_all.hpp"
#include "sim/network/max_min.hpp"
#include "sim/network/topology_paths.hpp"
#include "topology/cluster_builders.hpp"

namespace moesim::sim {
namespace {

constexpr int kNodes = 32;
constexpr int kGpus = kNodes * 8;
// DeepSeek-V3 prefill dispatch: 4,096 tokens x 8 experts x 7,168 FP8 bytes from each GPU, spread
// over its peers.
constexpr Bytes kBytesPerGpu = 4096.0 * 8 * 7168;

const topology::ClusterGraph& cluster(int nodes) {
  static std::map<int, topology::ClusterGraph> graphs;
  auto found = graphs.find(nodes);
  if (found == graphs.end())
    found =
        graphs.emplace(nodes, topology::build_cluster(topology::cluster_params("hgx-h200", nodes)))
            .first;
  return found->second;
}

ByteMatrix uniform_matrix(int gpus) {
  const auto size = static_cast<std::size_t>(gpus);
  return ByteMatrix(size, std::vector<Bytes>(size, kBytesPerGpu / gpus));
}

// Destination load ~ Zipf(1.0) over GPUs with +-10% jitter per pair: hot GPUs receive most.
ByteMatrix skewed_matrix(int gpus) {
  const auto size = static_cast<std::size_t>(gpus);
  std::vector<double> weight(size);
  double total = 0;
  for (std::size_t gpu = 0; gpu < size; ++gpu)
    total += weight[gpu] = 1.0 / static_cast<double>(gpu + 1);
  std::mt19937_64 generator(7);
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  ByteMatrix matrix(size, std::vector<Bytes>(size));
  for (auto& row : matrix)
    for (std::size_t gpu = 0; gpu < size; ++gpu)
      row[gpu] = kBytesPerGpu * weight[gpu] / total * jitter(generator);
  return matrix;
}

void run(benchmark::State& state, int nodes, const ByteMatrix& bytes, bool hierarchical,
         double tolerance) {
  topology::Router router(cluster(nodes));
  const NetworkLinks links = network_links(cluster(nodes));
  AllToAllOptions options;
  options.efficiency[topology::LinkKind::Ib] = 0.85;
  options.hierarchical = hierarchical;
  options.gpus_per_node = 8;
  options.completion_tolerance = tolerance;
  AllToAllResult result;
  for (auto _ : state) {
    result = simulate_all_to_all(bytes, router_paths(router), links, options);
    benchmark::DoNotOptimize(result.time);
  }
  state.counters["flows"] = static_cast<double>(result.flows);
  state.counters["solves"] = static_cast<double>(result.solves);
  state.counters["collective_us"] = result.time.seconds() * 1e6;
}

void BM_AllToAll256Uniform(benchmark::State& state) {
  run(state, kNodes, uniform_matrix(kGpus), false, 0);
}
void BM_AllToAll256UniformHierarchical(benchmark::State& state) {
  run(state, kNodes, uniform_matrix(kGpus), true, 0);
}
// Skewed: one solve per distinct finish time when exact (at 256 GPUs that is ~65k solves of
// ~65k flows: minutes), so at 64 GPUs, exact and with completions batched.
void BM_AllToAll64SkewedExact(benchmark::State& state) {
  run(state, 8, skewed_matrix(64), false, 0);
}
void BM_AllToAll64SkewedTolerance1e3(benchmark::State& state) {
  run(state, 8, skewed_matrix(64), false, 1e-3);
}
void BM_AllToAll64SkewedTolerance1e2(benchmark::State& state) {
  run(state, 8, skewed_matrix(64), false, 1e-2);
}
BENCHMARK(BM_AllToAll256Uniform)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllToAll256UniformHierarchical)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllToAll64SkewedExact)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllToAll64SkewedTolerance1e3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AllToAll64SkewedTolerance1e2)->Unit(benchmark::kMillisecond);

// The solver alone on the 65,280 flows of the uniform collective.
void BM_MaxMinSolve256Uniform(benchmark::State& state) {
  topology::Router router(cluster(kNodes));
  const NetworkLinks links = network_links(cluster(kNodes));
  std::vector<FlowPath> flows;
  for (int source = 0; source < kGpus; ++source)
    for (int destination = 0; destination < kGpus; ++destination)
      if (source != destination) flows.push_back(routed_path(router, source, destination).path);
  std::size_t crossings = 0;
  for (const FlowPath& flow : flows) crossings += flow.links.size();
  for (auto _ : state) benchmark::DoNotOptimize(solve_max_min(links.capacity, flows));
  state.counters["flows"] = static_cast<double>(flows.size());
  state.counters["crossings"] = static_cast<double>(crossings);
}
BENCHMARK(BM_MaxMinSolve256Uniform)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace moesim::sim

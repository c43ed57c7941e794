// The executor's NCCL path: EP=2 on two GPUs of this process (one thread per rank, as NCCL
// allows), each rank's output against the CPU with the experts gathered from both ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <exception>
#include <random>
#include <thread>

#include "cpu_reference.hpp"
#include "gpu_test_support.hpp"
#include "kernels/fill.hpp"
#include "kernels/moe_layer_executor.hpp"
#include "kernels/nccl_comm.hpp"

namespace moesim::kernels {
namespace {

constexpr int kHidden = 256, kFfn = 128, kExperts = 16, kTopK = 4, kRanks = 2;
constexpr int kLocal = kExperts / kRanks;

struct RankResult {
  std::vector<double> input, output, gate_up, down;  // gate_up/down: this rank's local experts
  MoePhaseTimes times;
};

void run_rank(int rank, const ncclUniqueId& id, int tokens, const std::vector<int>& ids,
              const std::vector<float>& weights, std::uint64_t seed, RankResult& result) {
  MOESIM_CUDA_CHECK(cudaSetDevice(rank));
  NcclComm comm(id, kRanks, rank);
  CudaStream stream;
  MoeLayerConfig config;
  config.hidden = kHidden;
  config.expert_ffn = kFfn;
  config.gating = {GatingMode::Softmax, kExperts, kTopK, 1, 1, true, 1.0f, nullptr};
  config.max_tokens = 512;
  config.rank = rank;
  config.world = kRanks;
  config.comm = comm.get();
  config.seed = seed;
  MoeLayerExecutor layer(config, stream.get());
  layer.set_routing(ids, weights, tokens);
  launch_fill_nan_bf16(layer.mutable_output(), static_cast<long long>(tokens) * kHidden,
                       stream.get());
  layer.run();  // the first run sizes nothing differently: a second must agree
  result.times = layer.run();
  const auto n = static_cast<std::size_t>(tokens) * kHidden;
  result.input = testing::to_double(testing::to_host(layer.input(), n));
  result.output = testing::to_double(testing::to_host(layer.output(), n));
  result.gate_up = testing::to_double(testing::to_host(layer.experts().gate_up_weights(),
                                                       std::size_t{kLocal} * 2 * kFfn * kHidden));
  result.down = testing::to_double(
      testing::to_host(layer.experts().down_weights(), std::size_t{kLocal} * kHidden * kFfn));
}

// sum_k w[t,k] * down_e(swiglu(gate_up_e(x_t))), expert e living on rank e / kLocal.
std::vector<double> reference(const RankResult* ranks, const std::vector<double>& x, int tokens,
                              const std::vector<int>& ids, const std::vector<float>& weights) {
  std::vector<double> ref(static_cast<std::size_t>(tokens) * kHidden, 0.0);
  const long up_size = 2L * kFfn * kHidden, down_size = 1L * kHidden * kFfn;
  for (int t = 0; t < tokens; ++t) {
    const std::vector<double> row(x.begin() + long{t} * kHidden, x.begin() + long{t + 1} * kHidden);
    for (int k = 0; k < kTopK; ++k) {
      const int e = ids[t * kTopK + k];
      const RankResult& owner = ranks[e / kLocal];
      const long local = e % kLocal;
      const std::vector<double> w_up(owner.gate_up.begin() + local * up_size,
                                     owner.gate_up.begin() + (local + 1) * up_size);
      const std::vector<double> w_down(owner.down.begin() + local * down_size,
                                       owner.down.begin() + (local + 1) * down_size);
      const auto h = testing::reference_swiglu(
          testing::reference_matmul_nt(row, w_up, 1, 2 * kFfn, kHidden), 1, kFfn);
      const auto y = testing::reference_matmul_nt(h, w_down, 1, kHidden, kFfn);
      for (int j = 0; j < kHidden; ++j)
        ref[static_cast<std::size_t>(t) * kHidden + j] += weights[t * kTopK + k] * y[j];
    }
  }
  return ref;
}

TEST(MoeLayerExecutor, TwoRanksOverNcclMatchCpu) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < kRanks)
    GTEST_SKIP() << "needs 2 CUDA devices";
  std::mt19937_64 rng(testing::fresh_seed());
  const std::uint64_t seed = rng();
  // Uneven token counts, and rank 1's tokens all go to rank 0's experts: rank 1 keeps no rows for
  // itself (an empty self-exchange) and its experts see rank 0's rows only.
  const int tokens[kRanks] = {301, 77};
  std::vector<int> ids[kRanks];
  std::vector<float> weights[kRanks];
  std::uniform_real_distribution<float> weight(0.1f, 1.0f);
  for (int r = 0; r < kRanks; ++r)
    for (int t = 0; t < tokens[r]; ++t) {
      std::vector<int> pool(r == 1 ? kLocal : kExperts);
      for (int e = 0; e < static_cast<int>(pool.size()); ++e) pool[e] = e;
      std::shuffle(pool.begin(), pool.end(), rng);
      for (int k = 0; k < kTopK; ++k) {
        ids[r].push_back(pool[k]);
        weights[r].push_back(weight(rng));
      }
    }
  ncclUniqueId id{};
  MOESIM_NCCL_CHECK(ncclGetUniqueId(&id));
  RankResult results[kRanks];
  std::exception_ptr failures[kRanks];
  std::vector<std::thread> threads;
  for (int r = 0; r < kRanks; ++r)
    threads.emplace_back([&, r] {
      try {
        run_rank(r, id, tokens[r], ids[r], weights[r], seed, results[r]);
      } catch (...) {
        failures[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  for (int r = 0; r < kRanks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const auto ref = reference(results, results[r].input, tokens[r], ids[r], weights[r]);
    EXPECT_LT(testing::relative_error(results[r].output, ref), testing::kBf16Tolerance);
    EXPECT_GT(results[r].times.dispatch_ms, 0.0);
    EXPECT_LE(results[r].times.count_exchange_ms, results[r].times.dispatch_ms);
  }
}

}  // namespace
}  // namespace moesim::kernels

#include <cuda_runtime.h>

#include <chrono>

#include "kernels/empty_kernel.hpp"
#include "kernels/fill.hpp"
#include "kernels/grouped_gemm.hpp"
#include "profiler/measurements.hpp"

namespace moesim::profiler {

nlohmann::json measure_dense_gemms(BenchHarness& harness, bool quick, const Progress& progress) {
  struct Shape {
    int m, n, k;
  };
  std::vector<Shape> shapes = {{8192, 8192, 8192}};  // the ceiling
  const std::vector<int> rows =
      quick ? std::vector<int>{128, 4096} : std::vector<int>{128, 512, 2048, 8192};
  for (int m : rows)
    for (Shape nk : {Shape{0, 4096, 4096}, Shape{0, 7168, 7168}, Shape{0, 2048, 2048},
                     Shape{0, 14336, 4096}, Shape{0, 4096, 14336}})
      shapes.push_back({m, nk.n, nk.k});
  kernels::GroupedGemm gemm(1);
  nlohmann::json results = nlohmann::json::array();
  for (const Shape& shape : shapes) {
    progress("dense gemm " + std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" +
             std::to_string(shape.k));
    kernels::DeviceBuffer<__nv_bfloat16> a(static_cast<std::size_t>(shape.m) * shape.k);
    kernels::DeviceBuffer<__nv_bfloat16> w(static_cast<std::size_t>(shape.n) * shape.k);
    kernels::DeviceBuffer<__nv_bfloat16> c(static_cast<std::size_t>(shape.m) * shape.n);
    kernels::launch_fill_uniform_bf16(a.data(), static_cast<long long>(a.size()), 1.0f, 5, nullptr);
    kernels::launch_fill_uniform_bf16(w.data(), static_cast<long long>(w.size()), 0.05f, 6,
                                      nullptr);
    const kernels::GemmGroup group{a.data(), w.data(), c.data(), shape.m};
    const Stats s = harness.time([&](cudaStream_t stream) {
      gemm.run({&group, 1}, shape.n, shape.k, kernels::GemmMethod::Loop, stream);
    });
    const double flops = 2.0 * shape.m * shape.n * shape.k;
    results.push_back({{"m", shape.m},
                       {"n", shape.n},
                       {"k", shape.k},
                       {"flops_per_s", flops / (s.median_us * 1e-6)},
                       {"time", to_json(s)}});
  }
  return results;
}

nlohmann::json measure_copy_bandwidth(BenchHarness& harness) {
  const std::size_t bytes = 1ull << 30;
  kernels::DeviceBuffer<char> src(bytes), dst(bytes);
  MOESIM_CUDA_CHECK(cudaMemset(src.data(), 1, bytes));
  const Stats s = harness.time([&](cudaStream_t stream) {
    MOESIM_CUDA_CHECK(
        cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  // Bytes read plus bytes written, as METHOD.md counts a copy.
  return {
      {"bytes", bytes}, {"bytes_per_s", 2.0 * bytes / (s.median_us * 1e-6)}, {"time", to_json(s)}};
}

nlohmann::json measure_overheads(BenchHarness& harness) {
  kernels::CudaStream stream;
  kernels::CudaEvent start, stop;
  constexpr int kLaunches = 1000;
  // GPU-side cost of a kernel in a back-to-back stream of empty launches.
  const Stats back_to_back = harness.time([&](cudaStream_t s) {
    for (int i = 0; i < kLaunches; ++i) kernels::launch_empty_kernel(s);
  });
  // Host-side cost of enqueueing one launch.
  std::vector<double> host_us;
  for (int rep = 0; rep < 25; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kLaunches; ++i) kernels::launch_empty_kernel(stream.get());
    const auto t1 = std::chrono::steady_clock::now();
    stream.synchronize();
    host_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / kLaunches);
  }
  // What the executor's count exchange pays at EP=1: copy the counts to the host and wait,
  // timed with events exactly as the executor times its dispatch phase.
  kernels::DeviceBuffer<int> counts(1024);
  kernels::PinnedBuffer<int> host_counts(1024);
  std::vector<double> sync_us;
  for (int rep = 0; rep < 5 + 50; ++rep) {
    start.record(stream.get());
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(host_counts.data(), counts.data(), counts.bytes(),
                                      cudaMemcpyDeviceToHost, stream.get()));
    stream.synchronize();
    stop.record(stream.get());
    stop.synchronize();
    if (rep >= 5) sync_us.push_back(1000.0 * stop.elapsed_ms_since(start));
  }
  Stats per_launch = back_to_back;
  for (double* v : {&per_launch.median_us, &per_launch.p10_us, &per_launch.p90_us,
                    &per_launch.min_us, &per_launch.max_us})
    *v /= kLaunches;
  return {{"empty_kernel_gpu", to_json(per_launch)},
          {"launch_host", to_json(summarise(host_us))},
          {"count_copy_and_sync", to_json(summarise(sync_us))}};
}

}  // namespace moesim::profiler

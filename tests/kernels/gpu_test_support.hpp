#pragma once
// Helpers shared by the GPU tests: device detection, host<->device copies, bf16 conversion,
// seeded random inputs and the relative-error check (NaN never passes).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cuda_resources.hpp"

namespace moesim::kernels::testing {

inline bool gpu_present() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

#define MOESIM_REQUIRE_GPU()                                                          \
  do {                                                                                \
    if (!::moesim::kernels::testing::gpu_present()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

// A fresh seed per call, so every run checks new inputs; printed so a failure can be replayed.
inline std::uint64_t fresh_seed() {
  const std::uint64_t seed = std::random_device{}();
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& host) {
  DeviceBuffer<T> device(host.size());
  if (!host.empty())
    MOESIM_CUDA_CHECK(
        cudaMemcpy(device.data(), host.data(), sizeof(T) * host.size(), cudaMemcpyHostToDevice));
  return device;
}

template <typename T>
std::vector<T> to_host(const T* device, std::size_t count) {
  std::vector<T> host(count);
  MOESIM_CUDA_CHECK(cudaDeviceSynchronize());
  if (count > 0)
    MOESIM_CUDA_CHECK(cudaMemcpy(host.data(), device, sizeof(T) * count, cudaMemcpyDeviceToHost));
  return host;
}

inline std::vector<__nv_bfloat16> random_bf16(std::size_t count, float scale,
                                              std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<__nv_bfloat16> out(count);
  for (auto& v : out) v = __float2bfloat16(dist(rng));
  return out;
}

inline std::vector<double> to_double(const std::vector<__nv_bfloat16>& values) {
  std::vector<double> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = __bfloat162float(values[i]);
  return out;
}

// ||out - ref|| / ||ref||; infinity when any output is NaN or infinite (poison left unwritten).
inline double relative_error(const std::vector<double>& out, const std::vector<double>& ref) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double diff = 0;
  double norm = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    diff += (out[i] - ref[i]) * (out[i] - ref[i]);
    norm += ref[i] * ref[i];
  }
  return norm == 0 ? std::sqrt(diff) : std::sqrt(diff / norm);
}

inline constexpr double kBf16Tolerance = 1e-2;

}  // namespace moesim::kernels::testing

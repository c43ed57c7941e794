#include "profiler/provenance.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <ctime>

#include "kernels/cuda_check.hpp"

namespace moesim::profiler {
namespace {

std::string version_string(int v) {  // CUDA encodes 13000 as 13.0
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

int attribute(cudaDeviceAttr what, int device) {
  int value = 0;
  MOESIM_CUDA_CHECK(cudaDeviceGetAttribute(&value, what, device));
  return value;
}

}  // namespace

nlohmann::json collect_provenance(const std::string& command_line) {
  int device = 0;
  int device_count = 0;
  MOESIM_CUDA_CHECK(cudaGetDevice(&device));
  MOESIM_CUDA_CHECK(cudaGetDeviceCount(&device_count));
  cudaDeviceProp prop{};
  MOESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  int driver = 0;
  int runtime = 0;
  MOESIM_CUDA_CHECK(cudaDriverGetVersion(&driver));
  MOESIM_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  int cublas = 0;
  {
    cublasHandle_t handle = nullptr;
    MOESIM_CUBLAS_CHECK(cublasCreate(&handle));
    const cublasStatus_t status = cublasGetVersion(handle, &cublas);
    cublasDestroy(handle);
    MOESIM_CUBLAS_CHECK(status);
  }
  int nccl = 0;
  MOESIM_NCCL_CHECK(ncclGetVersion(&nccl));
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  char date[64] = {};
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return {
      {"gpu_name", prop.name},
      {"gpu_count", device_count},
      {"sm_count", prop.multiProcessorCount},
      {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
      {"memory_bytes", prop.totalGlobalMem},
      {"l2_bytes", prop.l2CacheSize},
      {"sm_clock_max_mhz", attribute(cudaDevAttrClockRate, device) / 1000},
      {"memory_clock_max_mhz", attribute(cudaDevAttrMemoryClockRate, device) / 1000},
      {"memory_bus_bits", attribute(cudaDevAttrGlobalMemoryBusWidth, device)},
      {"driver_cuda_version", version_string(driver)},
      {"cuda_runtime_version", version_string(runtime)},
      {"cublas_version", std::to_string(cublas / 10000) + "." +
                             std::to_string((cublas / 100) % 100) + "." +
                             std::to_string(cublas % 100)},
      {"nccl_version", std::to_string(nccl / 10000) + "." + std::to_string((nccl / 100) % 100) +
                           "." + std::to_string(nccl % 100)},
      {"host", host},
      {"date_utc", date},
      {"command_line", command_line},
  };
}

}  // namespace moesim::profiler

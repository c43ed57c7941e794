#pragma once
// One error type for CUDA runtime, cuBLAS and NCCL failures, and the macros that throw it.
// Each message carries the failed expression, file:line and the library's own error string.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <stdexcept>
#include <string>

namespace moesim::kernels {

class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& library, const std::string& expression, const char* file, int line,
            const std::string& library_message);
};

[[noreturn]] void throw_cuda_error(cudaError_t status, const char* expression, const char* file,
                                   int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expression,
                                     const char* file, int line);
[[noreturn]] void throw_nccl_error(ncclResult_t status, const char* expression, const char* file,
                                   int line);

}  // namespace moesim::kernels

#define MOESIM_CUDA_CHECK(expr)                                                       \
  do {                                                                                \
    const cudaError_t moesim_status_ = (expr);                                        \
    if (moesim_status_ != cudaSuccess)                                                \
      ::moesim::kernels::throw_cuda_error(moesim_status_, #expr, __FILE__, __LINE__); \
  } while (0)

#define MOESIM_CUBLAS_CHECK(expr)                                                       \
  do {                                                                                  \
    const cublasStatus_t moesim_status_ = (expr);                                       \
    if (moesim_status_ != CUBLAS_STATUS_SUCCESS)                                        \
      ::moesim::kernels::throw_cublas_error(moesim_status_, #expr, __FILE__, __LINE__); \
  } while (0)

#define MOESIM_NCCL_CHECK(expr)                                                       \
  do {                                                                                \
    const ncclResult_t moesim_status_ = (expr);                                       \
    if (moesim_status_ != ncclSuccess)                                                \
      ::moesim::kernels::throw_nccl_error(moesim_status_, #expr, __FILE__, __LINE__); \
  } while (0)

// After every kernel launch: a bad configuration shows up here, not at the next sync.
#define MOESIM_CUDA_CHECK_LAUNCH() MOESIM_CUDA_CHECK(cudaGetLastError())

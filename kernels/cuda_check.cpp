#include "kernels/cuda_check.hpp"

#include <fmt/format.h>

namespace moesim::kernels {

CudaError::CudaError(const std::string& library, const std::string& expression, const char* file,
                     int line, const std::string& library_message)
    : std::runtime_error(fmt::format("{} error at {}:{}: {} failed: {}", library, file, line,
                                     expression, library_message)) {}

void throw_cuda_error(cudaError_t status, const char* expression, const char* file, int line) {
  throw CudaError("CUDA", expression, file, line,
                  fmt::format("{} ({})", cudaGetErrorString(status), cudaGetErrorName(status)));
}

void throw_cublas_error(cublasStatus_t status, const char* expression, const char* file, int line) {
  throw CudaError(
      "cuBLAS", expression, file, line,
      fmt::format("{} ({})", cublasGetStatusString(status), cublasGetStatusName(status)));
}

void throw_nccl_error(ncclResult_t status, const char* expression, const char* file, int line) {
  throw CudaError("NCCL", expression, file, line, ncclGetErrorString(status));
}

}  // namespace moesim::kernels

#include "kernels/cuda_check.hpp"
#include "kernels/empty_kernel.hpp"

namespace moesim::kernels {
namespace {
__global__ void empty_kernel() {}
}  // namespace

void launch_empty_kernel(cudaStream_t stream) {
  empty_kernel<<<1, 32, 0, stream>>>();
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels

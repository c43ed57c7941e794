#pragma once
// A kernel that does nothing: what a launch costs by itself.
#include <cuda_runtime.h>

namespace moesim::kernels {

void launch_empty_kernel(cudaStream_t stream);

}  // namespace moesim::kernels

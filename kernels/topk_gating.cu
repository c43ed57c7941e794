#include <cfloat>
#include <stdexcept>
#include <string>

#include "kernels/cuda_check.hpp"
#include "kernels/topk_gating.hpp"

namespace moesim::kernels {
namespace {

constexpr int kWarpsPerBlock = 4;

struct Best {
  float value;
  int index;
};

__device__ Best better(Best a, Best b) {
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
  return a;
}

__device__ Best warp_argmax(Best mine) {
  for (int offset = 16; offset > 0; offset /= 2) {
    Best other{__shfl_xor_sync(0xffffffffu, mine.value, offset),
               __shfl_xor_sync(0xffffffffu, mine.index, offset)};
    mine = better(mine, other);
  }
  return mine;
}

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_xor_sync(0xffffffffu, value, offset);
  return value;
}

__device__ float warp_max(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value = fmaxf(value, __shfl_xor_sync(0xffffffffu, value, offset));
  return value;
}

// One warp per token; scores and selection scores for the token live in shared memory.
__global__ void topk_gating_kernel(const float* __restrict__ logits, int tokens, GatingParams p,
                                   int* __restrict__ expert_ids, float* __restrict__ weights) {
  extern __shared__ float shared[];
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int token = blockIdx.x * kWarpsPerBlock + warp;
  if (token >= tokens) return;
  float* score = shared + warp * 2 * p.experts;  // what the weight is made of
  float* select = score + p.experts;             // what the choice is made on
  const float* row = logits + static_cast<long long>(token) * p.experts;

  if (p.mode == GatingMode::Softmax) {
    float local_max = -FLT_MAX;
    for (int e = lane; e < p.experts; e += 32) local_max = fmaxf(local_max, row[e]);
    const float row_max = warp_max(local_max);
    float local_sum = 0;
    for (int e = lane; e < p.experts; e += 32) {
      const float x = __expf(row[e] - row_max);
      score[e] = x;
      local_sum += x;
    }
    const float inv_sum = 1.0f / warp_sum(local_sum);
    for (int e = lane; e < p.experts; e += 32) {
      score[e] *= inv_sum;
      select[e] = score[e];
    }
  } else {
    for (int e = lane; e < p.experts; e += 32) {
      const float s = 1.0f / (1.0f + __expf(-row[e]));
      score[e] = s;
      select[e] = p.bias != nullptr ? s + p.bias[e] : s;
    }
  }
  __syncwarp();

  if (p.groups > 1) {
    const int per_group = p.experts / p.groups;
    Best group{-FLT_MAX, lane};
    if (lane < p.groups) {
      float first = -FLT_MAX;
      float second = -FLT_MAX;
      for (int e = lane * per_group; e < (lane + 1) * per_group; ++e) {
        const float v = select[e];
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
      group.value = p.mode == GatingMode::Sigmoid ? first + second : first;
    } else {
      group.index = 1 << 20;  // never chosen
    }
    unsigned kept = 0;
    for (int g = 0; g < p.topk_groups; ++g) {
      const Best chosen = warp_argmax(group);
      kept |= 1u << chosen.index;
      if (lane == chosen.index) group.value = -FLT_MAX, group.index = 1 << 20;
    }
    for (int e = lane; e < p.experts; e += 32)
      if ((kept & (1u << (e / per_group))) == 0) select[e] = -INFINITY;
    __syncwarp();
  }

  float weight_sum = 0;
  int* ids_out = expert_ids + static_cast<long long>(token) * p.top_k;
  float* weights_out = weights + static_cast<long long>(token) * p.top_k;
  float mine = 0;  // lane j keeps the j-th chosen weight
  for (int k = 0; k < p.top_k; ++k) {
    Best local{-INFINITY, 1 << 20};
    for (int e = lane; e < p.experts; e += 32) local = better(local, Best{select[e], e});
    const Best chosen = warp_argmax(local);
    const float w = score[chosen.index];
    weight_sum += w;
    if (lane == k) mine = w;
    if (lane == 0) {
      ids_out[k] = chosen.index;
      select[chosen.index] = -INFINITY;
    }
    __syncwarp();
  }
  const float factor = (p.renormalize ? 1.0f / weight_sum : 1.0f) * p.scaling;
  if (lane < p.top_k) weights_out[lane] = mine * factor;
}

}  // namespace

void validate_gating_params(const GatingParams& p) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("gating: " + what); };
  if (p.experts < 1 || p.experts > kMaxGatingExperts) fail("experts must be in 1..1024");
  if (p.top_k < 1 || p.top_k > kMaxGatingTopK || p.top_k > p.experts) fail("top_k out of range");
  if (p.groups < 1 || p.groups > kMaxExpertGroups || p.experts % p.groups != 0)
    fail("groups must divide experts and be at most 32");
  if (p.topk_groups < 1 || p.topk_groups > p.groups) fail("topk_groups must be in 1..groups");
  if (p.topk_groups * (p.experts / p.groups) < p.top_k) fail("kept groups hold fewer than top_k");
}

void launch_topk_gating(const float* logits, int tokens, const GatingParams& params,
                        int* expert_ids, float* weights, cudaStream_t stream) {
  validate_gating_params(params);
  if (tokens <= 0) return;
  const int blocks = (tokens + kWarpsPerBlock - 1) / kWarpsPerBlock;
  const size_t shared_bytes = sizeof(float) * 2 * params.experts * kWarpsPerBlock;
  topk_gating_kernel<<<blocks, 32 * kWarpsPerBlock, shared_bytes, stream>>>(logits, tokens, params,
                                                                            expert_ids, weights);
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels

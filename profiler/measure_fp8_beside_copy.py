#!/usr/bin/env python3
"""FP8 GEMMs beside a kernel resident on a few SMs (docs/measurements/README.md, "Compute beside a
paced copy"): the question `measure_sm_overlap.cu` answered for cuBLAS's BF16 GEMMs, asked of the
FP8 GEMMs a DeepSeek-V3 prefill runs (torch._scaled_mm, per-tensor scales; one expert's gate/up at
2,048 to 16,384 rows, eight experts' gate/up one after another, the o projection), and of BF16 for
a check against the .cu's figures. The resident kernel holds `sms` whole SMs (1,024 threads and
160 KB of shared memory a block), copies 128 KiB chunks paced to 100 GB/s and stops when the
compute stream sets a flag after its GEMMs, or after 2 s whatever happens (it never waits on the
GEMMs). Each GEMM train (10 calls) is timed with CUDA events alone on all SMs and beside the
kernel; medians of 5. The GEMMs are told nothing of the SMs held (torch has no SM-count knob).

    python3 profiler/measure_fp8_beside_copy.py --out fp8-beside.json
"""
import argparse
import json
import statistics
import sys

SOURCE = r"""
#include <torch/extension.h>
#include <cuda_runtime.h>
__device__ unsigned long long now_ns() {
  unsigned long long t; asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t)); return t;
}
__global__ void resident_copy(const uint4* src, uint4* dst, long long per_block_vecs,
                              unsigned long long pace_ns, volatile int* stop) {
  extern __shared__ char reserve[];
  if (threadIdx.x == 0) reserve[0] = 0;
  const long long chunk = 1024LL * 8;  // 128 KiB a chunk
  const uint4* s = src + blockIdx.x * per_block_vecs;
  uint4* d = dst + blockIdx.x * per_block_vecs;
  __shared__ int done;
  const unsigned long long begin = now_ns();
  unsigned long long chunks = 0;
  for (long long base = 0;; base = (base + chunk) % (per_block_vecs - chunk)) {
    for (long long i = base + threadIdx.x; i < base + chunk; i += blockDim.x) d[i] = s[i];
    if (threadIdx.x == 0) {
      ++chunks;
      while (now_ns() < begin + chunks * pace_ns) __nanosleep(256);
      done = *stop != 0 || now_ns() - begin > 2000000000ULL;
    }
    __syncthreads();
    const bool finished = done;
    __syncthreads();
    if (finished) return;
  }
}
void launch(torch::Tensor src, torch::Tensor dst, int64_t sms, double rate_gbps, torch::Tensor stop,
            int64_t stream) {
  const int smem = 160 * 1024;
  cudaFuncSetAttribute(resident_copy, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  const long long vecs = src.numel() / 16 / sms;
  const double chunk_bytes = 1024.0 * 8 * 16;
  const auto pace = static_cast<unsigned long long>(chunk_bytes * sms / rate_gbps);
  resident_copy<<<sms, 1024, smem, reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const uint4*>(src.data_ptr()), reinterpret_cast<uint4*>(dst.data_ptr()),
      vecs, pace, stop.data_ptr<int>());
  TORCH_CHECK(cudaGetLastError() == cudaSuccess, "resident_copy launch failed");
}
"""

SHAPES = [  # name, rows, N, K, calls a train step (eight experts: eight GEMMs)
    ("expert_gate_up_2048", 2048, 4096, 7168, 1),
    ("expert_gate_up_8192", 8192, 4096, 7168, 1),
    ("expert_gate_up_16384", 16384, 4096, 7168, 1),
    ("experts_gate_up_8x2048", 2048, 4096, 7168, 8),
    ("o_proj_16384", 16384, 7168, 16384, 1),
]


def gemm_train(torch, dtype, m, n, k, calls):
    a = torch.randn(m, k, device="cuda").to(dtype)
    b = torch.randn(n, k, device="cuda").to(dtype)
    one = torch.ones((), device="cuda")
    if dtype == torch.bfloat16:
        return lambda: [a @ b.t() for _ in range(calls)]
    return lambda: [torch._scaled_mm(a, b.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
                    for _ in range(calls)]


def timed(torch, train, reps, copy=None):
    """Median ms of 10 train steps, alone or beside `copy` (a function launching the kernel)."""
    samples = []
    for _ in range(reps):
        if copy:
            copy()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(10):
            train()
        end.record()
        if copy:
            copy.stop.fill_(1)
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / 10)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    import torch
    from torch.utils.cpp_extension import load_inline

    declaration = ("void launch(torch::Tensor src, torch::Tensor dst, int64_t sms, double rate_gbps, "
                   "torch::Tensor stop, int64_t stream);")
    ext = load_inline("resident_copy_ext", cpp_sources=declaration, cuda_sources=SOURCE,
                      functions=["launch"], extra_cuda_cflags=["-O2"], verbose=False)
    sms_total = torch.cuda.get_device_properties(0).multi_processor_count
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda").fill_(1)
    dst = torch.empty_like(src)
    side = torch.cuda.Stream()
    rows = []
    for held in (20, 24):
        def copy():
            copy.stop.zero_()
            torch.cuda.synchronize()
            ext.launch(src, dst, held, 100.0, copy.stop, side.cuda_stream)
        copy.stop = torch.zeros(1, dtype=torch.int32, device="cuda")
        for dtype in (torch.float8_e4m3fn, torch.bfloat16):
            for name, m, n, k, calls in SHAPES:
                train = gemm_train(torch, dtype, m, n, k, calls)
                timed(torch, train, 2)  # warm up
                alone = timed(torch, train, args.reps)
                beside = timed(torch, train, args.reps, copy)
                share = sms_total / (sms_total - held)
                rows.append({"sms_held": held, "dtype": str(dtype).split(".")[-1], "gemm": name,
                             "alone_ms": alone, "beside_ms": beside, "slowdown": beside / alone,
                             "beyond_sm_share": beside / alone / share})
                print(json.dumps(rows[-1]), file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump({"gpu": torch.cuda.get_device_name(0), "sms": sms_total, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

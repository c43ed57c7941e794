#!/usr/bin/env python3
"""Measures what a decode step pays besides its math, on the GPU machine:

- the gap between back-to-back small kernels, launched eagerly from PyTorch and replayed from a
  CUDA graph (the per-step floor that CUDA graphs reduce but do not remove);
- a small-message all-reduce over NCCL (the TP all-reduce of a decode step), when run under
  torchrun with 2 or more ranks;
- FP8 (torch._scaled_mm, e4m3) against BF16 GEMM time at expert shapes, to check the device's
  datasheet FP8:BF16 ratio that moesim scales a BF16 curve by.

Timing follows docs/profiling.md: warm-up, CUDA events, median of repeats.

    python3 profiler/measure_step_floor.py --out floor.json
    torchrun --nproc-per-node 2 profiler/measure_step_floor.py --out floor.json
"""
import argparse
import json
import os
import sys

import torch
import torch.distributed as dist

from cuda_timing import median_ms


def spin_up_clocks(seconds=0.5):
    """Keeps the GPU busy long enough to leave its idle clocks (METHOD.md: warm up)."""
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    start = torch.cuda.Event(enable_timing=True)
    start.record()
    while True:
        for _ in range(20):
            a = (a @ a).clamp_(-1, 1)
        end = torch.cuda.Event(enable_timing=True)
        end.record()
        end.synchronize()
        if start.elapsed_time(end) > seconds * 1000:
            return


def median_us(run, repeats=20, warmup=5):
    return median_ms(run, repeats, warmup) * 1000.0


def kernel_gaps(kernels=2000):
    x = torch.zeros(256, device="cuda")

    def chain():
        for _ in range(kernels):
            x.add_(1.0)

    eager_us = median_us(chain, repeats=10)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        chain()  # warm the allocator on the capture stream
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        chain()
    graph_us = median_us(graph.replay, repeats=10)
    empty = torch.cuda.CUDAGraph()
    with torch.cuda.graph(empty):
        x.add_(1.0)
    one_node_us = median_us(empty.replay, repeats=50)
    return {"kernels": kernels, "eager_us_per_kernel": eager_us / kernels,
            "graph_us_per_kernel": graph_us / kernels, "graph_one_kernel_replay_us": one_node_us}


def graph_chain_us(make_step, count=200):
    """Per-kernel time of `count` launches of make_step() replayed from one CUDA graph."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            make_step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(count):
            make_step()
    return median_us(graph.replay, repeats=10) / count


def decode_gemv_in_graph():
    """Decode-sized GEMMs (1 and 8 rows, DeepSeek-V3 and Mixtral widths) back to back in a CUDA
    graph: how far a real small kernel sits above its weight-read time."""
    rows = []
    for n, k in [(2048, 7168), (7168, 2048), (4096, 7168), (1536, 7168), (14336, 4096)]:
        w = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
        for m in [1, 8]:
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
            us = graph_chain_us(lambda: torch.mm(x, w, out=out))
            rows.append({"m": m, "n": n, "k": k, "weight_bytes": n * k * 2, "us_per_kernel": us})
    return rows


def gemm_ratio():
    rows = []
    for n, k in [(4096, 7168), (7168, 2048), (28672, 4096), (4096, 14336)]:
        for m in [16, 64, 256, 1024, 4096]:
            a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
            spin_up_clocks(0.1)
            bf16 = median_us(lambda: torch.mm(a, b.t()))
            a8, b8 = a.to(torch.float8_e4m3fn), b.to(torch.float8_e4m3fn)
            one = torch.ones((), device="cuda")
            fp8 = median_us(lambda: torch._scaled_mm(a8, b8.t(), scale_a=one, scale_b=one,
                                                     out_dtype=torch.bfloat16))
            rows.append({"m": m, "n": n, "k": k, "bf16_us": bf16, "fp8_us": fp8,
                         "bf16_over_fp8": bf16 / fp8})
    return rows


def all_reduce_latency():
    rows = []
    for size in [16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]:
        spin_up_clocks(0.1)
        t = torch.ones(size // 2, device="cuda", dtype=torch.bfloat16)
        us = median_us(lambda: dist.all_reduce(t), repeats=30, warmup=10)
        rows.append({"bytes": size, "median_us": us})
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    distributed = "RANK" in os.environ
    if distributed:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group("nccl")
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "warm_up": "0.5 s of back-to-back 4096^3 BF16 GEMMs before the gaps, 0.1 s before "
                         "each GEMM shape and all-reduce size",
              "cuda": torch.version.cuda}
    rank = dist.get_rank() if distributed else 0
    if distributed:
        result["ranks"] = dist.get_world_size()
        result["all_reduce"] = all_reduce_latency()
    spin_up_clocks()
    if rank == 0:
        result["kernel_gaps"] = kernel_gaps()
        result["gemm_fp8_vs_bf16"] = gemm_ratio()
        result["decode_gemm_in_graph"] = decode_gemv_in_graph()
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps(result, indent=1))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())

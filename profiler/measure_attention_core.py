#!/usr/bin/env python3
"""The prefill attention core (softmax(QK^T) V, causal) against a large BF16 GEMM on this GPU.

moesim prices a prefill block's attention core by its FLOPs at the profile's BF16 GEMM rate;
fused attention kernels reach less of the tensor cores than a large GEMM (the softmax between the
two products, the causal mask's partial tiles). This times PyTorch's scaled_dot_product_attention
under each of its fused back ends (cuDNN, flash, memory-efficient; the fastest is what a serving
stack's FlashAttention-3 class kernel stands for) on MLA's prefill shape (DeepSeek-V3: 128 heads,
q/k 192 wide, v 128) and on two GQA shapes (Mixtral: 32 query heads over 8 KV heads; Qwen3-235B:
64 over 4; both 128 wide), 16,384 query tokens a call (one prompt when it is longer) at prompt
lengths from 256 to 32,768, and an 8192^3 BF16 matmul in the same process, each the median of
CUDA-event timings after warm-up (docs/profiling.md). FLOPs of a causal call: batch x heads x S^2 x
(d_qk + d_v) (half of the 2 S^2 (d_qk + d_v) of the full product).

    python3 profiler/measure_attention_core.py --out attention.json
"""
import argparse
import json
import statistics
import sys

from cuda_timing import event_samples_ms

SHAPES = {  # name: (query heads, KV heads, q/k width, v width)
    "mla-deepseek-v3": (128, 128, 192, 128),
    "gqa-mixtral-8x7b": (32, 8, 128, 128),
    "gqa-qwen3-235b": (64, 4, 128, 128),
}
PROMPTS = (256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
BACKENDS = ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION")
TOKENS = 16384


def gemm_rate(torch):
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    ms = statistics.median(event_samples_ms(lambda: a @ b, 20, 5))
    return 2 * 8192**3 / (ms * 1e-3)


def attention_case(torch, backend, heads, kv_heads, d_qk, d_v, prompt):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    batch = max(1, TOKENS // prompt)
    q = torch.randn(batch, heads, prompt, d_qk, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(batch, kv_heads, prompt, d_qk, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(batch, kv_heads, prompt, d_v, device="cuda", dtype=torch.bfloat16)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    gqa = kv_heads != heads

    def run():
        with sdpa_kernel([getattr(SDPBackend, backend)]):
            return sdpa(q, k, v, is_causal=True, enable_gqa=gqa)

    samples = event_samples_ms(run, 10, 3)
    ms = statistics.median(samples)
    flops = batch * heads * prompt * prompt * (d_qk + d_v)
    return {"backend": backend, "prompt_tokens": prompt, "batch": batch, "median_ms": ms,
            "min_ms": min(samples), "max_ms": max(samples), "runs": len(samples), "flops": flops,
            "flops_per_s": flops / (ms * 1e-3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("measure_attention_core: no CUDA device")
    gemm = gemm_rate(torch)
    result = {"gpu_name": torch.cuda.get_device_name(), "torch": torch.__version__,
              "bf16_gemm_8192_flops_per_s": gemm, "shapes": {}}
    for name, (heads, kv_heads, d_qk, d_v) in SHAPES.items():
        cases = []
        for prompt in PROMPTS:
            for backend in BACKENDS:
                try:
                    case = attention_case(torch, backend, heads, kv_heads, d_qk, d_v, prompt)
                except RuntimeError as error:  # a back end that refuses the shape: say so, go on
                    case = {"backend": backend, "prompt_tokens": prompt, "error": str(error)[:300]}
                if "flops_per_s" in case:
                    case["of_gemm_rate"] = case["flops_per_s"] / gemm
                cases.append(case)
                print(name, json.dumps(case), flush=True)
                torch.cuda.empty_cache()
        result["shapes"][name] = {"heads": heads, "kv_heads": kv_heads, "d_qk": d_qk, "d_v": d_v,
                                  "cases": cases}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"gemm 8192^3: {gemm / 1e12:.1f} TFLOP/s")


if __name__ == "__main__":
    main()

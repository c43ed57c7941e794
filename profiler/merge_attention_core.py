#!/usr/bin/env python3
"""Copies causal attention-core measurements into a profile.

usage: profiler/merge_attention_core.py TARGET.json SOURCE.json

SOURCE is the output of `profiler/measure_attention_core.py`: per attention shape, prompt length
and PyTorch back end, the causal scaled_dot_product_attention rate, and the 8192^3 BF16 GEMM rate
timed in the same process. For each shape and prompt length the fastest back end becomes one entry
of TARGET's top-level `attention_core` (docs/profile-format.md):
{"reference_gemm_flops_per_s", "causal_prefill": [{prompt_tokens, batch, heads, kv_heads, d_qk,
d_v, backend, median_us, flops_per_s}]}. TARGET is rewritten atomically in the profiles' layout.
"""
import sys

from profile_files import merge_main


def fastest_cases(shape, source_path, name):
    """The fastest back end's case at each prompt length of one shape."""
    best = {}
    for case in shape.get("cases", []):
        if not isinstance(case.get("flops_per_s"), (int, float)) or case["flops_per_s"] <= 0:
            continue  # a back end that refused the shape
        prompt = case["prompt_tokens"]
        if prompt not in best or case["flops_per_s"] > best[prompt]["flops_per_s"]:
            best[prompt] = case
    if not best:
        sys.exit(f"{source_path}: /shapes/{name}: no back end ran this shape")
    return [best[prompt] for prompt in sorted(best)]


def merge(target, source, source_path):
    reference = source.get("bf16_gemm_8192_flops_per_s")
    if not isinstance(reference, (int, float)) or reference <= 0:
        sys.exit(f"{source_path}: /bf16_gemm_8192_flops_per_s: expected a positive rate")
    shapes = source.get("shapes")
    if not shapes:
        sys.exit(f"{source_path}: /shapes: expected the measured attention shapes")
    entries = []
    for name, shape in shapes.items():
        for case in fastest_cases(shape, source_path, name):
            entries.append({"shape": name, "prompt_tokens": case["prompt_tokens"],
                            "batch": case["batch"], "heads": shape["heads"],
                            "kv_heads": shape["kv_heads"], "d_qk": shape["d_qk"],
                            "d_v": shape["d_v"], "backend": case["backend"],
                            "median_us": round(case["median_ms"] * 1000, 3),
                            "flops_per_s": round(case["flops_per_s"])})
    target["attention_core"] = {"reference_gemm_flops_per_s": round(reference),
                                "causal_prefill": entries}


if __name__ == "__main__":
    merge_main(__doc__, merge)

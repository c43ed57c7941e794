#!/usr/bin/env python3
"""Copies block-scaled FP8 GEMM measurements into a profile.

usage: profiler/merge_block_fp8.py TARGET.json SOURCE.json

SOURCE is the output of `measure_block_fp8` (profiler/measure_block_fp8.cpp): per GEMM shape and
row count, the time in BF16, in FP8 with one scale a tensor and in FP8 with DeepSeek-V3's scales
(128x128 weight blocks, 1x128 activation slices). Its cases become TARGET's top-level
`fp8_block_gemm` (docs/profile-format.md): {m, n, k, gemm, fp8_us, fp8_block_us}, the expert GEMMs
grouped under `model` "deepseek-v3" (gate_up and down together, as `fp8_gemm` groups them), the
attention projections each its own n x k. TARGET is rewritten atomically in the profiles' layout.
"""
import sys

from profile_files import merge_main

EXPERT_GEMMS = {"expert_gate_up", "expert_down"}


def merge(target, source, source_path):
    cases = source.get("cases")
    if not cases:
        sys.exit(f"{source_path}: no cases")
    entries = []
    for i, c in enumerate(cases):
        fields = ("rows", "n", "k", "fp8_tensor_ms", "fp8_block128_ms")
        if not all(isinstance(c.get(key), (int, float)) and c[key] > 0 for key in fields):
            sys.exit(f"{source_path}: /cases/{i}: expected positive {', '.join(fields)}"
                     " (a shape cuBLASLt could not run has -1)")
        entry = {"m": c["rows"], "n": c["n"], "k": c["k"], "gemm": c["gemm"],
                 "fp8_us": round(c["fp8_tensor_ms"] * 1000, 3),
                 "fp8_block_us": round(c["fp8_block128_ms"] * 1000, 3)}
        if c["gemm"] in EXPERT_GEMMS:
            entry["model"] = "deepseek-v3"
        entries.append(entry)
    target["fp8_block_gemm"] = entries


if __name__ == "__main__":
    merge_main(__doc__, merge)

#!/usr/bin/env python3
"""Copies a profile's FP8-against-BF16 GEMM measurements into another profile.

usage: profiler/merge_fp8_gemm.py TARGET.json SOURCE.json

SOURCE's top-level `fp8_gemm` (moesim-profile measures it, docs/profile-format.md) replaces
TARGET's, so a shipped profile gains FP8 pricing from a later lease without re-measuring the
rest (docs/decode-model.md says which lease measured it). TARGET is rewritten atomically in the
profiles' own layout (indent 1, sorted keys).
"""
import sys

from profile_files import merge_main


def merge(target, source, source_path):
    entries = source.get("fp8_gemm")
    if not entries:
        sys.exit(f"{source_path}: no fp8_gemm measurements")
    for i, e in enumerate(entries):
        if not all(e.get(key, 0) > 0 for key in ("m", "n", "k", "bf16_us", "fp8_us")):
            sys.exit(f"{source_path}: /fp8_gemm/{i}: expected positive m, n, k, bf16_us, fp8_us")
    target["fp8_gemm"] = entries


if __name__ == "__main__":
    merge_main(__doc__, merge)

#!/usr/bin/env python3
"""Copies each model's grouped-GEMM curves at fewer active experts into another profile.

usage: profiler/merge_fewer_active.py TARGET.json SOURCE.json

`experts.by_active` (docs/profile-format.md) of every model in SOURCE, matched by name, replaces
TARGET's, so a shipped profile gains the curves from a later lease without re-measuring the rest
(docs/accuracy.md records which lease measured what). TARGET is rewritten atomically in the
profiles' own layout (indent 1, sorted keys).
"""
import sys

from profile_files import merge_main


def merge(target, source, source_path):
    measured = {m["name"]: m["experts"].get("by_active") for m in source.get("models", [])}
    for model in target.get("models", []):
        curves = measured.get(model["name"])
        if not curves or not curves.get("grouped"):
            sys.exit(f"{source_path}: no experts.by_active.grouped for model {model['name']}")
        model["experts"]["by_active"] = curves


if __name__ == "__main__":
    merge_main(__doc__, merge)

#!/usr/bin/env python3
"""Copies each model's grouped-GEMM curves at fewer active experts into another profile.

usage: profiler/merge_fewer_active.py TARGET.json SOURCE.json

`experts.by_active` (docs/profile-format.md) of every model in SOURCE, matched by name, replaces
TARGET's, so a shipped profile gains the curves from a later lease without re-measuring the rest
(docs/accuracy.md records which lease measured what). TARGET is rewritten atomically in the
profiles' own layout (indent 1, sorted keys).
"""
import sys

from profile_files import read_json, write_profile


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    target_path, source_path = sys.argv[1], sys.argv[2]
    target = read_json(target_path)
    source = read_json(source_path)
    measured = {m["name"]: m["experts"].get("by_active") for m in source.get("models", [])}
    for model in target.get("models", []):
        curves = measured.get(model["name"])
        if not curves or not curves.get("grouped"):
            sys.exit(f"{source_path}: no experts.by_active.grouped for model {model['name']}")
        model["experts"]["by_active"] = curves
    write_profile(target, target_path)


if __name__ == "__main__":
    main()

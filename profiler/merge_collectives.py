#!/usr/bin/env python3
"""Copies named arrays of a profile's `collectives` section into another profile.

usage: profiler/merge_collectives.py TARGET.json SOURCE.json KEY [KEY...]

For a term measured on a later lease (e.g. `dispatch_sequence` from
`moesim-profile --quick --collectives-only`) without re-measuring the whole profile: each KEY's
entries in TARGET are replaced by SOURCE's (same ranks and launcher assumed; docs/accuracy.md
records which lease measured what). TARGET is rewritten atomically (indent 1, sorted keys, as
moesim-profile writes it; a float may print with a different last digit, the same double).
"""
import json
import os
import sys
import tempfile


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    target_path, source_path, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(target_path) as f:
        target = json.load(f)
    with open(source_path) as f:
        source = json.load(f)
    for key in keys:
        entries = source.get("collectives", {}).get(key)
        if not isinstance(entries, list) or not entries:
            sys.exit(f"{source_path}: /collectives/{key}: expected a non-empty array")
        target.setdefault("collectives", {})[key] = entries
    directory = os.path.dirname(os.path.abspath(target_path))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as out:
        json.dump(target, out, indent=1, sort_keys=True)  # the profiles' own layout
        out.write("\n")
    os.replace(out.name, target_path)


if __name__ == "__main__":
    main()

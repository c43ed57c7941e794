"""Reading and rewriting profile JSON files for the merge scripts (merge_*.py)."""
import json
import os
import sys
import tempfile


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_profile(document, path):
    """Rewrites `path` atomically in the profiles' own layout (indent 1, sorted keys)."""
    directory = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as out:
        json.dump(document, out, indent=1, sort_keys=True)
        out.write("\n")
    os.replace(out.name, path)


def merge_main(usage, merge):
    """The merge scripts' command line: TARGET.json SOURCE.json. `merge(target, source,
    source_path)` copies SOURCE's measurements into TARGET's document (exiting with a message when
    SOURCE lacks them); TARGET is then rewritten atomically."""
    if len(sys.argv) != 3:
        sys.exit(usage)
    target_path, source_path = sys.argv[1], sys.argv[2]
    target = read_json(target_path)
    merge(target, read_json(source_path), source_path)
    write_profile(target, target_path)

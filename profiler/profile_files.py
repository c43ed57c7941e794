"""Reading and rewriting profile JSON files for the merge scripts (merge_*.py)."""
import json
import os
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

#!/usr/bin/env python3
"""Schema-wide hostile sweep (issue 16): one hostile value in EVERY leaf field that
docs/scenario.schema.json describes, on a few valid base scenarios, instead of a hand-picked list.

Each mutated scenario is first given to `moesim validate`, then, when validate accepts it, to
`moesim run`. A case fails when either command crashes, trips a sanitizer, runs past 10 s or
peaks over 2 GB (hostile_sweep.py's limits); when validate refuses without naming the file; or
when validate accepts a scenario that `run` then refuses as bad input (exit 2): a file that passes
`validate` must be runnable. docs/reliability.md.

    python3 tests/hostile/schema_sweep.py MOESIM [SCRATCH] [--only=WORD]
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_sweep as h  # noqa: E402  (Sweep, the hostile values, load)
from hostile_cases import QUICKSTART  # noqa: E402

SCHEMA = "docs/scenario.schema.json"


def leaf_paths(node, path, definitions, out, depth=0):
    """JSON pointers of every scalar field the schema describes (through $ref, oneOf, anyOf)."""
    if depth > 10:
        return
    if "$ref" in node:
        node = definitions[node["$ref"].split("/")[-1]]
    for key in ("oneOf", "anyOf"):
        for alternative in node.get(key, []):
            leaf_paths(alternative, path, definitions, out, depth + 1)
    if "properties" in node:
        for name, child in node["properties"].items():
            leaf_paths(child, path + "/" + name, definitions, out, depth + 1)
    elif path and (node.get("type") in ("integer", "number", "string", "boolean") or "enum" in node):
        out.add(path)


def with_objects(document, pointer):
    """The document with every string preset on POINTER's way turned into {"preset": ...}, so a
    field under `model` or `cluster` can be set on a base that names a preset."""
    node = document
    for part in pointer.strip("/").split("/")[:-1]:
        child = node.get(part) if isinstance(node, dict) else None
        if isinstance(child, str):
            node[part] = {"preset": child} if part in ("model", "cluster") else {"source": child}
        elif child is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            return None
    return document


def bases():
    prefill = copy.deepcopy(QUICKSTART)
    decode = copy.deepcopy(QUICKSTART)
    decode["workload"].update({"kind": "decode", "tokens_per_gpu": 16})
    training = h.load("scenarios/mixtral-train-h100x64-3d.json")
    training["workload"]["tokens_per_gpu"] = 1024
    return [("prefill", prefill), ("decode", decode), ("train", training)]


def run_case(sweep, label, document):
    name = "%s.json" % label.replace("/", "_")[:90]
    path = sweep.write(name, document if isinstance(document, str) else json.dumps(document))
    validate_rc = sweep.run(label + " validate", ["validate", path], [name], expect_bad=False)
    if validate_rc != 0:
        return
    run_rc = sweep.run(label + " run", ["run", path, "--out", "{OUT}", "-q"], [name],
                       expect_bad=False)
    if run_rc == 2:
        sweep.fail(label, ["run", path], "validate accepted it, run refused it (exit 2)", "")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    only = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), None)
    sweep = h.Sweep(os.path.abspath(args[0]),
                    os.path.abspath(args[1] if len(args) > 1 else "/tmp/moesim-schema-sweep"), only)
    schema = h.load(SCHEMA)
    pointers = set()
    leaf_paths(schema, "", schema.get("definitions", {}), pointers)
    values = [(str(i), v, None) for i, v in enumerate(h.NUMBERS + h.OTHERS)]
    values += [("raw%d" % j, None, raw) for j, raw in enumerate(h.RAW)]
    for base_name, base in bases():
        for pointer in sorted(pointers):
            for tag, value, raw in values:
                document = with_objects(copy.deepcopy(base), pointer)
                if document is None:
                    continue
                h.set_at(document, pointer, "@@RAW@@" if raw else value)
                text = json.dumps(document)
                if raw:
                    text = text.replace('"@@RAW@@"', raw)
                run_case(sweep, "%s%s=%s" % (base_name, pointer, tag), text)
    print("schema sweep: %d fields, %d runs, %d failures" % (len(pointers), sweep.cases,
                                                             len(sweep.failures)))
    return 1 if sweep.failures else 0


if __name__ == "__main__":
    sys.exit(main())

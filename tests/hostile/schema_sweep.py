#!/usr/bin/env python3
"""Schema-wide hostile sweep (issue 16): one hostile value in EVERY leaf field that a schema in
docs/ describes (scenario, serving file, plan), on a few valid base files, instead of a hand-picked
list.

Each mutated file is first given to `moesim validate`, then, when validate accepts it, to the
command that reads it (`run`, `serve`, `plan`). A case fails when either command crashes, trips a sanitizer, runs past 10 s or
peaks over 2 GB (hostile_sweep.py's limits); when validate refuses without naming the file; or
when validate accepts a file that the command then refuses as bad input (exit 2): a file that passes
`validate` must be runnable. docs/reliability.md.

    python3 tests/hostile/schema_sweep.py MOESIM [SCRATCH] [--only=WORD]

--only=WORD keeps the cases whose label holds WORD (labels are KIND/BASE/POINTER=VALUE, e.g.
--only=serving/ or --only=/model/experts=).
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile_sweep as h  # noqa: E402  (Sweep, the hostile values, load)
import hostile_cases as cases  # noqa: E402  (the base files)


def leaf_paths(node, path, definitions, out, depth=0):
    """JSON pointers of every scalar field the schema describes (through $ref, oneOf, anyOf)."""
    if depth > 10:
        return
    if "$ref" in node:
        node = definitions.get(node["$ref"].split("/")[-1], {})
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


def scenario_bases():
    prefill = copy.deepcopy(cases.QUICKSTART)
    decode = copy.deepcopy(cases.QUICKSTART)
    decode["workload"].update({"kind": "decode", "tokens_per_gpu": 16})
    training = h.load("scenarios/mixtral-train-h100x64-3d.json")
    training["workload"]["tokens_per_gpu"] = 1024
    return [("prefill", prefill), ("decode", decode), ("train", training)]


def serving_bases():
    return [("aggregated", cases.serving_base(h))]


def plan_bases():
    return [("sla", cases.plan_base(h))]


# (kind, schema, base files, the command that reads the file)
KINDS = [
    ("scenario", "docs/scenario.schema.json", scenario_bases, cases.RUN),
    ("serving", "docs/serving.schema.json", serving_bases, cases.SERVE),
    ("plan", "docs/plan.schema.json", plan_bases, cases.PLAN),
]


def run_case(sweep, label, text, command):
    if sweep.only and sweep.only not in label:
        return
    name = "%s.json" % label.replace("/", "_")[:90]
    path = sweep.write(name, text)
    validate_rc = sweep.run(label + " validate", ["validate", path], [name], expect_bad=False)
    if validate_rc != 0:
        return
    args = [a.replace("{F}", path) for a in command]
    if sweep.run(label + " " + command[0], args, [name], expect_bad=False) == 2:
        sweep.fail(label, args, "validate accepted it, %s refused it (exit 2)" % command[0], "")


def sweep_kind(sweep, kind, schema_path, bases, command):
    schema = h.load(schema_path)
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
                run_case(sweep, "%s/%s%s=%s" % (kind, base_name, pointer, tag), text, command)
    return len(pointers)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--only")]
    only = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")), None)
    sweep = h.Sweep(os.path.abspath(args[0]),
                    os.path.abspath(args[1] if len(args) > 1 else "/tmp/moesim-schema-sweep"), only)
    fields = sum(sweep_kind(sweep, *kind) for kind in KINDS)
    print("schema sweep: %d fields, %d commands, %d failures" % (fields, sweep.cases,
                                                                 len(sweep.failures)))
    return 1 if sweep.failures else 0


if __name__ == "__main__":
    sys.exit(main())

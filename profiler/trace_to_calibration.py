#!/usr/bin/env python3
"""Turns a PyTorch-profiler / Perfetto Chrome trace into moesim calibration records (docs/calibrate.md).

A mapping file says which spans are one MoE layer execution and which kernels belong to which phase:

    {"layer": "moe_layer",                        # regex on span names (record_function labels)
     "phases": {"gate": "gemv|topk|softmax",      # regex on kernel names, first match wins
                "permute": "sort|index_select|gather",
                "dispatch": "nccl.*AllToAll|ncclDevKernel_SendRecv",
                "experts": "grouped_mm|gemm|silu",
                "unpermute": "index_add|scatter"},
     "record": {"stack": "my-stack", "ranks": 1, "rank": 0, "tokens": 512,
                "shape": {"hidden": 4096, "expert_ffn": 14336, "experts": 8, "top_k": 2},
                "active_experts": 8}}

Every span whose name matches "layer" (GPU-side "gpu_user_annotation" spans when the trace has them,
else CPU-side "user_annotation") is one sample; a phase's time in a sample is the summed duration of
the kernels that start inside the span and whose names match the phase's pattern (kernel busy time:
host gaps between launches are not in it, but they are in layer_ms, the span itself). The record is
the median over samples. "record" supplies what a trace does not hold (shape, tokens, ranks, the
tokens per local expert or active experts); one mapping per (shape, token count, rank).

    python3 profiler/trace_to_calibration.py TRACE.json MAPPING.json --device "NVIDIA H200" --out OUT.json
Several TRACE MAPPING pairs may follow one another; their records go into one file.
A bad file exits 2 naming it, the JSON path and what was expected (docs/reliability.md); the output
is written to a temporary file and renamed, and may not be one of the inputs.
"""
import argparse
import json
import math
import os
import re
import stat
import statistics
import sys

MAX_INPUT_BYTES = 1 << 30  # as moesim's own text inputs (base/text_file.hpp)


def fail(source, where, what):
    """Exit 2 naming the file, the JSON path and what was expected."""
    sys.stderr.write(f"error: {source}: {where}: {what}\n")
    sys.exit(2)


def read_json(path):
    """A regular file of at most MAX_INPUT_BYTES, parsed; /dev/zero, FIFOs and folders are refused."""
    try:
        info = os.stat(path)
    except OSError as error:
        fail(path, "/", f"cannot open the file ({error.strerror})")
    if stat.S_ISDIR(info.st_mode):
        fail(path, "/", "is a directory; expected a file")
    if not stat.S_ISREG(info.st_mode):
        fail(path, "/", "expected a regular file")
    if info.st_size > MAX_INPUT_BYTES:
        fail(path, "/", f"file is {info.st_size} bytes; expected at most {MAX_INPUT_BYTES}")
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_INPUT_BYTES + 1).decode("utf-8")
        return json.loads(text, parse_constant=lambda c: fail(path, "/", f"expected JSON, got {c}"))
    except UnicodeDecodeError as error:
        fail(path, f"byte {error.start}", "expected UTF-8 text")
    except json.JSONDecodeError as error:
        fail(path, f"line {error.lineno} column {error.colno}", f"expected JSON: {error.msg}")
    except RecursionError:
        fail(path, "/", "expected JSON nested at most a few hundred levels")


def regex(source, where, pattern):
    if not isinstance(pattern, str):
        fail(source, where, f"expected a regular expression (a string), got {json.dumps(pattern)}")
    try:
        return re.compile(pattern)
    except re.error as error:
        fail(source, where, f"expected a regular expression: {error}")


def check_mapping(mapping, source):
    """The mapping's layer and phase patterns compiled, and its record an object."""
    if not isinstance(mapping, dict):
        fail(source, "/", "expected an object with layer, phases and record")
    for key in mapping:
        if key not in ("layer", "phases", "record"):
            fail(source, f"/{key}", "unknown field (expected layer, phases, record)")
    layer = regex(source, "/layer", mapping.get("layer"))
    phases = mapping.get("phases")
    if not isinstance(phases, dict) or not phases:
        fail(source, "/phases", "expected an object of phase: regular expression")
    patterns = [(p, regex(source, f"/phases/{p}", r)) for p, r in phases.items()]
    if not isinstance(mapping.get("record"), dict):
        fail(source, "/record", "expected an object (the record's fields a trace cannot hold)")
    return layer, patterns


def time_us(source, where, event, key):
    value = event.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value) or value < 0 or value > 1e15:
        fail(source, f"{where}/{key}", f"expected microseconds in [0, 1e15], got {json.dumps(value)}")
    return float(value)


def timed_events(trace, source):
    """The complete ("X") events with a name, a category, a start and a duration, checked."""
    events = trace.get("traceEvents") if isinstance(trace, dict) else trace
    where = "/traceEvents" if isinstance(trace, dict) else ""
    if not isinstance(events, list):
        fail(source, where or "/", "expected a list of trace events (or an object holding one)")
    checked = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            fail(source, f"{where}/{i}", "expected a trace event (an object)")
        if e.get("ph") != "X" or e.get("cat") not in ("kernel", "gpu_user_annotation",
                                                       "user_annotation"):
            continue
        if not isinstance(e.get("name", ""), str):
            fail(source, f"{where}/{i}/name", "expected a string")
        checked.append({"name": e.get("name", ""), "cat": e["cat"],
                        "ts": time_us(source, f"{where}/{i}", e, "ts"),
                        "dur": time_us(source, f"{where}/{i}", e, "dur")})
    return checked


def spans(events, pattern):
    """The layer spans: GPU-side annotations when present, else CPU-side ones."""
    for category in ("gpu_user_annotation", "user_annotation"):
        found = [e for e in events if e["cat"] == category and pattern.search(e["name"])]
        if found:
            return found
    return []


def phase_times(kernels, span, patterns):
    start, end = span["ts"], span["ts"] + span["dur"]
    times = {}
    for k in kernels:
        if start <= k["ts"] < end:
            for phase, pattern in patterns:
                if pattern.search(k["name"]):
                    times[phase] = times.get(phase, 0.0) + k["dur"] / 1000.0  # us -> ms
                    break
    return times


def convert(trace, mapping, source, mapping_source):
    layer, patterns = check_mapping(mapping, mapping_source)
    events = timed_events(trace, source)
    kernels = [e for e in events if e["cat"] == "kernel"]
    layer_spans = spans(events, layer)
    if not layer_spans:
        fail(source, "/traceEvents", f"no span matches the layer pattern {layer.pattern!r}")
    samples = [phase_times(kernels, s, patterns) for s in layer_spans]
    record = dict(mapping["record"])
    record.setdefault("case", f"{source} ({len(samples)} samples)")
    phases = {p: statistics.median(s.get(p, 0.0) for s in samples) for p, _ in patterns}
    record["phases_ms"] = {p: round(t, 6) for p, t in phases.items() if t > 0}
    record["layer_ms"] = round(statistics.median(s["dur"] for s in layer_spans) / 1000.0, 6)
    if not record["phases_ms"]:
        fail(source, "/traceEvents", "no kernel inside the layer spans matches any phase pattern")
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="TRACE.json MAPPING.json [TRACE.json MAPPING.json ...]")
    parser.add_argument("--device", required=True, help="GPU name, e.g. \"NVIDIA H200\"")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give TRACE MAPPING pairs")
    for path in args.pairs:
        if os.path.exists(args.out) and os.path.exists(path) and os.path.samefile(args.out, path):
            fail(args.out, "--out", f"is the input {path}; writing it would destroy it")
    records = []
    for trace_path, mapping_path in zip(args.pairs[::2], args.pairs[1::2]):
        records.append(convert(read_json(trace_path), read_json(mapping_path), trace_path,
                               mapping_path))
    doc = {"format": "moesim-calibration", "schema_version": 1, "device": args.device,
           "provenance": {"tool": "profiler/trace_to_calibration.py", "traces": args.pairs[::2]},
           "records": records}
    temporary = f"{args.out}.tmp{os.getpid()}"  # renamed over --out: never half a file
    with open(temporary, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(temporary, args.out)
    print(f"{args.out}: {len(records)} records")


if __name__ == "__main__":
    main()

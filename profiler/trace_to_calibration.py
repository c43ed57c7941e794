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

Patterns are a subset of regular expressions that is matched in time linear in the name (Python's
backtracking re took exponential time on "^(a+)+$", and cubic on ".*.*x"): alternatives joined by
"|", each literal text with ".*" (any characters) between pieces, "^" at its start and "$" at its
end to anchor it, and "\\" before a punctuation character to mean that character. A name matches
when any alternative occurs in it, as re.search would find it. Anything else (groups, classes,
other quantifiers, a lone ".") is refused with exit 2.

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
import bisect
import json
import math
import os
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


METACHARACTERS = set(".^$*+?{}[]()|\\")


class NamePattern:
    """One mapping pattern in the linear subset: each alternative is (anchored at the start,
    literal pieces that ".*" separates, anchored at the end)."""

    def __init__(self, pattern, alternatives):
        self.pattern = pattern
        self.alternatives = alternatives

    def search(self, name):
        return any(alternative_found(name, *a) for a in self.alternatives)


def alternative_found(name, at_start, pieces, at_end):
    """Whether the pieces occur in order in name: each taken at its leftmost place after the one
    before (which leaves the most room for the rest), so one str.find each."""
    first, last = pieces[0], pieces[-1]
    if at_start:
        if not name.startswith(first):
            return False
        position = len(first)
    else:
        found = name.find(first)
        if found < 0:
            return False
        position = found + len(first)
    if len(pieces) == 1:
        if not at_end:
            return True
        return position == len(name) if at_start else name.endswith(first)
    for piece in pieces[1:-1]:
        found = name.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    if at_end:
        return name.endswith(last) and len(name) - len(last) >= position
    return name.find(last, position) >= 0


def parse_pattern(pattern):
    """The alternatives (at_start, pieces, at_end) of a pattern, or why it is outside the subset.
    One pass, appending: a long pattern costs its length."""
    alternatives = []
    at_start, pieces, piece, at_end, fresh = False, [], [], False, True
    i = 0
    while i <= len(pattern):
        c = pattern[i] if i < len(pattern) else "|"
        if at_end and c != "|":
            return f"'$' at {i - 1} is not at the end of its alternative"
        if c == "|":
            if fresh:
                return f"the empty alternative at {i} matches every name"
            pieces.append("".join(piece))
            alternatives.append((at_start, pieces, at_end))
            at_start, pieces, piece, at_end, fresh = False, [], [], False, True
            i += 1
            continue
        if c == "^" and fresh:
            at_start, i = True, i + 1
        elif c == "\\" and i + 1 < len(pattern) and not pattern[i + 1].isalnum():
            piece.append(pattern[i + 1])
            i += 2
        elif pattern.startswith(".*", i):
            pieces.append("".join(piece))
            piece, i = [], i + 2
        elif c == "$":
            at_end, i = True, i + 1
        elif c in METACHARACTERS:
            return f"{pattern[i:i + 2]!r} at {i} is outside the subset"
        else:
            piece.append(c)
            i += 1
        fresh = False
    return alternatives


def regex(source, where, pattern):
    if not isinstance(pattern, str):
        fail(source, where, f"expected a regular expression (a string), got {json.dumps(pattern)}")
    alternatives = parse_pattern(pattern)
    if isinstance(alternatives, str):
        fail(source, where,
             "expected alternatives of literal text and .* (\\ before punctuation, ^ and $ to "
             f"anchor), matched in linear time (docs/calibrate.md): {alternatives}")
    return NamePattern(pattern, alternatives)


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


def phase_index(kernels, patterns):
    """The kernels by start time, each with the phase its name matches (first pattern wins), and
    each phase's running total of kernel time in ms: a span's phase times are then two binary
    searches and a difference per phase, however many spans there are or overlap."""
    ordered = sorted(kernels, key=lambda k: k["ts"])
    totals = {phase: [0.0] for phase, _ in patterns}
    for k in ordered:
        matched = next((phase for phase, pattern in patterns if pattern.search(k["name"])), None)
        for phase, running in totals.items():
            # us -> ms
            running.append(running[-1] + (k["dur"] / 1000.0 if phase == matched else 0.0))
    return [k["ts"] for k in ordered], totals


def phase_times(index, span):
    """Summed duration (ms) of each phase's kernels that start inside the span."""
    starts, totals = index
    first = bisect.bisect_left(starts, span["ts"])
    past = bisect.bisect_left(starts, span["ts"] + span["dur"])
    return {phase: running[past] - running[first] for phase, running in totals.items()}


def convert(trace, mapping, source, mapping_source):
    layer, patterns = check_mapping(mapping, mapping_source)
    events = timed_events(trace, source)
    kernels = [e for e in events if e["cat"] == "kernel"]
    layer_spans = spans(events, layer)
    if not layer_spans:
        fail(source, "/traceEvents", f"no span matches the layer pattern {layer.pattern!r}")
    index = phase_index(kernels, patterns)
    samples = [phase_times(index, s) for s in layer_spans]
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

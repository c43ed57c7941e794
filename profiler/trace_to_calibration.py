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
"""
import argparse
import json
import re
import statistics
import sys


def spans(events, pattern):
    """The layer spans: GPU-side annotations when present, else CPU-side ones."""
    for category in ("gpu_user_annotation", "user_annotation"):
        found = [e for e in events if e.get("ph") == "X" and e.get("cat") == category
                 and re.search(pattern, e.get("name", ""))]
        if found:
            return found
    return []


def phase_times(kernels, span, patterns):
    start, end = span["ts"], span["ts"] + span["dur"]
    times = {}
    for k in kernels:
        if start <= k["ts"] < end:
            for phase, pattern in patterns:
                if re.search(pattern, k.get("name", "")):
                    times[phase] = times.get(phase, 0.0) + k["dur"] / 1000.0  # us -> ms
                    break
    return times


def convert(trace, mapping, source):
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    patterns = list(mapping["phases"].items())
    kernels = [e for e in events if e.get("ph") == "X" and e.get("cat") == "kernel"]
    layer_spans = spans(events, mapping["layer"])
    if not layer_spans:
        sys.exit(f"{source}: no span matches the layer pattern {mapping['layer']!r}")
    samples = [phase_times(kernels, s, patterns) for s in layer_spans]
    record = dict(mapping["record"])
    record.setdefault("case", f"{source} ({len(samples)} samples)")
    phases = {p: statistics.median(s.get(p, 0.0) for s in samples) for p, _ in patterns}
    record["phases_ms"] = {p: round(t, 6) for p, t in phases.items() if t > 0}
    record["layer_ms"] = round(statistics.median(s["dur"] for s in layer_spans) / 1000.0, 6)
    if not record["phases_ms"]:
        sys.exit(f"{source}: no kernel inside the layer spans matches any phase pattern")
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="TRACE.json MAPPING.json [TRACE.json MAPPING.json ...]")
    parser.add_argument("--device", required=True, help="GPU name, e.g. \"NVIDIA H200\"")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give TRACE MAPPING pairs")
    records = []
    for trace_path, mapping_path in zip(args.pairs[::2], args.pairs[1::2]):
        with open(trace_path) as t, open(mapping_path) as m:
            records.append(convert(json.load(t), json.load(m), trace_path))
    doc = {"format": "moesim-calibration", "schema_version": 1, "device": args.device,
           "provenance": {"tool": "profiler/trace_to_calibration.py", "traces": args.pairs[::2]},
           "records": records}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"{args.out}: {len(records)} records")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""moesim's decode step against published serving measurements (docs/decode-model.md).

Usage: table.py MOESIM [OUT_DIR]. Runs `MOESIM run` on every scenario listed below (they sit next
to this file) and prints the table, then median, p90 and worst |error| over all rows and the
signed median error by batch-size bucket and by GPU.

A row's batch is the query tokens one attention group decodes in a step: sequences per attention
data-parallel rank x (1 + MTP drafts). Published TPOT is compared with summary.time_per_output_token_ms,
a published step (MTP rows, whose figure is per step) with summary.step_time_ms.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

# (scenario, published ms, what the figure is, GPU); sources in docs/decode-model.md.
PUBLISHED = [
    ("ix-h200-sglang-c8", 12.8, "tpot", "H200"),
    ("ix-h200-sglang-c16", 17.2, "tpot", "H200"),
    ("ix-h200-sglang-c32", 25.6, "tpot", "H200"),
    ("ix-h200-sglang-c64", 34.6, "tpot", "H200"),
    ("trt-h200-maxtp", 89.1, "tpot", "H200"),
    ("lmsys-h100-ep72-bs256", 91.9, "tpot", "H100"),
    ("trt-b200-minlat", 9.0, "tpot", "B200"),
    ("trt-b200-minlat-mtp3", 11.2, "step", "B200"),
    ("trt-b200-maxtp-fp16kv", 84.4, "tpot", "B200"),
    ("trt-b200-maxtp-fp8kv", 166.1, "tpot", "B200"),
]
BUCKETS = [(1, 8, "<= 8"), (9, 32, "9-32"), (33, 128, "33-128"), (129, 1 << 30, "> 128")]


def percentile(values, share):
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or
    below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered) - 1e-9)) - 1]


def run(moesim, out_dir, name):
    here = os.path.dirname(os.path.abspath(__file__))
    scenario = os.path.join(here, name + ".json")
    out = os.path.join(out_dir, name)
    subprocess.run([moesim, "run", scenario, "--out", out, "-q"], check=True)
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    with open(scenario) as f:
        workload = json.load(f)["workload"]
    batch = workload["tokens_per_gpu"] * (1 + workload.get("mtp_draft_tokens", 0))
    return report, batch


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: table.py MOESIM [OUT_DIR]")
    moesim = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="decode-table-")
    rows = []
    print("| scenario | GPU | batch | published (ms) | moesim (ms) | error | costs |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, published, figure, gpu in PUBLISHED:
        report, batch = run(moesim, out_dir, name)
        summary = report["summary"]
        key = "time_per_output_token_ms" if figure == "tpot" else "step_time_ms"
        predicted = summary[key]
        error = predicted / published - 1
        rows.append((name, gpu, batch, error))
        print(f"| {name} | {gpu} | {batch} | {published} | {predicted:.2f} | {error:+.1%} | "
              f"{report.get('profile_source', summary.get('profile_source', ''))} |")
    errors = [abs(r[3]) for r in rows]
    print(f"\n{len(rows)} rows: median |error| {statistics.median(errors):.1%}, "
          f"p90 {percentile(errors, 0.9):.1%}, worst {max(errors):.1%}")
    for low, high, label in BUCKETS:
        inside = [r[3] for r in rows if low <= r[2] <= high]
        if inside:
            print(f"batch {label}: {len(inside)} rows, signed median {statistics.median(inside):+.1%}"
                  f", median |error| {statistics.median(abs(e) for e in inside):.1%}")
    for gpu in sorted({r[1] for r in rows}):
        inside = [r[3] for r in rows if r[1] == gpu]
        print(f"{gpu}: {len(inside)} rows, signed median {statistics.median(inside):+.1%}, "
              f"median |error| {statistics.median(abs(e) for e in inside):.1%}")


if __name__ == "__main__":
    main()

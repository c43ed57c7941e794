#!/usr/bin/env python3
"""Holds `moesim run` against the EP executor's measured phases (docs/accuracy.md, EP=2 table).

usage: profiler/compare_ep.py MOESIM TIMINGS.json [--profile h200] > table.md

For each EP>1 case of an executor-timings file (moesim-profile --validate --timings-out) it writes
the matching scenario: the case's model, a node of `ep` GPUs of the profile's system, EP = ep,
one MoE layer (the executor runs one), the case's tokens per rank, BF16 dispatch as the executor
sends it; then runs moesim on it and reads the first MoE layer's phases. Routing: where the case
records the executor's own per-expert counts (`expert_histogram`, one rank's; every rank routes
alike) they are replayed as a trace (a count matrix of ep x the histogram: every rank's tokens),
so the hot experts sit where the executor put them; older timings files fall back to the
scenario's generator (uniform, or Zipf with the case's exponent), which is not like for like.
Phases compared: gate+permute (moesim "gate"), dispatch (count exchange included), experts,
combine (+unpermute, as moesim folds it in; plus the wait of the rank whose experts finish first,
which the executor's combine timer holds: busiest minus idlest GPU compute), and the MoE layer
without its dense part.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SYSTEMS = {"h200": "hgx-h200", "h100": "hgx-h100"}


def scenario_for(case, profile):
    routing = {"generator": "uniform", "seed": 1}
    if case["routing"].startswith("zipf-"):
        routing = {"generator": "zipf", "zipf_exponent": float(case["routing"][5:]), "seed": 1}
    ep = case["ep"]
    return {
        "schema_version": 1,
        "name": f"ep{ep}-{case['model']}-{case['batch']}-{case['routing']}",
        "model": {"preset": case["model"], "layers": 1, "moe_layers": 1,
                  "dispatch_bytes": 2, "combine_bytes": 2},
        "cluster": {"system": SYSTEMS[profile], "nodes": 1, "gpus_per_node": ep, "fabric": "none"},
        "parallelism": {"expert_parallel": ep, "attention_data_parallel": ep},
        # The executor launches eagerly and synchronises to size its buffers: no CUDA graphs.
        "workload": {"kind": "decode" if case["batch"].startswith("decode") else "prefill",
                     "cuda_graphs": False,
                     "tokens_per_gpu": case["tokens_per_rank"], "context_tokens": 16,
                     "routing": routing},
        "profile": profile,
        "network": {"model": "analytic"},
    }


def count_trace(case, workdir):
    """The executor's routing as a count matrix CSV (one layer), or None if the case has none."""
    histogram = case.get("expert_histogram")
    if histogram is None:
        return None
    path = workdir / f"counts-{case['model']}-{case['batch']}-{case['routing']}.csv"
    header = "layer," + ",".join(f"e{e}" for e in range(len(histogram)))
    path.write_text(header + "\n0," + ",".join(str(c * case["ep"]) for c in histogram) + "\n")
    return path


def predicted_phases(moesim, scenario, workdir, trace=None):
    path = workdir / (scenario["name"] + ".json")
    path.write_text(json.dumps(scenario))
    out = workdir / scenario["name"]
    command = [moesim, "run", str(path), "--out", str(out), "-q"]
    if trace is not None:
        command += ["--trace", str(trace)]
    subprocess.run(command, check=True)
    report = json.loads((out / "report.json").read_text())
    p = next(l for l in report["layers"] if l["moe"])
    # The executor times combine per rank from when that rank enters it, so a rank whose experts
    # finish early waits for its peers inside combine, and the slowest rank's combine holds that
    # wait. moesim books the wait on the critical path (experts); like for like, the predicted
    # combine is moesim's plus the gap between the busiest and the idlest GPU's compute.
    compute = [g["compute_ms"] for g in report["per_gpu"]]
    wait = max(compute) - min(compute)
    return {"gate_permute": p["gate_ms"] * 1e3, "dispatch": p["dispatch_ms"] * 1e3,
            "experts": p["experts_ms"] * 1e3, "combine": (p["combine_ms"] + wait) * 1e3,
            "layer": (p["gate_ms"] + p["dispatch_ms"] + p["experts_ms"] + p["combine_ms"]) * 1e3}


def measured_phases(case):
    m = {k: v["median_us"] for k, v in case["phases"].items()}
    return {"gate_permute": m["gate_permute"], "dispatch": m["dispatch"], "experts": m["experts"],
            "combine": m["combine"] + m["unpermute"], "layer": m["layer"]}


def main():
    moesim, timings = sys.argv[1], Path(sys.argv[2])
    profile = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--profile" else "h200"
    cases = [c for c in json.loads(timings.read_text())["ep"] if not c["batch"].endswith("again")]
    phases = ["gate_permute", "dispatch", "experts", "combine", "layer"]
    print("| model | batch | routing | " + " | ".join(f"{p} µs meas / pred (err)" for p in phases) + " |")
    print("|---|---|---|" + "---|" * len(phases))
    errors = {p: [] for p in phases}
    replayed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            trace = count_trace(case, Path(tmp))
            replayed += trace is not None
            pred = predicted_phases(moesim, scenario_for(case, profile), Path(tmp), trace)
            meas = measured_phases(case)
            cells = []
            for p in phases:
                err = (pred[p] - meas[p]) / meas[p]
                cells.append(f"{meas[p]:.0f} / {pred[p]:.0f} ({err:+.0%})")
                errors[p].append(abs(err))
            print(f"| {case['model']} | {case['batch']} | {case['routing']} | " + " | ".join(cells) + " |")
    print(f"\n{replayed} of {len(cases)} cases replay the executor's per-expert counts.")
    for p in phases:
        e = sorted(errors[p])
        # The median of an even count is the mean of the middle two.
        median = (e[(len(e) - 1) // 2] + e[len(e) // 2]) / 2
        print(f"{p} |error|: median {median:.1%}, worst {e[-1]:.1%} over {len(e)} cases")


if __name__ == "__main__":
    main()

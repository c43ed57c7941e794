#!/usr/bin/env python3
"""Splits the EP executor's measured dispatch into its count exchange and the rest, per rank, and
holds each part against what moesim prices (docs/accuracy.md, "Why the decode dispatch is
under-predicted").

usage: profiler/dispatch_split.py MOESIM TIMINGS.json... > split.md

For every EP>1 case of each executor-timings file (moesim-profile --validate --timings-out), from
the per-rank medians the file holds:
- gp: gate+permute on rank 0 / rank 1;
- cx: the count exchange (from the end of gather_rows to the counts known on the host and the
  regroup table uploaded) on rank 0 / rank 1. The rank that reaches the exchange last waits for
  no peer, so its cx is the exchange itself; the other rank's also holds the wait;
- dispatch: rank 0 / rank 1, the slowest rank's median (what compare_ep.py compares), and
  moesim's price with its fixed part (the profile's dispatch sequence); the rest of the price is
  the rows' part (their all-to-all beyond its floor and the regroup copy);
- fixed: the measured dispatch less moesim's rows' part: what the executor's fixed part would be if
  moesim priced the rows exactly.
Then per model and lease: the last rank's cx at decode less at prefill (a GPU left idle while the
host enqueues the exchange would add to it at decode only), and the fixed part at decode less at
prefill (uniform routing).
"""
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_ep import count_trace, scenario_for  # noqa: E402


def priced_dispatch(moesim, case, workdir):
    """moesim's dispatch and its fixed part, µs, for the case's replayed counts."""
    scenario = scenario_for(case, "h200")
    path = workdir / (scenario["name"] + ".json")
    path.write_text(json.dumps(scenario))
    out = workdir / scenario["name"]
    command = [moesim, "run", str(path), "--out", str(out), "-q"]
    trace = count_trace(case, workdir)
    if trace is not None:
        command += ["--trace", str(trace)]
    subprocess.run(command, check=True)
    layer = next(l for l in json.loads((out / "report.json").read_text())["layers"] if l["moe"])
    return layer["dispatch_ms"] * 1e3, layer["dispatch_fixed_ms"] * 1e3


def split_case(moesim, case, workdir):
    ranks = {k: case["phases"][k]["rank_median_us"]
             for k in ("gate_permute", "count_exchange", "dispatch")}
    dispatch = case["phases"]["dispatch"]["median_us"]
    priced, fixed = priced_dispatch(moesim, case, workdir)
    return {"gp": ranks["gate_permute"], "cx": ranks["count_exchange"], "ranks": ranks["dispatch"],
            "dispatch": dispatch,
            "priced": priced, "priced_fixed": fixed, "fixed": dispatch - (priced - fixed),
            "last_cx": min(ranks["count_exchange"])}


def row(lease, case, s):
    return (f"| {lease} | {case['model']} | {case['batch']} | {case['routing']} | "
            f"{s['gp'][0]:.1f} / {s['gp'][1]:.1f} | {s['cx'][0]:.1f} / {s['cx'][1]:.1f} | "
            f"{s['ranks'][0]:.1f} / {s['ranks'][1]:.1f} | "
            f"{s['dispatch']:.1f} / {s['priced']:.1f} ({s['priced_fixed']:.1f}) | "
            f"{s['fixed']:.1f} |")


def summary(model, leases):
    """Decode less prefill for one model, per lease: the last rank's cx, and the fixed part."""
    cx, fixed = [], []
    for cases in leases:
        decode = [s for (b, _), s in cases.items() if b == "decode"]
        prefill = [s for (b, _), s in cases.items() if b == "prefill"]
        cx.append(statistics.mean(s["last_cx"] for s in decode) -
                  statistics.mean(s["last_cx"] for s in prefill))
        fixed.append(statistics.mean(s["fixed"] for s in decode) -
                     cases[("prefill", "uniform")]["fixed"])
    signed = lambda values: ", ".join(f"{v:+.1f}" for v in values)  # noqa: E731
    return (f"- {model}: last rank's count exchange {statistics.mean(cx):+.1f} (leases "
            f"{signed(cx)}); fixed part {statistics.mean(fixed):+.1f} (leases {signed(fixed)})")


def main():
    moesim, files = sys.argv[1], [Path(f) for f in sys.argv[2:]]
    print("| lease | model | batch | routing | gp r0 / r1 | cx r0 / r1 | dispatch r0 / r1 | "
          "dispatch meas / moesim (fixed) | fixed meas |")
    print("|---|---|---|---|---|---|---|---|---|")
    by_model = {}  # model -> one {(batch, routing): split} per lease
    with tempfile.TemporaryDirectory() as tmp:
        for timings in files:
            lease = timings.stem.replace("h200x2-executor-timings-", "")
            for case in json.loads(timings.read_text())["ep"]:
                if case["batch"].endswith("again") or "count_exchange" not in case["phases"]:
                    continue
                s = split_case(moesim, case, Path(tmp))
                by_model.setdefault(case["model"], {}).setdefault(lease, {})[
                    (case["batch"], case["routing"])] = s
                print(row(lease, case, s))
    print("\nPer model, mean over leases, µs (decode less prefill):")
    for model in sorted(by_model):
        print(summary(model, by_model[model].values()))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""moesim against DeepEP's published figures (docs/accuracy.md, "DeepEP's published figures").

Usage: table.py MOESIM [OUT_DIR] [--as-nccl]. Runs `MOESIM run` on every scenario here and prints
the table. --as-nccl prices the same traffic (same dispatch and dedup) as NCCL collectives instead,
which is what moesim charged before it knew DeepEP's kernels.

DeepEP's figures are bytes over kernel time, with bytes counted as its tests count them
(tests/legacy/test_{intranode,internode,low_latency}.py), which includes each rank's traffic to
itself (intranode) or to its own node (internode) that never crosses the link. So each published
bandwidth is turned into the kernel time it implies (counted bytes / bandwidth), moesim's kernel
time is turned into a bandwidth the same way, and the error is moesim's figure over DeepEP's, less 1.
"""
import json
import math
import os
import random
import statistics
import subprocess
import sys

HIDDEN, TOKENS_NORMAL, TOKENS_LL, TOPK, EXPERTS = 7168, 4096, 128, 8, 256
FP8_COPY = HIDDEN * (1 + 4 / 128)  # DeepEP's fp8_factor: payload + one fp32 scale per 128
FP8_LL_COPY = HIDDEN + HIDDEN / 128 * 4 + 16  # num_fp8_bytes in test_low_latency.py
BF16_COPY = HIDDEN * 2

# (scenario, figure, published, unit): DeepEP docs/legacy.md, "Performance" (commit dd758ca).
PUBLISHED = [
    ("normal-ep8", "dispatch", 153, "GB/s"), ("normal-ep8", "combine", 158, "GB/s"),
    ("normal-ep16", "dispatch", 43, "GB/s"), ("normal-ep16", "combine", 43, "GB/s"),
    ("normal-ep32", "dispatch", 58, "GB/s"), ("normal-ep32", "combine", 57, "GB/s"),
    ("normal-ep64", "dispatch", 51, "GB/s"), ("normal-ep64", "combine", 50, "GB/s"),
] + [(f"low-latency-ep{ep}", figure, us, "us") for ep, figure, us in [
    (8, "dispatch", 77), (16, "dispatch", 118), (32, "dispatch", 155), (64, "dispatch", 173),
    (128, "dispatch", 192), (256, "dispatch", 194), (8, "combine", 114), (16, "combine", 195),
    (32, "combine", 273), (64, "combine", 314), (128, "combine", 369), (256, "combine", 360)]]


def hit_probability(held, chosen=TOPK, experts=EXPERTS):
    """P(a token's `chosen` distinct experts include one of `held`), without replacement."""
    miss = 1.0
    for i in range(chosen):
        miss *= (experts - held - i) / (experts - i)
    return 1 - miss


def nodes_hit(nodes, groups_chosen, samples=20000, seed=1):
    """Expected nodes a token reaches in test_internode.py: one expert group per node, the token's
    top groups by their best score, then its top-8 experts inside them (seeded Monte Carlo)."""
    if groups_chosen >= nodes:  # no limit: a node is reached when one of its experts is chosen
        return nodes * hit_probability(EXPERTS // nodes)
    rng, per_node, total = random.Random(seed), EXPERTS // nodes, 0
    for _ in range(samples):
        scores = [rng.random() for _ in range(EXPERTS)]
        best = sorted(range(nodes), key=lambda n: -max(scores[n * per_node:(n + 1) * per_node]))
        allowed = [e for n in best[:groups_chosen] for e in range(n * per_node, (n + 1) * per_node)]
        top = sorted(allowed, key=lambda e: -scores[e])[:TOPK]
        total += len({e // per_node for e in top})
    return total / samples


def counted_bytes(scenario, figure):
    """Bytes DeepEP divides by the kernel time for this figure, per rank."""
    ep = int(scenario.split("ep")[1])
    copy = FP8_COPY if figure == "dispatch" else BF16_COPY
    if scenario.startswith("low-latency"):  # every (token, expert) selection, sent or returned
        return TOKENS_LL * TOPK * (FP8_LL_COPY if figure == "dispatch" else BF16_COPY)
    if ep == 8:  # tokens the rank receives (its own included) over NVLink
        return TOKENS_NORMAL * ep * hit_probability(EXPERTS // ep) * copy
    nodes = ep // 8  # tokens the rank sends over RDMA, one per node reached (its own included)
    return TOKENS_NORMAL * nodes_hit(nodes, min(nodes, 4)) * copy


def kernel_seconds(report, figure):
    """The first MoE layer's dispatch (less the normal kernels' notify, which DeepEP times apart)
    or combine."""
    layer = next(l for l in report["layers"] if l.get("moe"))
    if figure == "dispatch":
        return (layer["dispatch_ms"] - layer["count_exchange_ms"]) * 1e-3
    return layer["combine_ms"] * 1e-3


def scenario_file(here, out, scenario, as_nccl):
    """The scenario here, or under --as-nccl a copy priced as NCCL with the same traffic."""
    path = os.path.join(here, scenario + ".json")
    if not as_nccl:
        return path
    with open(path) as f:
        spec = json.load(f)
    normal = spec["network"]["all_to_all"] == "deepep-normal"
    spec["network"] = {"all_to_all": "nccl", "model": "analytic", "dedup": normal,
                       "dispatch": "hierarchical" if normal else "direct"}
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, scenario + "-nccl.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


def main():
    args = [a for a in sys.argv[1:] if a != "--as-nccl"]
    as_nccl = len(args) < len(sys.argv) - 1
    moesim, out = args[0], args[1] if len(args) > 1 else "/tmp/deepep-validation"
    here = os.path.dirname(os.path.abspath(__file__))
    reports = {}
    for scenario in sorted({row[0] for row in PUBLISHED}):
        target = os.path.join(out, scenario)
        subprocess.run([moesim, "run", scenario_file(here, out, scenario, as_nccl), "--out",
                        target, "-q"], check=True)
        with open(os.path.join(target, "report.json")) as f:
            reports[scenario] = json.load(f)
    print("| scenario | figure | published | moesim | error |")
    print("|---|---|---|---|---|")
    errors = []
    for scenario, figure, published, unit in PUBLISHED:
        seconds = kernel_seconds(reports[scenario], figure)
        if unit == "us":
            predicted, error = seconds * 1e6, seconds * 1e6 / published - 1
        else:
            predicted = counted_bytes(scenario, figure) / seconds / 1e9
            error = predicted / published - 1
        errors.append(abs(error))
        print(f"| {scenario} | {figure} | {published} {unit} | {predicted:.1f} {unit} | "
              f"{error * 100:+.1f}% |")
    print(f"\nmedian |error| {statistics.median(errors) * 100:.1f}%, "
          f"worst {max(errors) * 100:.1f}% over {len(errors)} figures")


if __name__ == "__main__":
    main()

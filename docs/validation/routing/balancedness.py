#!/usr/bin/env python3
"""DeepSeek-V3's batch-to-batch load spread from LMSYS's balancedness figure (docs/capacity-policy.md).

Usage: balancedness.py MOESIM [SIGMA ...]. For each sigma (default: a grid), runs `MOESIM run` on
DeepSeek-V3 prefill (16,384 tokens a GPU on H200 nodes, whose memory holds EP 8; the preset's uniform long-run routing, EPLB over the
experts plus 32 redundant slots, sampling noise on) at the four EP sizes of the figure, and prints
the balancedness (mean over max tokens per GPU, 1 / imbalance_max_over_mean) against the figure's,
then the sigma with the least squared error over the four points.

LMSYS, "Deploying DeepSeek with PD Disaggregation and Large-scale Expert Parallelism on 96 H100
GPUs" (2025-05-05), figure "Effects of Scale and EPLB to Balancedness", with-EPLB points read off
the plot (about +-0.01): 8 GPUs 0.945, 16 GPUs 0.90, 32 GPUs 0.80, 72 GPUs 0.81.
"""
import json
import os
import subprocess
import sys
import tempfile

FIGURE = [(8, 0.945), (16, 0.90), (32, 0.80), (72, 0.81)]


def scenario(gpus, sigma):
    return {
        "schema_version": 1,
        "name": f"balancedness-ep{gpus}",
        "model": {"preset": "deepseek-v3", "weight_bytes": 1},
        "cluster": {"preset": "h200x256", "nodes": gpus // 8},
        "parallelism": {"expert_parallel": gpus},
        "placement": {"strategy": "eplb", "redundant_experts": 32},
        "policy": {"capacity_factor": None},
        "workload": {"kind": "prefill", "tokens_per_gpu": 16384, "context_tokens": 4096,
                     "routing": {"generator": "uniform", "batch_load_sigma": sigma,
                                 "sampling_noise": True}},
        "profile": "roofline",
        "network": {"model": "analytic"},
    }


def balancedness(moesim, work, gpus, sigma):
    path = os.path.join(work, f"ep{gpus}-{sigma}.json")
    with open(path, "w") as f:
        json.dump(scenario(gpus, sigma), f)
    out = os.path.join(work, f"out-ep{gpus}-{sigma}")
    subprocess.run([moesim, "run", path, "--out", out, "-q"], check=True)
    with open(os.path.join(out, "report.json")) as f:
        return 1 / json.load(f)["summary"]["imbalance_max_over_mean"]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: balancedness.py MOESIM [SIGMA ...]")
    moesim = sys.argv[1]
    sigmas = [float(s) for s in sys.argv[2:]] or [round(0.05 * i, 2) for i in range(3, 11)]
    work = tempfile.mkdtemp(prefix="balancedness-")
    print("| sigma | " + " | ".join(f"EP {g} (figure {b})" for g, b in FIGURE) + " | squared error |")
    print("|---|" + "---:|" * (len(FIGURE) + 1))
    best = None
    for sigma in sigmas:
        model = [balancedness(moesim, work, g, sigma) for g, _ in FIGURE]
        error = sum((m - b) ** 2 for m, (_, b) in zip(model, FIGURE))
        print(f"| {sigma} | " + " | ".join(f"{m:.3f}" for m in model) + f" | {error:.4f} |")
        if best is None or error < best[1]:
            best = (sigma, error)
    print(f"\nleast squared error: sigma {best[0]} ({best[1]:.4f})")


if __name__ == "__main__":
    main()

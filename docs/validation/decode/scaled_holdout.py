#!/usr/bin/env python3
"""The shipped H200 profile carried to H100 as moesim scales a profile to a device without one
(sim/cost/device_scaled_profile.cpp), against the shipped H100 profile (docs/decode-model.md,
"Devices without a profile").

Usage: scaled_holdout.py [REPO_ROOT]. Prints, per model and curve, the range and median of
scaled / measured - 1 at decode sizes (experts at 1-64 rows, ops at every measured token count),
then the median over all points.
"""
import json
import os
import statistics
import sys

# Datasheet BF16 FLOP/s and HBM bytes/s (sim/spec/device_presets.cpp).
H200 = (989e12, 4.8e12)
H100 = (989e12, 3.35e12)
# Router width and top-k of the profiled presets.
SHAPES = {"deepseek-v3": (256, 8), "mixtral-8x7b": (8, 2), "qwen3-30b-a3b": (128, 8)}
LOOP_LAUNCHES, GROUPED_LAUNCHES = 2, 3


def roofline_ratio(flops, data, source, target):
    on_source = max(flops / source[0], data / source[1])
    on_target = max(flops / target[0], data / target[1])
    return on_target / on_source if on_source > 0 else 1.0


def scaled_point_time(measured, floor, flops, data, copy_bandwidth):
    """sim/cost/device_scaled_profile.cpp's scaled_point_time: above the floor, a memory-bound
    point's bytes at the measured copy rate scale with HBM, the rest (latency-bound) stays."""
    ratio = roofline_ratio(flops, data, H200, H100)
    above = max(0.0, measured - floor)
    if flops / H200[0] > data / H200[1] or copy_bandwidth <= 0:
        return min(measured, floor) + above * ratio
    streaming = min(above, data / copy_bandwidth * 1e6)
    return min(measured, floor) + streaming * ratio + (above - streaming)


def compare(points, measured, work, floor, copy_bandwidth):
    """scaled / measured - 1 at every x both curves hold."""
    by_x = dict(measured)
    errors = []
    for x, t in points:
        if x in by_x:
            flops, data = work(x)
            scaled = scaled_point_time(t, floor, flops, data, copy_bandwidth)
            errors.append(scaled / by_x[x] - 1)
    return errors


def op_curve(model, key):
    return [(p["tokens"], p["time"]["median_us"]) for p in model[key]]


def expert_curve(model, kind):
    return [(p["tokens_per_expert"], p["per_expert_us"])
            for p in model["experts"]["balanced"][kind] if p["tokens_per_expert"] <= 64]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../..")
    load = lambda name: json.load(open(os.path.join(root, "scenarios/profiles", name + ".json")))
    source, target = load("h200"), load("h100")
    empty_kernel = source["overheads"]["empty_kernel_gpu"]["median_us"]
    copy = source["ceilings"]["copy"]["bytes_per_s"]
    every = []
    for name, (experts, top_k) in SHAPES.items():
        src = next(m for m in source["models"] if m["name"] == name)
        dst = next(m for m in target["models"] if m["name"] == name)
        hidden, ffn = src["hidden"], src["expert_ffn"]
        expert = lambda r: (6 * hidden * ffn * r, 6 * hidden * ffn + 2 * r * (2 * hidden + 3 * ffn))
        copies = lambda t: (0, 4 * hidden * top_k * t)
        gate = lambda t: (2 * hidden * experts * t, 2 * hidden * (experts + t) + 4 * experts * t)
        rows = [
            ("grouped", compare(expert_curve(src, "grouped"), expert_curve(dst, "grouped"), expert,
                                GROUPED_LAUNCHES * empty_kernel / experts, copy)),
            ("loop", compare(expert_curve(src, "loop"), expert_curve(dst, "loop"), expert,
                             LOOP_LAUNCHES * empty_kernel, copy)),
        ]
        for label, key, work in (("permute", "permute", copies), ("unpermute", "combine", copies),
                                 ("gate", "gate", gate)):
            curve = op_curve(src, key)
            rows.append((label, compare(curve, op_curve(dst, key), work, curve[0][1], copy)))
        for label, errors in rows:
            every += errors
            print(f"{name:14s} {label:9s} {len(errors):2d} points: {min(errors):+.1%} to "
                  f"{max(errors):+.1%}, median {statistics.median(errors):+.1%}")
    print(f"all {len(every)} points: median {statistics.median(every):+.1%}")


if __name__ == "__main__":
    main()

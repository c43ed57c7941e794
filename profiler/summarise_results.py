#!/usr/bin/env python3
"""Prints the short tables run_on_device.sh ends with: NCCL curves, count exchange, latency floor
and the executor's EP phases, from the JSON files moesim-profile wrote into OUT."""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def curves(name, section):
    if not section or "all_to_all" not in section:
        return
    print(f"\n== {name}: {section.get('launcher')} launcher, ranks {section.get('ranks_measured')}, link {section.get('link_kind')}")
    print(f"{'op':12} {'ranks':>5} {'bytes':>11} {'median us':>10} {'spread':>7} {'busbw GB/s':>11}")
    rows = [(op, e) for op in ("all_to_all", "all_to_allv", "send_recv") for e in section.get(op, [])]
    rows += [(op + "(1)", e) for op in ("all_to_all", "send_recv") for e in section.get("one_rank", {}).get(op, [])]
    for op, e in rows:
        if e["bytes"] in (1024, 65536, 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30):
            t = e["time"]
            print(f"{op:12} {e['ranks']:>5} {e['bytes']:>11} {t['median_us']:>10.1f} {t['spread']:>7.2f} "
                  f"{e['busbw_bytes_per_s'] / 1e9:>11.1f}")
    for e in section.get("count_exchange", []):
        t = e["time"]
        print(f"count exchange+sync ranks={e['ranks']} experts={e['experts']}: median {t['median_us']:.1f} us "
              f"(p10 {t['p10_us']:.1f}, p90 {t['p90_us']:.1f})")
    for e in section.get("dispatch_sequence", []):
        t = e["time"]
        print(f"dispatch sequence ranks={e['ranks']} experts={e['experts']}: median {t['median_us']:.1f} us "
              f"(p10 {t['p10_us']:.1f}, p90 {t['p90_us']:.1f})")
    for e in section.get("latency_floor", []):
        print(f"latency floor {e['op']} ranks={e['ranks']}: {e['time']['median_us']:.1f} us back-to-back, "
              f"{e['single_call_host']['median_us']:.1f} us one call + sync")


def main(out):
    for name in ("collectives_fork.json", "collectives_mpi.json", "profile.json", "quick_mpi.json", "quick_fork.json",
                 "collectives_quick.json"):
        doc = load(os.path.join(out, name))
        if doc:
            curves(name, doc.get("collectives"))
    val = load(os.path.join(out, "validation.json"))
    if val:
        s = val["result"]["summary"]
        print(f"\n== EP=1 vs profile: median |err| {100 * s['median_abs_layer_error']:.1f}%, "
              f"worst {100 * s['max_abs_layer_error']:.1f}%")
    acc = os.path.join(out, "accuracy.md")
    if os.path.exists(acc):
        print(open(acc).read())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out")

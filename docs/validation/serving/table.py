#!/usr/bin/env python3
"""moesim's flat-out per-node rates against published large-scale P/D deployments (docs/serving.md,
"Large-scale DeepSeek-V3 P/D against published deployments").

Usage: table.py MOESIM [OUT_DIR]. Runs `MOESIM serve FILE --out DIR -q` on every serving file listed
below (they sit next to this file; each one's description names its source and the published
figures) and prints one row per published pool figure: prefill_input_tokens_per_s_per_node or
decode_output_tokens_per_s_per_node from serving.json against the published figure per node (a
moesim node is the cluster preset's node: 8 GPUs on HGX, one 4-GPU tray on GB200 NVL72, so a
per-GPU figure is multiplied by the node's GPUs). Then the signed errors by pool.

Sensitivity rows (one option the source does not state, changed in a copy written to OUT_DIR) are
printed after the main rows and are not in the summary.
"""
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# Part II's headline path: FP8 attention (projections and a one-byte MLA cache, 576 bytes a token)
# and NVFP4 MoE GEMMs; its batch fills the FP8 cache (1,408 a GPU at 2K prompts, the post).
MODEL_FP4 = {"weight_bytes": 0.5, "attention_weight_bytes": 1,
             "kv_cache_bytes_per_token_per_layer": 576}
PART2_FP4 = {"prefill.scenario.model": MODEL_FP4, "decode.scenario.model": MODEL_FP4}
PART2_FP4_LABEL = "the post's headline: FP8 attention and KV cache, NVFP4 MoE"

# (file, pool, published per node, GPU, "what the published figure counts", edits or None, label)
# Published figures: see each file's description.
ROWS = [
    ("lmsys-h100-pd", "prefill", 52300, "H100", "", None, ""),
    ("lmsys-h100-pd", "decode", 22300, "H100", "", None, ""),
    ("deepseek-h800-pd", "prefill", 73700, "H800", "with-cache-hits", None, ""),
    ("deepseek-h800-pd", "decode", 14800, "H800", "", None, ""),
    ("mooncake-kimi-k2-h200-pd", "prefill", 56000, "H200", "", None, ""),
    ("mooncake-kimi-k2-h200-pd", "decode", 24000, "H200", "", None, ""),
    ("lmsys-ant-h20-pd", "prefill", 16500, "H20", "", None, ""),
    ("lmsys-ant-h20-pd", "decode", 5700, "H20", "", None, ""),
    ("lmsys-gb200-pd", "decode", 4 * 7583, "GB200", "", None, ""),
    ("lmsys-gb200-pd-part2", "prefill", 4 * 18471, "GB200", "", None, ""),
    ("lmsys-gb200-pd-part2", "decode", 4 * 9087, "GB200", "", None, ""),
    ("lmsys-gb200-pd-part2", "prefill", 4 * 26156, "GB200", "", PART2_FP4, PART2_FP4_LABEL),
    ("lmsys-gb200-pd-part2", "decode", 4 * 13386, "GB200", "", PART2_FP4, PART2_FP4_LABEL),
]

SENSITIVITY = [
    ("deepseek-h800-pd", "decode", 14800, "H800", "",
     {"decode.scenario.workload": {"mtp_draft_tokens": 1, "mtp_acceptance_rate": 0.85}},
     "+ MTP, 1 draft at 0.85 acceptance (DeepSeek-V3 report, arXiv:2412.19437: 85-90%; production use not stated)"),
    ("deepseek-h800-pd", "decode", 14800, "H800", "",
     {"batching": {"max_batch_per_rank": 88}},
     "batch 88 a GPU (1,850 output tokens/s a GPU / 21 tokens/s a user)"),
    ("deepseek-h800-pd", "decode", 14800, "H800", "",
     {"batching": {"max_batch_per_rank": 88},
      "decode.scenario.workload": {"mtp_draft_tokens": 1, "mtp_acceptance_rate": 0.85}},
     "batch 88 a GPU + MTP as above"),
    ("mooncake-kimi-k2-h200-pd", "prefill", 56000, "H200", "",
     {"prefill.scenario.workload": {"routing": {"batch_load_sigma": 0.23}}},
     "DeepSeek-V3's batch-to-batch spread (sigma 0.23; kimi-k2's default is 0)"),
    ("mooncake-kimi-k2-h200-pd", "decode", 24000, "H200", "",
     {"decode.scenario.workload": {"routing": {"batch_load_sigma": 0.23}}},
     "DeepSeek-V3's batch-to-batch spread (sigma 0.23; kimi-k2's default is 0)"),
    ("lmsys-gb200-pd-part2", "decode", 4 * 9087, "GB200", "",
     {"decode.scenario.parallelism": {"overlap": "none"}},
     "overlap none instead of single-batch"),
    ("lmsys-gb200-pd-part2", "decode", 4 * 9087, "GB200", "",
     {"decode.scenario.parallelism": {"overlap": "comm-compute"}},
     "overlap comm-compute (every transfer beside the experts) instead of single-batch"),
    ("lmsys-gb200-pd-part2", "decode", 4 * 9087, "GB200", "",
     {"batching": {"max_batch_per_rank": 768}},
     "batch 768 a GPU (the BF16 decode script's --cuda-graph-bs; the post's 1,408 is at FP8 KV)"),
    ("lmsys-gb200-pd-part2", "prefill", 4 * 18471, "GB200", "",
     {"prefill.scenario.cluster": {"nodes": 2}, "prefill.scenario.parallelism": {"expert_parallel": 8}},
     "EP 8 over 2 trays (the post's EP 4 does not fit without host offload)"),
]


def edited(name, edits, out_dir):
    """The serving file, or a copy with `edits` ({dotted path: fields to set}) in OUT_DIR."""
    path = os.path.join(HERE, name + ".json")
    if not edits:
        return path
    with open(path) as f:
        spec = json.load(f)
    spec = copy.deepcopy(spec)
    for dotted, fields in edits.items():
        node = spec
        for key in dotted.split("."):
            node = node.setdefault(key, {})
        node.update(fields)
    out = os.path.join(out_dir, f"{name}-{abs(hash(json.dumps(edits, sort_keys=True))):x}.json")
    with open(out, "w") as f:
        json.dump(spec, f)
    return out


def serve(moesim, path, out_dir):
    out = os.path.join(out_dir, os.path.splitext(os.path.basename(path))[0])
    # exit 4: a pool does not fit (its figures are 0); anything else but 0 is a failure
    done = subprocess.run([moesim, "serve", path, "--out", out, "-q"])
    if done.returncode not in (0, 4):
        sys.exit(f"{moesim} serve {path}: exit {done.returncode}")
    with open(os.path.join(out, "serving.json")) as f:
        serving = json.load(f)
    with open(path) as f:
        spec = json.load(f)
    return serving, spec


def pool_row(serving, spec, pool, counts):
    """moesim's flat-out figure per node, counted as the source counts it."""
    p = next(p for p in serving["pools"] if p["role"] == pool)
    if pool == "prefill":
        value = p["prefill_input_tokens_per_s_per_node"]
        if counts == "with-cache-hits":  # serving.json counts computed prompt tokens only
            traffic = spec["traffic"]
            prompt = traffic["input_tokens"]
            cached = int(prompt * traffic.get("prefix_cache_hit_rate", 0))
            value *= prompt / (prompt - cached)
        imbalance = p["prefill_imbalance_max_over_mean"]
        scenario = spec["prefill"]["scenario"]
    else:
        value = p["decode_output_tokens_per_s_per_node"]
        imbalance = p["decode_imbalance_max_over_mean"]
        scenario = spec["decode"]["scenario"]
    ep = scenario["parallelism"]["expert_parallel"]
    batch = p["decode_batch_per_rank_at_capacity"] if pool == "decode" else \
        spec["batching"]["token_budget_per_rank"]
    return value, imbalance, ep, batch


def table(moesim, out_dir, rows, title):
    print(f"\n{title}\n")
    print("| file | pool | GPU | EP | batch a GPU | published / node | moesim / node | error | "
          "max/mean | note |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    errors = []
    for name, pool, published, gpu, counts, edits, label in rows:
        serving, spec = serve(moesim, edited(name, edits, out_dir), out_dir)
        value, imbalance, ep, batch = pool_row(serving, spec, pool, counts)
        note = label or ("input with cache hits" if counts else "")
        if value <= 0:
            print(f"| {name} | {pool} | {gpu} | {ep} | {batch:.0f} | {published:,} | does not fit | "
                  f"| | {note} |")
            continue
        error = value / published - 1
        errors.append((pool, gpu, error))
        print(f"| {name} | {pool} | {gpu} | {ep} | {batch:.0f} | {published:,} | {value:,.0f} | "
              f"{error:+.1%} | {imbalance:.3f} | {note} |")
    return errors


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: table.py MOESIM [OUT_DIR]")
    moesim = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="serving-table-")
    os.makedirs(out_dir, exist_ok=True)
    errors = table(moesim, out_dir, ROWS, "Published rows")
    for pool in ("prefill", "decode"):
        inside = [e for p, _, e in errors if p == pool]
        within = sum(abs(e) <= 0.15 for e in inside)
        print(f"\n{pool}: {len(inside)} rows, signed median {statistics.median(inside):+.1%}, "
              f"within 15%: {within} of {len(inside)}", end="")
    print()
    table(moesim, out_dir, SENSITIVITY, "Sensitivity (an option the source does not state)")


if __name__ == "__main__":
    main()

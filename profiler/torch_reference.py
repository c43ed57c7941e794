#!/usr/bin/env python3
"""The EP=1 MoE layer written the straightforward PyTorch way, timed on the same cases as
`moesim-profile --validate`, so the executor's layer time can be held against it.

Two expert back ends: a per-expert matmul loop, and torch._grouped_mm (one grouped GEMM per
projection). Both run the same phases as the executor: gate GEMM + softmax + top-k, permute
(sort token copies by expert), gate/up GEMM, SwiGLU, down GEMM, weighted unpermute (index_add).
Routing is forced to the validation's distribution (uniform, or Zipf(1.2) over experts, top-k
distinct per token) so histograms match; the gate's top-k is still computed and paid for.

Timing: CUDA events around the whole layer, 5 warm-up runs, median of 20 (METHOD.md).

    python3 profiler/torch_reference.py --out torch.json [--validation validation.json --table t.md]
    python3 profiler/torch_reference.py --from torch.json --validation validation.json --table t.md
"""
import argparse
import json
import statistics
import sys

from cuda_timing import event_samples_ms

try:  # the table can be rebuilt from a saved --out file without PyTorch
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

# Expert shapes of the validation cases (sim/spec/model_presets.cpp): hidden, expert FFN, experts, top_k.
SHAPES = {
    "mixtral-8x7b": (4096, 14336, 8, 2),
    "deepseek-v3": (7168, 2048, 256, 8),
    "qwen3-30b-a3b": (2048, 768, 128, 8),
}
CASES = [("decode", 96, "uniform", 0.0), ("decode", 96, "zipf-1.2", 1.2),
         ("prefill", 3000, "uniform", 0.0), ("prefill", 3000, "zipf-1.2", 1.2)]
WARMUP, RUNS = 5, 20


def routing(tokens, experts, top_k, zipf, generator):
    """top_k distinct experts per token, drawn by popularity (uniform or Zipf over ranks)."""
    ranks = torch.arange(1, experts + 1, dtype=torch.float64)
    popularity = ranks.pow(-zipf) if zipf > 0 else torch.ones(experts, dtype=torch.float64)
    popularity = popularity[torch.randperm(experts, generator=generator)]
    ids = torch.multinomial(popularity.expand(tokens, experts), top_k, replacement=False, generator=generator)
    return ids.to(torch.int64)


def make_layer(hidden, ffn, experts, device):
    g = torch.Generator(device=device).manual_seed(7)
    scale = hidden ** -0.5
    w_gate = torch.randn(hidden, experts, device=device, dtype=torch.bfloat16, generator=g) * scale
    w_up = torch.randn(experts, hidden, 2 * ffn, device=device, dtype=torch.bfloat16, generator=g) * scale
    w_down = torch.randn(experts, ffn, hidden, device=device, dtype=torch.bfloat16, generator=g) * (ffn ** -0.5)
    return w_gate, w_up, w_down


def layer(x, ids, w_gate, w_up, w_down, top_k, grouped):
    tokens, hidden = x.shape
    experts = w_up.shape[0]
    logits = x @ w_gate
    probs = torch.softmax(logits.float(), dim=-1)
    _ = torch.topk(probs, top_k, dim=-1)  # paid for; the forced ids below fix the histogram
    weights = torch.gather(probs, 1, ids).to(torch.bfloat16)
    flat = ids.reshape(-1)
    order = torch.argsort(flat, stable=True)
    token_of_copy = order // top_k
    permuted = x.index_select(0, token_of_copy)
    counts = torch.bincount(flat, minlength=experts)
    if grouped:
        offsets = torch.cumsum(counts, 0).to(torch.int32)
        h = torch._grouped_mm(permuted, w_up, offs=offsets)
        gate, up = h.chunk(2, dim=-1)
        out = torch._grouped_mm((F.silu(gate) * up).contiguous(), w_down, offs=offsets)
    else:
        out = torch.empty_like(permuted)
        start = 0
        for e, n in enumerate(counts.tolist()):  # the host sync a per-expert loop pays
            if n:
                gate, up = (permuted[start:start + n] @ w_up[e]).chunk(2, dim=-1)
                out[start:start + n] = (F.silu(gate) * up) @ w_down[e]
            start += n
    out = out * weights.reshape(-1)[order].unsqueeze(1)
    y = torch.zeros_like(x)
    y.index_add_(0, token_of_copy, out)
    return y


def time_layer(fn):
    samples = event_samples_ms(fn, RUNS, WARMUP)
    return statistics.median(samples), (max(samples) - min(samples)) / statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="time the layers on this machine's GPU, write results here")
    parser.add_argument("--from", dest="saved", help="tabulate results saved by an earlier --out instead")
    parser.add_argument("--validation", help="moesim-profile --validate output to compare with")
    parser.add_argument("--table", help="write a markdown comparison here (needs --validation)")
    args = parser.parse_args()
    if args.saved:
        write_table(json.load(open(args.saved)), json.load(open(args.validation)), args.table)
        return
    if not args.out:
        parser.error("give --out (measure) or --from (tabulate)")
    device = torch.device("cuda")
    has_grouped = hasattr(torch, "_grouped_mm")
    results = []
    for model, (hidden, ffn, experts, top_k) in SHAPES.items():
        w_gate, w_up, w_down = make_layer(hidden, ffn, experts, device)
        for batch, tokens, name, zipf in CASES:
            g = torch.Generator().manual_seed(1000 + tokens)
            ids = routing(tokens, experts, top_k, zipf, g).to(device)
            x = torch.randn(tokens, hidden, device=device, dtype=torch.bfloat16)
            row = {"model": model, "batch": batch, "tokens": tokens, "routing": name}
            # The two back ends must agree before either is timed.
            ref = layer(x, ids, w_gate, w_up, w_down, top_k, False).float()
            assert torch.isfinite(ref).all(), f"{model} {batch} {name}: non-finite output"
            row["loop_ms"], row["loop_spread"] = time_layer(lambda: layer(x, ids, w_gate, w_up, w_down, top_k, False))
            if has_grouped:
                got = layer(x, ids, w_gate, w_up, w_down, top_k, True).float()
                row["grouped_rel_err"] = ((got - ref).norm() / ref.norm()).item()
                assert row["grouped_rel_err"] < 1e-2, row
                row["grouped_ms"], row["grouped_spread"] = time_layer(
                    lambda: layer(x, ids, w_gate, w_up, w_down, top_k, True))
            print(json.dumps(row), file=sys.stderr)
            results.append(row)
        del w_gate, w_up, w_down
        torch.cuda.empty_cache()
    doc = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "warmup": WARMUP, "runs": RUNS, "cases": results}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
    if args.validation and args.table:
        write_table(doc, json.load(open(args.validation)), args.table)


def write_table(doc, validation, path):
    executor = {(c["model"], c["batch"], c["routing"]): c["phases"]["layer"]["measured_us"] / 1000
                for c in validation["result"]["cases"]}
    lines = [f"GPU: {doc['gpu']}, PyTorch {doc['torch']} (CUDA {doc['cuda']}); medians of {doc['runs']} "
             f"after {doc['warmup']} warm-up runs.", "",
             "| case | executor ms | torch loop ms | torch _grouped_mm ms | executor speed-up vs best torch |",
             "|---|---:|---:|---:|---:|"]
    for r in doc["cases"]:
        ours = executor.get((r["model"], r["batch"], r["routing"]))
        grouped = r.get("grouped_ms")
        best = min(r["loop_ms"], grouped) if grouped else r["loop_ms"]
        cells = [f"{r['model']} {r['batch']} T={r['tokens']} {r['routing']}",
                 f"{ours:.3f}" if ours else "n/a", f"{r['loop_ms']:.3f}",
                 f"{grouped:.3f}" if grouped else "-", f"{best / ours:.2f}x" if ours else "n/a"]
        lines.append("| " + " | ".join(cells) + " |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

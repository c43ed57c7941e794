#!/usr/bin/env python3
"""Records a plain PyTorch MoE layer's phase times in moesim's calibration format (docs/calibrate.md).

The layer is written the way a PyTorch user writes it: gate GEMM + softmax + top-k, permute (argsort
of the token copies by expert, index_select), at EP > 1 the count exchange (all_to_all of per-expert
counts, copied to the host to size the buffers) and NCCL all_to_all of the tokens, the expert FFN
(SwiGLU) either as torch._grouped_mm ("grouped") or a per-expert matmul loop ("loop"), the combine
all_to_all back, and the weighted unpermute (index_add). At EP > 1 the received tokens are regrouped
by local expert (counted in permute) and put back in arrival order afterwards (counted in unpermute).

Timing: CUDA events between phases on the default stream, WARMUP runs, then the median of RUNS for
each phase and for the whole layer. At EP > 1 every run starts after a barrier so that a late peer
is not counted as dispatch time. One record per (shape, tokens, routing, back end, rank).

    python3 profiler/torch_moe_timings.py --out ep1.json                       # EP = 1, one GPU
    torchrun --nproc_per_node 2 profiler/torch_moe_timings.py --out ep2.json   # EP = 2
"""
import argparse
import datetime
import json
import os
import statistics
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F

# name: (hidden, expert_ffn, experts, top_k); presets from sim/spec/model_presets.cpp, then shapes
# that match no preset, so a profile fitted on some can be checked on others.
SHAPES = {
    "mixtral-8x7b": (4096, 14336, 8, 2),
    "deepseek-v3": (7168, 2048, 256, 8),
    "qwen3-235b-a22b": (4096, 1536, 128, 8),
    "qwen3-30b-a3b": (2048, 768, 128, 8),
    "olmoe-1b-7b": (2048, 1024, 64, 8),
    "off-3072x4096e16k4": (3072, 4096, 16, 4),
    "off-5120x2560e64k6": (5120, 2560, 64, 6),
    "off-1536x512e32k2": (1536, 512, 32, 2),
}
# (tokens on each rank, routing): uniform over a range of sizes, plus skewed routing at two sizes.
CASES = [(32, "uniform"), (128, "uniform"), (512, "uniform"), (2048, "uniform"),
         (8192, "uniform"), (512, "zipf-1.2"), (4096, "zipf-1.2")]
WARMUP, RUNS = 5, 20
PHASES = ["gate", "permute", "dispatch", "experts", "combine", "unpermute"]


def make_weights(hidden, ffn, experts, device):
    g = torch.Generator(device=device).manual_seed(7)
    w_gate = torch.randn(hidden, experts, device=device, dtype=torch.bfloat16, generator=g) * hidden ** -0.5
    w_up = torch.randn(experts, hidden, 2 * ffn, device=device, dtype=torch.bfloat16, generator=g) * hidden ** -0.5
    w_down = torch.randn(experts, ffn, hidden, device=device, dtype=torch.bfloat16, generator=g) * ffn ** -0.5
    return w_gate, w_up, w_down


def routing_bias(experts, routing, device):
    """Added to the gate logits: log-popularity, so top-k follows Zipf(s) over a shuffled order."""
    if routing == "uniform":
        return torch.zeros(experts, device=device)
    s = float(routing.split("-")[1])
    g = torch.Generator().manual_seed(11)
    ranks = torch.arange(1, experts + 1, dtype=torch.float32)[torch.randperm(experts, generator=g)]
    return (-s * ranks.log()).to(device)


def ffn(tokens, counts, w_up, w_down, grouped):
    """SwiGLU experts over tokens sorted by expert; counts: tokens per expert (host list for loop)."""
    if grouped:
        offsets = torch.cumsum(counts, 0).to(torch.int32)
        h = torch._grouped_mm(tokens, w_up, offs=offsets)
        gate, up = h.chunk(2, dim=-1)
        return torch._grouped_mm((F.silu(gate) * up).contiguous(), w_down, offs=offsets)
    out = torch.empty_like(tokens)
    start = 0
    for e, n in enumerate(counts.tolist()):  # the host sync a per-expert loop pays
        if n:
            gate, up = (tokens[start:start + n] @ w_up[e]).chunk(2, dim=-1)
            out[start:start + n] = (F.silu(gate) * up) @ w_down[e]
        start += n
    return out


class Layer:
    """One MoE layer on this rank; run() records an event after each phase."""

    def __init__(self, shape, weights, bias, rank, ranks, grouped):
        self.hidden, self.ffn_width, self.experts, self.top_k = shape
        self.w_gate, w_up, w_down = weights
        per_rank = self.experts // ranks
        self.local = slice(rank * per_rank, (rank + 1) * per_rank)
        self.w_up, self.w_down = w_up[self.local], w_down[self.local]
        self.bias, self.rank, self.ranks, self.grouped, self.per_rank = bias, rank, ranks, grouped, per_rank

    def run(self, x, mark):
        top_k, experts, ranks = self.top_k, self.experts, self.ranks
        logits = (x @ self.w_gate).float() + self.bias
        probs = torch.softmax(logits, dim=-1)
        weights, ids = torch.topk(probs, top_k, dim=-1)
        mark("gate")
        flat = ids.reshape(-1)
        order = torch.argsort(flat, stable=True)
        token_of_copy = order // top_k
        permuted = x.index_select(0, token_of_copy)
        counts = torch.bincount(flat, minlength=experts)
        mark("permute_send")
        if ranks == 1:
            mark("dispatch")
            local_counts, grouped_tokens = counts, permuted
            self.local_histogram = counts
            mark("permute_receive")
        else:
            # Count exchange: every rank learns how many copies it receives per local expert.
            received_counts = torch.empty_like(counts)
            dist.all_to_all_single(received_counts, counts)
            send_splits = counts.view(ranks, -1).sum(1).tolist()
            matrix = received_counts.view(ranks, self.per_rank)  # [source rank, local expert]
            receive_splits = matrix.sum(1).tolist()
            received = permuted.new_empty(sum(receive_splits), self.hidden)
            dist.all_to_all_single(received, permuted, receive_splits, send_splits)
            mark("dispatch")
            # Regroup (source rank, expert) blocks into expert order for the grouped GEMM.
            expert_of_row = torch.repeat_interleave(
                torch.arange(self.per_rank, device=x.device).repeat(ranks), matrix.reshape(-1))
            regroup = torch.argsort(expert_of_row, stable=True)
            grouped_tokens = received.index_select(0, regroup)
            local_counts = matrix.sum(0)
            self.local_histogram = local_counts
            mark("permute_receive")
        out = ffn(grouped_tokens, local_counts, self.w_up, self.w_down, self.grouped)
        mark("experts")
        if ranks > 1:
            back = torch.empty_like(out)
            back.index_copy_(0, regroup, out)
            mark("unpermute_receive")
            returned = permuted.new_empty(permuted.shape)
            dist.all_to_all_single(returned, back, send_splits, receive_splits)
            out = returned
            mark("combine")
        else:
            mark("unpermute_receive")
            mark("combine")
        out = out * weights.reshape(-1)[order].to(out.dtype).unsqueeze(1)
        y = torch.zeros_like(x)
        y.index_add_(0, token_of_copy, out)
        mark("unpermute")
        return y


def reference(x, shape, weights, bias):
    """The same layer at EP = 1 with the loop back end: what every configuration must compute."""
    layer = Layer(shape, weights, bias, 0, 1, False)
    return layer.run(x, lambda name: None)


def time_phases(layer, inputs, barrier):
    marks = ["start", "gate", "permute_send", "dispatch", "permute_receive", "experts",
             "unpermute_receive", "combine", "unpermute"]
    samples = {p: [] for p in PHASES + ["layer"]}
    for run in range(WARMUP + RUNS):
        events = {}

        def mark(name):
            events[name] = torch.cuda.Event(enable_timing=True)
            events[name].record()

        torch.cuda.synchronize()
        if barrier:
            dist.barrier()
        mark("start")
        layer.run(inputs[run % len(inputs)], mark)
        torch.cuda.synchronize()
        if run < WARMUP:
            continue
        span = {b: events[a].elapsed_time(events[b]) for a, b in zip(marks, marks[1:])}
        samples["gate"].append(span["gate"])
        samples["permute"].append(span["permute_send"] + span["permute_receive"])
        samples["dispatch"].append(span["dispatch"])
        samples["experts"].append(span["experts"])
        samples["unpermute"].append(span["unpermute_receive"] + span["unpermute"])
        samples["combine"].append(span["combine"])
        samples["layer"].append(events["start"].elapsed_time(events["unpermute"]))
    return {p: statistics.median(v) for p, v in samples.items()}, samples["layer"]


def measure_shape(name, shape, rank, ranks, device):
    hidden, ffn_width, experts, top_k = shape
    weights = make_weights(hidden, ffn_width, experts, device)
    records = []
    for tokens, routing in CASES:
        bias = routing_bias(experts, routing, device)
        g = torch.Generator(device=device).manual_seed(1000 * rank + tokens)
        inputs = [torch.randn(tokens, hidden, device=device, dtype=torch.bfloat16, generator=g)
                  for _ in range(3)]  # rotated, so repeated runs do not only read the L2
        ref = reference(inputs[0], shape, weights, bias).float()
        for backend in ("grouped", "loop"):
            layer = Layer(shape, weights, bias, rank, ranks, backend == "grouped")
            got = layer.run(inputs[0], lambda n: None).float()
            rel = ((got - ref).norm() / ref.norm()).item()
            if not rel < 2e-2:  # NaN fails too
                raise SystemExit(f"{name} T={tokens} {routing} {backend} EP={ranks} rank {rank}: "
                                 f"relative error {rel} against the EP=1 loop reference")
            medians, layer_samples = time_phases(layer, inputs, ranks > 1)
            histogram = layer.local_histogram.tolist()  # of the last timed run (inputs rotate)
            phases = {p: round(medians[p], 6) for p in PHASES if ranks > 1 or p not in ("dispatch", "combine")}
            records.append({
                "case": f"{name} T={tokens} {routing}", "stack": f"torch-{backend}", "rank": rank,
                "ranks": ranks,
                "shape": {"hidden": hidden, "expert_ffn": ffn_width, "experts": experts,
                          "top_k": top_k, "gated": True},
                "dtypes": {"activation": "bf16", "weight": "bf16"},
                "tokens": tokens, "tokens_per_local_expert": histogram,
                "phases_ms": phases, "layer_ms": round(medians["layer"], 6),
                "spread": round((max(layer_samples) - min(layer_samples)) / medians["layer"], 4),
                "check_relative_error": round(rel, 6)})
            print(f"rank {rank} {name} T={tokens} {routing} {backend} EP={ranks}: layer "
                  f"{medians['layer']:.3f} ms", file=sys.stderr, flush=True)
    del weights
    torch.cuda.empty_cache()
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="calibration file to write (rank 0 writes it)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated names of SHAPES")
    args = parser.parse_args()
    ranks = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(device)
    if ranks > 1:
        dist.init_process_group("nccl", device_id=device)
    records = []
    for name in args.shapes.split(","):
        records += measure_shape(name, SHAPES[name], rank, ranks, device)
    if ranks > 1:
        gathered = [None] * ranks
        dist.all_gather_object(gathered, records)
        records = [r for part in gathered for r in part]
    if rank == 0:
        doc = {"format": "moesim-calibration", "schema_version": 1,
               "device": torch.cuda.get_device_name(),
               "provenance": {"tool": "profiler/torch_moe_timings.py", "torch": torch.__version__,
                              "cuda": torch.version.cuda, "nccl": str(torch.cuda.nccl.version()),
                              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                              "warmup": WARMUP, "runs": RUNS, "command": " ".join(sys.argv)},
               "records": records}
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, args.out)
    if ranks > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()

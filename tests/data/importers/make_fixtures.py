#!/usr/bin/env python3
"""Makes the importer fixtures in this folder with PyTorch, as the producers write them.

Routing is real top-k over random router logits on the GPU (torch.topk), counted the way each
producer counts it; the structures saved are the ones the producers' own code saves:
  - SGLang's expert-distribution recorder, stat mode (_StatAccumulator.dump): a dict with rank,
    logical_count [buffered steps, layers, logical experts] int32 and
    average_utilization_rate_over_window, written with torch.save;
  - the same recorder's per_pass mode (_DetailAccumulator.dump): records (one dict per forward
    pass: forward_pass_id, rank, gatherer_key, global_physical_count [layers, physical] int32) and
    last_physical_to_logical_map [layers, physical];
  - SGLang's --init-expert-location file ({"physical_to_logical_map": ...}, .pt and .json) and
    vLLM's EplbState.physical_to_logical_map saved with torch.save and numpy.save;
  - vLLM's CompletionOutput.routed_experts ([tokens, MoE layers, top_k]) saved with numpy.save
    (one request) and numpy.savez (two requests);
  - Megatron-Core's router trace (router_trace_rank0.jsonl): one JSON record per step and layer.
expected.json holds the per-layer, per-logical-expert token counts of each fixture, counted here
with torch.bincount, for the importer tests to compare against.
Run: python3 make_fixtures.py OUTDIR   (on a machine with torch; CUDA used when present)
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
device = "cuda" if torch.cuda.is_available() else "cpu"
gen = torch.Generator(device=device).manual_seed(20)

LAYERS, LOGICAL, TOP_K, TOKENS, STEPS = 2, 8, 2, 6, 3
EP_SIZE, PHYSICAL = 2, 10  # 2 redundant slots, 5 per GPU


def route(tokens, experts=LOGICAL, top_k=TOP_K):
    """[tokens, top_k] expert ids: top-k of softmax over random router logits."""
    logits = torch.randn(tokens, experts, generator=gen, device=device)
    logits[:, 0] += 1.5  # one hot expert, so the counts are skewed like real routing
    return torch.topk(torch.softmax(logits, dim=-1), top_k, dim=-1).indices


def counts(ids, experts=LOGICAL):
    return torch.bincount(ids.flatten(), minlength=experts)


# A per-layer EPLB map: each layer replicates its two hottest logical experts (physical p sits on
# GPU p // 5). Layers differ, as they do after SGLang's or vLLM's rebalancing.
def physical_to_logical(layer_hot):
    rows = []
    for hot in layer_hot:
        rows.append(list(range(LOGICAL)) + hot)
    return torch.tensor(rows, dtype=torch.int64, device=device)


p2l = physical_to_logical([[0, 3], [0, 5]])
expected = {}

# SGLang stat mode: tokens route to logical experts, SGLang dispatches them to physical slots
# (here: a token's copy goes to the first replica) and counts physical, then maps back to logical.
physical_count = torch.zeros(STEPS, LAYERS, PHYSICAL, dtype=torch.int32, device=device)
for step in range(STEPS):
    for layer in range(LAYERS):
        physical_count[step, layer] += counts(route(TOKENS), PHYSICAL).int()
logical_count = torch.zeros(STEPS, LAYERS, LOGICAL, dtype=torch.int32, device=device)
logical_count.scatter_add_(2, p2l.unsqueeze(0).expand(STEPS, -1, -1), physical_count)
torch.save(dict(rank=0, logical_count=logical_count.cpu(),
                average_utilization_rate_over_window=None), out / "sglang_stat.pt")
expected["sglang_stat.pt"] = dict(top_k=TOP_K, steps=STEPS,
                                  tokens_per_expert=logical_count.sum(0).tolist())

# SGLang per_pass mode, rank 0: tokens choose physical experts (replicas included).
records = []
total = torch.zeros(LAYERS, LOGICAL, dtype=torch.int64, device=device)
for forward_pass_id in range(STEPS):
    gpc = torch.zeros(LAYERS, PHYSICAL, dtype=torch.int32, device=device)
    for layer in range(LAYERS):
        ids = route(TOKENS, PHYSICAL)
        # a token never picks two replicas of one logical expert: redraw those that did
        while (p2l[layer][ids][:, 0] == p2l[layer][ids][:, 1]).any():
            ids = route(TOKENS, PHYSICAL)
        gpc[layer] = counts(ids, PHYSICAL).int()
        total[layer] += counts(p2l[layer][ids])
    records.append(dict(forward_pass_id=forward_pass_id, rank=0, gatherer_key="primary",
                        global_physical_count=gpc.cpu().clone()))
torch.save(dict(records=records, last_physical_to_logical_map=p2l.cpu()),
           out / "sglang_per_pass.pt")
expected["sglang_per_pass.pt"] = dict(top_k=TOP_K, steps=STEPS, tokens_per_expert=total.tolist())

# EPLB maps as placements.
torch.save(dict(physical_to_logical_map=p2l.cpu()), out / "sglang_expert_location.pt")
(out / "sglang_expert_location.json").write_text(
    json.dumps(dict(physical_to_logical_map=p2l.tolist())) + "\n")
torch.save(p2l.cpu(), out / "vllm_physical_to_logical.pt")
np.save(out / "vllm_physical_to_logical.npy", p2l.cpu().numpy())
expected["maps"] = dict(physical_to_logical_map=p2l.tolist(), ep_size=EP_SIZE)

# vLLM routed experts: per request [tokens, layers, top_k].
requests = [torch.stack([route(n) for _ in range(LAYERS)], dim=1).to(torch.int32) for n in (7, 5)]
np.save(out / "vllm_routed_experts.npy", requests[0].cpu().numpy())
np.savez(out / "vllm_routed_experts.npz", req0=requests[0].cpu().numpy(),
         req1=requests[1].cpu().numpy())
expected["vllm_routed_experts.npy"] = dict(
    top_k=TOP_K, steps=1, tokens_per_expert=[counts(requests[0][:, l]).tolist() for l in range(LAYERS)])
both = torch.cat(requests)
expected["vllm_routed_experts.npz"] = dict(
    top_k=TOP_K, steps=1, tokens_per_expert=[counts(both[:, l]).tolist() for l in range(LAYERS)])

# Megatron-Core router trace: MoE layers 1 and 3 (0 and 2 dense), plus one MTP record.
lines, mega = [], torch.zeros(LAYERS, LOGICAL, dtype=torch.int64, device=device)
for step in range(STEPS):
    for i, layer in enumerate((1, 3)):
        ids = route(TOKENS).to(torch.int32)
        mega[i] += counts(ids)
        lines.append(dict(step=step, stage="pre_dispatch", block="decoder", layer=layer, rank=0,
                          num_tokens=TOKENS, topk=TOP_K, top_indices=ids.cpu().tolist()))
lines.append(dict(step=STEPS - 1, stage="pre_dispatch", block="mtp", layer=0, rank=0,
                  num_tokens=TOKENS, topk=TOP_K, top_indices=route(TOKENS).cpu().tolist(),
                  mtp_idx=0))
(out / "router_trace_rank0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
expected["router_trace_rank0.jsonl"] = dict(top_k=TOP_K, steps=STEPS, layers=[1, 3],
                                            tokens_per_expert=mega.tolist())

expected["made_with"] = dict(torch=torch.__version__, numpy=np.__version__, device=device,
                             gpu=torch.cuda.get_device_name(0) if device == "cuda" else None)
(out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
print(json.dumps(expected["made_with"]))

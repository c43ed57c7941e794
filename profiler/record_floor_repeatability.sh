#!/usr/bin/env bash
# On a 2-GPU machine: is the EP = 2 host floor of the plain PyTorch layer a property of the shape or
# of the moment it was recorded? (docs/accuracy.md, "Where the error is"). Records EP = 2 twice, the
# shapes in the harness's order and then reversed, and prints each shape's non-expert time
# (layer - experts, ms) at 32 and 128 tokens in both runs. If qwen3-30b-a3b and off-1536x512e32k2
# stay ~0.3 ms below the others in both runs, the floor belongs to the shape and `moesim calibrate`'s
# seen-shape offsets carry over to new recordings; if the low shapes move with the order, it is
# session noise and only the band describes it. Results in $OUT.
#   profiler/record_floor_repeatability.sh
set -u
OUT="${OUT:-$PWD/out}"
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
forward="mixtral-8x7b,deepseek-v3,qwen3-235b-a22b,qwen3-30b-a3b,olmoe-1b-7b,off-3072x4096e16k4,off-5120x2560e64k6,off-1536x512e32k2"
reverse=$(tr ',' '\n' <<<"$forward" | tac | paste -sd,)
status=0
for order in forward reverse; do
  start=$(date +%s)
  timeout 280 torchrun --standalone --nproc_per_node 2 profiler/torch_moe_timings.py \
    --out "$OUT/torch-ep2-$order.json" --shapes "${!order}" 2>"$OUT/ep2-$order.log"
  rc=$?
  echo "EP=2 $order rc=$rc after $(( $(date +%s) - start )) s"
  [[ $rc -eq 0 ]] || status=1
done
[[ $status -eq 0 ]] || exit 1
python3 - "$OUT/torch-ep2-forward.json" "$OUT/torch-ep2-reverse.json" <<'PY'
import json, sys
runs = [json.load(open(path))["records"] for path in sys.argv[1:]]
floors = {}
for run, records in enumerate(runs):
    for r in records:
        if r["stack"] == "torch-grouped" and r["tokens"] in (32, 128):
            key = (r["case"].split()[0], r["tokens"], r["rank"])
            floors.setdefault(key, [None, None])[run] = r["layer_ms"] - r["phases_ms"]["experts"]
print("shape tokens rank | non-expert ms: forward order, reverse order")
for (shape, tokens, rank), (a, b) in sorted(floors.items()):
    print(f"{shape:22s} {tokens:5d} {rank} | {a:.3f} {b:.3f}")
PY

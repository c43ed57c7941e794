#!/usr/bin/env bash
# On a 2-GPU machine: record the plain PyTorch MoE layer's phase times (profiler/torch_moe_timings.py)
# at EP = 1 and EP = 2 in moesim's calibration format. Results and logs land in $OUT.
#   profiler/record_torch_timings.sh [SHAPES]      (default: every shape of the harness)
set -u
OUT="${OUT:-$PWD/out}"
mkdir -p "$OUT"
# NVLink multicast stays off: a program that uses it can take a shared host's GPUs down.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
shapes=()
[[ $# -ge 1 ]] && shapes=(--shapes "$1")
{ date -u; nvidia-smi; nvidia-smi topo -m
  python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.device_count())'; } \
  >"$OUT/machine.txt" 2>&1
start=$(date +%s)
timeout 280 python3 profiler/torch_moe_timings.py --out "$OUT/torch-ep1.json" "${shapes[@]}" \
  2>"$OUT/ep1.log"
ep1_rc=$?
echo "EP=1 rc=$ep1_rc after $(( $(date +%s) - start )) s"
start=$(date +%s)
timeout 280 torchrun --standalone --nproc_per_node 2 profiler/torch_moe_timings.py \
  --out "$OUT/torch-ep2.json" "${shapes[@]}" 2>"$OUT/ep2.log"
ep2_rc=$?
echo "EP=2 rc=$ep2_rc after $(( $(date +%s) - start )) s"
tail -5 "$OUT/ep1.log" "$OUT/ep2.log"
[[ $ep1_rc -eq 0 && $ep2_rc -eq 0 ]]

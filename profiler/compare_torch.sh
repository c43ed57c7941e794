#!/usr/bin/env bash
# On a GPU machine: validate the shipped profile against the executor (builds and runs the GPU
# tests too), then time the same layers written in plain PyTorch and tabulate both. Results in $OUT.
#   profiler/compare_torch.sh [PROFILE.json]      (default: scenarios/profiles/h100.json)
set -u
OUT="${OUT:-$PWD/out}"
profile="${1:-scenarios/profiles/h100.json}"
profiler/run_on_device.sh "validate=$profile"
validate_rc=$?
python3 profiler/torch_reference.py --out "$OUT/torch.json" --validation "$OUT/validation.json" \
  --table "$OUT/torch_comparison.md" 2>&1 | tee "$OUT/torch.log"
torch_rc=${PIPESTATUS[0]}
echo "validate rc=$validate_rc torch rc=$torch_rc"
[[ $validate_rc -eq 0 && $torch_rc -eq 0 ]]

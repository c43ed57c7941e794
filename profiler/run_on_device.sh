#!/usr/bin/env bash
# Builds, checks and measures everything on a GPU machine in one go; results land in $OUT.
#   profiler/run_on_device.sh smoke            quick collectives under both launchers, tests,
#                                              --validate against the shipped h200 profile
#   profiler/run_on_device.sh full             full profile under mpirun (and the attention core
#                                              through PyTorch where it is), then --validate on it
#                                              (and at EP=2 too where the machine has more GPUs)
#   profiler/run_on_device.sh validate=FILE    --validate against a shipped profile only
#   profiler/run_on_device.sh final            quick whole profiles under both launchers, then
#                                              --validate against the shipped h200 profile
#   profiler/run_on_device.sh ep2              moesim-profile alone (no tests: a short lease),
#                                              quick collectives (the dispatch sequence among
#                                              them), --validate against the shipped h200 profile
#   profiler/run_on_device.sh reductions       moesim-profile alone, the full collectives section
#                                              (all-reduce, all-gather, reduce-scatter among them)
#                                              under mpirun, for docs/parallelism.md
# Build dependencies missing on the machine come from .deps/ (profiler/pack_build_deps.sh,
# profiler/pack_openmpi.sh). At most 8 files come back: logs are concatenated into one.
set -o pipefail
set -u
mode="${1:-full}"
OUT="${OUT:-$PWD/out}"
mkdir -p "$OUT"
# NVLink multicast stays off: a program that uses it can take a shared host's GPUs down.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # microVMs may forbid cross-memory attach
log="$OUT/log.txt"
{ date -u; nvidia-smi; nvidia-smi topo -m; nvidia-smi -q -d CLOCK | head -30; nproc
  g++ --version | head -1; cmake --version | head -1; command -v mpirun; } >"$log" 2>&1

extra=()
if [[ -f .deps/build-deps.tar.gz ]]; then
  mkdir -p /tmp/moesim-deps && tar -xzf .deps/build-deps.tar.gz -C /tmp/moesim-deps
  extra+=("-DCMAKE_PREFIX_PATH=/tmp/moesim-deps/usr;/tmp/moesim-deps/usr/share/eigen3/cmake"
          "-DCMAKE_CXX_FLAGS=-isystem /tmp/moesim-deps/usr/include"
          "-DCMAKE_LIBRARY_PATH=/tmp/moesim-deps/usr/lib/x86_64-linux-gnu")
  export LD_LIBRARY_PATH="/tmp/moesim-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
mpirun_bin=$(command -v mpirun || true)
if [[ -z "$mpirun_bin" && -f .deps/openmpi.tar.gz ]]; then
  # Debian's Open MPI, relocated under /tmp with OPAL_PREFIX; nothing goes into /.
  mkdir -p /tmp/moesim-mpi && tar -xzf .deps/openmpi.tar.gz -C /tmp/moesim-mpi
  p=/tmp/moesim-mpi/usr
  export OPAL_PREFIX=$p PATH="$p/bin:$PATH"
  export LD_LIBRARY_PATH="$p/lib/x86_64-linux-gnu:$p/lib/x86_64-linux-gnu/openmpi/lib:${LD_LIBRARY_PATH:-}"
  export PMIX_MCA_mca_base_component_path=$p/lib/x86_64-linux-gnu/pmix2/lib/pmix
  mpirun_bin=$p/bin/mpirun.openmpi
  extra+=("-DMPI_CXX_COMPILER=$p/bin/mpicxx.openmpi" "-DMPIEXEC_EXECUTABLE=$mpirun_bin")
fi
echo "mpirun: ${mpirun_bin:-none}" | tee -a "$log"

targets=(moesim-profile moesim_kernel_tests moesim_profiler_mpi_tests)
[[ "$mode" == ep2 || "$mode" == reductions ]] && targets=(moesim-profile)
start=$(date +%s)
{ cmake --preset cuda -DMOESIM_GUI=OFF -DMOESIM_WERROR=OFF -DMOESIM_PROFILER_ONLY=ON "${extra[@]}" &&
  cmake --build build/cuda -j "$(nproc)" --target "${targets[@]}"; } >>"$log" 2>&1 ||
  { tail -60 "$log"; exit 1; }
echo "build took $(( $(date +%s) - start )) s" | tee -a "$log"

if [[ "$mode" != ep2 && "$mode" != reductions ]]; then
  # The profiler-only build has no moesim CLI: the plan sweep under mpirun runs in CI instead.
  { ctest --test-dir build/cuda -L gpu --output-on-failure
    ctest --test-dir build/cuda -L mpi -E PlanUnderMpirun --output-on-failure; } >>"$log" 2>&1
  echo "gpu + mpi tests rc=$?" | tee -a "$log"
fi

gpus=$(nvidia-smi -L | grep -c GPU)
link=unknown
nvidia-smi topo -m 2>/dev/null | grep -q "NV[0-9]" && link=nvlink
P=build/cuda/profiler/moesim-profile
mpi=("$mpirun_bin" -np "$gpus" --allow-run-as-root --oversubscribe --bind-to none
     -x NCCL_NVLS_ENABLE -x LD_LIBRARY_PATH -x PATH)
step() {  # step NAME COMMAND...: runs with a time limit, appends its output to the log
  local name=$1; shift
  local t0=$(date +%s)
  timeout 480 "$@" >>"$log" 2>&1
  local rc=$?
  echo "$name rc=$rc ($(( $(date +%s) - t0 )) s)" | tee -a "$log"
  return $rc
}

if [[ "$mode" == smoke ]]; then
  step "fork launcher, quick collectives" $P --quick --collectives-only --link-kind $link --out "$OUT/collectives_fork.json"
  [[ -n "$mpirun_bin" ]] && step "mpirun -np $gpus, quick collectives" "${mpi[@]}" $P --quick --collectives-only \
      --link-kind $link --out "$OUT/collectives_mpi.json"
  step "validate vs shipped h200 (fork launcher)" $P --validate --profile scenarios/profiles/h200.json \
      --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy.md" --timings-out "$OUT/executor_timings.json"
elif [[ "$mode" == final ]]; then
  [[ -n "$mpirun_bin" ]] && step "mpirun -np $gpus, quick profile" "${mpi[@]}" $P --quick --link-kind $link \
      --out "$OUT/quick_mpi.json"
  step "fork launcher, quick profile" $P --quick --link-kind $link --out "$OUT/quick_fork.json"
  step "validate vs shipped h200 (fork launcher)" $P --validate --profile scenarios/profiles/h200.json \
      --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy.md" --timings-out "$OUT/executor_timings.json"
elif [[ "$mode" == ep2 ]]; then
  step "fork launcher, quick collectives" $P --quick --collectives-only --link-kind $link \
      --out "$OUT/collectives_quick.json"
  step "validate vs shipped h200 (fork launcher)" $P --validate --profile scenarios/profiles/h200.json \
      --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy.md" --timings-out "$OUT/executor_timings.json"
elif [[ "$mode" == reductions ]]; then
  step "mpirun -np $gpus, full collectives" "${mpi[@]}" $P --collectives-only --link-kind $link \
      --out "$OUT/collectives_full.json"
elif [[ "$mode" == validate=* ]]; then
  step "validate vs ${mode#validate=} (fork launcher)" $P --validate --profile "${mode#validate=}" \
      --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy.md" --timings-out "$OUT/executor_timings.json"
else
  step "mpirun -np $gpus, full profile" "${mpi[@]}" $P --link-kind $link --out "$OUT/profile.json"
  [[ -f "$OUT/profile.json" ]] || step "fork launcher, full profile" $P --link-kind $link --out "$OUT/profile.json"
  # The attention core is timed through PyTorch's fused kernels (docs/profiling.md), where the
  # machine has PyTorch; without it the profile borrows a shipped one of the same chip.
  if python3 -c "import torch" 2>/dev/null; then
    step "attention core (PyTorch)" python3 profiler/measure_attention_core.py --out "$OUT/attention.json" &&
      step "merge the attention core" python3 profiler/merge_attention_core.py "$OUT/profile.json" "$OUT/attention.json"
  fi
  step "validate vs the new profile (fork launcher)" $P --validate --profile "$OUT/profile.json" \
      --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy.md" --timings-out "$OUT/executor_timings.json"
  # On a machine of more than two GPUs, EP=2 on the same lease too: the EP=2 rows then compare
  # with the larger EP group's under one set of clocks and one NCCL build.
  (( gpus > 2 )) && step "validate EP=2 vs the new profile (fork launcher, 2 ranks)" $P --validate \
      --ranks 2 --profile "$OUT/profile.json" --out "$OUT/validation_ep2.json" \
      --accuracy-out "$OUT/accuracy_ep2.md" --timings-out "$OUT/executor_timings_ep2.json"
fi
python3 profiler/summarise_results.py "$OUT" 2>&1 | tee -a "$log"

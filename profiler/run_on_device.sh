#!/usr/bin/env bash
# Builds, checks and measures everything on a GPU machine in one go; results land in $OUT.
#   profiler/run_on_device.sh [quick|full|validate=PROFILE.json]
# Where the build dependencies (Boost, nlohmann_json, fmt, Eigen, CLI11, GTest) are missing on
# the machine, a tarball of them made by profiler/pack_build_deps.sh may sit in .deps/.
set -o pipefail
set -u
mode="${1:-full}"
OUT="${OUT:-$PWD/out}"
mkdir -p "$OUT"
# NVLink multicast stays off: a program that uses it can take a shared host's GPUs down.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
log="$OUT/build.log"
{ nvidia-smi; nvidia-smi -q -d CLOCK | head -40; nproc; g++ --version | head -1; cmake --version | head -1; } >"$log" 2>&1

extra=()
if [[ -f .deps/build-deps.tar.gz ]]; then
  mkdir -p /tmp/moesim-deps && tar -xzf .deps/build-deps.tar.gz -C /tmp/moesim-deps
  extra+=("-DCMAKE_PREFIX_PATH=/tmp/moesim-deps/usr;/tmp/moesim-deps/usr/share/eigen3/cmake"
          "-DCMAKE_CXX_FLAGS=-isystem /tmp/moesim-deps/usr/include"
          "-DCMAKE_LIBRARY_PATH=/tmp/moesim-deps/usr/lib/x86_64-linux-gnu")
  export LD_LIBRARY_PATH="/tmp/moesim-deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
fi
cmake --preset cuda -DMOESIM_GUI=OFF -DMOESIM_WERROR=OFF "${extra[@]}" 2>&1 | tee -a "$log" || exit 1
cmake --build build/cuda -j "$(nproc)" --target moesim_kernel_tests moesim-profile 2>&1 | tee -a "$log" || exit 1

ctest --test-dir build/cuda -L gpu --output-on-failure 2>&1 | tee "$OUT/ctest.log"
tests_rc=$?

# validate-only: check a shipped profile against the executor, no new profile.
if [[ "$mode" == validate=* ]]; then
  build/cuda/profiler/moesim-profile --validate --profile "${mode#validate=}" \
    --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy_table.md" 2>&1 | tee "$OUT/validate.log"
  rc=$?
  echo "tests rc=$tests_rc validate rc=$rc"
  [[ $tests_rc -eq 0 && $rc -eq 0 ]]
  exit
fi

quick=()
[[ "$mode" == quick ]] && quick=(--quick)
start=$(date +%s)
build/cuda/profiler/moesim-profile "${quick[@]}" --out "$OUT/profile.json" 2>&1 | tee "$OUT/profile.log"
profile_rc=$?
echo "profile took $(( $(date +%s) - start )) s" | tee -a "$OUT/profile.log"

validate_rc=1
if [[ $profile_rc -eq 0 ]]; then
  build/cuda/profiler/moesim-profile --validate --profile "$OUT/profile.json" \
    --out "$OUT/validation.json" --accuracy-out "$OUT/accuracy_table.md" 2>&1 | tee "$OUT/validate.log"
  validate_rc=$?
fi
echo "tests rc=$tests_rc profile rc=$profile_rc validate rc=$validate_rc"
[[ $tests_rc -eq 0 && $profile_rc -eq 0 && $validate_rc -eq 0 ]]

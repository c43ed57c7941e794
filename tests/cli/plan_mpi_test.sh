#!/usr/bin/env bash
# `mpirun -np RANKS moesim plan PLAN` must write the plan.json and plan.csv of one process, byte
# for byte, and exit as it does. Exits 77 (ctest: skipped) where no mpirun is found.
#   plan_mpi_test.sh MPIEXEC MOESIM PLAN WORKDIR [RANKS]
set -u
mpiexec="${1:-}"
moesim="$2"
plan="$3"
work="$4"
ranks="${5:-2}"
if [[ -z "$mpiexec" || ! -x "$mpiexec" ]]; then
  mpiexec=$(command -v mpirun || true)
fi
if [[ -z "$mpiexec" ]]; then
  echo "no mpirun found: skipping"
  exit 77
fi
flags=(-np "$ranks")
# As tests/profiler/mpi/run_mpi_test.sh: CI runs as root in a container with few cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if "$mpiexec" --version 2>&1 | grep -qE "Open MPI|OpenRTE|open-mpi.org"; then
  flags+=(--oversubscribe)
  [[ "$(id -u)" -eq 0 ]] && flags+=(--allow-run-as-root)
  export OMPI_MCA_btl_vader_single_copy_mechanism=none  # containers often forbid CMA
fi
rm -rf "$work"
mkdir -p "$work"
"$moesim" plan "$plan" --out "$work/one" -j 2 > "$work/one.txt"
one=$?
"$mpiexec" "${flags[@]}" "$moesim" plan "$plan" --out "$work/ranks" -j 1 > "$work/ranks.txt"
spread=$?
echo "one process: exit $one; $ranks ranks: exit $spread"
[[ "$one" -eq "$spread" ]] || { echo "exit codes differ"; exit 1; }
for file in plan.json plan.csv plan.svg; do
  cmp "$work/one/$file" "$work/ranks/$file" || { echo "$file differs"; exit 1; }
done
grep -q "x $ranks ranks" "$work/ranks.txt" || { echo "the run did not say it spread over ranks"; exit 1; }
echo "same plan.json, plan.csv and plan.svg bytes from 1 process and $ranks ranks"

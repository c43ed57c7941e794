#!/usr/bin/env bash
# Runs an MPI test program on RANKS ranks (default 2), telling it how many with --ranks=RANKS;
# exits 77 (ctest: skipped) where no mpirun is found.
#   run_mpi_test.sh MPIEXEC PROGRAM [RANKS]
set -u
mpiexec="${1:-}"
program="$2"
ranks="${3:-2}"
if [[ -z "$mpiexec" || ! -x "$mpiexec" ]]; then
  mpiexec=$(command -v mpirun || true)
fi
if [[ -z "$mpiexec" ]]; then
  echo "no mpirun found: skipping"
  exit 77
fi
flags=(-np "$ranks")
# CI runs as root in a container with few cores; Open MPI refuses root without these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's launcher calls itself "mpirun (Open MPI)" or "mpiexec (OpenRTE)".
if "$mpiexec" --version 2>&1 | grep -qE "Open MPI|OpenRTE|open-mpi.org"; then
  flags+=(--oversubscribe)
  [[ "$(id -u)" -eq 0 ]] && flags+=(--allow-run-as-root)
  export OMPI_MCA_btl_vader_single_copy_mechanism=none  # containers often forbid CMA
fi
exec "$mpiexec" "${flags[@]}" "$program" --ranks="$ranks"

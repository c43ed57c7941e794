#!/usr/bin/env bash
# Packs Open MPI (Debian 12's 4.1 build, its libraries and mpirun) from this machine into
# .deps/openmpi.tar.gz for GPU machines that have no MPI. profiler/run_on_device.sh unpacks it
# under /tmp/moesim-mpi and relocates it with OPAL_PREFIX; nothing is installed into /.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
mkdir -p .git/info && { grep -qx "/.deps/" .git/info/exclude 2>/dev/null || echo "/.deps/" >> .git/info/exclude; }
packages=(openmpi-bin libopenmpi3 libopenmpi-dev openmpi-common libpmix2 libhwloc15
          libevent-core-2.1-7 libevent-pthreads-2.1-7 libfabric1 libibverbs1 libnl-3-200
          libnl-route-3-200 libpsm-infinipath1 libpsm2-2 libucx0 libmunge2 librdmacm1 libltdl7
          libnuma1)
list=$(mktemp)
for package in "${packages[@]}"; do
  dpkg -L "$package" 2>/dev/null || { echo "pack_openmpi: $package is not installed" >&2; exit 1; }
done | grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' \
             -e 'java' -e 'gfortran' -e '\.mod$' -e '/etc/' | sort -u |
  while read -r path; do [[ -f "$path" || -L "$path" ]] && echo "${path#/}"; done > "$list"
# usrmerge: packages that still list /lib put their files under usr/lib in the tarball
tar -czf .deps/openmpi.tar.gz --transform "s,^lib/,usr/lib/," -C / -T "$list"
ls -la .deps/openmpi.tar.gz

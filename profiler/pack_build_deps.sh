#!/usr/bin/env bash
# Packs the core's build dependencies from this (Debian 12) machine into .deps/build-deps.tar.gz,
# for GPU machines that have CUDA but not Boost/nlohmann_json/fmt/Eigen/CLI11/GTest/libzip. Only the
# Boost headers the code really includes travel (found with g++ -M), to stay small.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
mkdir -p .git/info && { grep -qx "/.deps/" .git/info/exclude 2>/dev/null || echo "/.deps/" >> .git/info/exclude; }
list=$(mktemp)
g++ -std=c++20 -I. -M topology/*.cpp 2>/dev/null | tr ' \\' '\n\n' | grep '^/usr/include/boost/' | sort -u > "$list"
{
  cat "$list"
  echo /usr/include/nlohmann /usr/include/eigen3 /usr/include/fmt /usr/include/gtest \
       /usr/include/gmock /usr/include/CLI /usr/include/zip.h /usr/include/zipconf.h | tr ' ' '\n'
  ls /usr/lib/x86_64-linux-gnu/libfmt.so* /usr/lib/x86_64-linux-gnu/libgtest*.a \
     /usr/lib/x86_64-linux-gnu/libgmock*.a /usr/lib/x86_64-linux-gnu/libzip.so*
  ls -d /usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0 /usr/lib/x86_64-linux-gnu/cmake/boost_headers-1.74.0 \
        /usr/lib/x86_64-linux-gnu/cmake/BoostDetectToolset-1.74.0.cmake \
        /usr/lib/x86_64-linux-gnu/cmake/fmt /usr/lib/x86_64-linux-gnu/cmake/GTest \
        /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 /usr/share/eigen3
} | sed 's|^/||' > "$list.all"
tar -czf .deps/build-deps.tar.gz -C / -T "$list.all"
ls -la .deps/build-deps.tar.gz

#!/usr/bin/env bash
# Measures peft's build times on this machine: a clean build without ccache, a clean build with a warm ccache, and
# an incremental rebuild after touching one core file. Prints one line each; run it with the machine otherwise idle.
# Usage: bench/build_time.sh [JOBS]   (default: all cores)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${1:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { local start=$1; echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f'; }
configure() { cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null; }

configure
start=$(date +%s.%N); CCACHE_DISABLE=1 cmake --build "$work/build" -j "$jobs" >/dev/null
echo "clean build, no ccache, -j$jobs: $(seconds "$start") s"

rm -rf "$work/build"; configure
cmake --build "$work/build" -j "$jobs" >/dev/null   # fills the cache
rm -rf "$work/build"; configure
start=$(date +%s.%N); cmake --build "$work/build" -j "$jobs" >/dev/null
echo "clean build, warm ccache, -j$jobs: $(seconds "$start") s"

touch "$root/core/plugin_loader.cpp"
start=$(date +%s.%N); CCACHE_DISABLE=1 cmake --build "$work/build" -j "$jobs" >/dev/null
echo "incremental (core/plugin_loader.cpp touched), -j$jobs: $(seconds "$start") s"

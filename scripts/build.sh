#!/usr/bin/env bash
# Installs what peft needs and configures BUILD_DIR (default: build) with scripts/configure.sh, then builds it.
# Extra arguments go to CMake's configure step, e.g. -DCMAKE_PREFIX_PATH=/opt/libtorch for another LibTorch 2.x.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

bash "$root/scripts/configure.sh" "$build_dir" "$@"
cmake --build "$build_dir" -j "$(nproc)"

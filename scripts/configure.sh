#!/usr/bin/env bash
# Installs what peft needs (Debian's packages: scripts/install_deps.sh; the pinned torch wheel, whose LibTorch peft
# builds against, in .venv: scripts/install_python.sh) and configures a build folder with CMake: Ninja, Release
# (a later -DCMAKE_BUILD_TYPE wins), the other arguments passed on. A folder configured against the system's
# LibTorch, before peft moved to LibTorch 2.x, is configured afresh: its cache names that LibTorch's libraries.
#   scripts/configure.sh BUILD_DIR [CMAKE_ARG...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:?usage: configure.sh BUILD_DIR [CMAKE_ARG...]}
shift

bash "$root/scripts/install_deps.sh"
bash "$root/scripts/install_python.sh"
if grep -qsE '^(Torch_DIR:PATH|TORCH_LIBRARY:FILEPATH)=/usr/' "$build_dir/CMakeCache.txt"; then
  echo "configure: $build_dir was configured against the system's LibTorch; configuring it afresh" >&2
  rm -f "$build_dir/CMakeCache.txt"
fi
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null

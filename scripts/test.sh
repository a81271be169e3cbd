#!/usr/bin/env bash
# The README's second command: sets up a fresh machine, builds peft and its tests, and runs the whole suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

# build.sh makes the venv first (LibTorch and the Python oracle the interoperability tests compare with).
BUILD_DIR=$build_dir bash "$root/scripts/build.sh"
ctest --test-dir "$build_dir" --output-on-failure

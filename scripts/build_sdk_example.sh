#!/usr/bin/env bash
# Installs a built peft into WORK_DIR/prefix and builds sdk/examples/example_method against that installed SDK
# only, into WORK_DIR/build, as a third party would. Prints where the plugin is.
# Usage: build_sdk_example.sh BUILD_DIR WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$1
work=$2

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
# Only the install prefix is on CMAKE_PREFIX_PATH: the example cannot see the build tree.
cmake -S "$root/sdk/examples/example_method" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" || { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
echo "$work/build/libpeft_example_method.so"

#!/usr/bin/env bash
# Installs a built peft into WORK_DIR/prefix and builds SDK examples (folders of sdk/examples; default:
# example_method) against that installed SDK only, as a third party would: the first into WORK_DIR/build, each other
# into WORK_DIR/build-EXAMPLE. Prints where each example's plugin is, one line each, in the order given.
# Usage: build_sdk_example.sh BUILD_DIR WORK_DIR [EXAMPLE...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$1
work=$2
shift 2
examples=("${@:-example_method}")

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
for example in "${examples[@]}"; do
  [[ -f "$root/sdk/examples/$example/CMakeLists.txt" ]] || { echo "no SDK example $example" >&2; exit 1; }
  out="$work/build"
  [[ "$example" == "${examples[0]}" ]] || out="$work/build-$example"
  log="$work/$example"
  # Only the install prefix is on CMAKE_PREFIX_PATH: the example cannot see the build tree.
  cmake -S "$root/sdk/examples/$example" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" >"$log-configure.log" || { cat "$log-configure.log" >&2; exit 1; }
  cmake --build "$out" >"$log-build.log" || { cat "$log-build.log" >&2; exit 1; }
  # Each example builds one plugin, lib<target>.so.
  plugins=("$out"/lib*.so)
  [[ ${#plugins[@]} -eq 1 && -f "${plugins[0]}" ]] || { echo "$example built no single plugin in $out" >&2; exit 1; }
  echo "${plugins[0]}"
done

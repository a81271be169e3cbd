#!/usr/bin/env bash
# The SDK as a third party sees it: builds sdk/examples/example_method against an installed peft (not the build
# tree), then checks that the installed `peft` loads it from a folder named in PEFT_PLUGIN_PATH.
# Usage: example_against_install.sh BUILD_DIR WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$1
work=$2

plugin=$(bash "$root/scripts/build_sdk_example.sh" "$build_dir" "$work")
[[ -f "$plugin" ]] || { echo "FAIL: $plugin was not built"; exit 1; }
if grep -q "$build_dir/sdk" "$work/build/CMakeCache.txt"; then
  echo "FAIL: the example was configured against the build tree, not the installed SDK"
  exit 1
fi

listing=$(PEFT_PLUGIN_PATH="$(dirname "$plugin")" "$work/prefix/bin/peft" --strict list)
echo "$listing"
if ! grep -Eq "^method +example +0\.1\.0 +1 +loaded +$plugin\$" <<<"$listing"; then
  echo "FAIL: the installed peft did not list the example plugin as loaded from $plugin"
  exit 1
fi
echo "PASS: example plugin built against the installed SDK and loaded from PEFT_PLUGIN_PATH"

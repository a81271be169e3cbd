#!/usr/bin/env bash
# The README's first command: sets up a fresh machine, builds and installs peft, builds the SDK's example plugin
# against the installed SDK, and runs `peft list`, which finds it through PEFT_PLUGIN_PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

BUILD_DIR=$build_dir bash "$root/scripts/build.sh"
plugin=$(bash "$root/scripts/build_sdk_example.sh" "$build_dir" "$build_dir/quickstart")
plugin_dir=$(dirname "$plugin")

echo
echo "\$ PEFT_PLUGIN_PATH=$plugin_dir $build_dir/quickstart/prefix/bin/peft list"
PEFT_PLUGIN_PATH="$plugin_dir" "$build_dir/quickstart/prefix/bin/peft" list

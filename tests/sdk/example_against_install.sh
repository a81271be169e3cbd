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
if ! grep -Eq "^method +example +0\.1\.0 +[0-9]+ +loaded +$plugin\$" <<<"$listing"; then
  echo "FAIL: the installed peft did not list the example plugin as loaded from $plugin"
  exit 1
fi

# And it trains: one epoch of the example method on a small mini-vtab task, through the installed peft.
"$work/prefix/bin/peft" data mini-vtab --out "$work/mini-vtab" --pretrain-images 10 --test-images 50 >/dev/null
cat >"$work/example.toml" <<EOF
schema_version = 1
threads = 1
[backbone]
plugin = "vit"
variant = "vit_pico_patch4_32"
[method]
plugin = "example"
targets = ["mlp.fc2"]
[data]
format = "vtab1k"
root = "$work/mini-vtab/novel"
train_split = "val200"
[train]
epochs = 1
batch_size = 50
EOF
rm -rf "$work/run"
PEFT_PLUGIN_PATH="$(dirname "$plugin")" "$work/prefix/bin/peft" --strict run "$work/example.toml" --out "$work/run"
grep -q '"without_head": 128' "$work/run/summary.json" || { echo "FAIL: expected 2 x 64 offsets trained"; exit 1; }
echo "PASS: example plugin built against the installed SDK, loaded from PEFT_PLUGIN_PATH, and trained"

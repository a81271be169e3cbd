#!/usr/bin/env bash
# The SDK as a third party sees it: builds sdk/examples/example_method against an installed peft (not the build
# tree), runs the installed contract suite on it (its own ctest: peft_add_contract_test), and checks that the
# installed `peft` loads it from a folder named in PEFT_PLUGIN_PATH and trains with it. A deliberately broken copy
# (merge folds twice the offset) must fail the suite, naming the check.
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

# The contract suite, as the author runs it: one ctest in the plugin's own build.
ctest --test-dir "$work/build" -V >"$work/contract.log" 2>&1 || {
  cat "$work/contract.log"; echo "FAIL: the example plugin did not pass the installed contract suite"; exit 1; }
grep -q "27 checks of 1 method on 3 backbones: 27 passed, 0 failed" "$work/contract.log" || {
  cat "$work/contract.log"; echo "FAIL: the contract suite did not run its 27 checks on the example"; exit 1; }

# A broken copy: merge adds the offset twice, so merged differs from unmerged. The suite must say so and fail.
cp -r "$root/sdk/examples/example_method" "$work/broken-src"
sed -i 's/bias_.add_(merge ? delta : -delta);/bias_.add_(merge ? 2 * delta : -2 * delta);/' \
  "$work/broken-src/example_method.cpp"
grep -q "2 \* delta" "$work/broken-src/example_method.cpp" || { echo "FAIL: could not break the example's merge"; exit 1; }
# And a second contract test with an option the example does not have: the options must reach `peft test-plugin`.
echo 'peft_add_contract_test(peft_example_method NAME with_option METHOD example OPTIONS scale=2)' \
  >>"$work/broken-src/CMakeLists.txt"
cmake -S "$work/broken-src" -B "$work/broken" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" \
  >"$work/broken-configure.log"
cmake --build "$work/broken" >"$work/broken-build.log"
if ctest --test-dir "$work/broken" -V >"$work/broken-contract.log" 2>&1; then
  cat "$work/broken-contract.log"; echo "FAIL: a plugin whose merge is wrong passed the contract suite"; exit 1
fi
grep -q "FAIL  example on the mlp: merged equals unmerged" "$work/broken-contract.log" || {
  cat "$work/broken-contract.log"; echo "FAIL: the suite failed the broken copy without naming its merge"; exit 1; }
grep -q "peft: error: \[test-plugin\] 3 of 24 contract checks failed" "$work/broken-contract.log" || {
  cat "$work/broken-contract.log"; echo "FAIL: the suite did not end with its one-line error"; exit 1; }
grep -q "peft: error: \[options\] --option: unknown key 'scale'" "$work/broken-contract.log" || {
  cat "$work/broken-contract.log"; echo "FAIL: peft_add_contract_test's OPTIONS did not reach peft test-plugin"; exit 1; }

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
echo "PASS: example plugin built against the installed SDK, passed the installed contract suite (a broken copy"
echo "      failed it), loaded from PEFT_PLUGIN_PATH, and trained"

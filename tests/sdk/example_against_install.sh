#!/usr/bin/env bash
# The SDK as a third party sees it: builds sdk/examples/example_method and example_scaling against an installed peft
# (not the build tree), runs the installed contract suite on each (their own ctest: peft_add_contract_test), and
# checks that the installed `peft` loads them from a folder named in PEFT_PLUGIN_PATH and trains with them (the
# scaling example with [method.options] set). A deliberately broken copy of each (example_method's merge folds twice
# the offset, example_scaling's forgets l_in) must fail the suite, naming the check; an option the method lacks, or a
# value it refuses, must reach `peft test-plugin` as its one-line error naming the key.
# Usage: example_against_install.sh BUILD_DIR WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$1
work=$2

mapfile -t plugins < <(bash "$root/scripts/build_sdk_example.sh" "$build_dir" "$work" example_method example_scaling)
plugin=${plugins[0]:-}
scaling=${plugins[1]:-}
[[ -f "$plugin" && -f "$scaling" ]] || { echo "FAIL: the examples were not built (${plugins[*]})"; exit 1; }
for cache in "$work/build/CMakeCache.txt" "$work/build-example_scaling/CMakeCache.txt"; do
  if grep -q "$build_dir/sdk" "$cache"; then
    echo "FAIL: $(dirname "$cache") was configured against the build tree, not the installed SDK"
    exit 1
  fi
done

# Fails the test, showing `log`, unless `log` holds the fixed string `line`.
expect() {
  local log=$1 line=$2 why=$3
  grep -qF -- "$line" "$log" || { cat "$log"; echo "FAIL: $why"; exit 1; }
}

# The contract suite, as the author runs it: one ctest in the plugin's own build.
ctest --test-dir "$work/build" -V >"$work/contract.log" 2>&1 || {
  cat "$work/contract.log"; echo "FAIL: the example plugin did not pass the installed contract suite"; exit 1; }
expect "$work/contract.log" "30 checks of 1 method on 3 backbones: 30 passed, 0 failed" \
  "the contract suite did not run its 30 checks on the example"
# The scaling example has two: its defaults, and input scales starting at 2 (so no "starts equal to the backbone").
ctest --test-dir "$work/build-example_scaling" -V >"$work/scaling-contract.log" 2>&1 || {
  cat "$work/scaling-contract.log"; echo "FAIL: the scaling example did not pass the installed contract suite"; exit 1; }
expect "$work/scaling-contract.log" "30 checks of 1 method on 3 backbones: 30 passed, 0 failed" \
  "the contract suite did not run its 30 checks on the scaling example"
expect "$work/scaling-contract.log" "27 checks of 1 method on 3 backbones: 27 passed, 0 failed" \
  "the contract suite did not run its 27 checks on the scaling example with init = 2"

# A broken copy: merge adds the offset twice, so merged differs from unmerged. The suite must say so and fail.
cp -r "$root/sdk/examples/example_method" "$work/broken-src"
sed -i 's/bias_.add_(merge ? delta : -delta);/bias_.add_(merge ? 2 * delta : -2 * delta);/' \
  "$work/broken-src/example_method.cpp"
grep -q "2 \* delta" "$work/broken-src/example_method.cpp" || { echo "FAIL: could not break the example's merge"; exit 1; }
# And a second contract test with an option the example does not have: the options must reach `peft test-plugin`.
echo 'peft_add_contract_test(peft_example_method NAME with_option METHOD example OPTIONS scale=2)' \
  >>"$work/broken-src/CMakeLists.txt"
# The scaling example's broken copy: merge forgets l_in. Its extra tests give values the option table refuses.
cp -r "$root/sdk/examples/example_scaling" "$work/broken-scaling-src"
sed -i '/if (l_in.defined()) weight_.mul_(l_in);/d' "$work/broken-scaling-src/example_scaling.cpp"
if grep -q "weight_.mul_(l_in)" "$work/broken-scaling-src/example_scaling.cpp"; then
  echo "FAIL: could not break the scaling example's merge"; exit 1
fi
{
  echo 'peft_add_contract_test(peft_example_scaling NAME bad_init METHOD example_scale OPTIONS init=-1)'
  echo 'peft_add_contract_test(peft_example_scaling NAME no_scale METHOD example_scale'
  echo '                       OPTIONS scale_input=false scale_output=false)'
} >>"$work/broken-scaling-src/CMakeLists.txt"
for name in broken broken-scaling; do
  cmake -S "$work/$name-src" -B "$work/$name" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$work/prefix" \
    >"$work/$name-configure.log"
  cmake --build "$work/$name" >"$work/$name-build.log"
  if ctest --test-dir "$work/$name" -V >"$work/$name-contract.log" 2>&1; then
    cat "$work/$name-contract.log"; echo "FAIL: a plugin whose merge is wrong passed the contract suite"; exit 1
  fi
done
expect "$work/broken-contract.log" "FAIL  example on the mlp: merged equals unmerged" \
  "the suite failed the broken copy without naming its merge"
expect "$work/broken-contract.log" "peft: error: [test-plugin] 3 of 27 contract checks failed" \
  "the suite did not end with its one-line error"
expect "$work/broken-contract.log" "peft: error: [options] --option: unknown key 'scale'" \
  "peft_add_contract_test's OPTIONS did not reach peft test-plugin"
expect "$work/broken-scaling-contract.log" "FAIL  example_scale on the mlp: merged equals unmerged" \
  "the suite failed the broken scaling copy without naming its merge"
expect "$work/broken-scaling-contract.log" "peft: error: [test-plugin] 3 of 27 contract checks failed" \
  "the suite did not end the broken scaling copy with its one-line error"
expect "$work/broken-scaling-contract.log" "peft: error: [options] --option: init = -1, expected a number in [0.1, 10)" \
  "an init out of range did not reach peft test-plugin as one line naming the key"
expect "$work/broken-scaling-contract.log" \
  "peft: error: [example_scale] --option: scale_input = false and scale_output = false, expected at least one true" \
  "the option table's rule against scaling nothing did not reach peft test-plugin as one line naming the keys"

plugin_path="$(dirname "$plugin"):$(dirname "$scaling")"
listing=$(PEFT_PLUGIN_PATH="$plugin_path" "$work/prefix/bin/peft" --strict list)
echo "$listing"
for entry in "example $plugin" "example_scale $scaling"; do
  read -r name file <<<"$entry"
  if ! grep -Eq "^method +$name +0\.1\.0 +[0-9]+ +loaded +$file\$" <<<"$listing"; then
    echo "FAIL: the installed peft did not list the $name plugin as loaded from $file"
    exit 1
  fi
done

# And they train: one epoch of each example method on a small mini-vtab task, through the installed peft.
"$work/prefix/bin/peft" data mini-vtab --out "$work/mini-vtab" --pretrain-images 10 --test-images 50 >/dev/null
# A recipe training method $1 on mlp.fc2 (256 -> 64) of vit_pico's two blocks, with $2 as its [method.options].
recipe() {
  printf '%s\n' 'schema_version = 1' 'threads = 1' '[backbone]' 'plugin = "vit"' 'variant = "vit_pico_patch4_32"' \
    '[method]' "plugin = \"$1\"" 'targets = ["mlp.fc2"]' '[method.options]' "$2" '[data]' 'format = "vtab1k"' \
    "root = \"$work/mini-vtab/novel\"" 'train_split = "val200"' '[train]' 'epochs = 1' 'batch_size = 50'
}
recipe example "" >"$work/example.toml"
recipe example_scale "scale_output = false" >"$work/scaling.toml"
for name in example scaling; do
  rm -rf "$work/run-$name"
  PEFT_PLUGIN_PATH="$plugin_path" "$work/prefix/bin/peft" --strict run "$work/$name.toml" --out "$work/run-$name"
done
expect "$work/run-example/summary.json" '"without_head": 128' "expected 2 x 64 offsets trained"
# Input scales only: 2 x 256 of l_in and no l_out, in the trained count and in the method's adapter_config.json.
expect "$work/run-scaling/summary.json" '"without_head": 512' "expected 2 x 256 input scales trained, no output gain"
expect "$work/run-scaling/adapter_config.json" '"method": "example_scale"' "the host did not name the method"
expect "$work/run-scaling/adapter_config.json" '"scale_output": false' "the host did not write the resolved options"
expect "$work/run-scaling/adapter_config.json" '"l_in": 256' "the method's own keys are missing"
if grep -q '"l_out"' "$work/run-scaling/adapter_config.json"; then
  cat "$work/run-scaling/adapter_config.json"; echo "FAIL: scale_output = false still wrote l_out"; exit 1
fi
echo "PASS: both example plugins built against the installed SDK, passed the installed contract suite (broken copies"
echo "      failed it, refused options reached it as one line), loaded from PEFT_PLUGIN_PATH, and trained"

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz) and runs each for SECONDS (default 600) on a
# working corpus seeded from tests/fuzz/corpus/<target> (plus the reference fixtures for safetensors and the
# shipped recipes for recipe and method). Prints a table of executions per target; exits 1 if any target found a
# crash, a leak, a timeout (10 s an input) or an out-of-memory (2 GiB), with the input in build-fuzz/findings/.
#
# FUZZ_SEED fixes libFuzzer's seed (CI: 1, so a smoke run tries the same inputs in the same order every time, as
# far as its time reaches); unset, each run draws one.
#
#   tests/fuzz/run.sh [SECONDS]         TARGETS="idx image" FUZZ_SEED=1 tests/fuzz/run.sh 30
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${1:-600}
targets=${TARGETS:-safetensors recipe method vtab_split fgvc_split idx image tokenizer}
build=${BUILD_DIR:-$root/build-fuzz}

need=()
for package in clang libclang-rt-14-dev; do
  [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" == "install ok installed" ]] || need+=("$package")
done
if ((${#need[@]} > 0)); then
  sudo=""; if ((EUID != 0)); then sudo="sudo"; fi
  echo "fuzz: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
bash scripts/configure.sh "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPEFT_FUZZ=ON \
  -DPEFT_BUILD_TESTS=OFF -DPEFT_WARNINGS_AS_ERRORS=OFF -DPEFT_USE_PCH=OFF
cmake --build "$build" --target fuzz_targets >/dev/null

mkdir -p "$build/findings"
failed=0
echo "| target | seconds | executions | executions/s | corpus | result |"
echo "|---|---|---|---|---|---|"
for target in $targets; do
  work="$build/corpus/$target"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$target"/* "$work"/
  [[ $target == safetensors ]] && cp -n tests/fixtures/reference/*.safetensors "$work"/
  if [[ $target == recipe || $target == method ]]; then
    find configs bench/mini_vtab -name '*.toml' -exec cp -n {} "$work"/ \; 2>/dev/null || true
  fi
  log="$build/$target.log"
  status=0
  ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/${target}_fuzz" "$work" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -seed="${FUZZ_SEED:-0}" -print_final_stats=1 -artifact_prefix="$build/findings/$target-" \
    >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  files=$(find "$work" -type f | wc -l)
  result="clean"
  if ((status != 0)); then
    reason=$(grep -m 1 -E 'ERROR|runtime error|==[0-9]+==' "$log" | sed -E 's|^/[^: ]*/||' | cut -c1-100 || true)
    result="**finding** (exit $status; ${reason:-see the log}; log $log)"
    failed=1
  fi
  echo "| $target | $seconds | ${runs:-?} | ${rate:-?} | $files | $result |"
done
exit $failed

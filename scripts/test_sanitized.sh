#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds peft, its plugins and tests with
# -DPEFT_SANITIZE=ON into build-asan (BUILD_DIR to change it), then runs ctest; any sanitizer report fails the run.
# LibTorch and OpenBLAS are not instrumented; tests/sanitizers/lsan.supp lists the leaks that are theirs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build-asan}

BUILD_DIR=$build_dir bash "$root/scripts/build.sh" -DPEFT_SANITIZE=ON
# allocator_may_return_null: an impossible allocation fails as it does without ASan (LibTorch throws, peft reports it)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build_dir" --output-on-failure "$@"

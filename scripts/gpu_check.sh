#!/usr/bin/env bash
# The GPU checks, on a CUDA machine, from a built tree (scripts/build.sh), in at most 8 minutes: one summary line a
# check, exit 1 if any failed.
#   1. peft version: LibTorch 2.x with CUDA, NCCL's process group compiled in, the GPUs it sees
#   2. the CUDA-tagged tests (peft_tests "[cuda]~[nccl]": GPU runs against the CPU's, pinned batches, bf16 autocast)
#   3. a ViT-B/16 LoRA (attn.qkv) training step, peft (bench/method_step) against timm + HF peft on the same GPU
#   4. a LLaMA LoRA (q/v) training step and greedy generation, peft (bench/llama_bench) against transformers + HF
#      peft on the same GPU (bench/reference/llama_reference.py), the same first loss and tokens
#   5. --nproc over all the GPUs with NCCL against one process (peft_tests "[nccl]"; one GPU: says so)
# With --build-only (what CI runs, on a machine without a GPU) only what needs no GPU: 1 without devices, the
# tagged tests listed, the benchmark programs and scripts present and taking --device (exit 77, skipped, for a
# LibTorch without CUDA).
#
#   scripts/gpu_check.sh [--build-only] [BUILD_DIR]      (default: build; PYTHON: the venv's, .venv/bin/python)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_only=0
if [[ ${1:-} == --build-only ]]; then build_only=1; shift; fi
build=${1:-${BUILD_DIR:-$root/build}}
python=${PYTHON:-${PEFT_VENV:-$root/.venv}/bin/python}
peft=$build/bin/peft
tests=$build/bin/peft_tests
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/peft-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

say() { echo "gpu_check: $1: $2"; }
fail() { say "$1" "FAIL: $2"; failed=1; }
# A key of the JSON object on standard input (a whole document, or the last line of a program's output).
field() {
  "$python" -c '
import json, sys
text = sys.stdin.read().strip()
try:
    value = json.loads(text)
except ValueError:
    value = json.loads(text.splitlines()[-1])
print(value[sys.argv[1]])' "$1"
}
ms() { "$python" -c 'import sys; print(f"{float(sys.argv[1]) * 1000:.1f}")' "$1"; }
ratio() { "$python" -c 'import sys; print(f"{float(sys.argv[1]) / float(sys.argv[2]):.2f}")' "$1" "$2"; }

for file in "$peft" "$tests" "$build/bin/method_step" "$build/bin/llama_bench" "$python"; do
  [[ -x $file ]] || { fail setup "$file is missing (scripts/build.sh builds peft, scripts/install_python.sh the venv)"; exit 1; }
done

# 1. What this peft was built with.
version=$(env -u LD_LIBRARY_PATH "$peft" version --json) || { fail version "peft version failed"; exit 1; }
torch_version=$(field torch <<<"$version")
cuda_built=$(field cuda_built_in <<<"$version")
groups=$(field process_groups <<<"$version")
devices=$(field cuda_devices <<<"$version")
if [[ -z $torch_version ]]; then fail version "peft version --json gave no LibTorch version"; exit 1; fi
if ((build_only)) && [[ $cuda_built != True ]]; then
  say version "skipped: LibTorch $torch_version has no CUDA built in (a CPU-only LibTorch: nothing to check)"
  exit 77
fi
if [[ $torch_version != 2.* || $cuda_built != True || $groups != *nccl* ]]; then
  fail version "LibTorch $torch_version, CUDA built in: $cuda_built, process groups: $groups (expected 2.x, True, nccl)"
else
  say version "ok: LibTorch $torch_version, CUDA built in, process groups $groups, $devices CUDA devices"
fi

# The tagged tests exist; the benchmark programs take --device.
listed=$("$tests" "[cuda]" --list-test-names-only 2>/dev/null | grep -c '[a-z]')
if ((listed < 4)); then fail build "only $listed tests tagged [cuda]"; else say build "ok: $listed tests tagged [cuda]"; fi
grep -q -- '--device' "$root/bench/method_step.cpp" "$root/bench/llama_bench.cpp" || fail build "a bench program lacks --device"
for script in vit_step.py llama_reference.py; do
  "$python" -m py_compile "$root/bench/reference/$script" || fail build "bench/reference/$script does not compile"
  grep -q -- '--device' "$root/bench/reference/$script" || fail build "bench/reference/$script lacks --device"
done
if ((build_only)); then
  ((failed)) && exit 1
  say build-only "ok (GPU checks not run: --build-only)"
  exit 0
fi
if ((devices < 1)); then fail devices "LibTorch sees no CUDA device"; exit 1; fi

# 2. The CUDA-tagged tests.
if OMP_NUM_THREADS=1 PEFT_PLUGIN_PATH= "$tests" "[cuda]~[nccl]" >"$work/tests.log" 2>&1; then
  say cuda-tests "ok: $(grep -E 'All tests passed|test cases' "$work/tests.log" | tail -1)"
else
  tail -30 "$work/tests.log"
  fail cuda-tests "$(grep -E 'test cases' "$work/tests.log" | tail -1)"
fi

# 3. ViT-B/16 LoRA step, batch 32, on the same GPU: peft's against timm + HF peft's.
vit_peft=$("$build/bin/method_step" --variant vit_base_patch16_224 --batch 32 --steps 5 --rounds 3 --methods lora \
  --targets attn.qkv --device cuda 2>"$work/vit.err" | awk '$1 == "lora" { print $3 }')
vit_python=$("$python" "$root/bench/reference/vit_step.py" --batch 32 --steps 5 --rounds 3 --device cuda 2>>"$work/vit.err" |
  field step_s)
if [[ -n $vit_peft && -n $vit_python ]]; then
  say vit-b-step "ok: peft $(ms "$vit_peft") ms, timm + HF peft $(ms "$vit_python") ms a step: $(ratio "$vit_python" "$vit_peft")x"
else
  tail -5 "$work/vit.err"; fail vit-b-step "no timing"
fi

# 4. LLaMA LoRA step and generation (TinyLlama-1.1B's proportions at 8 layers), on the same GPU.
"$build/bin/llama_bench" make --out "$work/llama" --hidden 2048 --layers 8 --heads 32 --kv-heads 4 \
  --intermediate 5632 --vocab 32000 --shards 2 --dtype bf16 >/dev/null
for mode in train generate; do
  flags="--batch 4 --seq 512 --steps 5"
  [[ $mode == generate ]] && flags="--prompt 32 --new 64 --repeats 3"
  # shellcheck disable=SC2086
  ours=$("$build/bin/llama_bench" $mode --model "$work/llama" --device cuda $flags 2>>"$work/llama.err")
  # shellcheck disable=SC2086
  theirs=$("$python" "$root/bench/reference/llama_reference.py" $mode --model "$work/llama" --device cuda $flags 2>>"$work/llama.err")
  if [[ -z $ours || -z $theirs ]]; then tail -5 "$work/llama.err"; fail "llama-$mode" "no result"; continue; fi
  if [[ $mode == train ]]; then
    a=$(field step_s <<<"$ours") b=$(field step_s <<<"$theirs")
    same=$("$python" -c 'import sys; a, b = map(float, sys.argv[1:]); print(abs(a - b) <= 1e-3 * abs(b))' \
      "$(field first_loss <<<"$ours")" "$(field first_loss <<<"$theirs")")
    line="peft $(ms "$a") ms, transformers + HF peft $(ms "$b") ms a step: $(ratio "$b" "$a")x; same first loss: $same"
  else
    a=$(field tokens_per_s <<<"$ours") b=$(field tokens_per_s <<<"$theirs")
    same=$([[ $(field tokens <<<"$ours") == "$(field tokens <<<"$theirs")" ]] && echo True || echo False)
    line="peft $(printf '%.0f' "$a") tokens/s, transformers $(printf '%.0f' "$b"): $(ratio "$a" "$b")x; same tokens: $same"
  fi
  if [[ $same == True ]]; then say "llama-$mode" "ok: $line"; else fail "llama-$mode" "$line"; fi
done

# 5. Data parallelism over every GPU with NCCL.
if ((devices < 2)); then
  say nccl "skipped: $devices GPU (NCCL needs a GPU per process)"
elif OMP_NUM_THREADS=1 PEFT_PLUGIN_PATH= "$tests" "[nccl]" >"$work/nccl.log" 2>&1; then
  say nccl "ok: --nproc $devices with NCCL trains as one process does"
else
  tail -30 "$work/nccl.log"; fail nccl "$(grep -E 'test cases' "$work/nccl.log" | tail -1)"
fi
exit $failed

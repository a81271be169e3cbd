#!/usr/bin/env bash
# Bench 3: C++ (peft) against Python PyTorch on the same model, method and batch: the ViT with LoRA r 8 on every
# attn.proj, frozen backbone, AdamW; training step (forward, loss, backward, update) and evaluation forward.
# C++ is `build/bin/method_step --methods lora`, Python is bench/reference/vit_lora_step.py on Debian's python3-torch
# (the same LibTorch 1.13 and OpenBLAS underneath); both with the same thread count, run alternately ROUNDS times;
# the table gives medians over rounds and Python / C++ ratios (> 1: peft is faster). Prints the table last.
#
#   bench/cpp_vs_python.sh [ROUNDS]      (default 3; needs build/bin/method_step and python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=$(nproc)
python=/usr/bin/python3
$python -c 'import torch' 2>/dev/null || { echo "cpp_vs_python.sh: python3-torch missing (bench/install_deps.sh)" >&2; exit 1; }

# variant | batch | steps per round
shapes=('vit_mini_patch4_32|64|10' 'vit_base_patch16_224|8|2')
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "| model | batch | threads | C++ step s | Python step s | Python / C++ (step) | C++ eval s | Python eval s | Python / C++ (eval) |"
echo "|---|---|---|---|---|---|---|---|---|"
for shape in "${shapes[@]}"; do
  IFS='|' read -r variant batch steps <<<"$shape"
  cpp_step=() cpp_eval=() py_step=() py_eval=()
  for ((round = 0; round < rounds; ++round)); do
    row=$(build/bin/method_step --variant "$variant" --batch "$batch" --steps "$steps" --rounds 1 --methods lora \
      --targets attn.proj | awk '$1 == "lora" {print $3, $6}')
    cpp_step+=("${row% *}") cpp_eval+=("${row#* }")
    line=$($python bench/reference/vit_lora_step.py --variant "$variant" --batch "$batch" --steps "$steps" \
      --threads "$threads")
    py_step+=("$(sed -E 's/.*step_s=([0-9.]+).*/\1/' <<<"$line")")
    py_eval+=("$(sed -E 's/.*eval_s=([0-9.]+).*/\1/' <<<"$line")")
  done
  cs=$(printf '%s\n' "${cpp_step[@]}" | median) ps=$(printf '%s\n' "${py_step[@]}" | median)
  ce=$(printf '%s\n' "${cpp_eval[@]}" | median) pe=$(printf '%s\n' "${py_eval[@]}" | median)
  awk -v v="$variant" -v b="$batch" -v t="$threads" -v cs="$cs" -v ps="$ps" -v ce="$ce" -v pe="$pe" 'BEGIN {
    printf "| %s | %d | %d | %.3f | %.3f | **%.3f×** | %.3f | %.3f | **%.3f×** |\n", v, b, t, cs, ps, ps / cs, ce, pe, pe / ce }'
done
echo
echo "Medians over $rounds alternating rounds (C++ then Python, each a fresh process: warm-up, then the steps)."

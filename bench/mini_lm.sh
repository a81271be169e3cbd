#!/usr/bin/env bash
# Bench 8: the mini-lm table. The shipped tiny LLaMA (models/llama-mini-fortunes) zero-shot and fine-tuned by each
# method below on the three mini-lm tasks, each task's recipe in configs/mini-lm/ with only the method, its targets
# and its learning-rate grid changed. Each method × task is one `peft sweep` (the recipe's [sweep] table): every
# learning rate of the grid trains on train and is scored on val with seed 0; the best is trained on train with
# seeds 0, 1, 2 and scored once on test (perplexity for lm-science, top-1 for topic, exact match for arith). Two
# sweeps at a time with one torch thread each; finished runs are kept, so an interrupted table resumes. Prints the
# markdown table and writes it to OUT/table.md.
#
#   bench/mini_lm.sh [OUT]          (default runs/bench-mini-lm; needs build/bin/peft, or PEFT=path)
#   JOBS=2 TASKS="lm-science topic arith" METHODS="gift-linear lora" bench/mini_lm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-runs/bench-mini-lm}
jobs=${JOBS:-2}
tasks=${TASKS:-lm-science topic arith}
only=${METHODS:-}
peft=${PEFT:-build/bin/peft}
bench=mini_lm.sh
source bench/lib/run_parallel.sh

# name | plugin | targets (TOML) | options (TOML inline table) | learning rates (TOML list)
methods=(
  'full|full|["**"]|{}|[1e-5, 3e-5, 1e-4, 3e-4, 1e-3]'
  'lora|lora|["q_proj", "v_proj"]|{r = 8}|[3e-4, 1e-3, 3e-3, 1e-2, 3e-2]'
  'dora|dora|["q_proj", "v_proj"]|{r = 8}|[3e-4, 1e-3, 3e-3, 1e-2, 3e-2]'
  'ia3|ia3|["k_proj", "v_proj", "down_proj"]|{}|[1e-3, 3e-3, 1e-2, 3e-2, 1e-1]'
  'gift-linear|gift|["q_proj", "v_proj"]|{schema = "linear", dim = 16}|[3e-4, 1e-3, 3e-3, 1e-2, 3e-2]'
  'gift-paca|gift|["o_proj"]|{schema = "paca", dim = 32, clusters = 16}|[3e-4, 1e-3, 3e-3, 1e-2, 3e-2]'
)

[[ -x $peft ]] || { echo "$bench: $peft missing (run scripts/build.sh)" >&2; exit 1; }
[[ -f data/mini-lm/arith/test.jsonl ]] || $peft data mini-lm --out data/mini-lm
if [[ -n $only ]]; then
  chosen=()
  for method in "${methods[@]}"; do [[ " $only " == *" ${method%%|*} "* ]] && chosen+=("$method"); done
  ((${#chosen[@]} > 0)) || { echo "$bench: METHODS='$only' names none of: ${methods[*]%%|*}" >&2; exit 1; }
  methods=("${chosen[@]}")
fi

# One line per sweep that has not finished (no results.csv): its folder, then its `peft sweep` arguments.
commands=$(mktemp)
trap 'rm -f "$commands"' EXIT
for task in $tasks; do
  for method in "${methods[@]}"; do
    IFS='|' read -r name plugin targets options lrs <<<"$method"
    folder="$out/$name/$task"
    [[ -f $folder/results.csv ]] && continue
    args=(sweep "configs/mini-lm/$task.toml" --out "$folder" --set "name=\"$name\"" --set threads=1
      --set "method.plugin=\"$plugin\"" --set "method.targets=$targets" --set "method.options=$options"
      --set "sweep.grid={\"train.lr\" = $lrs}" --set data.workers=1)
    printf '%s' "$folder"; printf '\t%s' "${args[@]}"; printf '\n'
  done
done >"$commands"

pending=$(wc -l <"$commands")
echo "$bench: $pending sweeps to run ($jobs at a time) into $out" >&2
start=$SECONDS
run_parallel "$jobs" "$commands"
echo "$bench: ran $pending sweeps in $((SECONDS - start))s" >&2

# The zero-shot base of each task: the model before any adapter (any final run's backbone; seeds do not change it).
for task in $tasks; do
  base="$out/$task-base.json"
  [[ -f $base ]] && continue
  run=$(ls -d "$out"/*/"$task"/final_seed0 | head -n 1)
  "$peft" eval "$run" --base --json >"$base.tmp" && mv "$base.tmp" "$base"
done
/usr/bin/python3 bench/mini_lm_table.py "$out" --methods "$(printf '%s\n' "${methods[@]}")" | tee "$out/table.md"

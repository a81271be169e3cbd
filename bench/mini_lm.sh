#!/usr/bin/env bash
# Bench 8: the mini-lm table. The shipped tiny LLaMA (models/llama-mini-fortunes) zero-shot and fine-tuned by each
# method below on the three mini-lm tasks × 3 seeds, each task's recipe in configs/mini-lm/ with only the method, its
# targets and its learning rate changed; trained on train, scored once on test (perplexity for lm-science, top-1
# for topic, exact match for arith). Two runs at a time with one torch thread each; finished runs are kept, so an
# interrupted table resumes. Prints the markdown table and writes it to OUT/table.md.
#
#   bench/mini_lm.sh [OUT]          (default runs/bench-mini-lm; needs build/bin/peft)
#   JOBS=2 SEEDS="0 1 2" TASKS="lm-science topic arith" METHODS="gift-linear lora" bench/mini_lm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-runs/bench-mini-lm}
jobs=${JOBS:-2}
seeds=${SEEDS:-0 1 2}
tasks=${TASKS:-lm-science topic arith}
only=${METHODS:-}
peft=build/bin/peft

# name | plugin | targets (TOML) | options (TOML inline table) | lr
methods=(
  'full|full|["**"]|{}|1e-3'
  'lora|lora|["q_proj", "v_proj"]|{r = 8}|3e-3'
  'gift-linear|gift|["q_proj", "v_proj"]|{schema = "linear", dim = 16}|1e-2'
  'gift-paca|gift|["o_proj"]|{schema = "paca", dim = 32, clusters = 16}|1e-2'
)

[[ -x $peft ]] || { echo "mini_lm.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
[[ -f data/mini-lm/arith/test.jsonl ]] || $peft data mini-lm --out data/mini-lm
if [[ -n $only ]]; then
  chosen=()
  for method in "${methods[@]}"; do [[ " $only " == *" ${method%%|*} "* ]] && chosen+=("$method"); done
  ((${#chosen[@]} > 0)) || { echo "mini_lm.sh: METHODS='$only' names none of: ${methods[*]%%|*}" >&2; exit 1; }
  methods=("${chosen[@]}")
fi

commands=$(mktemp)
trap 'rm -f "$commands"' EXIT
for task in $tasks; do
  for method in "${methods[@]}"; do
    IFS='|' read -r name plugin targets options lr <<<"$method"
    for seed in $seeds; do
      folder="$out/$name/$task/seed$seed"
      [[ -f $folder/summary.json ]] && continue
      args=(run "configs/mini-lm/$task.toml" --overwrite --out "$folder" --set "name=\"$name\"" --set threads=1
        --set "method.plugin=\"$plugin\"" --set "method.targets=$targets" --set "method.options=$options"
        --set "train.lr=$lr" --set "seed=$seed" --set data.workers=1)
      printf '%s' "$folder"; printf '\t%s' "${args[@]}"; printf '\n'
    done
  done
done >"$commands"

pending=$(wc -l <"$commands")
echo "mini_lm.sh: $pending runs to train ($jobs at a time) into $out" >&2
start=$SECONDS
run_one() {
  local folder=$1; shift
  mkdir -p "$folder"
  if ! "$peft" "$@" >"$folder.log" 2>&1; then
    echo "mini_lm.sh: failed: $folder (log $folder.log): $(tail -n 1 "$folder.log")" >&2
    return 1
  fi
  # The zero-shot base: the same model before its adapters (one per task; the seed does not change it).
  local base=${folder%/seed*}/base.json
  [[ -f $base ]] || "$peft" eval "$folder" --base --json >"$base"
}
export -f run_one
export peft
xargs -d '\n' -P "$jobs" -I{} bash -c 'IFS=$'"'"'\t'"'"' read -r -a a <<<"$1"; run_one "${a[@]}"' _ {} <"$commands"
elapsed=$((SECONDS - start))
echo "mini_lm.sh: trained $pending runs in ${elapsed}s" >&2
/usr/bin/python3 bench/mini_lm_table.py "$out" --methods "$(printf '%s\n' "${methods[@]}")" | tee "$out/table.md"

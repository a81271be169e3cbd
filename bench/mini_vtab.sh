#!/usr/bin/env bash
# Bench 1: the mini-vtab accuracy table. Every method × the five mini-vtab tasks × 3 seeds, trained on
# train800val200 with bench/mini_vtab/base.toml's fixed short schedule and each method's learning rate below,
# evaluated once on test. Runs two at a time with one torch thread each (two cores); finished runs are kept, so an
# interrupted table resumes. Prints the markdown table last and writes it to OUT/table.md, with `peft report`'s
# accuracy-against-parameters plot in OUT/report/.
#
#   bench/mini_vtab.sh [OUT]        (default runs/bench-mini-vtab; needs build/bin/peft, or PEFT=path, and data/mini-vtab)
#   JOBS=2 SEEDS="0 1 2" EPOCHS=6 TASKS="novel rotation location count inverted" bench/mini_vtab.sh
#   METHODS="gift-paca lora-attn.proj" bench/mini_vtab.sh      (only these rows of the table below)
#   TRAIN_ONLY=1 bench/mini_vtab.sh                               (train what is missing; no report, no table)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-runs/bench-mini-vtab}
jobs=${JOBS:-2}
seeds=${SEEDS:-0 1 2}
epochs=${EPOCHS:-6}
tasks=${TASKS:-novel rotation location count inverted}
only=${METHODS:-}
peft=${PEFT:-build/bin/peft}
bench=mini_vtab.sh
source bench/lib/run_parallel.sh

# name | plugin | targets (TOML, "" = the method's default) | options (TOML inline table) | lr
methods=(
  'gift-paca|gift|["attn.proj"]|{schema = "paca", dim = 32, clusters = 16}|1e-2'
  'gift-linear|gift|["attn.proj"]|{schema = "linear", dim = 16}|1e-2'
  'lora-attn.proj|lora|["attn.proj"]|{r = 8}|5e-3'
  'lora-attn.qkv|lora|["attn.qkv"]|{r = 8}|5e-3'
  'dora-attn.qkv|dora|["attn.qkv"]|{r = 8}|5e-3'
  'ia3|ia3|["attn.qkv", "mlp.fc2"]|{}|1e-2'
  'toast|toast||{mode = "full"}|1e-2'
  'vpt-deep|vpt||{tokens = 5, deep = true}|1e-2'
  'bitfit|bitfit||{}|1e-2'
  'linear-probe|linear_probe||{}|1e-1'
  'full|full||{}|1e-3'
)

[[ -x $peft ]] || { echo "mini_vtab.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
[[ -f data/mini-vtab/novel/test.txt ]] || $peft data mini-vtab --out data/mini-vtab

# One line per run: its folder, then its `peft run` arguments, tab-separated.
commands=$(mktemp)
trap 'rm -f "$commands"' EXIT
if [[ -n $only ]]; then
  chosen=()
  for method in "${methods[@]}"; do
    [[ " $only " == *" ${method%%|*} "* ]] && chosen+=("$method")
  done
  ((${#chosen[@]} > 0)) || { echo "mini_vtab.sh: METHODS='$only' names none of: ${methods[*]%%|*}" >&2; exit 1; }
  methods=("${chosen[@]}")
fi

for task in $tasks; do
  for method in "${methods[@]}"; do
    IFS='|' read -r name plugin targets options lr <<<"$method"
    for seed in $seeds; do
      folder="$out/$name/$task/seed$seed"
      [[ -f $folder/summary.json ]] && continue
      args=(run bench/mini_vtab/base.toml --overwrite --out "$folder"
        --set "name=\"$name\"" --set "method.plugin=\"$plugin\"" --set "method.options=$options"
        --set "train.lr=$lr" --set "train.epochs=$epochs" --set "train.eval_every=$epochs" --set "seed=$seed"
        --set "data.root=\"$PWD/data/mini-vtab/$task\"")
      [[ -n $targets ]] && args+=(--set "method.targets=$targets")
      printf '%s' "$folder"; printf '\t%s' "${args[@]}"; printf '\n'
    done
  done
done >"$commands"

pending=$(wc -l <"$commands")
echo "mini_vtab.sh: $pending runs to train ($jobs at a time) into $out" >&2
start=$SECONDS
run_parallel "$jobs" "$commands"
elapsed=$((SECONDS - start))
echo "mini_vtab.sh: trained $pending runs in ${elapsed}s" >&2

[[ -n ${TRAIN_ONLY:-} ]] && exit 0
$peft report "$out" >/dev/null
/usr/bin/python3 bench/mini_vtab_table.py "$out" --epochs "$epochs" --seconds "$elapsed" --runs "$pending" \
  --methods "$(printf '%s\n' "${methods[@]}")" | tee "$out/table.md"

#!/usr/bin/env bash
# Bench 6: are GIFT's cluster maps different maps? For the quickstart run and for the seed-0 gift-paca run of each
# mini-vtab task (bench 1's, bench/mini_vtab.sh, which trains those missing), `peft explain --per-class 2`, then
# the median over images and pairs of maps of one layer of |correlation over space| (bench/map_correlation.py), for
# the W + dW maps and the W-alone maps. Copies one sheet per run (its first test image, the first and the last
# layer) to PLOTS/cluster_maps_<run>.png.
#
#   bench/cluster_maps.sh [MINI_VTAB_RUNS] [PLOTS]   (defaults runs/bench-mini-vtab, bench/results)
#   TASKS="novel rotation" bench/cluster_maps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-runs/bench-mini-vtab}
plots=${2:-bench/results}
tasks=${TASKS:-novel rotation location count inverted}
peft=build/bin/peft
out=$runs/cluster-maps
[[ -x $peft ]] || { echo "cluster_maps.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out" "$plots"

# The quickstart as scripts/quickstart.sh runs it.
quickstart=$out/quickstart
quick=()
[[ -n ${BENCH_QUICK:-} ]] && quick=(--set train.epochs=1 --set train.warmup_epochs=0 --set train.eval_every=1)
if [[ ! -f $quickstart/summary.json ]]; then
  $peft run configs/quickstart.toml --out "$quickstart" --overwrite "${quick[@]}" >"$quickstart.log" 2>&1
fi
# bench 1's gift-paca seed-0 runs; bench/mini_vtab.sh trains those missing (all of them kept after run_all.sh).
TRAIN_ONLY=1 METHODS=gift-paca SEEDS=0 TASKS="$tasks" bench/mini_vtab.sh "$runs"
pairs=("quickstart=$quickstart")
for task in $tasks; do
  folder=$runs/gift-paca/$task/seed0
  pairs+=("$task=$folder")
done

arguments=()
for pair in "${pairs[@]}"; do
  name=${pair%%=*} folder=${pair#*=}
  $peft explain "$folder" --per-class 2 -o "$out/$name" --overwrite >/dev/null
  # The sheet to show: the first test image, the first and the last layer (the whole sheet is 12 rows).
  $peft explain "$folder" --per-class 1 --layers blocks.0.attn.proj blocks.5.attn.proj -o "$out/$name-sheet" \
    --overwrite >/dev/null
  sheet=$(find "$out/$name-sheet" -name '000_*.png' | head -n 1)
  cp "$sheet" "$plots/cluster_maps_$name.png"
  arguments+=("$name=$out/$name/maps.safetensors")
done
/usr/bin/python3 bench/map_correlation.py "${arguments[@]}"

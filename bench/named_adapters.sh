#!/usr/bin/env bash
# Bench 9: named adapters. Evaluating several runs of one backbone in one `peft eval RUN RUN...` (the backbone and
# data loaded once, each run's adapter put on, evaluated and taken off) against what a user does otherwise: one
# `peft eval RUN` process per run, each loading the backbone again. For each shape: a model folder (a random-weight
# 200 M-parameter LLaMA as Hugging Face saves it, BF16 in two shards, with the shipped tokenizer; and the shipped
# 2 M-parameter models/llama-mini-fortunes, float32 in one file), four runs trained on it for one epoch (LoRA r 8,
# DoRA r 8, GIFT linear on q_proj/v_proj, IA3 on k_proj/v_proj/down_proj; 8 lm-science sequences, so what is timed
# is loading and switching, not training quality), then ROUNDS rounds alternating which side goes first. Medians
# over rounds; "same": every run's test loss equal in both ways of evaluating it.
#
#   bench/named_adapters.sh [ROUNDS]   (default 3; env SHAPES="llama-200m llama-mini-fortunes", THREADS=2,
#                                       PEFT=build/bin/peft; needs build/bin/llama_bench for llama-200m)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shapes=${SHAPES:-llama-200m llama-mini-fortunes}
threads=${THREADS:-2}
peft=${PEFT:-build/bin/peft}
llama_bench=$(dirname "$peft")/llama_bench
name=named_adapters.sh
[[ -x $peft ]] || { echo "$name: $peft missing (run scripts/build.sh)" >&2; exit 1; }
[[ -f data/mini-lm/lm-science/test.jsonl ]] || $peft data mini-lm --out data/mini-lm >/dev/null
source bench/lib/set_args.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run name | --set arguments on top of the recipe's LoRA
runs=(
  'lora|'
  'dora|method.plugin="dora"'
  'gift-linear|method.plugin="gift" method.options={schema="linear",dim=16}'
  'ia3|method.plugin="ia3" method.targets=["k_proj","v_proj","down_proj"]'
)

mkdir -p "$out/data"
head -n 8 data/mini-lm/lm-science/train.jsonl >"$out/data/train.jsonl"
head -n 8 data/mini-lm/lm-science/test.jsonl >"$out/data/test.jsonl"

# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

results=$out/results.jsonl
for shape in $shapes; do
  case $shape in
    llama-200m)
      [[ -x $llama_bench ]] || { echo "$name: $llama_bench missing (run scripts/build.sh)" >&2; exit 1; }
      folder=$out/$shape
      "$llama_bench" make --out "$folder" --shards 2 --dtype bf16 --hidden 1024 --layers 12 --heads 16 \
        --kv-heads 4 --intermediate 2816 --vocab 32000 >/dev/null
      cp models/llama-mini-fortunes/tokenizer.model models/llama-mini-fortunes/tokenizer_config.json "$folder/" ;;
    llama-mini-fortunes) folder=$PWD/models/llama-mini-fortunes ;;
    *) echo "$name: unknown shape $shape (llama-200m, llama-mini-fortunes)" >&2; exit 1 ;;
  esac
  recipe=$out/$shape.toml
  cat >"$recipe" <<TOML
schema_version = 1
name = "named-adapters-$shape"
seed = 0
task = "causal_lm"
threads = $threads
[backbone]
plugin = "llama"
checkpoint = "$folder"
[method]
plugin = "lora"
targets = ["q_proj", "v_proj"]
[data]
format = "jsonl"
root = "$out/data"
train_split = "train"
eval_split = "test"
max_length = 32
[train]
epochs = 1
batch_size = 8
optimizer = "adamw"
lr = 1e-3
TOML
  dirs=()
  for entry in "${runs[@]}"; do
    IFS='|' read -r run sets <<<"$entry"
    set_args "$sets"
    log=$out/$shape-$run.log
    "$peft" run "$recipe" --out "$out/$shape-$run" ${args[@]+"${args[@]}"} >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    dirs+=("$out/$shape-$run")
  done
  for ((round = 0; round < rounds; ++round)); do
    sides=(one separate)
    ((round % 2 == 1)) && sides=(separate one)
    for side in "${sides[@]}"; do
      start=$(now)
      if [[ $side == one ]]; then
        line=$("$peft" eval "${dirs[@]}" --json | tr -d '\n')
      else
        line=[
        for dir in "${dirs[@]}"; do line+="$("$peft" eval "$dir" --json | tr -d '\n'),"; done
        line="${line%,}]"
      fi
      wall=$(awk -v start="$start" -v end="$(now)" 'BEGIN { printf "%.3f", end - start }')
      echo "{\"shape\": \"$shape\", \"side\": \"$side\", \"wall\": $wall, \"result\": $line}" >>"$results"
    done
  done
  du_mib=$(du -sm "$folder" | cut -f1)
  echo "{\"shape\": \"$shape\", \"folder_mib\": $du_mib}" >>"$results"
done

/usr/bin/python3 - "$results" "$threads" "${#runs[@]}" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
threads, count = sys.argv[2], int(sys.argv[3])
print(f"named adapters: {count} runs evaluated in one `peft eval RUN...` against {count} `peft eval RUN` processes, "
      f"{threads} threads, medians over rounds")
print(f"{'shape':<20} {'folder MiB':>10} {'load s':>7} {'switch s':>13} {'one s':>7} {'separate s':>11} {'ratio':>6}  same")
for shape in dict.fromkeys(r["shape"] for r in rows):
    mine = [r for r in rows if r["shape"] == shape and "side" in r]
    one = [r for r in mine if r["side"] == "one"]
    separate = [r for r in mine if r["side"] == "separate"]
    load = statistics.median(r["result"]["load_seconds"] for r in one)
    switches = [run["switch_seconds"] for r in one for run in r["result"]["runs"]]
    one_wall = statistics.median(r["wall"] for r in one)
    separate_wall = statistics.median(r["wall"] for r in separate)
    losses = {(run["run"], i): run["loss"] for i, r in enumerate(one) for run in r["result"]["runs"]}
    alone = {(run["run"], i): run["loss"] for i, r in enumerate(separate) for run in r["result"]}
    same = losses.keys() == alone.keys() and all(abs(losses[k] - alone[k]) <= 1e-6 * abs(alone[k]) for k in alone)
    mib = next(r["folder_mib"] for r in rows if r["shape"] == shape and "folder_mib" in r)
    print(f"{shape:<20} {mib:>10} {load:>7.3f} {min(switches):>6.3f}-{max(switches):<6.3f} {one_wall:>7.2f} "
          f"{separate_wall:>11.2f} {separate_wall / one_wall:>5.2f}x  {'yes' if same else 'NO'}")
print("load: the backbone and data, once; switch: attach the method, load the adapter, and afterwards take it off "
      "(min-max over runs and rounds); one / separate: wall seconds of the whole job; ratio: separate / one")
PY

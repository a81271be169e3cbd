#!/usr/bin/env bash
# Bench 3: the whole fine-tuning job, peft against Python PyTorch. The same job both ways: the shipped ViT-Mini
# checkpoint, mini-vtab TASK (train800val200 -> test), bench/mini_vtab/base.toml's protocol (EPOCHS epochs, batch 64,
# AdamW, warm-up + cosine per step, one loader worker, one evaluation at the end), each method at bench 1's learning
# rate. peft is `peft run`; Python is bench/reference/vit_finetune.py on the project's venv (timm's own
# VisionTransformer, a torch DataLoader over the same PNGs, Hugging Face peft's LoRA, GIFT as the official code
# computes it). Both run as fresh processes, alternately, ROUNDS times per method and thread count; wall seconds are
# the process's (Python's include importing torch, timm and peft), measured here the same way for both; train
# seconds are each side's own count of its epochs. The table gives medians, the range over rounds, the ratio
# Python / peft (> 1: peft is faster) and the largest epoch-to-epoch spread within a run ((slowest - fastest) /
# median epoch, epochs 2 on: the first holds start-up on both sides). Prints the Python side's versions, then the
# table, last.
#
#   bench/end_to_end.sh [ROUNDS]   (default 3; env METHODS="lora-proj lora-qkv gift full linear-probe",
#                                   THREADS="1 2", EPOCHS=6, TASK=novel, PYTHON=.venv/bin/python; needs build/bin/peft
#                                   and the project's venv with torch, timm, peft, PIL: scripts/install_python.sh)
set -euo pipefail -o noglob
cd "$(dirname "$0")/.."
rounds=${1:-3}
methods=${METHODS:-lora-proj lora-qkv gift full linear-probe}
thread_counts=${THREADS:-1 2}
epochs=${EPOCHS:-6}
task=${TASK:-novel}
peft=build/bin/peft
python=${PYTHON:-${PEFT_VENV:-$PWD/.venv}/bin/python}
checkpoint=models/vit_mini_patch4_32.fashion5.safetensors
data=$PWD/data/mini-vtab/$task
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[[ -x $peft ]] || { echo "end_to_end.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
# The Python side's versions, for the header (and a check that the venv has them).
versions=$("$python" -c 'import torch, timm, peft, transformers, PIL
print(f"torch {torch.__version__}, timm {timm.__version__}, peft {peft.__version__}, transformers {transformers.__version__}")' 2>/dev/null) ||
  { echo "end_to_end.sh: $python with torch, timm, peft and PIL missing (run scripts/install_python.sh)" >&2; exit 1; }
[[ -f $data/test.txt ]] || $peft data mini-vtab --out data/mini-vtab

# The peft recipe changes for a method (bench/mini_vtab.sh's rows), and its learning rate.
peft_args() {
  case $1 in
    lora-proj) echo "--set method.plugin=\"lora\" --set method.options={r=8} --set method.targets=[\"attn.proj\"]" ;;
    lora-qkv) echo "--set method.plugin=\"lora\" --set method.options={r=8} --set method.targets=[\"attn.qkv\"]" ;;
    gift) echo "--set method.plugin=\"gift\" --set method.options={schema=\"paca\",dim=32,clusters=16} --set method.targets=[\"attn.proj\"]" ;;
    full) echo "--set method.plugin=\"full\"" ;;
    linear-probe) echo "--set method.plugin=\"linear_probe\"" ;;
    *) echo "end_to_end.sh: unknown method $1" >&2; exit 1 ;;
  esac
}
learning_rate() {
  case $1 in lora-*) echo 5e-3 ;; gift) echo 1e-2 ;; full) echo 1e-3 ;; linear-probe) echo 1e-1 ;; esac
}
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
range() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {printf "%.1f-%.1f", lo, hi}'; }
# (slowest - fastest) / median over epochs 2 on, as a percentage, of comma-separated epoch seconds.
spread() {
  tr ',' '\n' | tail -n +2 | sort -g | awk '{v[NR]=$1} END {printf "%.0f", 100 * (v[NR] - v[1]) / v[int((NR+1)/2)]}'
}

rows=()
for threads in $thread_counts; do
  for method in $methods; do
    lr=$(learning_rate "$method")
    peft_wall=() peft_train=() py_wall=() py_train=() peft_spread=() py_spread=() peft_top1="" py_top1=""
    for ((round = 0; round < rounds; ++round)); do
      run=$out/$method-$threads-$round
      # shellcheck disable=SC2046  # peft_args is split into its words on purpose
      start=$(now)
      $peft run bench/mini_vtab/base.toml --out "$run" --set "threads=$threads" --set "train.lr=$lr" \
        --set "train.epochs=$epochs" --set "train.eval_every=$epochs" --set "data.root=\"$data\"" \
        --set output.checkpoint=false $(peft_args "$method") >"$run.log" 2>&1 ||
        { echo "end_to_end.sh: peft failed, see:" >&2; tail -n 3 "$run.log" >&2; exit 1; }
      peft_wall+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')")
      peft_train+=("$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["timing"]["train_seconds"])' "$run/summary.json")")
      peft_spread+=("$("$python" -c 'import json, sys
print(",".join(str(r["seconds"]) for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "epoch"))' \
        "$run/metrics.jsonl" | spread)")
      peft_top1=$("$python" -c 'import json, sys; print(round(100 * json.load(open(sys.argv[1]))["final"]["top1"], 1))' "$run/summary.json")

      start=$(now)
      line=$("$python" bench/reference/vit_finetune.py --method "$method" --checkpoint "$checkpoint" --data "$data" \
        --threads "$threads" --workers 1 --epochs "$epochs" --lr "$lr")
      py_wall+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')")
      py_train+=("$(sed -E 's/.*train_s=([0-9.]+).*/\1/' <<<"$line")")
      py_spread+=("$(sed -E 's/.*epoch_s=([0-9.,]+).*/\1/' <<<"$line" | spread)")
      py_top1=$(sed -E 's/.*top1=([0-9.]+).*/\1/' <<<"$line" | awk '{printf "%.1f", 100 * $1}')
      echo "end_to_end.sh: $method, $threads threads, round $((round + 1)): peft ${peft_wall[-1]} s, Python ${py_wall[-1]} s" >&2
    done
    pw=$(printf '%s\n' "${peft_wall[@]}" | median) yw=$(printf '%s\n' "${py_wall[@]}" | median)
    pt=$(printf '%s\n' "${peft_train[@]}" | median) yt=$(printf '%s\n' "${py_train[@]}" | median)
    rows+=("$(awk -v m="$method" -v t="$threads" -v pw="$pw" -v yw="$yw" -v pt="$pt" -v yt="$yt" \
      -v pr="$(printf '%s\n' "${peft_wall[@]}" | range)" -v yr="$(printf '%s\n' "${py_wall[@]}" | range)" \
      -v ps="$(printf '%s\n' "${peft_spread[@]}" | sort -g | tail -n 1)" \
      -v ys="$(printf '%s\n' "${py_spread[@]}" | sort -g | tail -n 1)" -v pa="$peft_top1" -v ya="$py_top1" 'BEGIN {
      printf "| %s | %d | %.1f (%s) | %.1f (%s) | **%.2f×** | %.1f | %.1f | **%.2f×** | %s %% | %s %% | %s / %s |",
        m, t, pw, pr, yw, yr, yw / pw, pt, yt, yt / pt, ps, ys, pa, ya }')")
  done
done
echo "end_to_end: peft vs Python ($versions)"
echo
echo "| method | threads | peft wall s (range) | Python wall s (range) | Python / peft (wall) | peft train s | Python train s | Python / peft (train) | peft epoch spread | Python epoch spread | top-1 % peft / Python (last round) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Medians over $rounds alternating rounds (peft, then Python, each a fresh process), $epochs epochs on mini-vtab $task."

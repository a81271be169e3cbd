#!/usr/bin/env bash
# Bench 11: gradient accumulation. The same job trained with its batch in K = 1, 4 and 16 micro-batches
# ([train] gradient_accumulation_steps), one process of 2 threads, the order of K rotating each round, ROUNDS rounds;
# medians. Jobs: LoRA on the shipped ViT-Mini (mini-vtab novel, bench 1's recipe) and on the shipped tiny LLaMA
# (mini-lm lm-science, max_length 128), batch 64, one epoch. Reports the process's peak memory (summary.json's
# peak_memory_mb, resident set: model, data and LibTorch included), training throughput and the final metric, which
# must agree across K up to float summation order (every K takes the same optimizer steps).
#
#   bench/accumulation.sh [ROUNDS]   (default 3; env PEFT=build/bin/peft)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
peft=${PEFT:-build/bin/peft}
[[ -x $peft ]] || { echo "accumulation.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
source bench/lib/set_args.sh
source bench/lib/lora_jobs.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

steps=(1 4 16)

results=$out/results.jsonl
for ((round = 0; round < rounds; ++round)); do
  for job in "${lora_jobs[@]}"; do
    IFS='|' read -r name recipe sets <<<"$job"
    set_args "$sets"
    for ((i = 0; i < ${#steps[@]}; ++i)); do
      k=${steps[(i + round) % ${#steps[@]}]}
      folder=$out/run
      rm -rf "$folder"
      "$peft" run "$recipe" --out "$folder" "${args[@]}" --set train.epochs=1 --set train.eval_every=1 \
        --set train.batch_size=64 --set train.gradient_accumulation_steps="$k" --set threads=2 --set data.workers=1 \
        >/dev/null 2>&1
      echo "{\"job\": \"$name\", \"k\": $k, \"summary\": $(tr -d '\n' <"$folder/summary.json")}" >>"$results"
    done
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("gradient accumulation: batch 64 in K micro-batches, 1 process x 2 threads, one epoch, medians")
print(f"{'job':<20} {'K':>3} {'peak MiB':>9} {'vs K=1':>7} {'train /s':>9} {'vs K=1':>7}  final metric")
for job in dict.fromkeys(r["job"] for r in rows):
    def of(k):
        return [r["summary"] for r in rows if r["job"] == job and r["k"] == k]
    ks = sorted({r["k"] for r in rows if r["job"] == job})
    first = of(ks[0])[0]
    unit = next(key for key in first["timing"] if key.startswith("train_") and key.endswith("_per_s"))
    metric = first["primary_metric"]
    base_memory = statistics.median(s["peak_memory_mb"] for s in of(ks[0]))
    base_rate = statistics.median(s["timing"][unit] for s in of(ks[0]))
    for k in ks:
        memory = statistics.median(s["peak_memory_mb"] for s in of(k))
        rate = statistics.median(s["timing"][unit] for s in of(k))
        print(f"{job:<20} {k:>3} {memory:>9.0f} {memory / base_memory:>6.2f}x {rate:>9.1f} {rate / base_rate:>6.2f}x  "
              f"{metric} {of(k)[0]['final'][metric]:.6g}")
print("(peak: the process's resident set; throughput: examples a second over the training steps)")
PY

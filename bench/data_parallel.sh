#!/usr/bin/env bash
# Bench 10: data parallelism's cost. The same job trained by one process with 2 threads and by `peft run --nproc 2`
# (two processes of one thread each, Gloo on loopback, the same global batch), alternating which goes first, ROUNDS
# rounds; medians. Jobs: LoRA on the shipped ViT-Mini (mini-vtab novel, bench 1's recipe, 2 epochs) and LoRA on the
# shipped tiny LLaMA (mini-lm lm-science, its recipe, 2 epochs). Reports training throughput (examples a second,
# all ranks together), the ratio (> 1: two processes are faster) and the share of rank 0's training time spent in
# the gradient all-reduce (summary.json's all_reduce_seconds / train_seconds; it includes waiting for the other
# rank). On a 2-core machine no speed-up is to be expected: the number to watch is that share.
#
#   bench/data_parallel.sh [ROUNDS]   (default 3; env PEFT=build/bin/peft)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
peft=${PEFT:-build/bin/peft}
[[ -x $peft ]] || { echo "data_parallel.sh: $peft missing (run scripts/build.sh)" >&2; exit 1; }
source bench/lib/set_args.sh
source bench/lib/lora_jobs.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

results=$out/results.jsonl
for ((round = 0; round < rounds; ++round)); do
  for job in "${lora_jobs[@]}"; do
    IFS='|' read -r name recipe sets <<<"$job"
    set_args "$sets train.epochs=2 train.eval_every=2"
    sides=(one two)
    ((round % 2 == 1)) && sides=(two one)
    for side in "${sides[@]}"; do
      folder=$out/run
      rm -rf "$folder"
      if [[ $side == one ]]; then
        "$peft" run "$recipe" --out "$folder" "${args[@]}" --set threads=2 --set data.workers=1 >/dev/null 2>&1
      else
        "$peft" run "$recipe" --out "$folder" "${args[@]}" --set threads=2 --set data.workers=1 --nproc 2 \
          >/dev/null 2>&1
      fi
      echo "{\"job\": \"$name\", \"side\": \"$side\", \"summary\": $(tr -d '\n' <"$folder/summary.json")}" >>"$results"
    done
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("data parallel: 1 process x 2 threads against peft run --nproc 2 (2 x 1 thread), same global batch, medians")
print(f"{'job':<20} {'1x2 /s':>8} {'2x1 /s':>8} {'2x1 / 1x2':>10} {'all-reduce share':>17}  final metric (1x2 / 2x1)")
for job in dict.fromkeys(r["job"] for r in rows):
    def of(side):
        return [r["summary"] for r in rows if r["job"] == job and r["side"] == side]
    one, two = of("one"), of("two")
    unit = next(k for k in one[0]["timing"] if k.startswith("train_") and k.endswith("_per_s"))
    rate_one = statistics.median(s["timing"][unit] for s in one)
    rate_two = statistics.median(s["timing"][unit] for s in two)
    share = statistics.median(s["timing"]["all_reduce_seconds"] / s["timing"]["train_seconds"] for s in two)
    metric = one[0]["primary_metric"]
    a, b = one[0]["final"][metric], two[0]["final"][metric]
    print(f"{job:<20} {rate_one:>8.1f} {rate_two:>8.1f} {rate_two / rate_one:>9.2f}x {100 * share:>16.1f}%  "
          f"{metric} {a:.4g} / {b:.4g}")
print("(examples a second over the training steps, all ranks together; the share is rank 0's time in the gradient "
      "all-reduce, waiting for the other rank included, over its training time)")
PY

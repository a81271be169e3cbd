#!/usr/bin/env bash
# Bench 7: the llama backbone against the same model in Python PyTorch. For each shape, one random-weight model
# folder as Hugging Face saves it (BF16, two shards; llama-mini-fortunes: the shipped model folder itself), read by
# both sides; then ROUNDS rounds, each running, as fresh
# processes and alternately, Python's and peft's training step (LoRA r 8 on q_proj/v_proj, AdamW, next-token loss)
# and greedy generation with a key/value cache (bench/llama_bench.cpp; bench/reference/llama_reference.py says
# what Python runs: transformers' LlamaForCausalLM, Hugging Face peft's LoRA, model.generate). Same threads, same
# batch, same prompt. The table gives medians over rounds and the ratios
# (> 1: peft is faster); "same" says both sides computed the same thing (first-step loss within 1e-4 relative,
# identical generated tokens). Last, peft's peak memory loading the larger folder in float32.
#
#   bench/llama.sh [ROUNDS]   (default 3; env SHAPES="tinyllama-2core llama-mini-fortunes llama-tiny", THREADS=2,
#                              PYTHON=.venv/bin/python; needs build/bin/llama_bench and the project's venv with
#                              torch, transformers and peft: scripts/install_python.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shapes=${SHAPES:-tinyllama-2core llama-mini-fortunes llama-tiny}
threads=${THREADS:-2}
bench=build/bin/llama_bench
python=${PYTHON:-${PEFT_VENV:-$PWD/.venv}/bin/python}
reference=bench/reference/llama_reference.py
[[ -x $bench ]] || { echo "llama.sh: $bench missing (run scripts/build.sh)" >&2; exit 1; }
# The Python side's versions, for the header (and a check that the venv has them).
versions=$("$python" -c 'import torch, transformers, peft
print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")' 2>/dev/null) ||
  { echo "llama.sh: $python with torch, transformers and peft missing (run scripts/install_python.sh)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# shape → make flags | train flags | generate flags
shape_flags() {
  case $1 in
    # TinyLlama-1.1B's proportions (GQA 4:1, SwiGLU 2.75x, 32k vocabulary) scaled to two cores.
    tinyllama-2core) echo "--hidden 512 --layers 8 --heads 8 --kv-heads 2 --intermediate 1408 --vocab 32000|--batch 2 --seq 256 --steps 3|--prompt 32 --new 64" ;;
    # The shipped tiny LLaMA itself (models/llama-mini-fortunes: float32, tied head, one file), at mini-lm's lengths.
    llama-mini-fortunes) echo "|--batch 16 --seq 128 --steps 10|--prompt 16 --new 100 --repeats 5" ;;
    # The reference fixture's shape (tests/fixtures/reference/llama_tiny): per-operation overhead dominates.
    llama-tiny) echo "--hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 160 --vocab 97|--batch 8 --seq 64 --steps 40|--prompt 16 --new 200 --repeats 5" ;;
    *) echo "llama.sh: unknown shape $1" >&2; exit 1 ;;
  esac
}

# The model folder a shape runs on: made into the temporary folder, or the shipped one.
folder_of() {
  if [[ $1 == llama-mini-fortunes ]]; then echo models/llama-mini-fortunes; else echo "$out/$1"; fi
}

results=$out/results.jsonl
for shape in $shapes; do
  IFS='|' read -r make_flags train_flags generate_flags <<<"$(shape_flags "$shape")"
  folder=$(folder_of "$shape")
  # shellcheck disable=SC2086  # the flag strings are split into words on purpose
  [[ $shape == llama-mini-fortunes ]] || $bench make --out "$folder" --shards 2 --dtype bf16 $make_flags
  for ((round = 0; round < rounds; ++round)); do
    for mode in train generate; do
      flags=$train_flags
      [[ $mode == generate ]] && flags=$generate_flags
      # Alternate which side goes first, so drift in the machine's speed hits both alike.
      sides=(python peft)
      ((round % 2 == 1)) && sides=(peft python)
      for side in "${sides[@]}"; do
        # shellcheck disable=SC2086
        if [[ $side == python ]]; then
          line=$("$python" $reference $mode --model "$folder" --threads "$threads" $flags)
        else
          line=$($bench $mode --model "$folder" --threads "$threads" $flags)
        fi
        echo "{\"shape\": \"$shape\", \"round\": $round, \"result\": $line}" >>"$results"
      done
    done
  done
done
largest=${shapes%% *}
load_line=$($bench load --model "$(folder_of "$largest")")

"$python" - "$results" "$load_line" "$largest" "$threads" "$versions" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
load, largest, threads, versions = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
print(f"llama: peft vs Python ({versions}) {rows[0]['result'].get('threads', threads)} threads, medians over rounds")
print(f"{'shape':<16} {'py step ms':>11} {'peft step ms':>13} {'train x':>8} {'py tok/s':>9} {'peft tok/s':>11} {'gen x':>6}  same")
for shape in dict.fromkeys(r["shape"] for r in rows):
    def values(side, mode, key):
        return [r["result"][key] for r in rows if r["shape"] == shape and r["result"]["side"] == side and r["result"]["mode"] == mode]
    py_step, peft_step = statistics.median(values("python", "train", "step_s")), statistics.median(values("peft", "train", "step_s"))
    py_tps, peft_tps = statistics.median(values("python", "generate", "tokens_per_s")), statistics.median(values("peft", "generate", "tokens_per_s"))
    losses = values("python", "train", "first_loss") + values("peft", "train", "first_loss")
    same_loss = (max(losses) - min(losses)) / abs(losses[0]) < 1e-4
    tokens = values("python", "generate", "tokens") + values("peft", "generate", "tokens")
    same_tokens = all(t == tokens[0] for t in tokens)
    same = "yes" if same_loss and same_tokens else f"NO (loss {'ok' if same_loss else 'differs'}, tokens {'ok' if same_tokens else 'differ'})"
    print(f"{shape:<16} {1e3 * py_step:>11.1f} {1e3 * peft_step:>13.1f} {py_step / peft_step:>7.2f}x {py_tps:>9.1f} {peft_tps:>11.1f} {peft_tps / py_tps:>5.2f}x  {same}")
print(f"peft loading {largest} into float32: peak RSS {load['peak_before_mib']:.0f} MiB before, "
      f"{load['peak_after_mib']:.0f} MiB after; the model in float32 is {load['model_f32_mib']:.0f} MiB "
      f"(increase {load['peak_after_mib'] - load['peak_before_mib']:.0f} MiB = "
      f"{(load['peak_after_mib'] - load['peak_before_mib']) / load['model_f32_mib']:.2f}x the model)")
PY

#!/usr/bin/env bash
# Reproduces the shipped tiny LLaMA, models/llama-mini-fortunes/ (models/README.md), in about 20 minutes on two
# cores: builds mini-lm from Debian's fortunes, retrains its SentencePiece tokenizer with Debian's spm_train on the
# pretraining corpus (checking it is the shipped one), pretrains configs/pretrain/llama_mini_fortunes.toml from config.json alone (full training),
# merges the run into a Hugging Face model folder and prints its perplexity on the pretraining val split.
#
#   scripts/pretrain_llama_mini.sh [OUT]     (default models/llama-mini-fortunes; its files of the same names are replaced)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
out=${1:-models/llama-mini-fortunes}

bash "$root/scripts/configure.sh" "$build_dir"
cmake --build "$build_dir" -j "$(nproc)" --target peft_runtime
peft="$build_dir/bin/peft"
cd "$root"

[[ -f data/mini-lm/pretrain/corpus.txt ]] || "$peft" data mini-lm --out data/mini-lm

# The model before training is configs/pretrain/llama_mini/: the architecture (config.json) and a tokenizer made as
# LLaMA's is (BPE, byte fallback, digits split, <unk> <s> </s> = 0 1 2, no pad). The tokenizer is retrained here on
# one thread, which gives the same file every time; a different one (another sentencepiece) is reported, not used.
tokenizer=$(mktemp -d)
trap 'rm -rf "$tokenizer"' EXIT
cp data/mini-lm/pretrain/corpus.txt "$tokenizer"/
# From inside the folder: the model file keeps the input and prefix as given, so relative names keep it the same.
(cd "$tokenizer" && spm_train --input=corpus.txt --model_prefix=tokenizer --vocab_size=2048 --model_type=bpe \
  --byte_fallback=true --split_digits=true --character_coverage=1.0 --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  --num_threads=1 --max_sentence_length=16384 >spm_train.log 2>&1)
if cmp -s "$tokenizer/tokenizer.model" configs/pretrain/llama_mini/tokenizer.model; then
  echo "spm_train: the same tokenizer.model as configs/pretrain/llama_mini/"
else
  echo "spm_train: this sentencepiece trains another tokenizer.model; the shipped one is used" >&2
fi

"$peft" run configs/pretrain/llama_mini_fortunes.toml --overwrite
"$peft" merge runs/pretrain-llama-mini -o "$out" --overwrite
echo "pretraining val split:"
"$peft" eval runs/pretrain-llama-mini

#!/usr/bin/env bash
# What peft writes, read by the project venv's transformers and Hugging Face peft (tests/interop/peft_to_hf.py): on
# the shipped tiny LLaMA, short LoRA, DoRA, IA3 and GIFT runs; each run folder or `peft export` folder loaded with
# PeftModel.from_pretrained, its merge_and_unload() and each `peft merge` folder loaded with from_pretrained give
# peft eval's loss and peft generate's greedy tokens.
# Usage: check_peft_to_hf.sh PYTHON PEFT. Exit 77 (ctest: skipped) when PYTHON is not there.
set -euo pipefail
python=$1 peft=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../support/oracle.sh"
require_oracle "$python"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/peft-to-hf.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$python" "$here/peft_to_hf.py" "$peft" "$scratch"

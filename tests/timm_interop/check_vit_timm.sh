#!/usr/bin/env bash
# peft's vit backbone against timm itself (check_vit_timm.py beside this script): timm models (a timm state dict
# file and the hub folder timm's save_for_hf writes) score in `peft eval` exactly as in timm, and LoRA and GIFT runs
# that peft trains and merges load into timm's model with strict=True and score there as `peft eval RUN` does.
# Usage: check_vit_timm.sh PYTHON PEFT. Exit 77 (ctest: skipped) when PYTHON is not there.
set -euo pipefail
python=$1 peft=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../support/oracle.sh"
require_oracle "$python"
[[ -x "$peft" ]] || { echo "FAIL: no peft executable at $peft"; exit 1; }
fashion=/usr/share/datasets/fashion-mnist  # peft data mini-vtab's default source (Debian's dataset-fashion-mnist)
if [[ ! -d "$fashion" ]]; then
  echo "skipped: no Fashion-MNIST at $fashion for peft data mini-vtab (bash scripts/install_deps.sh installs it)"
  exit 77
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/peft-timm.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} HF_HUB_OFFLINE=1 PEFT_PLUGIN_PATH=${PEFT_PLUGIN_PATH-}
"$python" "$here/check_vit_timm.py" "$peft" "$scratch"

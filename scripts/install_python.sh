#!/usr/bin/env bash
# Makes the project's Python environment (.venv, or PEFT_VENV; ignored by git): the torch wheel whose LibTorch peft
# builds against, and the libraries users compare peft with that the interoperability tests use as their oracle
# (transformers saves the model folders, HF peft reads and writes the adapter folders, timm the ViT checkpoints).
# Pinned; idempotent: a venv that already has these versions is left alone. ~5 minutes and 5.7 GB the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${PEFT_VENV:-$root/.venv}
requirements=$root/scripts/python_requirements.txt

stamp=$venv/.peft-requirements
if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$stamp" "$requirements"; then
  exit 0
fi

python=$(command -v python3)
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian's python3 needs python3-venv for ensurepip.
  sudo=""
  if ((EUID != 0)); then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv
  python=/usr/bin/python3
fi

echo "install_python: making $venv (torch, transformers, peft, ...; a few minutes the first time)" >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$requirements"
cp "$requirements" "$stamp"

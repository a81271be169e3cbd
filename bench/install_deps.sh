#!/usr/bin/env bash
# What the benchmarks need beyond peft's own packages: Debian's PyTorch for the Python reference (bench 3).
set -euo pipefail
bash "$(dirname "$0")/../scripts/install_deps.sh"
[[ "$(dpkg-query -W -f='${Status}' python3-torch 2>/dev/null || true)" == "install ok installed" ]] && exit 0
sudo=""
if ((EUID != 0)); then sudo="sudo"; fi
echo "bench/install_deps: installing python3-torch" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch

#!/usr/bin/env bash
# What the benchmarks need beyond peft's own packages: Debian's PyTorch and PIL for the Python reference (bench 3).
set -euo pipefail
bash "$(dirname "$0")/../scripts/install_deps.sh"
installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]; }
installed python3-torch && installed python3-pil && exit 0
sudo=""
if ((EUID != 0)); then sudo="sudo"; fi
echo "bench/install_deps: installing python3-torch python3-pil" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-torch python3-pil

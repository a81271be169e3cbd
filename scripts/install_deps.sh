#!/usr/bin/env bash
# Installs every Debian package peft needs to build, test and run (LibTorch itself comes from PyPI's torch wheel:
# scripts/install_python.sh). Idempotent: packages already present are left alone, and `apt-get update` runs once,
# only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libgloo-dev python3-venv
  libboost-dev libboost-filesystem-dev
  libtomlplusplus-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libstb-dev
  catch2 zlib1g-dev libsentencepiece-dev libonig-dev libutf8proc-dev
  gnuplot-nox
  dataset-fashion-mnist fortunes sentencepiece
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if ((EUID != 0)); then sudo="sudo"; fi

echo "install_deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

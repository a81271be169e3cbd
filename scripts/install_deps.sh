#!/usr/bin/env bash
# Installs every Debian package peft needs to build, test and run. Idempotent: packages already present are
# left alone, and `apt-get update` runs once, only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libtorch-dev libopenblas0-openmp libgloo-dev
  libboost-dev libboost-filesystem-dev
  libtomlplusplus-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libstb-dev
  catch2 zlib1g-dev libsentencepiece-dev
  gnuplot-nox
  dataset-fashion-mnist fortunes sentencepiece
)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

# Two BLAS flavours side by side make LibTorch pick the pthread one, 2.5x slower here (docs/build.md).
conflicting=$(dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null || true)

if ((${#missing[@]} == 0)) && [[ "$conflicting" != "install ok installed" ]]; then
  exit 0
fi

sudo=""
if ((EUID != 0)); then sudo="sudo"; fi

if ((${#missing[@]} > 0)); then
  echo "install_deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ "$conflicting" == "install ok installed" ]]; then
  echo "install_deps: removing libopenblas0-pthread (it would shadow libopenblas0-openmp)" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq libopenblas0-pthread
fi

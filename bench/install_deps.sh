#!/usr/bin/env bash
# What the benchmarks need: peft's own packages and the project venv, whose torch, timm, transformers, HF peft and
# Pillow the Python references run on (scripts/install_python.sh).
set -euo pipefail
bash "$(dirname "$0")/../scripts/install_deps.sh"
bash "$(dirname "$0")/../scripts/install_python.sh"

#!/usr/bin/env bash
# The README's first command: sets up a fresh machine, builds peft, builds mini-vtab from Debian's Fashion-MNIST
# (first time only), then fine-tunes the shipped ViT-Mini on the mini-vtab `novel` task with GIFT
# (configs/quickstart.toml), draws GIFT's cluster maps over test images and how they developed over the epochs
# (peft explain), runs the same recipe as a linear probe for comparison, and prints both test accuracies.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

bash "$root/scripts/install_deps.sh"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target peft_runtime
peft="$build_dir/bin/peft"

cd "$root"
if [[ ! -f data/mini-vtab/novel/test.txt ]]; then
  echo "\$ peft data mini-vtab --out data/mini-vtab"
  "$peft" data mini-vtab --out data/mini-vtab
fi
echo
echo "\$ peft run configs/quickstart.toml"
"$peft" run configs/quickstart.toml --overwrite
echo
echo "\$ peft explain runs/quickstart --per-class 1"
"$peft" explain runs/quickstart --per-class 1
echo "\$ peft explain runs/quickstart --epochs 0,2,5,10,20 --layers blocks.5.attn.proj"
"$peft" explain runs/quickstart --epochs 0,2,5,10,20 --layers blocks.5.attn.proj
echo
# The baseline at its own best rate: a linear probe needs a far higher one (models/README.md).
echo "\$ peft run configs/quickstart.toml --set method.plugin=linear_probe --set 'method.options={}' --set train.lr=0.1"
"$peft" run configs/quickstart.toml --set method.plugin=linear_probe --set 'method.options={}' --set train.lr=0.1 \
  --out runs/quickstart-linear-probe --overwrite
echo
echo "On the test split of the unseen classes:"
printf '  GIFT          '; "$peft" eval runs/quickstart
printf '  linear probe  '; "$peft" eval runs/quickstart-linear-probe
echo "GIFT's cluster maps over one test image of each class: runs/quickstart/explain/*.png"
echo "How the last layer's clusters developed over training: runs/quickstart/explain/epochs/*.png"

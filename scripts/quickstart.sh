#!/usr/bin/env bash
# The README's first command: sets up a fresh machine, builds peft, builds mini-vtab from Debian's Fashion-MNIST
# (first time only), then fine-tunes the shipped ViT-Mini on the mini-vtab `novel` task with GIFT
# (configs/quickstart.toml), draws GIFT's cluster maps over test images and how they developed over the epochs
# (peft explain), runs the same recipe as a linear probe for comparison, and prints both test accuracies.
#
# scripts/quickstart.sh --text: the same path for text: builds mini-lm from Debian's fortunes, fine-tunes the shipped
# tiny LLaMA (models/llama-mini-fortunes) with GIFT on the mini-lm arith task (configs/mini-lm/arith.toml), generates
# with it, and prints the base model's test score beside the fine-tuned one.
#
# Options: --build DIR (the build folder; default build/, or BUILD_DIR), --out DIR (where data/ and runs/ go; default
# the repository). With PEFT=/path/to/peft (an installed peft) nothing is installed or built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
text=0
build_dir=${BUILD_DIR:-$root/build}
out=$root
while (($#)); do
  case $1 in
    --text) text=1 ;;
    --build) build_dir=${2:?--build needs a folder}; shift ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    *) echo "quickstart.sh: unknown argument '$1' (expected --text, --build DIR, --out DIR)" >&2; exit 1 ;;
  esac
  shift
done

if [[ -n ${PEFT:-} ]]; then
  [[ -x $PEFT ]] || { echo "quickstart.sh: PEFT=$PEFT is not an executable" >&2; exit 1; }
  peft=$PEFT
else
  bash "$root/scripts/configure.sh" "$build_dir"
  cmake --build "$build_dir" -j "$(nproc)" --target peft_runtime
  peft="$build_dir/bin/peft"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"
data=$out/data
runs=$out/runs
if ((text)); then
  if [[ ! -f $data/mini-lm/arith/test.jsonl ]]; then
    echo "\$ peft data mini-lm --out $data/mini-lm"
    "$peft" data mini-lm --out "$data/mini-lm"
  fi
  echo
  echo "\$ peft run configs/mini-lm/arith.toml"
  "$peft" run configs/mini-lm/arith.toml --set "data.root=\"$data/mini-lm/arith\"" \
    --out "$runs/mini-lm-arith-gift" --overwrite
  echo
  for prompt in "92+66=" "47+87="; do
    echo "\$ peft generate $runs/mini-lm-arith-gift --prompt '$prompt' --max-new-tokens 4"
    "$peft" generate "$runs/mini-lm-arith-gift" --prompt "$prompt" --max-new-tokens 4
  done
  echo
  echo "On the test split (300 additions the run never saw):"
  printf '  base model        '; "$peft" eval "$runs/mini-lm-arith-gift" --base
  printf '  GIFT fine-tuned   '; "$peft" eval "$runs/mini-lm-arith-gift"
  exit 0
fi
if [[ ! -f $data/mini-vtab/novel/test.txt ]]; then
  echo "\$ peft data mini-vtab --out $data/mini-vtab"
  "$peft" data mini-vtab --out "$data/mini-vtab"
fi
echo
echo "\$ peft run configs/quickstart.toml"
"$peft" run configs/quickstart.toml --set "data.root=\"$data/mini-vtab/novel\"" --out "$runs/quickstart" --overwrite
echo
echo "\$ peft explain $runs/quickstart --per-class 1"
"$peft" explain "$runs/quickstart" --per-class 1
echo "\$ peft explain $runs/quickstart --epochs 0,2,5,10,20 --layers blocks.5.attn.proj"
"$peft" explain "$runs/quickstart" --epochs 0,2,5,10,20 --layers blocks.5.attn.proj
echo
# The baseline at its own best rate: a linear probe needs a far higher one (models/README.md).
echo "\$ peft run configs/quickstart.toml --set method.plugin=linear_probe --set 'method.options={}' --set train.lr=0.1"
"$peft" run configs/quickstart.toml --set method.plugin=linear_probe --set 'method.options={}' --set train.lr=0.1 \
  --set "data.root=\"$data/mini-vtab/novel\"" --out "$runs/quickstart-linear-probe" --overwrite
echo
echo "On the test split of the unseen classes:"
printf '  GIFT          '; "$peft" eval "$runs/quickstart"
printf '  linear probe  '; "$peft" eval "$runs/quickstart-linear-probe"
echo "GIFT's cluster maps over one test image of each class: $runs/quickstart/explain/*.png"
echo "How the last layer's clusters developed over training: $runs/quickstart/explain/epochs/*.png"

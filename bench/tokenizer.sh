#!/usr/bin/env bash
# Encode throughput, load time and peak memory of peft's tokenizer.json reader against the Rust `tokenizers`
# (the venv's Python bindings, one thread), on the same texts: Debian's fortunes (English prose, one paragraph a
# line) and a seeded multilingual mix (tests/fixtures/tokenizers/check_against_tokenizers.py's generator). Runs
# alternate, ROUNDS each (default 3), medians reported; same token counts are checked.
#
#   bash bench/tokenizer.sh [ROUNDS] [TOKENIZER_JSON ...]   (default: the committed Qwen3 and Llama-2-style ones)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}; shift || true
files=("$@")
((${#files[@]})) || files=("$root/tests/fixtures/tokenizers/qwen3/tokenizer.json" "$root/tests/fixtures/tokenizers/llama2/tokenizer.json")
python=${PEFT_PYTHON:-$root/.venv/bin/python}
bench=${BENCH:-$root/build/bin/tokenizer_bench}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$python" - "$work" "$root" <<'PY'
import glob, random, sys
sys.path.insert(0, sys.argv[2] + "/tests/fixtures/tokenizers")
from check_against_tokenizers import random_text
paragraphs = []
for f in sorted(glob.glob("/usr/share/games/fortunes/*")):
    if f.endswith((".dat", ".u8")): continue
    for p in open(f, encoding="utf-8", errors="replace").read().split("\n%\n"):
        p = " ".join(p.split())
        if p: paragraphs.append(p)
open(sys.argv[1] + "/english.txt", "w").write("\n".join(paragraphs) + "\n")
rng = random.Random(0)
open(sys.argv[1] + "/mixed.txt", "w").write("\n".join(" ".join(random_text(rng).split()) for _ in range(20000)) + "\n")
PY
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
for file in "${files[@]}"; do
  for texts in english mixed; do
    for ((r = 0; r < rounds; ++r)); do
      "$bench" "$file" "$work/$texts.txt" 3 >>"$work/peft.jsonl"
      "$python" "$root/bench/tokenizer_reference.py" "$file" "$work/$texts.txt" 3 >>"$work/rust.jsonl"
    done
    "$python" - "$work" "$file" "$texts" "$rounds" <<'PY'
import json, statistics, sys
work, file, texts, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
peft = [json.loads(l) for l in open(work + "/peft.jsonl")][-rounds:]
rust = [json.loads(l) for l in open(work + "/rust.jsonl")][-rounds:]
assert peft[0]["tokens"] == rust[0]["tokens"], (peft[0]["tokens"], rust[0]["tokens"])
m = lambda rows, k: statistics.median(r[k] for r in rows)
tps = lambda rows: peft[0]["tokens"] / m(rows, "encode_seconds")
name = file.split("/")[-2]
print(f"| {name} | {texts} | {peft[0]['texts']} | {peft[0]['tokens']} | {tps(rust)/1e6:.2f} | {tps(peft)/1e6:.2f} | "
      f"{tps(peft)/tps(rust):.2f}x | {m(rust,'load_seconds'):.2f} / {m(peft,'load_seconds'):.2f} | "
      f"{m(rust,'tokenizer_mib'):.0f} / {m(peft,'tokenizer_mib'):.0f} |")
PY
  done
done

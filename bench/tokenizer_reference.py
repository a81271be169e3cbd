"""The Rust `tokenizers` library (Python bindings) on the same job as bench/tokenizer_bench.cpp: load FILE, encode
every line of TEXTS without special tokens REPEATS times (encode_batch, one Rayon thread: RAYON_NUM_THREADS=1 from
bench/tokenizer.sh), print load seconds, the best repeat's encode seconds, texts, tokens, the resident MiB the tokenizer adds, peak MiB."""
import json
import resource
import sys
import time

from tokenizers import Tokenizer

file, texts_file = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
texts = open(texts_file, encoding="utf-8").read().split("\n")
if texts and texts[-1] == "":
    texts.pop()
def resident_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20


before_mib = resident_mib()
start = time.perf_counter()
tokenizer = Tokenizer.from_file(file)
load_seconds = time.perf_counter() - start
tokenizer_mib = resident_mib() - before_mib
best, tokens = float("inf"), 0
for _ in range(repeats):
    start = time.perf_counter()
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    best = min(best, time.perf_counter() - start)
    tokens = sum(len(e.ids) for e in encodings)
print(json.dumps({"load_seconds": load_seconds, "encode_seconds": best, "texts": len(texts), "tokens": tokens,
                  "tokenizer_mib": tokenizer_mib, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))

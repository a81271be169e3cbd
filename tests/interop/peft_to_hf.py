"""What peft writes, read by the real Hugging Face libraries: transformers 5 and HF peft (the project venv).

    peft_to_hf.py PEFT_EXECUTABLE SCRATCH_DIR

On the shipped tiny LLaMA (models/llama-mini-fortunes) and mini-lm data made here (`peft data mini-lm`), for each
method (lora, dora, ia3, gift linear, gift paca) it trains a short run (`peft run`: one epoch of 4 steps on 64
additions), and then:

- the adapter changes the model: `peft eval RUN` differs from the base model's `peft eval RECIPE` (a loader that
  ignored the adapter would then fail the comparisons below);
- each Hugging Face peft adapter folder peft gives for the run — the run folder itself when its adapter_config.json
  names a peft_type (LoRA, DoRA, IA3), and `peft export RUN` where peft exports one (LoRA, GIFT: a LoRA adapter) —
  loads with `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(MODEL), DIR)`, every tensor of the
  file taken as it is and none missing (get_peft_model_state_dict equals the file);
- that PeftModel's causal-LM loss equals `peft eval RUN --split S --json` on two splits: additions (prompt masked,
  EOS after the answer) and plain text (every token a target), the same token-weighted mean over the split;
- its greedy tokens (`generate(do_sample=False, max_new_tokens=8)`) equal `peft generate RUN --json` on two prompts;
- `merge_and_unload()` gives the same loss and tokens;
- `peft merge RUN -o DIR` loads in `AutoModelForCausalLM.from_pretrained(DIR)` with no key missing or left over and
  gives the same loss and tokens (a method peft refuses to merge is skipped with peft's reason).

And, first, the base model: transformers' loss and tokens equal `peft eval RECIPE` and `peft generate MODEL_DIR`.

The texts are tokenised exactly as peft's causal_lm task does (core/tasks/causal_lm.cpp, encode_record): BOS, the
prompt and the response encoded as one text, EOS after a response (plain text: none, the tokenizer does not add
it), labels -100 on BOS and the prompt (its length encoded alone), cut at max_length. The tokenizer is the model's
SentencePiece tokenizer.model (python sentencepiece, the library transformers' LlamaTokenizer is converted from);
where transformers' AutoTokenizer loads (it needs protobuf for that), its ids are checked to be the same.
The loss is transformers' own (model(input_ids, labels=labels).loss, which shifts the labels), times the number of
targets, summed over the split and divided by all its targets: peft's eval loss, token-weighted.

One line per check ("ok ...", "FAIL ...", "skip ..."), then "N passed, M failed"; exit 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import warnings

# Float32 on both sides, different kernels and summation orders: the loss of a short split agrees to ~1e-6.
LOSS_RTOL = 1e-5
# The adapted loss must differ from the base model's by at least this (relative), or the comparisons prove nothing.
MIN_ADAPTER_EFFECT = 1e-2
MAX_NEW_TOKENS = 8
MAX_LENGTH = 64
PROMPTS = ["43+66=", "The meaning of life is"]

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODEL = os.path.join(ROOT, "models", "llama-mini-fortunes")

# name: (method plugin, targets, [method.options] as TOML, learning rate). Learning rates large enough that four
# steps move the loss by several percent (and, for most, the greedy tokens).
CASES = [
    ("lora", "lora", ["q_proj", "v_proj"], "{r = 4, lora_alpha = 16}", 5e-3),
    ("dora", "dora", ["q_proj", "v_proj", "up_proj"], "{r = 4, lora_alpha = 8}", 1e-2),
    ("ia3", "ia3", ["k_proj", "v_proj", "down_proj"], "{}", 5e-2),
    # rsLoRA's alpha / sqrt(r), a rank per module and an alpha per module, as HF peft's rank_pattern and alpha_pattern.
    ("lora-rslora-patterns", "lora", ["q_proj", "v_proj", "o_proj"],
     '{r = 4, lora_alpha = 8, use_rslora = true, rank_pattern = ["v_proj=2"], '
     'alpha_pattern = ["model.layers.0.self_attn.q_proj=32", "o_proj=2"]}', 5e-3),
    ("dora-rslora", "dora", ["k_proj", "down_proj"], "{r = 2, lora_alpha = 8, use_rslora = true}", 1e-2),
    ("ia3-feedforward", "ia3", ["q_proj", "up_proj", "down_proj"], '{feedforward_modules = ["up_proj", "down_proj"]}',
     5e-2),
    ("gift", "gift", ["q_proj", "v_proj"], '{schema = "linear", dim = 16}', 1e-2),
    ("gift-paca", "gift", ["o_proj"], '{schema = "paca", dim = 32, clusters = 16}', 1e-2),
]

RECIPE = """schema_version = 1
name = "interop"
seed = 0
task = "causal_lm"
threads = 1

[backbone]
plugin = "llama"
checkpoint = {model}

[method]
plugin = "lora"

[data]
format = "jsonl"
root = {root}
train_split = "interop_train"
eval_split = "interop_arith"
max_length = {max_length}
workers = 0

[train]
epochs = 1
batch_size = 16
weight_decay = 0.0
schedule = "constant"

[output]
checkpoint = false
"""

passed = 0
failed = 0


def report(ok, line):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(("ok " if ok else "FAIL ") + line, flush=True)


def skip(line):
    print("skip " + line, flush=True)


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


class Peft:
    def __init__(self, executable):
        self.executable = executable
        self.env = dict(os.environ)
        self.env.setdefault("OMP_NUM_THREADS", "1")

    def __call__(self, *args, check=True):
        result = subprocess.run([self.executable, *args], env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"peft {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
        return result

    def json(self, *args):
        return json.loads(self(*args, "--json").stdout)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, records):
    with open(path, "w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


class Tokenizer:
    """The model's tokenizer.model as peft's llama backbone reads it: BOS added, no EOS (tokenizer_config.json)."""

    def __init__(self, folder):
        import sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
        config = json.load(open(os.path.join(folder, "tokenizer_config.json")))
        self.add_bos = config.get("add_bos_token", True)
        self.add_eos = config.get("add_eos_token", False)
        model_config = json.load(open(os.path.join(folder, "config.json")))
        self.bos = model_config["bos_token_id"]
        self.eos = model_config["eos_token_id"]

    def encode(self, text):
        return list(self.sp.encode(text))

    def with_bos(self, text):
        return ([self.bos] if self.add_bos else []) + self.encode(text)

    def record(self, record):
        """(ids, labels) as core/tasks/causal_lm.cpp's encode_record, cut at MAX_LENGTH."""
        prompt, response = (record["prompt"], record["completion"]) if "prompt" in record else ("", record["text"])
        ids = [self.bos] if self.add_bos else []
        prompt_length = len(ids) + len(self.encode(prompt)) if prompt else 0
        ids += self.encode(prompt + response)
        if prompt or self.add_eos:
            ids.append(self.eos)
        labels = list(ids)
        labels[:prompt_length] = [-100] * min(prompt_length, len(ids))
        return ids[:MAX_LENGTH], labels[:MAX_LENGTH]


def split_loss(model, encoded):
    """Transformers' causal-LM loss over a split, token-weighted as peft's eval: sum of per-token losses / targets."""
    import torch
    total, targets = 0.0, 0
    with torch.no_grad():
        for ids, labels in encoded:
            count = sum(1 for label in labels[1:] if label != -100)
            if count == 0:
                continue
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            total += out.loss.double().item() * count
            targets += count
    return total / targets


def greedy(model, tokenizer, prompt):
    """transformers' greedy continuation: the new ids, EOS (where it stops) left off, and whether it stopped there."""
    import torch
    ids = torch.tensor([tokenizer.with_bos(prompt)])
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=MAX_NEW_TOKENS, eos_token_id=tokenizer.eos, pad_token_id=tokenizer.eos)
    new = out[0, ids.shape[1]:].tolist()
    if tokenizer.eos in new:
        return new[:new.index(tokenizer.eos)], True
    return new, False


def compare_model(label, model, tokenizer, splits, expected_losses, expected_tokens):
    for split, encoded in splits.items():
        mine = split_loss(model, encoded)
        theirs = expected_losses[split]
        rel = relative(mine, theirs)
        report(rel <= LOSS_RTOL, f"{label}: loss on {split} {mine:.6f} vs peft {theirs:.6f} (rel {rel:.1e}, "
                                 f"tolerance {LOSS_RTOL:.0e})")
    for prompt in PROMPTS:
        ids, eos = greedy(model, tokenizer, prompt)
        peft_ids, peft_eos = expected_tokens[prompt]
        same = ids == peft_ids and eos == peft_eos
        report(same, f"{label}: greedy tokens on {prompt!r} {'equal' if same else 'differ'}: {ids}"
                     f"{' + EOS' if eos else ''}" + ("" if same else f" vs peft {peft_ids}{' + EOS' if peft_eos else ''}"))


def peft_tokens(peft, target):
    tokens = {}
    for prompt in PROMPTS:
        out = peft.json("generate", target, "--prompt", prompt, "--max-new-tokens", str(MAX_NEW_TOKENS))
        tokens[prompt] = (out["ids"], out["stopped_at_eos"])
    return tokens


def check_tensors(label, model, folder):
    """Every tensor of the adapter file is in the PeftModel as it is in the file, and the model has no other."""
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    saved = load_file(os.path.join(folder, "adapter_model.safetensors"))
    loaded = get_peft_model_state_dict(model)
    missing = sorted(saved.keys() - loaded.keys())
    extra = sorted(loaded.keys() - saved.keys())
    changed = sorted(k for k in saved.keys() & loaded.keys()
                     if saved[k].shape != loaded[k].shape or not torch.equal(saved[k].float(), loaded[k].float()))
    ok = not missing and not extra and not changed
    detail = f"{len(saved)} tensors of the file loaded as saved, none missing"
    if not ok:
        detail = f"file keys not applied {missing[:3]}, model keys not in the file {extra[:3]}, changed {changed[:3]}"
    report(ok, f"{label}: PeftModel.from_pretrained: {detail}")


def check_case(peft, tokenizer, scratch, recipe, splits, base_losses, base_tokens, case):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    name, plugin, targets, options, lr = case
    run = os.path.join(scratch, "runs", name)
    peft("run", recipe, "--set", f"method.plugin={plugin}", "--set", f"method.targets={json.dumps(targets)}",
         "--set", f"method.options={options}", "--set", f"train.lr={lr}", "--out", run)

    losses = {split: peft.json("eval", run, "--split", split)["loss"] for split in splits}
    effect = max(relative(losses[s], base_losses[s]) for s in splits)
    moved = ", ".join(f"{s} {losses[s]:.4f} vs base {base_losses[s]:.4f}" for s in splits)
    tokens = peft_tokens(peft, run)
    changed = sum(tokens[p] != base_tokens[p] for p in PROMPTS)
    report(effect >= MIN_ADAPTER_EFFECT,
           f"{name}: the adapter moves peft's loss ({moved}; rel {effect:.1e}, required {MIN_ADAPTER_EFFECT:.0e}); "
           f"greedy tokens differ from the base model's on {changed} of {len(PROMPTS)} prompts")

    adapters = []
    config = json.load(open(os.path.join(run, "adapter_config.json")))
    if "peft_type" in config:
        adapters.append(("run folder", run))
    else:
        skip(f"{name} (run folder): adapter_config.json has no peft_type (peft's own format), HF peft cannot read it")
    exported = os.path.join(scratch, "export", name)
    result = peft("export", run, "-o", exported, check=False)
    if result.returncode == 0:
        adapters.append(("peft export", exported))
    else:
        skip(f"{name} (peft export): refused: {result.stderr.strip()}")
    if not adapters:
        report(False, f"{name}: peft gives no Hugging Face peft adapter folder for this run")

    for where, folder in adapters:
        label = f"{name} ({where})"
        base = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = PeftModel.from_pretrained(base, folder).eval()
        except Exception as error:  # HF cannot load what peft wrote: the defect this test is for
            report(False, f"{label}: PeftModel.from_pretrained raised {type(error).__name__}: {error}")
            continue
        check_tensors(label, model, folder)
        compare_model(f"{label} PeftModel", model, tokenizer, splits, losses, tokens)
        merged = model.merge_and_unload().eval()
        compare_model(f"{label} merge_and_unload", merged, tokenizer, splits, losses, tokens)

    merged_dir = os.path.join(scratch, "merged", name)
    result = peft("merge", run, "-o", merged_dir, check=False)
    if result.returncode != 0:
        skip(f"{name} (peft merge): refused: {result.stderr.strip()}")
        return
    model, info = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    report(not problems, f"{name} (peft merge): from_pretrained(merged folder) "
                         + ("loads every tensor, none missing or left over" if not problems else f"reports {problems}"))
    compare_model(f"{name} (peft merge) from_pretrained", model.eval(), tokenizer, splits, losses, tokens)
    shutil.rmtree(merged_dir)


def main(executable, scratch):
    start = time.time()
    os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local: a lookup on the hub would be a bug here
    import torch
    torch.set_num_threads(1)
    import transformers
    from transformers import AutoModelForCausalLM
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    peft = Peft(os.path.abspath(executable))
    scratch = os.path.abspath(scratch)
    os.makedirs(scratch, exist_ok=True)

    data = os.path.join(scratch, "data")
    peft("data", "mini-lm", "--out", data)
    root = os.path.join(data, "arith")
    # A few examples, in the task folder peft made: 64 additions to train on (4 steps of 16), 24 to score, and 12
    # science fortunes as a plain-text split (template auto: text), all scored by peft eval --split.
    write_jsonl(os.path.join(root, "interop_train.jsonl"), read_jsonl(os.path.join(root, "train.jsonl"))[:64])
    write_jsonl(os.path.join(root, "interop_arith.jsonl"), read_jsonl(os.path.join(root, "test.jsonl"))[:24])
    write_jsonl(os.path.join(root, "interop_text.jsonl"),
                read_jsonl(os.path.join(data, "lm-science", "test.jsonl"))[:12])
    recipe = os.path.join(scratch, "interop.toml")
    with open(recipe, "w") as f:
        f.write(RECIPE.format(model=json.dumps(MODEL), root=json.dumps(root), max_length=MAX_LENGTH))

    tokenizer = Tokenizer(MODEL)
    splits = {split: [tokenizer.record(r) for r in read_jsonl(os.path.join(root, split + ".jsonl"))]
              for split in ("interop_arith", "interop_text")}
    try:
        from transformers import AutoTokenizer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hf = AutoTokenizer.from_pretrained(MODEL)
    except Exception as error:
        hf = None
        skip(f"transformers' AutoTokenizer does not load the model's tokenizer here ({type(error).__name__}; "
             f"it needs protobuf to read tokenizer.model): python sentencepiece tokenises")
    if hf is not None:
        texts = PROMPTS + [r.get("prompt", "") + r.get("completion", r.get("text", ""))
                           for s in splits for r in read_jsonl(os.path.join(root, s + ".jsonl"))]
        differ = [t for t in texts if hf(t)["input_ids"] != tokenizer.with_bos(t)]
        report(not differ, f"tokenizer: AutoTokenizer's ids equal sentencepiece's with BOS on {len(texts)} texts"
                           + (f"; they differ on {differ[:2]}" if differ else ""))

    # The base model, first: the ground every method stands on (peft eval RECIPE: its backbone with no method).
    base_losses = {split: peft.json("eval", recipe, "--split", split)["loss"] for split in splits}
    base = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    base_tokens = peft_tokens(peft, MODEL)
    compare_model("base model (peft eval RECIPE, peft generate MODEL_DIR)", base, tokenizer, splits, base_losses,
                  base_tokens)

    for case in CASES:
        try:
            check_case(peft, tokenizer, scratch, recipe, splits, base_losses, base_tokens, case)
        except Exception as error:
            report(False, f"{case[0]}: {type(error).__name__}: {error}")

    print(f"{passed} passed, {failed} failed ({time.time() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: peft_to_hf.py PEFT_EXECUTABLE SCRATCH_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))

#!/usr/bin/env python3
"""The Python side of bench/llama.sh: the jobs bench/llama_bench.cpp runs, on the same model folder, as a Hugging Face
user runs them (on the project's venv: torch, transformers, peft; scripts/install_python.sh). The model is
transformers' own LlamaForCausalLM, `AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
attn_implementation="sdpa")`: the folder's (sharded, BF16 or F32) safetensors converted to float32, the head tied to
the embedding when config.json says so, every weight of the model found in the files (checked). "sdpa"
(torch.nn.functional.scaled_dot_product_attention) is what transformers 5 picks when none is asked for; it is named
here so that the benchmark does not change if that default does.

train:    Hugging Face peft's `get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj",
          "v_proj"], lora_dropout=0.0))` (A kaiming-uniform, B zero: the first step's loss is the base model's),
          torch.optim.AdamW (lr 1e-4, weight decay 0.01) on the parameters peft leaves trainable; each step
          `model(input_ids=ids, labels=ids).loss` (transformers' next-token cross-entropy: the logits of positions
          0 .. seq-2 against tokens 1 .. seq-1, the loss llama_bench computes; the forward also runs position seq-1,
          whose logits the loss drops, one position more than llama_bench's seq-1), backward, update. Prints the
          median step seconds after one warm-up step and the first step's loss.
generate: `model.generate(prompt, max_new_tokens=N, do_sample=False, use_cache=True, eos_token_id=None)` under
          torch.no_grad: greedy, transformers' default key/value cache (DynamicCache), and no EOS, as llama_bench's
          generate (which passes none), so both sides give exactly N tokens and the same ones (min_new_tokens
          would instead mask EOS out of the argmax and change the tokens); prints new tokens per second (prefill
          included; median of the repeats after a warm-up) and the tokens.

--device cuda runs it on the GPU (the timers read after torch.cuda.synchronize()). Prints one JSON line on stdout
(transformers' and peft's messages go to stderr). Usage:
  llama_reference.py train|generate --model DIR [--threads N] [--device cpu|cuda] [--batch 2] [--seq 256]
                     [--steps 4] [--prompt 32] [--new 64] [--repeats 3]
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch


def token_ids(batch, length, vocab):
    """The batch llama_bench.cpp reads: the same formula."""
    b = torch.arange(batch).view(-1, 1)
    t = torch.arange(length).view(1, -1)
    return (b * 7919 + t * 104729 + (t * t) % 13) % vocab


def load(folder, device):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.disable_progress_bar()  # llama.sh runs this many times; the bar would fill its stderr
    model, info = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="sdpa",
                                                       output_loading_info=True)
    problems = {key: value for key, value in info.items() if value}
    if problems:  # from_pretrained initialises what the files lack at random; the benchmark needs the files' weights
        sys.exit(f"llama_reference.py: {folder} does not load strictly: {problems}")
    return model.to(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(model, args, device):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                                             lora_dropout=0.0))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
    ids = token_ids(args.batch, args.seq, model.config.vocab_size).to(device)
    model.train()

    def step():
        optimizer.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    seconds = []
    for _ in range(args.steps):
        synchronize(device)
        start = time.perf_counter()
        step()
        synchronize(device)
        seconds.append(time.perf_counter() - start)
    return {"step_s": statistics.median(seconds), "first_loss": first_loss, "steps": seconds}


@torch.no_grad()
def generate_greedy(model, prompt, new):
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new, do_sample=False,
                         use_cache=True, eos_token_id=None)
    return out[0, prompt.shape[1]:].tolist()


def generate(model, args, device):
    model.eval()
    prompt = token_ids(1, args.prompt, model.config.vocab_size).to(device)
    generate_greedy(model, prompt, args.new)  # warm-up
    rates = []
    for _ in range(args.repeats):
        synchronize(device)
        start = time.perf_counter()
        tokens = generate_greedy(model, prompt, args.new)
        synchronize(device)
        rates.append(len(tokens) / (time.perf_counter() - start))
    if len(tokens) != args.new:
        sys.exit(f"llama_reference.py: generate gave {len(tokens)} tokens, not {args.new}")
    return {"tokens_per_s": statistics.median(rates), "tokens": tokens}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["train", "generate"])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--prompt", type=int, default=32)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = load(args.model, device)
    result = {"side": "python", "mode": args.mode, "threads": torch.get_num_threads()}
    result.update(train(model, args, device) if args.mode == "train" else generate(model, args, device))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

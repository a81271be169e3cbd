#!/usr/bin/python3
"""The Python PyTorch side of bench/llama.sh: the jobs bench/llama_bench.cpp runs, on the same model folder, written
as a PyTorch user writes them. The model is Hugging Face's LlamaForCausalLM architecture in plain PyTorch 1.13 (the
modeling_llama.py eager path: RMSNorm in float32, rotate_half RoPE, repeat_kv for grouped-query heads, softmax in
float32, SwiGLU, the head tied to the embedding when config.json says so), weights read from config.json and the (sharded) safetensors and converted to float32.

train:    Hugging Face peft's LoRA (r 8, alpha 16, A kaiming-uniform, B zero) on q_proj and v_proj, AdamW (lr 1e-4,
          weight decay 0.01); each step forward, next-token cross-entropy, backward, update. Prints the median step
          seconds after one warm-up step and the first step's loss.
generate: greedy decoding with a key/value cache grown by torch.cat each step (transformers' DynamicCache), no EOS,
          under torch.no_grad; prints new tokens per second (prefill included; median of the repeats after a warm-up)
          and the tokens.

Prints one JSON line. Usage: llama_reference.py train|generate --model DIR [--threads N] [--batch 2] [--seq 256]
                             [--steps 4] [--prompt 32] [--new 64] [--repeats 3]
"""
import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from safetensors_file import read_safetensors  # noqa: E402

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_folder(folder):
    index = folder / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    tensors = {}
    for name in files:
        for key, (dtype, shape, raw) in read_safetensors(folder / name).items():
            tensors[key] = torch.frombuffer(bytearray(raw), dtype=DTYPES[dtype]).reshape(shape).float()
    return tensors


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


class LoraLinear(nn.Module):
    """HF peft's lora.Linear: base(x) + lora_B(lora_A(x)) * alpha / r."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.head_dim = c.get("head_dim", c["hidden_size"] // self.heads)
        d = c["hidden_size"]
        self.q_proj = nn.Linear(d, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, mask, cache):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            if cache:
                k = torch.cat([cache[0], k], dim=2)
                v = torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
        groups = self.heads // self.kv_heads
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = scores + mask
        weights = F.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(d, i, bias=False)
        self.up_proj = nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = Mlp(c)

    def forward(self, x, cos, sin, mask, cache):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache)
        return h + self.mlp(self.post_attention_layernorm(h))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = Decoder(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        head_dim = c.get("head_dim", c["hidden_size"] // c["num_attention_heads"])
        self.inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2).float() / head_dim))

    def forward(self, ids, caches=None, start=0):
        t = ids.shape[1]
        freqs = torch.outer(torch.arange(start, start + t).float(), self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = None
        if t > 1:  # causal over the cached keys and the new ones
            mask = torch.full((t, start + t), float("-inf")).triu(start + 1)
        h = self.model.embed_tokens(ids)
        for i, layer in enumerate(self.model.layers):
            h = layer(h, cos, sin, mask, None if caches is None else caches[i])
        return self.lm_head(self.model.norm(h))


def token_ids(batch, length, vocab):
    """The batch llama_bench.cpp reads: the same formula."""
    b = torch.arange(batch).view(-1, 1)
    t = torch.arange(length).view(1, -1)
    return (b * 7919 + t * 104729 + (t * t) % 13) % vocab


def load(folder):
    config = json.loads((folder / "config.json").read_text())
    if config.get("rope_scaling") or config.get("attention_bias"):
        sys.exit(f"llama_reference.py: {folder}/config.json: rope_scaling and attention_bias are not written here")
    model = LlamaForCausalLM(config)
    state = read_folder(folder)
    if config.get("tie_word_embeddings"):
        # As transformers' tie_weights: the head is the embedding matrix; the file holds it once.
        model.lm_head.weight = model.model.embed_tokens.weight
        state.setdefault("lm_head.weight", state["model.embed_tokens.weight"])
    model.load_state_dict(state, strict=True)
    return model


def train(model, args):
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.model.layers:
        layer.self_attn.q_proj = LoraLinear(layer.self_attn.q_proj, 8, 16)
        layer.self_attn.v_proj = LoraLinear(layer.self_attn.v_proj, 8, 16)
    trainable = [p for n, p in model.named_parameters() if "lora_" in n]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
    ids = token_ids(args.batch, args.seq, model.config["vocab_size"])
    inputs, targets = ids[:, :-1], ids[:, 1:].reshape(-1)
    model.train()

    def step():
        optimizer.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    seconds = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return {"step_s": statistics.median(seconds), "first_loss": first_loss, "steps": seconds}


@torch.no_grad()
def generate_greedy(model, prompt, new):
    caches = [[] for _ in model.model.layers]
    logits = model(prompt.view(1, -1), caches, 0)
    position = prompt.numel()
    tokens = []
    for _ in range(new):
        token = int(logits[0, -1].argmax())
        tokens.append(token)
        if len(tokens) == new:
            break
        logits = model(torch.tensor([[token]]), caches, position)
        position += 1
    return tokens


def generate(model, args):
    model.eval()
    prompt = token_ids(1, args.prompt, model.config["vocab_size"])[0]
    generate_greedy(model, prompt, args.new)  # warm-up
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        tokens = generate_greedy(model, prompt, args.new)
        rates.append(len(tokens) / (time.perf_counter() - start))
    return {"tokens_per_s": statistics.median(rates), "tokens": tokens}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["train", "generate"])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--prompt", type=int, default=32)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load(args.model)
    result = {"side": "python", "mode": args.mode, "threads": torch.get_num_threads()}
    result.update(train(model, args) if args.mode == "train" else generate(model, args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The Python PyTorch reference for bench 3 (bench/cpp_vs_python.sh): the ViT of peft's `vit` backbone (timm's
VisionTransformer: conv patch embedding, class token, pre-norm blocks with fused qkv, exact GELU, LayerNorm eps 1e-6,
token pooling) with LoRA (r 8, alpha 8, B = 0) on every attn.proj, the backbone frozen, head and LoRA trained by
AdamW. Times what `build/bin/method_step --methods lora --targets attn.proj` times, the same way: warm-up, then
ROUNDS × STEPS training steps (forward, cross-entropy, backward, update) and evaluation forwards on one random batch,
median over rounds. Prints one line: `python <variant> step_s=<s> eval_s=<s> threads=<n>`.

Usage: vit_lora_step.py [--variant vit_mini_patch4_32|vit_base_patch16_224] [--batch 64] [--steps 5] [--rounds 1]
                        [--threads 2]
"""
import argparse
import math
import statistics
import time

import torch
from torch import nn

VARIANTS = {  # image size, patch, width, depth, heads (peft's vit_config.cpp)
    "vit_base_patch16_224": (224, 16, 768, 12, 12),
    "vit_mini_patch4_32": (32, 4, 128, 6, 4),
}


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 8.0):
        super().__init__()
        self.base = base
        self.lora_a = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attention = torch.matmul(q * self.scale, k.transpose(-2, -1)).softmax(-1)
        return self.proj(torch.matmul(attention, v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(self, image, patch, dim, depth, heads, classes):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", default="vit_mini_patch4_32", choices=sorted(VARIANTS))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    image, patch, dim, depth, heads = VARIANTS[args.variant]
    model = VisionTransformer(image, patch, dim, depth, heads, classes=5)
    for p in model.parameters():
        p.requires_grad_(False)
    for block in model.blocks:
        block.attn.proj = LoraLinear(block.attn.proj)
    for p in model.head.parameters():
        p.requires_grad_(True)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    images = torch.randn(args.batch, 3, image, image)
    labels = torch.randint(0, 5, (args.batch,))

    def train_step():
        model.train()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    def eval_forward():
        model.eval()
        with torch.no_grad():
            model(images)

    train_step()  # warm-up
    eval_forward()
    train_s, eval_s = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(args.steps):
            train_step()
        train_s.append((time.perf_counter() - start) / args.steps)
        start = time.perf_counter()
        for _ in range(args.steps):
            eval_forward()
        eval_s.append((time.perf_counter() - start) / args.steps)
    print(f"python {args.variant} step_s={statistics.median(train_s):.6f} eval_s={statistics.median(eval_s):.6f} "
          f"threads={torch.get_num_threads()} trainable={sum(p.numel() for p in trainable)}")


if __name__ == "__main__":
    main()

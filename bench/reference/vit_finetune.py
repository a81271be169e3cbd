#!/usr/bin/python3
"""The Python PyTorch side of bench/end_to_end.sh: the whole fine-tuning job `peft run` does with
bench/mini_vtab/base.toml, written as a PyTorch user writes it. The ViT is timm's VisionTransformer as it runs on
PyTorch 1.13 (conv patch embedding, class token, pre-norm blocks with fused qkv and timm's manual attention path,
exact GELU, LayerNorm eps 1e-6, class-token pooling; the parameter names of timm's state dict), loaded from the same
safetensors checkpoint; the data are the same VTAB-1k split files and PNGs, decoded by PIL in a torch DataLoader
with the same worker count; AdamW with weight decay on matrices only, linear warm-up then cosine per step, one
evaluation on the test split at the end.

Methods: lora-qkv / lora-proj (Hugging Face peft's LoRA: r 8, alpha 8, A kaiming-uniform, B zero), gift (PaCa,
d 32, 16 clusters, one block, on attn.proj; W + ΔW formed per step as the official code does), full, linear-probe.
Prints one line: `python <method> wall_s=... train_s=... epoch_s=a,b,... top1=... loss=... threads=...`.

Usage: vit_finetune.py --method lora-qkv --checkpoint FILE --data TASK_FOLDER [--threads 1] [--workers 1]
                       [--epochs 6] [--batch 64] [--lr 5e-3] [--seed 0]
"""
import argparse
import math
import sys
import time
from pathlib import Path

START = time.perf_counter()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from safetensors_file import read_safetensors  # noqa: E402


def load_tensors(path):
    """The F32 tensors of a safetensors file, by name."""
    tensors = {}
    for name, (dtype, shape, raw) in read_safetensors(path).items():
        if dtype != "F32":
            raise SystemExit(f"{path}: {name} is {dtype}, expected F32")
        tensors[name] = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(shape)
    return tensors


class Attention(nn.Module):  # timm's Attention with fused_attn False (PyTorch < 2.0)
    def __init__(self, dim, heads):
        super().__init__()
        self.num_heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim, eps=1e-6), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim, eps=1e-6), Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, image, patch, dim, depth, heads, classes):
        super().__init__()
        self.patch_embed = PatchEmbed(patch, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(dim, eps=1e-6), nn.Linear(dim, classes)

    def forward(self, images):
        x = self.patch_embed(images)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


class LoraLinear(nn.Module):  # Hugging Face peft's lora.Linear: base(x) + lora_B(lora_A(x)) * scaling
    def __init__(self, base, r=8, alpha=8.0):
        super().__init__()
        self.base_layer = base
        self.lora_A, self.lora_B = nn.Linear(base.in_features, r, bias=False), nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


class Paca(nn.Module):  # one PaCa block over the weight tokens [L, N, d] (docs/gift.md §5), one head
    def __init__(self, d, clusters, mlp_ratio=2):
        super().__init__()
        self.cluster = nn.Linear(d, clusters)
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, mlp_ratio * d), nn.Linear(mlp_ratio * d, d)

    def forward(self, x):
        u = F.normalize(x, dim=-1, eps=1e-12)
        assign = torch.sigmoid(self.cluster(u)) / u.shape[1]
        z = F.normalize(assign.transpose(1, 2) @ u, dim=-1, eps=1e-12)
        attn = (self.q(u) @ self.k(z).transpose(1, 2) / math.sqrt(u.shape[-1])).softmax(-1)
        x = x + self.out(attn @ self.v(z))
        return x + self.fc2(F.gelu(self.fc1(F.normalize(x, dim=-1, eps=1e-12))))


class Gift(nn.Module):  # ΔW = H(W Pᵀ) Qᵀ for the stacked frozen weights W [L, N, d_in]; Q starts at zero
    def __init__(self, weights, d=32, clusters=16):
        super().__init__()
        layers, n, d_in = weights.shape
        self.register_buffer("weights", weights.clone())
        self.p = nn.Linear(d_in, d, bias=False)
        self.pos = nn.Parameter(torch.empty(n, d))
        nn.init.trunc_normal_(self.pos, std=0.02, a=-0.04, b=0.04)
        self.body = Paca(d, clusters)
        self.q = nn.Linear(d, d_in, bias=False)
        nn.init.zeros_(self.q.weight)

    def forward(self):
        return self.q(self.body(self.p(self.weights) + self.pos))


class GiftLinear(nn.Module):  # the official code's way: the layer computes x (W + ΔW)ᵀ + b
    def __init__(self, base, gift, index):
        super().__init__()
        self.base_layer, self.gift, self.index = base, [gift], index
        self.delta = None

    def forward(self, x):
        return F.linear(x, self.base_layer.weight + self.delta[self.index], self.base_layer.bias)


class SplitDataset(torch.utils.data.Dataset):  # a VTAB-1k split file: "<image> <label>" per line
    def __init__(self, root, split, mean=0.5, std=0.5, size=32):
        with open(f"{root}/{split}.txt") as f:
            self.items = [(f"{root}/{line.split()[0]}", int(line.split()[1])) for line in f if line.strip()]
        self.mean, self.std, self.size = mean, std, size

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        image = Image.open(path).convert("RGB")
        if image.size != (self.size, self.size):
            image = image.resize((self.size, self.size), Image.BILINEAR)
        pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(self.size, self.size, 3)
        return (pixels.permute(2, 0, 1).float() / 255 - self.mean) / self.std, label


def build(method, checkpoint, classes):
    model = VisionTransformer(32, 4, 128, 6, 4, classes)
    state = {k: v for k, v in load_tensors(checkpoint).items() if not k.startswith("head.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert set(missing) == {"head.weight", "head.bias"} and not unexpected, (missing, unexpected)
    no_decay = {"pos_embed", "cls_token"}
    if method == "full":
        return model, None, no_decay
    for p in model.parameters():
        p.requires_grad_(False)
    gift = None
    if method in ("lora-qkv", "lora-proj"):
        for block in model.blocks:
            name = method.split("-")[1]
            setattr(block.attn, name, LoraLinear(getattr(block.attn, name)))
    elif method == "gift":
        gift = Gift(torch.stack([b.attn.proj.weight.detach() for b in model.blocks]))
        model.gift = gift  # its parameters train
        no_decay = {"gift.pos"} | {f"gift.body.cluster.{s}" for s in ("weight", "bias")}
        for i, block in enumerate(model.blocks):
            block.attn.proj = GiftLinear(block.attn.proj, gift, i)
    elif method != "linear-probe":
        raise SystemExit(f"unknown method {method}")
    for p in model.head.parameters():
        p.requires_grad_(True)
    return model, gift, no_decay


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup-epochs", type=int, default=1)
    parser.add_argument("--warmup-lr", type=float, default=1e-7)
    parser.add_argument("--min-lr", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train = SplitDataset(args.data, "train800val200")
    test = SplitDataset(args.data, "test")
    classes = 1 + max(label for _, label in train.items)
    model, gift, no_decay = build(args.method, args.checkpoint, classes)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if p.ndim >= 2 and n not in no_decay]
    rest = [p for n, p in named if not (p.ndim >= 2 and n not in no_decay)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=args.lr)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0,
                                         generator=torch.Generator().manual_seed(args.seed))
    steps = len(loader)
    total, warmup = args.epochs * steps, args.warmup_epochs * steps

    def lr_at(t):  # peft's schedule (core/train/lr_schedule.cpp), per step
        if t < warmup:
            return args.warmup_lr + t * (args.lr - args.warmup_lr) / warmup
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * t / total))

    train_start = time.perf_counter()
    epoch_seconds, step = [], 0
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        for images, labels in loader:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            if gift is not None:
                delta = gift()
                for block in model.blocks:
                    block.attn.proj.delta = delta
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        epoch_seconds.append(time.perf_counter() - start)
    train_s = time.perf_counter() - train_start

    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        if gift is not None:
            delta = gift()
            for block in model.blocks:
                block.attn.proj.delta = delta
        for images, labels in torch.utils.data.DataLoader(test, batch_size=args.batch, num_workers=args.workers):
            logits = model(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
    print(f"python {args.method} wall_s={time.perf_counter() - START:.3f} train_s={train_s:.3f} "
          f"epoch_s={','.join(f'{s:.3f}' for s in epoch_seconds)} top1={correct / len(test):.4f} "
          f"loss={loss_sum / len(test):.4f} threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The Python side of bench/end_to_end.sh: the whole fine-tuning job `peft run` does with bench/mini_vtab/base.toml,
written as a PyTorch user writes it, on the project's venv (torch 2, timm, Hugging Face peft; scripts/install_python.sh).
The ViT is timm's own VisionTransformer, `timm.create_model("vit_tiny_patch16_224", img_size=32, patch_size=4,
embed_dim=128, depth=6, num_heads=4, num_classes=5)`: the ViT-Mini config of the shipped checkpoint (models/README.md;
timm's defaults otherwise: conv patch embedding, class token, pre-norm blocks with fused qkv and
F.scaled_dot_product_attention, exact GELU, LayerNorm eps 1e-6, class-token pooling), the checkpoint loaded strictly
(head included), then timm's `reset_classifier` for the task's classes (a new nn.Linear); the data are the same VTAB-1k
split files and PNGs, decoded by PIL in a torch DataLoader with the same worker count; AdamW with weight decay on
matrices only, linear warm-up then cosine per step, one evaluation on the test split at the end.

Methods: lora-qkv / lora-proj: Hugging Face peft's `get_peft_model(model, LoraConfig(r=8, lora_alpha=8,
target_modules=["attn.qkv"] or ["attn.proj"], lora_dropout=0.0, modules_to_save=["head"]))` (A kaiming-uniform, B
zero; the new head trains beside the adapters); gift (PaCa, d 32, 16 clusters, one block, on attn.proj; W + ΔW formed
per step as the official code does; no library has it, so it is written here); full; linear-probe (only the head).
--device cuda runs it on the GPU (pinned loader memory; the timers read after torch.cuda.synchronize()).
Prints one line: `python <method> wall_s=... train_s=... epoch_s=a,b,... top1=... loss=... threads=...`.

Usage: vit_finetune.py --method lora-qkv --checkpoint FILE --data TASK_FOLDER [--threads 1] [--workers 1]
                       [--device cpu|cuda] [--epochs 6] [--batch 64] [--lr 5e-3] [--seed 0]
"""
import argparse
import math
import time

START = time.perf_counter()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402

# The ViT-Mini of models/vit_mini_patch4_32.fashion5.safetensors, as overrides of a timm architecture (its MLP ratio 4,
# qkv bias and the rest are that architecture's).
VIT_MINI = dict(img_size=32, patch_size=4, embed_dim=128, depth=6, num_heads=4)


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


def vit_mini(checkpoint):
    """timm's ViT with the checkpoint's config and every weight of the checkpoint (its 5-class head included)."""
    import timm
    from safetensors.torch import load_file

    state = load_file(checkpoint)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=state["head.weight"].shape[0],
                              **VIT_MINI)
    model.load_state_dict(state, strict=True)
    return model


def build(method, checkpoint, classes):
    model = vit_mini(checkpoint)
    model.reset_classifier(classes)  # a new head for the task, as timm's create_model(num_classes=...) would make
    no_decay = {"pos_embed", "cls_token"}
    if method == "full":
        return model, None, no_decay
    gift = None
    if method in ("lora-qkv", "lora-proj"):
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=8, lora_alpha=8, target_modules=[f"attn.{method.split('-')[1]}"], lora_dropout=0.0,
                            modules_to_save=["head"])
        model = get_peft_model(model, config)  # freezes the backbone; the adapters and the head train
        return model, None, no_decay
    for p in model.parameters():
        p.requires_grad_(False)
    if method == "gift":
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


def set_delta(model, gift):  # GIFT's ΔW for every block's attn.proj, formed once per step
    delta = gift()
    for block in model.blocks:
        block.attn.proj.delta = delta


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--method", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
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
    device = torch.device(args.device)
    pin = device.type == "cuda"

    train = SplitDataset(args.data, "train800val200")
    test = SplitDataset(args.data, "test")
    classes = 1 + max(label for _, label in train.items)
    model, gift, no_decay = build(args.method, args.checkpoint, classes)
    model.to(device)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in named if p.ndim >= 2 and n not in no_decay]
    rest = [p for n, p in named if not (p.ndim >= 2 and n not in no_decay)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=args.lr)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True, num_workers=args.workers,
                                         persistent_workers=args.workers > 0, pin_memory=pin,
                                         generator=torch.Generator().manual_seed(args.seed))
    steps = len(loader)
    total, warmup = args.epochs * steps, args.warmup_epochs * steps

    def lr_at(t):  # peft's schedule (core/train/lr_schedule.cpp), per step
        if t < warmup:
            return args.warmup_lr + t * (args.lr - args.warmup_lr) / warmup
        return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * t / total))

    synchronize(device)
    train_start = time.perf_counter()
    epoch_seconds, step = [], 0
    for _ in range(args.epochs):
        model.train()
        start = time.perf_counter()
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=pin), labels.to(device, non_blocking=pin)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            if gift is not None:
                set_delta(model, gift)
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        synchronize(device)
        epoch_seconds.append(time.perf_counter() - start)
    train_s = time.perf_counter() - train_start

    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        if gift is not None:
            set_delta(model, gift)
        for images, labels in torch.utils.data.DataLoader(test, batch_size=args.batch, num_workers=args.workers,
                                                          pin_memory=pin):
            images, labels = images.to(device, non_blocking=pin), labels.to(device, non_blocking=pin)
            logits = model(images)
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
    print(f"python {args.method} wall_s={time.perf_counter() - START:.3f} train_s={train_s:.3f} "
          f"epoch_s={','.join(f'{s:.3f}' for s in epoch_seconds)} top1={correct / len(test):.4f} "
          f"loss={loss_sum / len(test):.4f} threads={torch.get_num_threads()}")


if __name__ == "__main__":
    main()

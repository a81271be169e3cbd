"""The PyTorch side of scripts/gpu_check.sh's ViT step benchmark: what `method_step --methods lora --targets
attn.qkv` times in peft, as a timm + Hugging Face peft user writes it. timm's own vit_base_patch16_224 (random
weights, 5 classes), Hugging Face peft's LoRA (r 8, alpha 8) on every block's attn.qkv with the head trained,
torch.optim.AdamW; one step = forward, cross-entropy, backward, update, on random images of a fixed seed. Prints one
JSON line: {"side": "python", "step_s": median of the rounds, "rounds": [...], "torch": ..., "timm": ..., "peft": ...}.

Usage: vit_step.py [--variant vit_base_patch16_224] [--batch 32] [--steps 5] [--rounds 3] [--device cuda]
                   [--threads N]
"""
import argparse
import json
import time

import peft
import timm
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", default="vit_base_patch16_224")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = timm.create_model(args.variant, pretrained=False, num_classes=5)
    config = peft.LoraConfig(r=8, lora_alpha=8, target_modules=["qkv"], modules_to_save=["head"])
    model = peft.get_peft_model(model, config).to(device)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    size = model.base_model.model.default_cfg["input_size"][-1]
    images = torch.randn(args.batch, 3, size, size, device=device)
    labels = torch.randint(0, 5, (args.batch,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()  # warm-up
    rounds = []
    for _ in range(args.rounds):
        synchronize()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        synchronize()
        rounds.append((time.perf_counter() - start) / args.steps)
    print(json.dumps({"side": "python", "step_s": sorted(rounds)[len(rounds) // 2], "rounds": rounds,
                      "torch": torch.__version__, "timm": timm.__version__, "peft": peft.__version__}))


if __name__ == "__main__":
    main()

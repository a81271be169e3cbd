"""peft's `vit` backbone against timm itself (the project venv's timm, scripts/install_python.sh).

Usage: check_vit_timm.py PEFT WORK_DIR   (check_vit_timm.sh makes WORK_DIR and removes it)

Every model is made here by timm (`timm.create_model` of a real architecture name peft's variant table has,
pretrained=False, seeded, then its parameters moved off their initial values so that biases, norms and the head
are non-trivial); nothing is downloaded. The images are mini-vtab's (`peft data mini-vtab`, from Debian's
Fashion-MNIST), read back here from the PNGs and preprocessed exactly as peft's vtab1k protocol does
(core/data/transforms.cpp: straight resize to the model size, bilinear (antialiased only when shrinking), uint8
round trip, grey to three channels, (x - mean) / std with the backbone's or the checkpoint folder's mean and std).
timm's eval-mode logits give the loss (mean cross-entropy) and top-1, which must equal what `peft eval --json`
prints: loss to 1e-5 relative, top-1 exactly, the same image count.

(a) timm models read by peft:
    a1  vit_tiny_patch16_224 (224x224, 12 blocks) as a plain safetensors state dict: `peft eval RECIPE
        --checkpoint FILE` with `variant = "vit_tiny_patch16_224"`.
    a2  the same model as the timm hub folder timm's own `save_for_hf` writes (config.json + model.safetensors),
        with ImageNet mean/std in its pretrained_cfg: `peft eval RECIPE --checkpoint DIR`, the architecture, size
        and preprocessing coming from config.json as README.md says.
    a3  vit_tiny_patch16_224 built at 32x32 with patch 4 and 2 blocks (the base of (b)) as the recipe's own
        `[backbone] checkpoint`: `peft eval RECIPE`.
(b) runs trained by peft go back to timm: 4 AdamW steps (32 images, batch 8, lr 0.01) of LoRA (r 4 on qkv, proj,
    fc1, fc2) and of GIFT (PaCa, its defaults, on attn.proj) on the a3 model, then `peft merge RUN -o merged.safetensors`:
    - timm's model (the same create_model call) loads the merged file with load_state_dict(strict=True), every
      tensor float32 and of timm's shape;
    - the merge changed the adapted sites' weights and the (trained) head and left every other tensor of the base
      checkpoint bit for bit;
    - timm's loss/top-1 with the merged weights equal `peft eval RUN` (the run's adapted model) on the test split;
    - LoRA only: the merged weights are W + (alpha / r) B A of the run's adapter_model.safetensors and its head;
      Hugging Face peft's PeftModel.from_pretrained(timm model, RUN) (the run's adapter_config.json and
      adapter_model.safetensors on timm's module tree, head from modules_to_save) gives the same loss/top-1.

Prints one line per check, then "N passed, M failed"; exit 1 when anything failed.
"""

import json
import math
import os
import struct
import subprocess
import sys
import time
import traceback
import zlib

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

torch.set_num_threads(1)
TOL = 1e-5
ARCH = "vit_tiny_patch16_224"  # a timm architecture name that is also a peft variant (backbones/vit/vit_config.cpp)
SMALL = dict(img_size=32, patch_size=4, depth=2)  # the cheap model (b) trains: the same name, fields overridden
NUM_CLASSES = 5  # mini-vtab novel
EVAL_SPLIT = "test"
results = []  # (name, ok)


def record(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    results.append((name, ok))
    return ok


# --- images -----------------------------------------------------------------------------------------------------

def read_png(path):
    """An 8-bit non-interlaced PNG (grey, grey+alpha, RGB, RGBA) as uint8 [C, H, W]; alpha dropped."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise ValueError(f"{path}: only 8-bit non-interlaced grey/RGB PNGs are read here")
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    image = torch.frombuffer(bytearray(b"".join(rows)), dtype=torch.uint8).reshape(height, width, channels)
    image = image.permute(2, 0, 1)
    return image[:1] if channels <= 2 else image[:3]


def preprocess(image, size, mean, std, interpolation="bilinear"):
    """core/data/transforms.cpp's vtab1k path: resize straight to size x size, no crop, no flip (evaluation)."""
    x = image.to(torch.float32)
    if x.shape[1] != size or x.shape[2] != size:
        shrinking = size < x.shape[1] or size < x.shape[2]
        x = F.interpolate(x[None], size=(size, size), mode=interpolation, align_corners=False,
                          antialias=shrinking)[0]
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    x = x.round().clamp(0, 255) / 255.0
    mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)
    return ((x - mean) / std).contiguous()


class Split:
    def __init__(self, root, name):
        self.images, labels = [], []
        for line in open(os.path.join(root, f"{name}.txt")):
            line = line.rstrip("\n")
            if not line:
                continue
            path, label = line.rsplit(" ", 1)
            self.images.append(read_png(os.path.join(root, path)))
            labels.append(int(label))
        self.labels = torch.tensor(labels, dtype=torch.int64)
        self._cache = {}

    def batch(self, size, mean, std):
        key = (size, tuple(mean), tuple(std))
        if key not in self._cache:
            self._cache[key] = torch.stack([preprocess(i, size, mean, std) for i in self.images])
        return self._cache[key]


def timm_metrics(model, split, size, mean, std, batch=50):
    """Loss (mean cross-entropy, summed per batch as peft's task does) and top-1 of timm's eval-mode forward."""
    model.eval()
    x = split.batch(size, mean, std)
    total, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(split.labels), batch):
            logits = model(x[start:start + batch])
            labels = split.labels[start:start + batch]
            total += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += int((logits.argmax(1) == labels).sum())
    n = len(split.labels)
    return {"loss": total / n, "top1": correct / n, "images": n}


def compare_metrics(name, peft_metrics, ref, oracle="timm"):
    loss_rel = abs(peft_metrics["loss"] - ref["loss"]) / max(abs(ref["loss"]), 1e-30)
    ok = (peft_metrics["images"] == ref["images"] and abs(peft_metrics["top1"] - ref["top1"]) < 1e-12
          and loss_rel <= TOL and math.isfinite(peft_metrics["loss"]))
    return record(name, ok, f"peft loss {peft_metrics['loss']:.7f} top-1 {peft_metrics['top1']:.4f} "
                            f"({peft_metrics['images']} images) | {oracle} loss {ref['loss']:.7f} top-1 "
                            f"{ref['top1']:.4f} ({ref['images']}) | loss rel diff {loss_rel:.2e} (tol {TOL:g})")


# --- models -----------------------------------------------------------------------------------------------------

def make_timm(seed, **overrides):
    import timm
    torch.manual_seed(seed)
    return timm.create_model(ARCH, pretrained=False, num_classes=NUM_CLASSES, **overrides).eval()


def perturb(model, seed):
    """Move every parameter off timm's initialisation, so biases, norms, pos_embed and the head all matter."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            parameter.add_(noise * (0.1 if parameter.ndim == 1 else 0.02))
        model.head.weight.mul_(5.0)
    return model


# --- peft -------------------------------------------------------------------------------------------------------

class PeftFailed(RuntimeError):
    """peft exited non-zero: its message is the failure (no Python traceback needed)."""


class Peft:
    def __init__(self, exe, work):
        self.exe, self.work = exe, work
        self.env = dict(os.environ, OMP_NUM_THREADS="1", PEFT_PLUGIN_PATH="")

    def __call__(self, *args):
        started = time.time()
        done = subprocess.run([self.exe, *args], cwd=self.work, env=self.env, capture_output=True, text=True)
        print(f"     $ peft {' '.join(args)}  ({time.time() - started:.1f} s, exit {done.returncode})")
        if done.returncode != 0:
            raise PeftFailed(f"peft {' '.join(args)} exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        return done.stdout

    def eval_json(self, *args):
        return json.loads(self(*args, "--json"))


def recipe(path, name, checkpoint, method, options=None, targets=None, backbone=None, train=None):
    lines = ["schema_version = 1", f'name = "{name}"', "seed = 0", "threads = 1", "", "[backbone]",
             'plugin = "vit"', f'checkpoint = "{checkpoint}"']
    for key, value in (backbone or {}).items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += ["", "[method]", f'plugin = "{method}"']
    if targets:
        lines.append(f"targets = {json.dumps(targets)}")
    if options:
        lines.append("[method.options]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    lines += ["", "[data]", 'format = "vtab1k"', 'root = "data/novel"', 'train_split = "train32"',
              f'eval_split = "{EVAL_SPLIT}"', "workers = 0", "", "[train]", "eval_batch_size = 50"]
    for key, value in (train or {}).items():
        lines.append(f"{key} = {json.dumps(value)}")
    lines += ["", "[output]", "checkpoint = false"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.path.basename(path)


def checked(name, step):
    """Run one check's steps; an exception is that check's failure, with the reason."""
    try:
        step()
    except Exception as exc:
        record(name, False, str(exc) if isinstance(exc, PeftFailed) else f"{type(exc).__name__}: {exc}")
        if not isinstance(exc, PeftFailed):
            traceback.print_exc(file=sys.stdout)


# --- the checks -------------------------------------------------------------------------------------------------

def main():
    exe, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    started = time.time()
    import timm
    from timm.models._hub import save_for_hf
    print(f"-- timm {timm.__version__}, torch {torch.__version__}; peft {exe}; work {work}")
    peft = Peft(exe, work)

    # mini-vtab, smallest: 100 test images per task, a 32-image training split for the runs.
    peft("data", "mini-vtab", "--out", "data", "--pretrain-images", "10", "--test-images", "100")
    novel = os.path.join(work, "data", "novel")
    with open(os.path.join(novel, "train800.txt")) as src, open(os.path.join(novel, "train32.txt"), "w") as dst:
        dst.writelines(src.readlines()[:32])
    split = Split(novel, EVAL_SPLIT)
    half, imagenet = ([0.5] * 3, [0.5] * 3), ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])

    # (a) timm's models, as files and as timm's hub folder.
    big = perturb(make_timm(0), 100)
    save_file(big.state_dict(), os.path.join(work, "tiny224.safetensors"), metadata={"format": "pt"})
    ref224 = timm_metrics(big, split, 224, *half)

    def a1():
        r = recipe(os.path.join(work, "a1.toml"), "a1", "tiny224.safetensors", "linear_probe",
                   backbone={"variant": ARCH})
        compare_metrics(f"a1 {ARCH} 224 safetensors file: peft eval --checkpoint FILE = timm",
                        peft.eval_json("eval", r, "--checkpoint", "tiny224.safetensors"), ref224)

    def a2():
        save_for_hf(big, os.path.join(work, "tiny224_hub"), safe_serialization=True,
                    data_config={"mean": imagenet[0], "std": imagenet[1]})
        ref = timm_metrics(big, split, 224, *imagenet)
        r = recipe(os.path.join(work, "a2.toml"), "a2", "tiny224_hub", "linear_probe")
        compare_metrics(f"a2 {ARCH} 224 timm save_for_hf folder (ImageNet mean/std): peft eval --checkpoint DIR = "
                        "timm", peft.eval_json("eval", r, "--checkpoint", "tiny224_hub"), ref)

    checked("a1", a1)
    checked("a2", a2)
    del big

    # (a3) the small model: the base of the runs.
    base = perturb(make_timm(1, **SMALL), 101)
    base_state = {k: v.clone() for k, v in base.state_dict().items()}
    save_file(base_state, os.path.join(work, "base.safetensors"), metadata={"format": "pt"})
    small = dict(variant=ARCH, **SMALL)

    def a3():
        r = recipe(os.path.join(work, "a3.toml"), "a3", "base.safetensors", "linear_probe", backbone=small)
        compare_metrics(f"a3 {ARCH} img 32 patch 4 depth 2 as [backbone] checkpoint: peft eval RECIPE = timm",
                        peft.eval_json("eval", r), timm_metrics(base, split, 32, *half))

    checked("a3", a3)

    # (b) trained by peft, merged, back into timm.
    runs = {
        "lora": dict(method="lora", targets=["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"],
                     options={"r": 4, "lora_alpha": 8}),
        "gift": dict(method="gift", targets=None, options={}),
    }
    for name, spec in runs.items():
        def run_check(name=name, spec=spec):
            r = recipe(os.path.join(work, f"b_{name}.toml"), f"b_{name}", "base.safetensors", spec["method"],
                       options=spec["options"], targets=spec["targets"], backbone=small,
                       train={"epochs": 1, "batch_size": 8, "lr": 0.01, "eval_every": 0})
            run_dir = os.path.join("runs", name)
            peft("run", r, "--out", run_dir)
            peft_metrics = peft.eval_json("eval", run_dir)
            merged_file = f"{name}_merged.safetensors"
            peft("merge", run_dir, "-o", merged_file)
            merged = load_file(os.path.join(work, merged_file))
            # peft_adapter.json: the sites the method is attached to (GIFT's adapter_config.json is peft's own)
            sites = json.load(open(os.path.join(work, run_dir, "peft_adapter.json")))["sites"]

            model = make_timm(2, **SMALL)
            try:
                model.load_state_dict(merged, strict=True)
                bad = [k for k, v in merged.items() if v.dtype != torch.float32]
                record(f"b {name}: timm load_state_dict(strict=True) of peft merge's file", not bad,
                       f"{len(merged)} tensors" + (f", not float32: {bad}" if bad else ", all float32"))
            except Exception as exc:
                record(f"b {name}: timm load_state_dict(strict=True) of peft merge's file", False, str(exc))
                return

            changed = sorted(k for k in merged if not torch.equal(merged[k], base_state[k]))
            adapted = {f"{s}.weight" for s in sites}
            expected_changed = adapted | {"head.weight", "head.bias"}
            unexpected = [k for k in changed if k not in expected_changed]
            unchanged_sites = sorted(adapted - set(changed))
            delta = max(((merged[k] - base_state[k]).abs().max().item() for k in adapted), default=0.0)
            record(f"b {name}: merge changed exactly the adapted sites and the head",
                   bool(adapted) and not unexpected and not unchanged_sites and "head.weight" in changed,
                   f"{len(adapted)} sites ({', '.join(sorted(sites)[:2])}{', ...' if len(sites) > 2 else ''}), "
                   f"max |dW| {delta:.3e}; other tensors changed: {unexpected or 'none'}; "
                   f"sites left unchanged: {unchanged_sites or 'none'}")

            compare_metrics(f"b {name}: timm with the merged weights = peft eval RUN", peft_metrics,
                            timm_metrics(model, split, 32, *half))

            if spec["method"] == "lora":
                # the merged weights are W + (alpha / r) B A of the run's own adapter file, site by site
                adapter = load_file(os.path.join(work, run_dir, "adapter_model.safetensors"))
                scale = spec["options"]["lora_alpha"] / spec["options"]["r"]
                worst = 0.0
                for site in sites:
                    a = adapter[f"base_model.model.{site}.lora_A.weight"].double()
                    b = adapter[f"base_model.model.{site}.lora_B.weight"].double()
                    want = base_state[f"{site}.weight"].double() + scale * b @ a
                    got = merged[f"{site}.weight"].double()
                    worst = max(worst, ((got - want).abs().max() / want.abs().max()).item())
                head_ok = all(torch.equal(merged[k], adapter[f"base_model.model.{k}"]) for k in ("head.weight",
                                                                                                 "head.bias"))
                record(f"b {name}: merged = W + (alpha/r) B A from adapter_model.safetensors, head = its head",
                       worst <= TOL and head_ok, f"{len(sites)} sites, max rel diff {worst:.2e} (tol {TOL:g}); "
                                                 f"head {'identical' if head_ok else 'DIFFERS'}")

                from peft import PeftModel
                hf_base = make_timm(3, **SMALL)
                hf_base.load_state_dict(base_state, strict=True)  # the run's backbone checkpoint
                hf = PeftModel.from_pretrained(hf_base, os.path.join(work, run_dir)).eval()
                compare_metrics(f"b {name}: HF peft PeftModel.from_pretrained(timm model, RUN) = peft eval RUN",
                                peft_metrics, timm_metrics(hf, split, 32, *half), oracle="HF peft")

        checked(f"b {name}", run_check)

    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed ({time.time() - started:.0f} s)")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

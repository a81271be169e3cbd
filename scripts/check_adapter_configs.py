"""Checks adapter folders as Hugging Face peft reads them: each DIR/**/adapter_config.json that names a peft_type
must be a config the installed peft builds (PeftConfig.from_pretrained) and, with its adapter_model.safetensors,
one it can apply: the config is injected into a model made of the modules the tensors name (Linear layers of the
tensors' shapes, the saved heads as they are) and the tensors load with no key missing or left over.

    peft test-plugin --adapter-configs DIR [PLUGIN.so]     # every method's files on the suite's backbones
    python scripts/check_adapter_configs.py DIR

Exit 0 when every folder passes, 1 (each problem on a line) otherwise. Folders without peft_type (peft's own
format) are counted and skipped.
"""
import json
import os
import sys
import warnings

import torch
from peft import PeftConfig, inject_adapter_in_model, set_peft_model_state_dict
from safetensors.torch import load_file

PREFIX = "base_model.model."
ADAPTER_PARTS = (".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector", ".ia3_l")


def linear_shapes(tensors):
    """(in, out, bias) per module the tensors name, as small as the tensors allow."""
    shapes = {}
    for name, tensor in tensors.items():
        part = next((p for p in ADAPTER_PARTS if name.endswith(p)), None)
        if part is None:  # a saved module's own parameter (modules_to_save): weight [out, in], bias [out]
            module, parameter = name.rsplit(".", 1)
            entry = shapes.setdefault(module, [1, 1, False])
            if parameter == "weight" and tensor.dim() == 2:
                entry[0], entry[1] = tensor.shape[1], tensor.shape[0]
            elif parameter == "bias":
                entry[2] = True
            continue
        module = name[: -len(part)]
        entry = shapes.setdefault(module, [1, 1, False])
        if part == ".lora_A.weight":
            entry[0] = tensor.shape[1]
        elif part == ".lora_B.weight":
            entry[1] = tensor.shape[0]
        elif part == ".ia3_l":
            entry[0 if tensor.shape[0] == 1 else 1] = tensor.numel()
    return shapes


def model_of(shapes):
    root = torch.nn.Module()
    for path, (fan_in, fan_out, bias) in shapes.items():
        parent = root
        *parents, leaf = path.split(".")
        for segment in parents:
            if not hasattr(parent, segment):
                parent.add_module(segment, torch.nn.Module())
            parent = getattr(parent, segment)
        parent.add_module(leaf, torch.nn.Linear(fan_in, fan_out, bias=bias))
    return root


def check(folder):
    config = PeftConfig.from_pretrained(folder)
    tensors = {name[len(PREFIX):] if name.startswith(PREFIX) else name: tensor
               for name, tensor in load_file(os.path.join(folder, "adapter_model.safetensors")).items()}
    model = model_of(linear_shapes(tensors))
    with warnings.catch_warnings():
        # The model holds only the adapted modules, so exclude_modules may exclude nothing here; a module the
        # config does not select is found below, as tensors left over.
        warnings.simplefilter("ignore")
        model = inject_adapter_in_model(config, model)
    result = set_peft_model_state_dict(model, tensors)
    problems = []
    if result.unexpected_keys:
        problems.append("tensors peft does not load: " + ", ".join(sorted(result.unexpected_keys)))
    missing = [key for key in result.missing_keys if any(p in key for p in ("lora_", "ia3_"))]
    if missing:
        problems.append("adapter tensors peft expects but the file lacks: " + ", ".join(sorted(missing)))
    return problems


def main(root):
    checked = skipped = 0
    failures = []
    for folder, _, files in sorted(os.walk(root)):
        if "adapter_config.json" not in files:
            continue
        with open(os.path.join(folder, "adapter_config.json")) as file:
            if "peft_type" not in json.load(file):
                skipped += 1
                continue
        checked += 1
        try:
            failures += [f"{os.path.relpath(folder, root)}: {p}" for p in check(folder)]
        except Exception as error:  # what peft raised is the finding
            failures.append(f"{os.path.relpath(folder, root)}: {type(error).__name__}: {error}")
    import peft
    for failure in failures:
        print(failure)
    print(f"{checked} Hugging Face peft adapter folders (peft {peft.__version__}): {checked - len(failures)} read "
          f"and applied, {len(failures)} problems; {skipped} in peft's own format")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))

#!/usr/bin/env python3
"""How alike a run's cluster maps are: reads `peft explain`'s maps.safetensors (pure Python, no numpy) and prints,
per run, the median over images and pairs of maps of one layer of |correlation over space|, for the W + dW maps and
for the W-alone maps, with the range of the per-layer medians. 1.0 means every map of a layer is one map repeated.

  bench/map_correlation.py NAME=RUN/explain/maps.safetensors [NAME=...]
"""
import math
import statistics
import struct
import sys

from safetensors_file import read_safetensors


def read_maps(path):
    """{name: (shape, flat tuple of floats)} for the F32 tensors of a safetensors file."""
    maps = {}
    for name, (dtype, shape, raw) in read_safetensors(path).items():
        if dtype != "F32":
            raise SystemExit(f"{path}: {name} is {dtype}, expected F32")
        maps[name] = (shape, struct.unpack(f"<{len(raw) // 4}f", raw))
    return maps


def pairwise_abs_correlations(shape, values):
    """|correlation| over space of every pair of the K maps [K, h, w]."""
    k = shape[0]
    size = len(values) // k
    centred = []
    for i in range(k):
        row = values[i * size:(i + 1) * size]
        mean = sum(row) / size
        row = [v - mean for v in row]
        norm = math.sqrt(sum(v * v for v in row)) or 1e-12
        centred.append([v / norm for v in row])
    return [abs(sum(a * b for a, b in zip(centred[i], centred[j]))) for i in range(k) for j in range(i + 1, k)]


def summary(path):
    """Maps per layer, and {"W + dW" | "W alone": (median, lowest layer median, highest layer median, layers)}."""
    by_layer = {}
    maps = 0
    for name, (shape, values) in read_maps(path).items():
        maps = shape[0]
        # `<image>.<layer>[.frozen]`
        layer = name.split(".", 1)[1]
        by_layer.setdefault(layer, []).extend(pairwise_abs_correlations(shape, values))
    result = {}
    for kind, frozen in (("W + dW", False), ("W alone", True)):
        layers = {l: c for l, c in by_layer.items() if l.endswith(".frozen") == frozen}
        if not layers:
            continue
        every = [c for cs in layers.values() for c in cs]
        medians = [statistics.median(cs) for cs in layers.values()]
        result[kind] = (statistics.median(every), min(medians), max(medians), len(layers))
    return maps, result


def main(arguments):
    if not arguments or any("=" not in a for a in arguments):
        raise SystemExit(__doc__)
    print("| run | maps | layers | median abs. correlation (W + dW) | per layer | W alone | per layer |")
    print("|---|---:|---:|---:|---|---:|---|")
    for argument in arguments:
        name, path = argument.split("=", 1)
        maps, rows = summary(path)
        cells = []
        for kind in ("W + dW", "W alone"):
            if kind in rows:
                median, low, high, layers = rows[kind]
                cells += [f"{median:.3f}", f"{low:.3f} to {high:.3f}"]
            else:
                cells += ["", ""]
        layers = rows["W + dW"][3]
        print(f"| {name} | {maps} | {layers} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

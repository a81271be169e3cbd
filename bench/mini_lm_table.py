#!/usr/bin/python3
"""The mini-lm table from bench/mini_lm.sh's run folders: OUT/<method>/<task>/seed<S>/summary.json, base.json."""
import argparse
import json
import pathlib
import statistics

# task -> (metric, shown as a percentage)
TASKS = {"lm-science": ("perplexity", False), "topic": ("top1", True), "arith": ("exact_match", True)}


def shown(values, percent):
    if not values:
        return "–"
    scale = 100 if percent else 1
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{scale * statistics.mean(values):.2f} ± {scale * std:.2f}" if len(values) > 1 else \
        f"{scale * values[0]:.2f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--methods", default="", help="the script's method lines: name|plugin|targets|options|lr")
    args = parser.parse_args()
    lines = [m.split("|") for m in args.methods.splitlines() if m]
    header = [f"{task} ({metric.replace('_', ' ')})" for task, (metric, _) in TASKS.items()]
    print("| method | targets | lr | trainable (lm-science) | " + " | ".join(header) + " | seeds |")
    print("|---" * (len(TASKS) + 5) + "|")
    base = {}
    for name, *_ in lines:
        for task in TASKS:
            file = args.out / name / task / "base.json"
            if file.exists() and task not in base:
                base[task] = json.loads(file.read_text())[TASKS[task][0]]
    print("| zero-shot base | – | – | 0 | " + " | ".join(
        shown([base[t]], TASKS[t][1]) if t in base else "–" for t in TASKS) + " | – |")
    for name, plugin, targets, options, lr in lines:
        per_task, trainable, seeds = {}, "–", []
        for task, (metric, _) in TASKS.items():
            files = sorted((args.out / name / task).glob("seed*/summary.json"))
            for file in files:
                summary = json.loads(file.read_text())
                per_task.setdefault(task, []).append(summary["final"][metric])
                if task == "lm-science":
                    trainable = f"{summary['trainable_parameters']['total']:,}"
            seeds.append(len(files))
        where = "every tensor" if plugin == "full" else targets.strip("[]").replace(chr(34), "")
        print(f"| {name} | {where} | {lr} | {trainable} | "
              + " | ".join(shown(per_task.get(t, []), p) for t, (_, p) in TASKS.items())
              + f" | {min(seeds) if seeds else 0} |")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The mini-lm table from bench/mini_lm.sh's sweep folders: OUT/<method>/<task>/{results.csv, final_seed*/},
OUT/<task>-base.json."""
import argparse
import csv
import json
import pathlib
import statistics

# task -> (metric, shown as a percentage)
TASKS = {"lm-science": ("perplexity", False), "topic": ("top1", True), "arith": ("exact_match", True)}


def shown(values, percent):
    if not values:
        return "–"
    scale = 100 if percent else 1
    if len(values) == 1:
        return f"{scale * values[0]:.2f}"
    return f"{scale * statistics.mean(values):.2f} ± {scale * statistics.stdev(values):.2f}"


def selected_lr(sweep):
    """The learning rate the sweep selected on val (its final runs' configuration), or '–' before it finished."""
    file = sweep / "results.csv"
    if not file.exists():
        return "–"
    for row in csv.DictReader(file.open()):
        if row["phase"] == "final":
            return row["config"].replace("train.lr=", "")
    return "–"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--methods", default="", help="the script's method lines: name|plugin|targets|options|lrs")
    args = parser.parse_args()
    lines = [m.split("|") for m in args.methods.splitlines() if m]
    header = [f"{task} {metric.replace('_', ' ')}" for task, (metric, _) in TASKS.items()]
    print("| method | targets | trainable (lm-science) | " + " | ".join(header) + " | lr chosen on val |")
    print("|---" * (len(TASKS) + 4) + "|")
    base = {}
    for task, (metric, _) in TASKS.items():
        file = args.out / f"{task}-base.json"
        if file.exists():
            base[task] = json.loads(file.read_text())[metric]
    print("| zero-shot base | – | 0 | " + " | ".join(
        shown([base[t]], TASKS[t][1]) if t in base else "–" for t in TASKS) + " | – |")
    for name, plugin, targets, *_ in lines:
        per_task, trainable, lrs = {}, "–", []
        for task, (metric, _) in TASKS.items():
            sweep = args.out / name / task
            for file in sorted(sweep.glob("final_seed*/summary.json")):
                summary = json.loads(file.read_text())
                per_task.setdefault(task, []).append(summary["final"][metric])
                if task == "lm-science":
                    trainable = f"{summary['trainable_parameters']['total']:,}"
            lrs.append(selected_lr(sweep))
        where = "every tensor" if plugin == "full" else targets.strip("[]").replace(chr(34), "")
        print(f"| {name} | {where} | {trainable} | "
              + " | ".join(shown(per_task.get(t, []), p) for t, (_, p) in TASKS.items())
              + f" | {' / '.join(lrs)} |")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The mini-vtab accuracy table from bench/mini_vtab.sh's run folders: OUT/<method>/<task>/seed<S>/summary.json."""
import argparse
import json
import pathlib
import statistics

TASKS = ["novel", "rotation", "location", "count", "inverted"]


def mean_std(values):
    if not values:
        return "–"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.1f} ± {100 * std:.1f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--epochs", default="?")
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--methods", default="", help="the script's method lines: name|plugin|targets|options|lr")
    args = parser.parse_args()

    lines = [m.split("|") for m in args.methods.splitlines() if m]
    print(f"| method | targets | lr | trainable (with head) | % of backbone | adapter file | "
          + " | ".join(TASKS) + " | mean | seeds | train s/run |")
    print("|---" * (len(TASKS) + 9) + "|")
    for name, plugin, targets, options, lr in lines:
        per_task, summaries = {}, []
        for task in TASKS:
            for summary_file in sorted((args.out / name / task).glob("seed*/summary.json")):
                summary = json.loads(summary_file.read_text())
                summaries.append(summary)
                per_task.setdefault(task, []).append(summary["final"]["top1"])
        if not summaries:
            continue
        # The head's size differs by task (2 to 5 classes); the row shows novel's (5 classes) or the first run's.
        shown = next((s for s in summaries if s["num_classes"] == 5), summaries[0])
        trainable = shown["trainable_parameters"]
        seeds = min(len(v) for v in per_task.values()) if per_task else 0
        # The mean over tasks of the per-seed means; ± the std over seeds of the per-seed task means.
        by_seed = [statistics.mean(per_task[t][i] for t in TASKS if t in per_task) for i in range(seeds)]
        seconds = statistics.mean(s["timing"]["wall_seconds"] for s in summaries)
        print(f"| {name} | {targets.strip('[]').replace(chr(34), '') or 'default'} | {lr} | "
              f"{trainable['total']:,} | {trainable['percent_of_backbone']:.3f} % | "
              f"{shown['adapter_bytes'] / 1024:.1f} KiB | "
              + " | ".join(mean_std(per_task.get(t, [])) for t in TASKS)
              + f" | **{mean_std(by_seed)}** | {seeds} | {seconds:.1f} |")
    print(f"\nTop-1 (%) on each task's 1,000 test images, mean ± std over seeds; {args.epochs} epochs on "
          f"train800val200; {args.runs} runs trained in {args.seconds} s ({args.seconds / 60:.1f} min).")


if __name__ == "__main__":
    main()

"""Grouping quality and speed of `patterns.mining` on labelled message sets.

    python -m patterns.benchmarks.grouping ../shared/bench

reads `loghub2k/<Dataset>.tsv` (16 public log datasets) and
`autopack_errors/autopack_errors.tsv` (real Autopack failures) from the bench
folder given, clusters each with ONE configuration, scores the result with the
folder's own `score_grouping.py` (GA, FGA) and prints a markdown table with
messages per second. The data stays where it is: its licence is research-only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from patterns.mining import cluster

LOGHUB_DATASETS = [
    "HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
    "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac",
]


def _scorer(bench_dir: Path):
    path = bench_dir / "score_grouping.py"
    spec = importlib.util.spec_from_file_location("score_grouping", path)
    if not path.is_file() or spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score


def _labelled(path: Path) -> tuple[list[str], list[str]]:
    labels, messages = [], []
    with path.open(encoding="utf-8", newline="") as lines:
        for line in lines:
            label, _, message = line.rstrip("\r\n").partition("\t")
            labels.append(label)
            messages.append(message)
    return labels, messages


def measure(path: Path, score, repeat: int) -> dict:
    labels, messages = _labelled(path)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        predicted = cluster(messages)
        timings.append(time.perf_counter() - started)
    result = score(labels, predicted)
    elapsed = statistics.median(timings)
    return {
        "messages": len(messages),
        "GA": result["GA"],
        "FGA": result["FGA"],
        "groups": result["gt_groups"],
        "patterns": result["pred_groups"],
        "seconds": elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_dir", type=Path, help="folder with loghub2k/, autopack_errors/ "
                                                     "and score_grouping.py")
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)
    score = _scorer(options.bench_dir)

    rows = {name: measure(options.bench_dir / "loghub2k" / f"{name}.tsv", score, options.repeat)
            for name in LOGHUB_DATASETS}
    autopack = measure(options.bench_dir / "autopack_errors" / "autopack_errors.tsv", score,
                       options.repeat)
    total_messages = sum(row["messages"] for row in rows.values())
    total_seconds = sum(row["seconds"] for row in rows.values())
    summary = {
        "GA": statistics.mean(row["GA"] for row in rows.values()),
        "FGA": statistics.mean(row["FGA"] for row in rows.values()),
        "messages_per_second": total_messages / total_seconds,
    }

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}")
    print("| dataset | messages | groups | patterns | GA | FGA |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        print(f"| {name} | {row['messages']:,} | {row['groups']} | {row['patterns']} | "
              f"{row['GA']:.3f} | {row['FGA']:.3f} |")
    print(f"| **loghub average** | {total_messages:,} | | | **{summary['GA']:.3f}** | "
          f"**{summary['FGA']:.3f}** |")
    print(f"| autopack_errors | {autopack['messages']:,} | {autopack['groups']} | "
          f"{autopack['patterns']} | {autopack['GA']:.3f} | {autopack['FGA']:.3f} |")
    print(f"\nloghub speed: {summary['messages_per_second']:,.0f} messages/s "
          f"(masking + grouping, median of {options.repeat})")
    if options.json:
        options.json.write_text(
            json.dumps({"loghub": rows, "summary": summary, "autopack_errors": autopack},
                       indent=2),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

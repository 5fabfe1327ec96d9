"""Grouping quality and speed of `patterns.mining` on labelled message sets.

    python -m patterns.benchmarks.grouping ../shared/bench

reads `loghub2k/<Dataset>.tsv` (16 public log datasets) and
`autopack_errors/autopack_errors.tsv` (real Autopack failures) from the bench
folder given, clusters each with ONE configuration, scores the result with the
folder's own `score_grouping.py` (GA, FGA) and prints a markdown table with
messages per second. The data stays where it is: its licence is research-only.

For autopack_errors it also simulates the review of merge suggestions
(`patterns.similarity`): an operator answers them most similar first, and says yes
when the ground truth puts the two patterns' messages under one cause. And it
measures how far those answers carry to messages nobody reviewed (random halves).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from patterns.mining import (
    FailureMessage,
    KnownPattern,
    MiningResult,
    cluster,
    combine_regexes,
    mine,
)
from patterns.similarity import DEFAULT_MIN_SCORE, pattern_text, suggest_merges

# The FGA the issue asks for on autopack_errors; the review reports how many answers
# reach it.
REVIEW_TARGET_FGA = 0.70

LOGHUB_DATASETS = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "BGL",
    "HPC",
    "Thunderbird",
    "Windows",
    "Linux",
    "Android",
    "HealthApp",
    "Apache",
    "Proxifier",
    "OpenSSH",
    "OpenStack",
    "Mac",
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


def _reviewed(
    result: MiningResult,
    labels: Sequence[str],
    min_score: float,
    after_answer: Callable[[Callable[[str], str]], None] | None = None,
) -> tuple[dict[str, str], int, int]:
    """Simulate an operator answering `result`'s merge suggestions at least
    `min_score` similar, most similar first. A suggestion whose two patterns an
    earlier yes already joined needs no answer; the answer is yes when most
    messages of both patterns share a ground-truth cause. Returns each pattern's
    merge target (itself when unmerged), the answers given and the yeses.
    `after_answer`, if given, is called after each answer with the merge target of
    each pattern so far."""
    members: dict[str, list[str]] = {}
    for label, pattern_id in zip(labels, result.assignments, strict=True):
        members.setdefault(pattern_id, []).append(label)
    cause = {pid: statistics.mode(found) for pid, found in members.items()}
    joined = {pattern.pattern_id: pattern.pattern_id for pattern in result.patterns}

    def root(pattern_id: str) -> str:
        while joined[pattern_id] != pattern_id:
            pattern_id = joined[pattern_id]
        return pattern_id

    texts = [pattern_text(p.pattern_id, p.template, p.samples, p.count) for p in result.patterns]
    answered = confirmed = 0
    for suggestion in suggest_merges(texts, min_score=min_score):
        source, target = root(suggestion.source), root(suggestion.target)
        if source == target:
            continue
        answered += 1
        if cause[suggestion.source] == cause[suggestion.target]:
            confirmed += 1
            joined[source] = target
        if after_answer is not None:
            after_answer(root)
    return {pattern_id: root(pattern_id) for pattern_id in joined}, answered, confirmed


def with_review(path: Path, score, min_score: float = DEFAULT_MIN_SCORE) -> dict:
    """Grouping after an operator answers every merge suggestion at least `min_score`
    similar (see `_reviewed`)."""
    labels, messages = _labelled(path)
    result = mine([FailureMessage(text=text) for text in messages])
    fga_after: list[float] = []  # FGA after each answer: how much review a target takes

    def record(merge_target: Callable[[str], str]) -> None:
        merged = [merge_target(pattern_id) for pattern_id in result.assignments]
        fga_after.append(score(labels, merged)["FGA"])

    target, answered, confirmed = _reviewed(result, labels, min_score, record)
    figures = score(labels, [target[pattern_id] for pattern_id in result.assignments])
    reaching = next(
        (count for count, fga in enumerate(fga_after, start=1) if fga >= REVIEW_TARGET_FGA), None
    )
    return {
        "min_score": min_score,
        "answered": answered,
        "confirmed": confirmed,
        "GA": figures["GA"],
        "FGA": figures["FGA"],
        "patterns": figures["pred_groups"],
        "target_FGA": REVIEW_TARGET_FGA,
        "answers_to_reach_target": reaching,
    }


def held_out_review(
    path: Path, score, min_score: float = DEFAULT_MIN_SCORE, splits: int = 10
) -> dict:
    """Do answers carry over to messages nobody reviewed? Per seeded random split:
    review the suggestions on one half, store the result as the command does (a
    merged pattern finds its sources' messages too), mine the other half against
    it and score that half, next to mining that half alone. Means over the splits."""
    labels, messages = _labelled(path)
    alone, carried = [], []
    for seed in range(splits):
        order = list(range(len(messages)))
        random.Random(seed).shuffle(order)
        seen, unseen = order[: len(order) // 2], order[len(order) // 2 :]
        result = mine([FailureMessage(text=messages[i]) for i in seen])
        target, _, _ = _reviewed(result, [labels[i] for i in seen], min_score)
        regexes: dict[str, list[str]] = {}
        for pattern in result.patterns:
            regexes.setdefault(target[pattern.pattern_id], []).append(pattern.regex)
        known = [
            KnownPattern(pattern_id=pid, regex=combine_regexes(found))
            for pid, found in regexes.items()
        ]
        fresh = [FailureMessage(text=messages[i]) for i in unseen]
        truth = [labels[i] for i in unseen]
        alone.append(score(truth, mine(fresh).assignments)["FGA"])
        carried.append(score(truth, mine(fresh, known).assignments)["FGA"])
    return {
        "splits": splits,
        "min_score": min_score,
        "FGA_alone": statistics.mean(alone),
        "FGA_with_answers": statistics.mean(carried),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "bench_dir", type=Path, help="folder with loghub2k/, autopack_errors/ and score_grouping.py"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args(argv)
    score = _scorer(options.bench_dir)

    rows = {
        name: measure(options.bench_dir / "loghub2k" / f"{name}.tsv", score, options.repeat)
        for name in LOGHUB_DATASETS
    }
    autopack_path = options.bench_dir / "autopack_errors" / "autopack_errors.tsv"
    autopack = measure(autopack_path, score, options.repeat)
    reviewed = with_review(autopack_path, score)
    held_out = held_out_review(autopack_path, score)
    total_messages = sum(row["messages"] for row in rows.values())
    total_seconds = sum(row["seconds"] for row in rows.values())
    summary = {
        "GA": statistics.mean(row["GA"] for row in rows.values()),
        "FGA": statistics.mean(row["FGA"] for row in rows.values()),
        "messages_per_second": total_messages / total_seconds,
    }

    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}"
    )
    print("| dataset | messages | groups | patterns | GA | FGA |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['messages']:,} | {row['groups']} | {row['patterns']} | "
            f"{row['GA']:.3f} | {row['FGA']:.3f} |"
        )
    print(
        f"| **loghub average** | {total_messages:,} | | | **{summary['GA']:.3f}** | "
        f"**{summary['FGA']:.3f}** |"
    )
    print(
        f"| autopack_errors | {autopack['messages']:,} | {autopack['groups']} | "
        f"{autopack['patterns']} | {autopack['GA']:.3f} | {autopack['FGA']:.3f} |"
    )
    print(
        f"| autopack_errors after review | {autopack['messages']:,} | {autopack['groups']} | "
        f"{reviewed['patterns']} | {reviewed['GA']:.3f} | {reviewed['FGA']:.3f} |"
    )
    reaching = reviewed["answers_to_reach_target"]
    print(
        f"\nreview: {reviewed['answered']} merge suggestions with similarity >= "
        f"{reviewed['min_score']} answered, {reviewed['confirmed']} confirmed; FGA "
        f"{reviewed['target_FGA']:.2f} "
        + (f"reached after {reaching} answers" if reaching else "not reached")
    )
    print(
        f"answers carried to unreviewed messages: FGA {held_out['FGA_alone']:.3f} alone, "
        f"{held_out['FGA_with_answers']:.3f} with the answers on the other half "
        f"(mean of {held_out['splits']} random halves)"
    )
    print(
        f"loghub speed: {summary['messages_per_second']:,.0f} messages/s "
        f"(masking + grouping, median of {options.repeat})"
    )
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "loghub": rows,
                    "summary": summary,
                    "autopack_errors": autopack,
                    "autopack_errors_reviewed": reviewed,
                    "autopack_errors_held_out": held_out,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

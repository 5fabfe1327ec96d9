"""Comparison reports of replays: plain data in, plain data and text out (no Django).

A side is one run's figures: {"run_id", "state", "phases_complete", "phases_failed",
"phases_total", "tokens": {the four categories and total_tokens}, "duration_seconds"}.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

SUCCESS_STATE = "DONE_SUCCESS"
TOKEN_KEYS = (
    "retrieval_tokens",
    "second_opinion_tokens",
    "evidence_request_tokens",
    "base_tokens",
    "total_tokens",
)


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def run_comparison(
    *,
    original: Mapping,
    replay: Mapping,
    attempt_status: str,
    attempt_error: str,
    ab_valid: bool,
    ab_errors: Sequence[str],
    patterns: Sequence[str],
) -> dict:
    """Original vs replay: states, phases, tokens and their deltas, durations,
    recovered or not, A/B validity, and the patterns the replay's failures match."""
    return {
        "original": dict(original),
        "replay": dict(replay),
        "attempt": {"status": attempt_status, "error": attempt_error},
        "recovered": replay["state"] == SUCCESS_STATE,
        "deltas": {
            "tokens": {key: replay["tokens"][key] - original["tokens"][key] for key in TOKEN_KEYS},
            "phases_complete": replay["phases_complete"] - original["phases_complete"],
            "phases_failed": replay["phases_failed"] - original["phases_failed"],
            "duration_seconds": _delta(replay["duration_seconds"], original["duration_seconds"]),
        },
        "ab_validity": {"is_valid": ab_valid, "errors": list(ab_errors)},
        "replay_failure_patterns": sorted(patterns),
    }


def campaign_summary(
    *,
    campaign: Mapping,
    attempts: Mapping[str, int],
    comparisons: Sequence[Mapping],
    statistics: Mapping | None,
    expanded_patterns: Sequence[Mapping] = (),
) -> dict:
    """Runs replayed, recovered, still failing (with the patterns they match), token
    deltas summed and as experiment statistics, and the campaign's time."""
    still_failing = [
        {
            "original": comparison["original"]["run_id"],
            "replay": comparison["replay"]["run_id"],
            "state": comparison["replay"]["state"],
            "patterns": comparison["replay_failure_patterns"],
        }
        for comparison in comparisons
        if not comparison["recovered"]
    ]
    recovered = sum(1 for comparison in comparisons if comparison["recovered"])
    return {
        "campaign": dict(campaign),
        "attempts": dict(attempts),
        "runs_replayed": len(comparisons),
        "recovered": recovered,
        "recovery_rate": recovered / len(comparisons) if comparisons else None,
        "still_failing": still_failing,
        "token_deltas": {
            key: sum(comparison["deltas"]["tokens"][key] for comparison in comparisons)
            for key in TOKEN_KEYS
        },
        "ab_statistics": dict(statistics) if statistics is not None else None,
        "expanded_patterns": list(expanded_patterns),
    }


def still_failing_pattern_counts(comparisons: Sequence[Mapping]) -> list[tuple[str, int]]:
    """How many still-failing replays match each pattern, most first (ties by id)."""
    counts: dict[str, int] = {}
    for comparison in comparisons:
        if not comparison.get("recovered"):
            for pattern_id in comparison.get("replay_failure_patterns", []):
                counts[pattern_id] = counts.get(pattern_id, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def summary_markdown(summary: Mapping) -> str:
    campaign = summary["campaign"]
    rate = summary["recovery_rate"]
    lines = [
        f"# Replay campaign {campaign['id']}",
        "",
        f"- Status: {campaign['status']}; executor {campaign['executor']}; "
        f"started {campaign['started_at'] or '-'}, finished {campaign['finished_at'] or '-'}"
        + (f" ({campaign['seconds']:.1f} s)" if campaign.get("seconds") is not None else ""),
        f"- Runs replayed: {summary['runs_replayed']}; recovered: {summary['recovered']}"
        + (f" ({rate:.0%})" if rate is not None else ""),
        "- Attempts: "
        + ", ".join(f"{status} {n}" for status, n in summary["attempts"].items() if n),
        "",
        "## Token deltas (replay − original, summed)",
        "",
        "| category | delta |",
        "| --- | ---: |",
        *(f"| {key} | {value:+,} |" for key, value in summary["token_deltas"].items()),
        "",
        "## Still failing",
        "",
    ]
    if summary["still_failing"]:
        lines += ["| original | replay | state | patterns |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {row['original']} | {row['replay']} | {row['state']} | "
            f"{', '.join(row['patterns']) or '-'} |"
            for row in summary["still_failing"]
        ]
    else:
        lines.append("None: every replay recovered.")
    if summary["expanded_patterns"]:
        lines += ["", "## Patterns of the replays that still failed", ""]
        lines += [
            f"- `{pattern['pattern_id']}` ({pattern['count']}): {pattern['template']}"
            for pattern in summary["expanded_patterns"]
        ]
    statistics = summary["ab_statistics"]
    if statistics:
        lines += ["", "## A/B statistics (valid pairs only)", ""]
        lines.append(f"```json\n{json.dumps(statistics, indent=2, default=str)}\n```")
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, document: object) -> None:
    write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")

"""Does the way a failure is logged change its pattern? (It must not.)

    python -m patterns.benchmarks.robustness ../shared/bench [--json]

Renders every real Autopack message of `autopack_errors/` under each way production
logs it — log-record prefixes (timestamps, levels, logger names, Python logging's
formats, syslog), reporter tags and markers, pytest's, wrappers reporting a reason
under a head, exception qualification, and other values in the slots that name a
thing — then mines the bare and the rendered messages together as one corpus. It
prints, per rendering, the share of messages whose pattern is the bare message's,
and GA/FGA of the bare set alone and of the mixed corpus (labels carried over).
With `--json`: one document, `{"bare": {"GA", "FGA"}, "mixed": {"GA", "FGA"},
"renderings": [{"name", "messages", "unchanged_share"}]}`, and nothing else.

The renderings are seeded: every run renders the same lines.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from patterns.benchmarks.grouping import _labelled, _scorer
from patterns.mining import cluster

Render = Callable[[str, random.Random], str | None]

LOGGERS = ["autopack.autonomous_executor", "autopack.llm", "autopack.governed_apply", "root"]
LEVELS = ["ERROR", "WARNING", "CRITICAL", "INFO"]
HOSTS = ["buildhost", "ci-runner-3", "ip-10-0-4-17"]


def _stamp(rng: random.Random) -> str:
    return (
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    )


def _iso(rng: random.Random) -> str:
    zone = rng.choice(["Z", "+01:00", "-05:00", "+0530", ""])
    fraction = rng.choice(["", f".{rng.randint(0, 999):03d}", f".{rng.randint(0, 999999):06d}"])
    return _stamp(rng).replace(" ", "T") + fraction + zone


def python_default(message: str, rng: random.Random) -> str:
    """`%(levelname)s:%(name)s:%(message)s` (logging.basicConfig's default)."""
    return f"{rng.choice(LEVELS)}:{rng.choice(LOGGERS)}:{message}"


def asctime_level_name(message: str, rng: random.Random) -> str:
    """`%(asctime)s %(levelname)s %(name)s: %(message)s`."""
    millis = rng.randint(0, 999)
    return f"{_stamp(rng)},{millis:03d} {rng.choice(LEVELS)} {rng.choice(LOGGERS)}: {message}"


def asctime_name_level(message: str, rng: random.Random) -> str:
    """`%(asctime)s - %(name)s - %(levelname)s - %(message)s`."""
    millis = rng.randint(0, 999)
    return f"{_stamp(rng)},{millis:03d} - {rng.choice(LOGGERS)} - {rng.choice(LEVELS)} - {message}"


def iso8601(message: str, rng: random.Random) -> str:
    """ISO 8601 with `T`, fractions, `Z` or an offset; a bracketed level and logger."""
    level = rng.choice([f"[{rng.choice(LEVELS)}]", rng.choice(LEVELS), ""])
    logger = rng.choice([f"[{rng.choice(LOGGERS)}]", ""])
    return " ".join(part for part in (_iso(rng), level, logger, message) if part)


def syslog(message: str, rng: random.Random) -> str:
    """`Feb  3 10:41:07 host prog[123]: message`."""
    month = rng.choice(["Jan", "Feb", "Mar", "Oct", "Nov", "Dec"])
    clock = _stamp(rng)[-8:]
    program = rng.choice(["autopack", "autopack-executor", "python3"])
    pid = rng.randint(2, 65000)
    return (
        f"{month} {rng.randint(1, 28):>2} {clock} {rng.choice(HOSTS)} {program}[{pid}]: {message}"
    )


def level_spellings(message: str, rng: random.Random) -> str:
    """A level however it is spelled: `ERROR`, `[ERROR]`, `ERROR:`, `- ERROR -`, `level=error`."""
    level = rng.choice(LEVELS)
    spelled = rng.choice(
        [
            level,
            f"[{level}]",
            f"{level}:",
            f"- {level} -",
            f"level={level.lower()}",
            f"{level.title()}:",
        ]
    )
    return f"{spelled} {message}"


def reporter_tags(message: str, rng: random.Random) -> str:
    """`[Integrity]`, `[CI]`, `[LLM]`, `[Builder]`, a run or phase id in brackets."""
    run = f"build{rng.randint(100, 199)}-{rng.choice(['telemetry', 'docs', 'fix'])}"
    tag = rng.choice(
        [
            "[Integrity]",
            "[CI]",
            "[LLM]",
            "[Builder]",
            f"[{run}]",
            f"[{run}-phase{rng.randint(0, 9)}]",
        ]
    )
    return f"{tag} {message}"


def markers(message: str, rng: random.Random) -> str:
    """Emoji and symbols a reporter puts first."""
    return f"{rng.choice(['❌', '⚠️', '!!', '✗', '🔥'])} {message}"


def pytest_lines(message: str, rng: random.Random) -> str:
    """pytest's `E   ` and `FAILED tests/x.py::test_y - `."""
    if rng.random() < 0.5:
        return f"E   {message}"
    module = rng.choice(["test_executor", "test_llm_client", "test_governed_apply"])
    test = rng.choice(["test_apply", "test_retry_budget", "test_truncation[case3]"])
    return f"FAILED tests/{module}.py::{test} - {message}"


def wrappers(message: str, rng: random.Random) -> str:
    """A reason reported under a head."""
    head = rng.choice(
        [
            "Builder failed",
            "Execution failed",
            f"Attempt {rng.randint(1, 5)} raised exception",
            f"Retry {rng.randint(1, 4)}/5 also failed",
            "Error message",
        ]
    )
    return f"{head}: {message}"


def qualification(message: str, rng: random.Random) -> str:
    """An exception class, qualified or not, before the reason."""
    exception = rng.choice(
        [
            "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError)",
            "sqlite3.OperationalError:",
            "(sqlite3.OperationalError)",
            "requests.exceptions.HTTPError:",
            "autopack.errors.PatchApplyError:",
        ]
    )
    return f"{exception} {message}"


def production_line(message: str, rng: random.Random) -> str:
    """All at once, as a production log line carries them."""
    tagged = reporter_tags(wrappers(message, rng), rng)
    return asctime_level_name(tagged, rng)


# Values in slots that name a thing: quoted names, module/table/column names, files,
# models, hosts, providers.
_SLOT_VALUES = re.compile(
    r"(?P<lead>\b(?:module|attribute|argument|named|column|table|key|field) )"
    r"(?P<quoted>'[A-Za-z_][\w.\-]{0,80}'|\"[A-Za-z_][\w.\-]{0,80}\")"
    r"|(?<=\bnamed )(?P<named>[A-Za-z_][\w.]*)"
    r"|(?<=\btable )(?P<table>[a-z_][\w]*)"
    r"|(?<=\bcolumn )(?P<column>[a-z_][\w]*)"
    r"|(?<=\bprovider )(?P<provider>[a-z][\w-]*)"
    r"|(?P<model>\b(?:claude|gpt|gemini|glm)-[\w.\-]+)"
    r"|(?P<file>(?<![\w/.])[\w-]+\.(?:py|json|yaml|yml|md|toml|txt)\b)"
)
_SWAPS = {
    "quoted": ["'tiktoken'", "'qdrant_client'", "'yaml'", "'run_scope'", "'PhaseState'"],
    "named": ["tiktoken", "qdrant_client", "yaml", "psutil"],
    "table": ["runs", "phases", "token_budget_events"],
    "column": ["run_scope", "tokens_used", "decision_info"],
    "provider": ["openai", "anthropic", "google", "zhipu"],
    "model": ["claude-haiku-4-5", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-pro"],
    "file": ["governed_apply.py", "llm_service.py", "config.yaml", "README.md"],
}
_SWAPPED_STOP_WORDS = {"named", "table", "column", "provider"}


def value_swaps(message: str, rng: random.Random) -> str | None:
    """The same message with other values in its slots (None: it has no slot)."""

    def swap(match: re.Match) -> str:
        kind = match.lastgroup
        lead = match.group("lead") or ""
        current = match.group(0)[len(lead) :]
        if kind != "quoted" and current in _SWAPPED_STOP_WORDS:
            return current
        choices = [value for value in _SWAPS[kind] if value.strip("'\"") != current.strip("'\"")]
        value = rng.choice(choices)
        if kind == "quoted":
            value = current[0] + value.strip("'\"") + current[0]
        return lead + value

    swapped = _SLOT_VALUES.sub(swap, message)
    return swapped if swapped != message else None


RENDERINGS: dict[str, Render] = {
    "python_default": python_default,
    "asctime_level_name": asctime_level_name,
    "asctime_name_level": asctime_name_level,
    "iso8601": iso8601,
    "syslog": syslog,
    "level_spellings": level_spellings,
    "reporter_tags": reporter_tags,
    "markers": markers,
    "pytest": pytest_lines,
    "wrappers": wrappers,
    "qualification": qualification,
    "production_line": production_line,
    "value_swaps": value_swaps,
}


@dataclass(frozen=True)
class Rendered:
    rendering: str
    source: int  # index of the bare message
    text: str


def rendered_corpus(messages: list[str], seed: int = 20260203) -> list[Rendered]:
    rendered = []
    for name, render in RENDERINGS.items():
        for index, message in enumerate(messages):
            rng = random.Random(f"{seed}:{name}:{index}")
            # Multi-line messages (tracebacks) carry the prefix on their first line.
            text = render(message, rng)
            if text is not None:
                rendered.append(Rendered(name, index, text))
    return rendered


def measure(bench_dir: Path) -> dict:
    score = _scorer(bench_dir)
    labels, messages = _labelled(bench_dir / "autopack_errors" / "autopack_errors.tsv")
    bare = score(labels, cluster(messages))
    rendered = rendered_corpus(messages)
    mixed_texts = messages + [item.text for item in rendered]
    keys = cluster(mixed_texts)
    bare_keys, rendered_keys = keys[: len(messages)], keys[len(messages) :]
    mixed = score(labels + [labels[item.source] for item in rendered], keys)
    renderings = []
    for name in RENDERINGS:
        pairs = [
            (bare_keys[item.source], key)
            for item, key in zip(rendered, rendered_keys, strict=True)
            if item.rendering == name
        ]
        unchanged = sum(1 for before, after in pairs if before == after)
        renderings.append(
            {
                "name": name,
                "messages": len(pairs),
                "unchanged_share": round(unchanged / len(pairs), 4) if pairs else 1.0,
            }
        )
    return {
        "bare": {"GA": round(bare["GA"], 4), "FGA": round(bare["FGA"], 4)},
        "mixed": {"GA": round(mixed["GA"], 4), "FGA": round(mixed["FGA"], 4)},
        "renderings": renderings,
    }


def changed_examples(bench_dir: Path, rendering: str, limit: int = 10) -> list[tuple[str, str]]:
    """(bare, rendered) pairs of `rendering` whose patterns differ: what still fails."""
    _, messages = _labelled(bench_dir / "autopack_errors" / "autopack_errors.tsv")
    rendered = rendered_corpus(messages)
    keys = cluster(messages + [item.text for item in rendered])
    bare_keys, rendered_keys = keys[: len(messages)], keys[len(messages) :]
    return [
        (messages[item.source], item.text)
        for item, key in zip(rendered, rendered_keys, strict=True)
        if item.rendering == rendering and key != bare_keys[item.source]
    ][:limit]


def report(figures: dict) -> str:
    lines = [
        f"bare:  GA {figures['bare']['GA']:.3f}  FGA {figures['bare']['FGA']:.3f}",
        f"mixed: GA {figures['mixed']['GA']:.3f}  FGA {figures['mixed']['FGA']:.3f}",
        "",
        "| rendering | messages | unchanged |",
        "| --- | ---: | ---: |",
    ]
    for row in figures["renderings"]:
        lines.append(f"| {row['name']} | {row['messages']} | {row['unchanged_share']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_dir", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON document, nothing else")
    parser.add_argument("--show", metavar="RENDERING", help="print messages it still changes")
    options = parser.parse_args(argv)
    if options.show:
        for bare, rendered in changed_examples(options.bench_dir, options.show, limit=20):
            sys.stdout.write(f"- {bare}\n+ {rendered}\n\n")
        return 0
    figures = measure(options.bench_dir)
    sys.stdout.write((json.dumps(figures) if options.json else report(figures)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

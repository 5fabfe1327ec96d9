"""How fast merge suggestions are at the most patterns the review compares.

    python -m patterns.benchmarks.suggestions [--patterns 2000] [--seed 7]

Generates patterns whose templates and five samples are Zipf-distributed words
(a few common, most rare, as in failure logs; samples 5-30 words longer than their
template, as messages are), then times what the admin's review page and the API
compute: every pair at least 0.25 similar, and one pattern's pairs. Deterministic
for a given --seed.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time

from patterns.similarity import MAX_PATTERNS_COMPARED, PatternText, pattern_text, suggest_merges

VOCABULARY_SIZE = 20_000
SAMPLES = 5


def synthetic_patterns(count: int, seed: int) -> list[PatternText]:
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 11)))
        for _ in range(VOCABULARY_SIZE)
    ]
    zipf = [1 / rank for rank in range(1, VOCABULARY_SIZE + 1)]

    def words(n: int) -> str:
        return " ".join(rng.choices(vocabulary, zipf, k=n))

    patterns = []
    for index in range(count):
        template = words(rng.randint(4, 12))
        samples = [f"{template} {words(rng.randint(5, 30))}" for _ in range(SAMPLES)]
        patterns.append(
            pattern_text(f"pattern_{index}", template, samples, occurrences=rng.randint(1, 500))
        )
    return patterns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patterns", type=int, default=MAX_PATTERNS_COMPARED)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    if options.patterns < 2:
        parser.error("--patterns must be at least 2")
    patterns = synthetic_patterns(options.patterns, options.seed)

    started = time.perf_counter()
    every_pair = suggest_merges(patterns, min_score=0.25)
    all_seconds = time.perf_counter() - started
    started = time.perf_counter()
    suggest_merges(patterns, min_score=0.25, involving=patterns[0].pattern_id)
    one_seconds = time.perf_counter() - started

    compared = min(len(patterns), MAX_PATTERNS_COMPARED)
    print(
        f"patterns: {len(patterns):,} ({compared:,} compared); "
        f"suggestions >= 0.25: {len(every_pair):,}"
    )
    print(f"every pair: {all_seconds:.2f} s")
    print(f"one pattern's pairs: {one_seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

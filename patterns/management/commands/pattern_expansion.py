"""Mine failure messages into patterns; generate detectors, tests and backlog entries."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from autopack_site.arguments import positive_int
from autopack_site.dates import BoundError, parse_bound
from metrics.selectors import unknown_run_ids
from patterns import codegen, registry
from patterns.input_files import InputFileError, read_failure_messages
from patterns.mining import MinedPattern, mine
from patterns.selectors import failure_messages, known_patterns
from patterns.services import pattern_code_generate, patterns_sync


def _bound(value: str | None, *, end_of_day: bool) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_bound(value, end_of_day=end_of_day)
    except BoundError as error:
        raise CommandError(str(error)) from None


class Command(BaseCommand):
    help = (
        "Cluster failure messages (failure events and phases' last failure reasons, or "
        "--input-file) into patterns, store them, and with --generate-code write a detector, "
        "its tests and a backlog entry for the top patterns."
    )

    def add_arguments(self, parser):
        base = Path(settings.BASE_DIR)
        parser.add_argument(
            "--run-id",
            action="append",
            default=[],
            dest="run_ids",
            help="Only this run's failures (repeatable).",
        )
        parser.add_argument("--since", help="Failures at or after this date/time.")
        parser.add_argument(
            "--until", help="Failures before this time, or up to the end of this date."
        )
        parser.add_argument(
            "--min-occurrences",
            type=positive_int,
            default=3,
            help="Least members of a pattern to store or generate (default 3).",
        )
        parser.add_argument(
            "--top",
            type=positive_int,
            default=5,
            help="Generate code for this many patterns (default 5).",
        )
        parser.add_argument(
            "--generate-code",
            action="store_true",
            help="Write detector, tests and backlog entry per top pattern.",
        )
        parser.add_argument("--output-dir", type=Path, default=registry.detectors_dir())
        parser.add_argument(
            "--tests-dir", type=Path, default=base / "patterns" / "tests" / "detectors"
        )
        parser.add_argument("--backlog-dir", type=Path, default=registry.backlog_dir())
        parser.add_argument(
            "--dry-run", action="store_true", help="Report only: store nothing, write no files."
        )
        parser.add_argument(
            "--input-file",
            type=Path,
            help="Mine this file (JSON Lines or one message per line) instead of the database.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print one JSON document (every pattern and each message's "
            "pattern id) on stdout; notes go to stderr.",
        )

    def handle(self, *args, **options):
        notes = self.stderr if options["json"] else self.stdout
        from_file = options["input_file"] is not None
        if from_file and (options["run_ids"] or options["since"] or options["until"]):
            raise CommandError(
                "--run-id, --since and --until filter the database; filter the input file instead"
            )
        if from_file:
            try:
                messages = read_failure_messages(options["input_file"])
            except InputFileError as error:
                raise CommandError(str(error)) from None
            known = []
        else:
            since = _bound(options["since"], end_of_day=False)
            until = _bound(options["until"], end_of_day=True)
            if since and until and since >= until:
                raise CommandError("--since must be before --until")
            if unknown := unknown_run_ids(options["run_ids"]):
                raise CommandError(f"no such run: {', '.join(unknown)}")
            messages = failure_messages(run_ids=options["run_ids"], since=since, until=until)
            known = known_patterns()

        result = mine(messages, known)
        eligible = [p for p in result.patterns if p.count >= options["min_occurrences"]]
        notes.write(
            f"Mined {len(messages)} failure messages into {len(result.patterns)} "
            f"patterns; {len(eligible)} with at least {options['min_occurrences']} "
            f"occurrences."
        )
        # Stored patterns and generated files land together: a file that fails its
        # check leaves the table as it was, and a failed store writes no file.
        counts, generated = None, []
        try:
            with transaction.atomic():
                if not options["dry_run"] and not from_file:
                    counts = patterns_sync(mined=eligible)
                if options["generate_code"]:
                    generated = pattern_code_generate(
                        mined=result.patterns,
                        top=eligible[: options["top"]],
                        total=len(messages),
                        output_dir=options["output_dir"],
                        tests_dir=options["tests_dir"],
                        backlog_dir=options["backlog_dir"],
                        dry_run=options["dry_run"],
                    )
        except codegen.GenerationError as error:
            raise CommandError(str(error)) from None

        if options["json"]:
            # One write: Django's OutputWrapper ends every write with a newline, so
            # json.dump's many small writes would put each token on its own line.
            self.stdout.write(
                json.dumps(
                    {
                        "patterns": [p.as_dict() for p in result.patterns],
                        "assignments": result.assignments,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            self._table(eligible)
        if options["dry_run"]:
            notes.write("Dry run: nothing stored, no files written.")
        elif counts is not None:
            notes.write(
                f"Patterns stored: {counts['created']} created, {counts['updated']} updated."
            )
        for path, status in generated:
            prefix = "would be " if options["dry_run"] and status in ("created", "updated") else ""
            notes.write(f"{prefix}{status}: {path}")

    def _table(self, patterns: list[MinedPattern]) -> None:
        if not patterns:
            self.stdout.write("No pattern has enough occurrences.")
            return
        self.stdout.write(f"{'pattern_id':<50} {'kind':<13} {'count':>6} {'runs':>5}  template")
        for pattern in patterns:
            template = (
                pattern.template if len(pattern.template) <= 80 else pattern.template[:77] + "..."
            )
            self.stdout.write(
                f"{pattern.pattern_id:<50} {pattern.kind:<13} {pattern.count:>6} "
                f"{len(pattern.run_ids):>5}  {template}"
            )

"""`manage.py bench_replay` runs and cleans up after itself (figures are its output,
not asserted: speed is measured by the benchmark, never by tests)."""

import json
from io import StringIO

from django.core.management import call_command

from abtests.models import ABTestResult
from metrics.models import Run
from replay.models import ReplayCampaign
from replay.tests.test_celery import BROKER, _redis


def _bench(*args: str) -> dict:
    out = StringIO()
    call_command("bench_replay", "--json", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def _nothing_left() -> bool:
    return not (
        Run.objects.exists() or ReplayCampaign.objects.exists() or ABTestResult.objects.exists()
    )


def test_the_in_process_figure_covers_every_replay_and_leaves_nothing(transactional_db):
    figures = _bench("--runs", "6", "--broker", "none")
    assert figures["replays"] == 6 and "celery" not in figures
    assert figures["pool"]["succeeded"] == 6 and figures["pool"]["status"] == "COMPLETED"
    assert figures["pool"]["ms_per_replay"] > 0
    assert _nothing_left()


def test_the_celery_figure_comes_from_real_workers(transactional_db):
    _redis()
    figures = _bench("--runs", "4", "--workers", "1", "--broker", BROKER)
    assert figures["celery"]["succeeded"] == 4 and figures["celery"]["status"] == "COMPLETED"
    assert _nothing_left()


def test_the_report_is_one_line_per_figure(transactional_db):
    out = StringIO()
    call_command("bench_replay", "--runs", "3", "--broker", "none", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("replay benchmark: 3 failed runs, batch size 5")
    assert lines[1].startswith("in-process pool: total ") and "ms per replay" in lines[1]

"""Campaigns end to end: `replay_campaign` with real executor subprocesses that drive a
live server of this project over HTTP (both databases)."""

import json
import signal
import threading
import time
from io import StringIO
from pathlib import Path

import psutil
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework_api_key.models import APIKey

from abtests.models import ABTestResult
from autopack_site.testing import database_url, manage_in_background, subprocess_env
from metrics.models import PhaseMetrics, Run
from replay.models import ReplayAttempt, ReplayCampaign
from replay.services import run_clone_for_replay
from replay.tests.factories import failed_run
from replay.tests.helpers import DRIVE, EXECUTORS, peak_concurrency


def replay(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("replay_campaign", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_campaign_replays_each_failed_run_compares_and_reports(replay_settings, tmp_path):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    originals = [failed_run(f"orig-{n}") for n in range(3)]
    out, err = replay("--json", "--batch-size", "2")
    assert err.startswith("Campaign replay-")
    document = json.loads(out)
    campaign = ReplayCampaign.objects.get()
    assert document["campaign"] == campaign.pk and document["status"] == "COMPLETED"
    assert document["attempts"]["SUCCEEDED"] == 3
    results = tmp_path / "results"
    for original in originals:
        attempt = campaign.attempts.get(original_run=original)
        replay_run = attempt.replay_run
        assert replay_run.replay_of_id == original.pk and replay_run.state == "DONE_SUCCESS"
        assert PhaseMetrics.objects.filter(run=replay_run).count() == 3
        assert attempt.exit_code == 0 and attempt.started_at and attempt.finished_at
        assert "recovered=True" in Path(attempt.log_path).read_text(encoding="utf-8")
        report = json.loads(Path(attempt.report_path).read_text(encoding="utf-8"))
        assert report["recovered"] is True and report["ab_validity"] == {
            "is_valid": True,
            "errors": [],
        }
        assert report["original"]["state"] == original.state
        assert report["deltas"]["phases_failed"] == -1
        assert report["deltas"]["tokens"]["total_tokens"] == (
            report["replay"]["tokens"]["total_tokens"]
            - report["original"]["tokens"]["total_tokens"]
        )
        assert Path(attempt.report_path).parent == results
    pairs = ABTestResult.objects.filter(test_id=campaign.pk)
    assert pairs.count() == 3 and all(pair.is_valid for pair in pairs)
    summary = json.loads((results / f"{campaign.pk}_summary.json").read_text(encoding="utf-8"))
    assert summary["runs_replayed"] == 3 and summary["recovered"] == 3
    assert summary["still_failing"] == [] and summary["ab_statistics"]["valid_pairs"] == 3
    markdown = (results / f"{campaign.pk}_summary.md").read_text(encoding="utf-8")
    assert f"# Replay campaign {campaign.pk}" in markdown and "recovered: 3 (100%)" in markdown
    # The key made for the executors is revoked once the campaign ends.
    assert APIKey.objects.get(name=f"replay {campaign.pk}").revoked


def test_a_replay_that_ran_on_other_code_is_an_invalid_pair(replay_settings, monkeypatch):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    monkeypatch.setenv("REPORT_SHA", "f" * 40)
    failed_run("elsewhere")
    replay()
    campaign = ReplayCampaign.objects.get()
    (pair,) = ABTestResult.objects.filter(test_id=campaign.pk)
    assert not pair.is_valid and pair.treatment_commit_sha == "f" * 40
    assert any("git_commit_sha" in error for error in pair.validity_errors)
    attempt = campaign.attempts.get()
    report = json.loads(Path(attempt.report_path).read_text(encoding="utf-8"))
    assert report["recovered"] is True and report["ab_validity"]["is_valid"] is False
    assert report["replay"]["git_commit_sha"] == "f" * 40


def test_each_misbehaving_executor_fails_only_its_own_attempt(replay_settings, tmp_path):
    pids = tmp_path / "pids"
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = (
        f"python {EXECUTORS / 'misbehave.py'} {{run_id}} {{api_url}} {pids}"
    )
    for how in ("ok", "exit3", "hang", "abort", "idle"):
        failed_run(f"{how}-run")
    replay("--batch-size", "5", "--timeout", "3")
    campaign = ReplayCampaign.objects.get()
    attempts = {a.original_run_id: a for a in campaign.attempts.select_related("replay_run")}
    expected = {
        "ok-run": ("SUCCEEDED", ""),
        "exit3-run": ("FAILED", "exited with code 3"),
        "hang-run": ("TIMED_OUT", "past the timeout"),
        "abort-run": ("ERROR", "crashed (signal"),
        "idle-run": ("ERROR", "without finishing the run (state RUN_CREATED)"),
    }
    for run_id, (status, reason) in expected.items():
        attempt = attempts[run_id]
        assert attempt.status == status and reason in attempt.error, run_id
        if status != "SUCCEEDED":
            assert attempt.replay_run.state == "DONE_FAILED_ENVIRONMENT"
            assert attempt.replay_run.failure_reason == attempt.error
    assert campaign.status == ReplayCampaign.Status.PARTIAL
    # The timeout killed the hanging executor and its child.
    (hang_pids,) = list(pids.iterdir())
    for pid in map(int, hang_pids.read_text(encoding="utf-8").split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_no_more_than_batch_size_executors_run_at_once(replay_settings, tmp_path, monkeypatch):
    record = tmp_path / "record.txt"
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + f" 1.0 {record}"
    monkeypatch.setenv("DRIVE_DELAY", "0.6")
    for n in range(5):
        failed_run(f"bound-{n}")
    replay("--batch-size", "2")
    assert peak_concurrency(record) == 2
    assert len(record.read_text(encoding="utf-8").splitlines()) == 10


def _counts(results: Path) -> tuple:
    files = sorted(results.rglob("*")) if results.exists() else []
    return (
        Run.objects.count(),
        ReplayCampaign.objects.count(),
        ReplayAttempt.objects.count(),
        APIKey.objects.count(),
        files,
    )


def test_a_dry_run_lists_the_selection_and_writes_nothing(replay_settings, tmp_path):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE
    failed_run("dry-1")
    failed_run("dry-2")
    before = _counts(tmp_path / "results")
    out, _ = replay("--dry-run")
    assert "Would replay 2 run(s)" in out and "dry-1" in out and "1 failed phase(s)" in out
    rows = json.loads(replay("--dry-run", "--json")[0])["runs"]
    assert [row["run_id"] for row in rows] == ["dry-1", "dry-2"]
    assert _counts(tmp_path / "results") == before


def test_refusals_name_the_problem_and_clone_nothing(replay_settings, monkeypatch):
    failed_run("refused")
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = ""
    with pytest.raises(CommandError, match="AUTOPACK_EXECUTOR_COMMAND is not set"):
        replay()
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE
    monkeypatch.delenv("AUTOPACK_ENABLE_PHASE6_METRICS")
    with pytest.raises(CommandError, match="AUTOPACK_ENABLE_PHASE6_METRICS"):
        replay()
    with pytest.raises(CommandError, match="no such run: ghost"):
        replay("--run-id", "ghost")
    with pytest.raises(CommandError, match=r"unknown run state 'BROKEN'.*DONE_FAILED_ENVIRONMENT"):
        replay("--state", "BROKEN")
    assert replay("--state", "DONE_SUCCESS")[0].strip() == "No runs match; nothing to replay."
    with pytest.raises(CommandError, match="--no-wait needs a task queue"):
        replay("--no-wait")
    assert not ReplayCampaign.objects.exists()
    assert not Run.objects.filter(replay_of__isnull=False).exists()


def test_sigterm_leaves_a_campaign_that_resume_finishes_without_cloning_twice(
    replay_settings, live_server, tmp_path, monkeypatch
):
    originals = [failed_run(f"term-{n}") for n in range(3)]
    env = subprocess_env(
        DATABASE_URL=database_url(connection.settings_dict),
        AUTOPACK_API_URL=live_server.url,
        AUTOPACK_EXECUTOR_COMMAND=DRIVE + " 1.0",
        AUTOPACK_REPLAY_RESULTS_DIR=str(tmp_path / "results"),
        DRIVE_DELAY="60",
    )
    command = manage_in_background("replay_campaign", "--batch-size", "2", env=env)
    try:
        deadline = time.monotonic() + 60
        while ReplayAttempt.objects.filter(status="RUNNING").count() < 2:
            assert time.monotonic() < deadline and command.poll() is None, command.stderr
            time.sleep(0.2)
        command.send_signal(signal.SIGTERM)
        _, stderr = command.communicate(timeout=30)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 130 and "--resume" in stderr
    campaign = ReplayCampaign.objects.get()
    attempts = list(campaign.attempts.order_by("pk"))
    assert [a.status for a in attempts] == ["QUEUED"] * 3
    clones = {a.original_run_id: a.replay_run_id for a in attempts if a.replay_run_id}
    assert len(clones) == 2 and Run.objects.filter(replay_of__isnull=False).count() == 2

    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    monkeypatch.setenv("DRIVE_DELAY", "0")
    replay("--resume", campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == ReplayCampaign.Status.COMPLETED
    assert Run.objects.filter(replay_of__isnull=False).count() == len(originals)
    for attempt in campaign.attempts.all():
        assert attempt.status == "SUCCEEDED"
        if attempt.original_run_id in clones:
            assert attempt.replay_run_id == clones[attempt.original_run_id]


def test_cancel_kills_running_attempts_from_another_process(replay_settings, monkeypatch):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    monkeypatch.setenv("DRIVE_DELAY", "60")
    failed_run("cancel-1")
    failed_run("cancel-2")
    outcome = {}

    def run_campaign():
        try:
            outcome["out"] = replay("--batch-size", "1")
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()

    # The campaign runs in a thread here; the cancel comes from this thread, as
    # from another process: through the database.
    worker = threading.Thread(target=run_campaign)
    worker.start()
    deadline = time.monotonic() + 30
    while not ReplayAttempt.objects.filter(status="RUNNING").exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    campaign = ReplayCampaign.objects.get()
    call_command("replay_campaign", "--cancel", campaign.pk, stdout=StringIO())
    worker.join(timeout=30)
    assert not worker.is_alive() and "error" not in outcome
    campaign.refresh_from_db()
    assert campaign.status == ReplayCampaign.Status.CANCELLED and campaign.finished_at
    assert sorted(campaign.attempts.values_list("status", flat=True)) == ["CANCELLED"] * 2
    assert not ABTestResult.objects.filter(test_id=campaign.pk).exists()


def test_expand_patterns_lists_the_patterns_of_the_replays_that_still_failed(replay_settings):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 0.0"
    for n in range(3):
        failed_run(f"still-{n}")
    replay("--expand-patterns")
    campaign = ReplayCampaign.objects.get()
    assert campaign.status == ReplayCampaign.Status.FAILED
    results = replay_settings.AUTOPACK_REPLAY_RESULTS_DIR
    summary = json.loads((results / f"{campaign.pk}_summary.json").read_text(encoding="utf-8"))
    assert summary["recovered"] == 0 and len(summary["still_failing"]) == 3
    expanded = summary["expanded_patterns"]
    assert expanded and sum(pattern["count"] for pattern in expanded) == 3
    markdown = (results / f"{campaign.pk}_summary.md").read_text(encoding="utf-8")
    assert "## Patterns of the replays that still failed" in markdown
    assert expanded[0]["pattern_id"] in markdown


def test_the_demo_executor_command_drives_a_run_to_its_end(live_server, phase6_on, api_key):
    run = failed_run("sim")
    clone = run_clone_for_replay(original=run)
    out = StringIO()
    call_command(
        "simulate_executor",
        clone.pk,
        "--api-url",
        live_server.url,
        "--api-key",
        api_key,
        "--recover-rate",
        "0",
        "--seed",
        "3",
        stdout=out,
    )
    clone.refresh_from_db()
    assert clone.state == "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    assert "FAILED (" in out.getvalue() and out.getvalue().strip().endswith(
        f"failed at {clone.phases.get(state='FAILED').phase_id}"
    )
    assert clone.events.filter(message__isnull=False).exists()
    with pytest.raises(CommandError, match="HTTP 404"):
        call_command(
            "simulate_executor", "nope", "--api-url", live_server.url, "--api-key", api_key
        )


def test_seed_demo_replays_runs_a_small_campaign_in_process(transactional_db, settings, tmp_path):
    settings.AUTOPACK_REPLAY_RESULTS_DIR = tmp_path
    for n in range(2):
        failed_run(f"demo-{n}")
    out = StringIO()
    call_command("seed_demo_replays", "--runs", "2", stdout=out)
    campaign = ReplayCampaign.objects.get()
    assert campaign.is_finished and campaign.attempts.count() == 2
    assert campaign.pk in out.getvalue()
    assert all(a.replay_run.is_terminal for a in campaign.attempts.select_related("replay_run"))
    # make demo clears them first, so the demo runs can be replaced.
    call_command("seed_demo_replays", "--clear", stdout=out)
    assert not ReplayCampaign.objects.exists() and not ABTestResult.objects.exists()
    assert not Run.objects.filter(replay_of__isnull=False).exists()
    assert Run.objects.filter(pk__startswith="demo-").count() == 2


def test_progress_is_plain_lines_off_a_terminal_and_nothing_extra_with_json(replay_settings):
    replay_settings.AUTOPACK_EXECUTOR_COMMAND = DRIVE + " 1.0"
    failed_run("shown-1")
    failed_run("shown-2")
    out, _ = replay("--batch-size", "1")
    lines = out.splitlines()
    progress = [line for line in lines if " done, " in line]
    assert progress and progress[-1].startswith("2/2 done, 0 running, 2 recovered, 0 failed")
    assert "ETA" in progress[-1] and "\r" not in out
    assert lines[-1].startswith("Campaign replay-") and "COMPLETED" in lines[-1]
    failed_run("shown-3")
    json_out, _ = replay("--json", "--run-id", "shown-3")
    assert json.loads(json_out)["status"] == "COMPLETED"  # one document, nothing else

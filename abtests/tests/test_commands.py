"""`manage.py ab_analysis`: report, persistence, exit codes."""

from io import StringIO

import pytest
from django.core.management import CommandError, base, call_command, load_command_class

from abtests.models import ABTestResult
from abtests.tests.factories import COMPLETE, FAILED, finished_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs():
    finished_run("ctl-1", phase_states=[COMPLETE, FAILED], tokens=(100, 20, 3, 1000))
    finished_run("trt-1", phase_states=[COMPLETE, COMPLETE], tokens=(150, 0, 3, 900))
    finished_run("ctl-2", phase_states=[COMPLETE, COMPLETE], tokens=(100, 0, 0, 1000))
    finished_run("trt-2", phase_states=[COMPLETE, COMPLETE], tokens=(100, 0, 0, 1100))
    finished_run("other-code", git_commit_sha="f" * 40, phase_states=[COMPLETE])


def ab_analysis(*args) -> str:
    out = StringIO()
    call_command("ab_analysis", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def exit_code(monkeypatch):
    """Run the command as `manage.py` does and return its process exit status.

    run_from_argv closes every connection when it finishes; keep the test's own
    transaction open (the command's behaviour is unchanged).
    """
    monkeypatch.setattr(base.connections, "close_all", lambda: None)
    return _exit_code


def _exit_code(*args) -> int:
    command = load_command_class("abtests", "ab_analysis")
    command.stdout = command.stderr = StringIO()
    try:
        command.run_from_argv(["manage.py", "ab_analysis", *args])
    except SystemExit as exc:
        return exc.code
    return 0


def test_valid_pair_report_and_row(runs):
    out = ab_analysis(
        "--control-run",
        "ctl-1",
        "--treatment-run",
        "trt-1",
        "--test-id",
        "exp-1",
        "--created-by",
        "ops",
    )
    assert "VALID" in out and "INVALID" not in out
    # two phases each: base 2 × 1000 → 2 × 900, retrieval 2 × 100 → 2 × 150
    assert "base_tokens                      2,000         1,800          -200" in out
    assert "total_tokens                     2,246         2,106          -140" in out
    assert "success rate: control 50.0%, treatment 100.0%, delta +50.0 pp" in out
    assert "Experiment exp-1: 1 valid pairs, 0 invalid" in out
    assert "no interval below 2 pairs" in out
    row = ABTestResult.objects.get()
    assert (row.test_id, row.created_by, row.is_valid, row.token_delta) == (
        "exp-1",
        "ops",
        True,
        -140,
    )


def test_several_pairs_end_with_experiment_statistics(runs):
    out = ab_analysis("--pair", "ctl-1:trt-1", "--pair", "ctl-2:trt-2", "--test-id", "exp-2")
    assert ABTestResult.objects.filter(test_id="exp-2", is_valid=True).count() == 2
    # token deltas -140 and +200: mean +30, t(0.975, 1) = 12.706, se = 170
    assert "mean token_delta: +30.0 (95% CI -2,130.1 … +2,190.1)" in out
    assert "success-rate delta: +25.0 pp (95% Newcombe CI" in out
    assert out.rstrip().endswith("Analysed 2 pairs for exp-2, all valid.")


def test_invalid_pair_is_recorded_and_fails_with_every_error(runs):
    with pytest.raises(CommandError) as raised:
        ab_analysis("--pair", "ctl-1:trt-1", "--pair", "ctl-2:other-code", "--test-id", "exp-3")
    message = str(raised.value)
    assert message.startswith("1 of 2 pairs invalid: ctl-2 vs other-code: git_commit_sha mismatch")
    assert list(ABTestResult.objects.order_by("id").values_list("is_valid", flat=True)) == [
        True,
        False,
    ]


def test_exit_codes(runs, exit_code):
    assert exit_code("--control-run", "ctl-2", "--treatment-run", "trt-2", "--test-id", "e") == 0
    assert exit_code("--control-run", "ctl-2", "--treatment-run", "ctl-2", "--test-id", "e") == 1
    assert exit_code("--control-run", "ctl-2", "--treatment-run", "ghost", "--test-id", "e") == 1


def test_dry_run_reports_and_stores_nothing(runs):
    out = ab_analysis(
        "--pair", "ctl-1:trt-1", "--pair", "ctl-2:trt-2", "--test-id", "exp-4", "--dry-run"
    )
    assert "DRY RUN: nothing was recorded." in out
    assert "Experiment exp-4: 2 valid pairs" in out
    assert not ABTestResult.objects.exists()


def test_unknown_run_is_named_and_nothing_recorded(runs):
    with pytest.raises(CommandError, match="Unknown run: run 'ghost' does not exist"):
        ab_analysis("--pair", "ctl-1:trt-1", "--pair", "ctl-2:ghost", "--test-id", "exp-5")
    assert not ABTestResult.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--test-id", "t"], "Pass --control-run and --treatment-run, or at least one --pair"),
        (["--test-id", "t", "--control-run", "a"], "--control-run and --treatment-run go together"),
        (
            ["--test-id", "t", "--control-run", "a", "--treatment-run", "b", "--pair", "a:b"],
            "not both",
        ),
        (["--test-id", "t", "--pair", "a-b"], "is not CONTROL:TREATMENT"),
        (["--test-id", "t", "--pair", "a:"], "is not CONTROL:TREATMENT"),
        (["--test-id", "bad id!", "--pair", "ctl-1:trt-1"], "Invalid input"),
    ],
)
def test_bad_arguments_are_refused(runs, args, message):
    with pytest.raises(CommandError, match=message):
        ab_analysis(*args)
    assert not ABTestResult.objects.exists()

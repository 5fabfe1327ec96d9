"""The mining scale benchmark: deterministic data, figures printed, bad sizes refused."""

import pytest

from patterns.benchmarks import scale
from patterns.mining import mine


def test_synthetic_failures_are_deterministic_and_mine_into_their_causes():
    messages = scale.synthetic_failures(800, seed=3)
    assert messages == scale.synthetic_failures(800, seed=3)
    result = mine(messages)
    # Eight shapes; `name '<x>' is not defined` is two causes (files, models). Doctor
    # rationales are free text after a shared prefix: one pattern, not hundreds.
    assert len(result.patterns) == 9
    doctor = [p for p in result.patterns if p.template.startswith("Action: rollback_run")]
    assert len(doctor) == 1 and doctor[0].count == 100


def test_main_prints_both_timings(capsys):
    assert scale.main(["--messages", "400", "--memory"]) == 0
    output = capsys.readouterr().out
    assert "messages: 400; patterns: 9" in output
    assert "mine() fresh data:" in output and "mine() against stored patterns:" in output
    assert "MiB traced" in output


def test_a_size_below_one_is_refused():
    with pytest.raises(SystemExit):
        scale.main(["--messages", "0"])

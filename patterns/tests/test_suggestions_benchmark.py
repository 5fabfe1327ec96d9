"""The merge-suggestion benchmark: deterministic data, figures printed, bad sizes refused."""

import pytest

from patterns.benchmarks import suggestions


def test_synthetic_patterns_are_deterministic_and_long_worded():
    patterns = suggestions.synthetic_patterns(30, seed=3)
    assert patterns == suggestions.synthetic_patterns(30, seed=3)
    assert len({p.pattern_id for p in patterns}) == 30
    # A template and five samples, each sample its template and more words.
    assert all(len(p.text.split("\n")) == 6 for p in patterns)


def test_main_prints_the_timings(capsys):
    assert suggestions.main(["--patterns", "60"]) == 0
    output = capsys.readouterr().out
    assert "patterns: 60 (60 compared)" in output
    assert "every pair:" in output and "one pattern's pairs:" in output


def test_fewer_than_two_patterns_are_refused():
    with pytest.raises(SystemExit):
        suggestions.main(["--patterns", "1"])

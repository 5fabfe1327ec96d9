"""The decisions the admin, the API and the command leave to services and selectors."""

import dataclasses

import pytest
from django.core.exceptions import ValidationError

from patterns import codegen, registry
from patterns.mining import FailureMessage, mine
from patterns.selectors import pattern_matches
from patterns.services import (
    MUST_NOT_MATCH_PER_PATTERN,
    pattern_code_generate,
    patterns_merge_into_most_frequent,
)
from patterns.tests.factories import PatternFactory

pytestmark = pytest.mark.django_db


def test_merging_a_selection_files_it_under_its_most_frequent_unmerged_pattern():
    elsewhere = PatternFactory(occurrences=1)
    busiest_but_merged = PatternFactory(occurrences=50, merged_into=elsewhere)
    target = PatternFactory(occurrences=9)
    rare = PatternFactory(occurrences=2)
    chosen, merged = patterns_merge_into_most_frequent(patterns=[rare, busiest_but_merged, target])
    assert chosen == target and merged == 2
    rare.refresh_from_db()
    busiest_but_merged.refresh_from_db()
    assert rare.merged_into == target and busiest_but_merged.merged_into == target


@pytest.mark.parametrize("how_many, reason", [(1, "at least two"), (0, "at least two")])
def test_merging_needs_two_patterns(how_many, reason):
    with pytest.raises(ValidationError, match=reason):
        patterns_merge_into_most_frequent(patterns=PatternFactory.create_batch(how_many))


def test_merging_refuses_a_selection_merged_elsewhere_already():
    target = PatternFactory()
    merged = PatternFactory.create_batch(2, merged_into=target)
    with pytest.raises(ValidationError, match="already merged elsewhere"):
        patterns_merge_into_most_frequent(patterns=merged)


def test_matches_count_a_merged_patterns_regex_for_its_target():
    target = PatternFactory(template="disk is full")
    PatternFactory(template="no space left on device", merged_into=target)
    matches = pattern_matches("write failed: no space left on device")
    assert matches == [
        {
            "pattern_id": target.pattern_id,
            "kind": target.kind,
            "status": target.status,
            "matched_by": ["regex"],
        }
    ]
    assert pattern_matches("all good") == []


def _mined():
    texts = [f"error: patch failed: src/m{n}.py:{n}" for n in range(4)] + [
        f"database is locked after {n + 2} retries" for n in range(4)
    ]
    return mine([FailureMessage(text=text) for text in texts]).patterns


def _dirs(tmp_path):
    return {name: tmp_path / name for name in ("output_dir", "tests_dir", "backlog_dir")}


def test_code_generation_dry_run_reports_and_writes_nothing(tmp_path):
    mined = _mined()
    statuses = pattern_code_generate(
        mined=mined, top=mined, total=8, dry_run=True, **_dirs(tmp_path)
    )
    assert [status for _, status in statuses] == ["created"] * 6
    assert not any(tmp_path.iterdir())


def test_code_generation_writes_each_top_pattern_and_the_registry_sees_it(tmp_path):
    mined = _mined()
    dirs = _dirs(tmp_path)
    statuses = pattern_code_generate(mined=mined, top=mined[:1], total=8, **dirs)
    assert [path.parent for path, _ in statuses] == list(dirs.values())
    detected = registry.detect_all(mined[0].samples[0], {}, directory=dirs["output_dir"])
    assert detected == [mined[0].pattern_id]
    # Its tests check it ignores the other pattern's samples.
    test_text = statuses[1][0].read_text(encoding="utf-8")
    assert repr(mined[1].samples[0]) in test_text
    assert len(mined[1].samples) > MUST_NOT_MATCH_PER_PATTERN


def test_a_file_that_fails_its_check_leaves_every_file_unwritten(tmp_path):
    good, other = _mined()
    bad = dataclasses.replace(other, pattern_id="Not-An-Id")
    with pytest.raises(codegen.GenerationError, match="pattern id"):
        pattern_code_generate(mined=[good, bad], top=[good, bad], total=8, **_dirs(tmp_path))
    assert not any(tmp_path.iterdir())

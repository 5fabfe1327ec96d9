"""People merge patterns of one cause; mining, detectors, admin and API follow (both databases)."""

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from metrics.models import DashboardEvent
from metrics.tests.factories import DashboardEventFactory, RunFactory
from patterns import registry
from patterns.mining import combine_regexes
from patterns.models import Pattern
from patterns.services import patterns_merge, patterns_unmerge
from patterns.tests.factories import PatternFactory

TRUNCATED = (
    "[TOKEN_BUDGET] TRUNCATION: phase=build13{}-docs used 16384/16384 tokens (100% utilization)"
)
STOP_REASON = "[Builder] Output was truncated (stop_reason=max_tokens) in phase build13{}-docs"


def test_combined_regexes_find_what_each_finds_even_when_anchored():
    anchored = r"(?m)^(?:E {2,})?[ \t]*No module named \S+[ \t]*$"
    combined = re.compile(combine_regexes([anchored, r"(?<!\S)cannot import name(?!\S)"]))
    assert combined.search("setup\nE   No module named 'x'\nmore")
    assert combined.search("ImportError: cannot import name 'y'")
    assert not combined.search("No module named x, or so they say")
    assert combine_regexes(["only"]) == "only"


@pytest.mark.django_db
class TestMergeRules:
    def test_merging_moves_sources_and_their_merges_and_grows_the_target(self):
        target, source, earlier = PatternFactory.create_batch(3)
        earlier.merged_into = source
        earlier.save()
        source.first_seen = datetime(2026, 1, 1, tzinfo=UTC)
        source.save()
        assert patterns_merge(target=target, sources=[source, target]) == 1
        target.refresh_from_db()
        assert target.occurrences == 6 and target.run_count == 2
        assert target.first_seen == datetime(2026, 1, 1, tzinfo=UTC)
        assert set(target.merged_patterns.all()) == {source, earlier}
        # Merging again does not count twice.
        patterns_merge(target=target, sources=[source])
        target.refresh_from_db()
        assert target.occurrences == 6

    def test_a_merged_pattern_cannot_take_merges_and_nothing_is_written(self):
        target, source, other = PatternFactory.create_batch(3)
        target.merged_into = other
        target.save()
        with pytest.raises(ValidationError, match="itself merged"):
            patterns_merge(target=target, sources=[source])
        source.refresh_from_db()
        assert source.merged_into is None
        assert Pattern.objects.get(pk=other.pk).occurrences == 3

    def test_the_model_refuses_self_merges_and_chains(self):
        first, second, third = PatternFactory.create_batch(3)
        first.merged_into = first
        with pytest.raises(ValidationError, match="itself"):
            first.full_clean()
        second.merged_into = third
        second.save()
        first.merged_into = second
        with pytest.raises(ValidationError, match="itself merged"):
            first.full_clean()
        # `third` has `second` merged into it: it cannot be merged itself.
        third.merged_into = PatternFactory()
        with pytest.raises(ValidationError, match="merge them directly"):
            third.full_clean()

    def test_unmerge_only_touches_merged_patterns(self):
        target, source = PatternFactory.create_batch(2)
        patterns_merge(target=target, sources=[source])
        assert patterns_unmerge(patterns=[target, source]) == 1
        assert not Pattern.objects.filter(merged_into__isnull=False).exists()


@pytest.fixture
def two_wordings():
    """One cause (output truncated at max_tokens) worded two ways, three times each."""
    run = RunFactory()
    for number in range(3):
        for wording in (TRUNCATED, STOP_REASON):
            DashboardEventFactory(
                run=run,
                event_type=DashboardEvent.EventType.API_ERROR,
                message=wording.format(number),
            )


def _mine(*args):
    out = StringIO()
    call_command("pattern_expansion", "--json", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_mining_files_a_merged_patterns_messages_under_its_target(two_wordings, tmp_path):
    first = _mine()
    assert len(first["patterns"]) == 2
    target = Pattern.objects.get(template__startswith="TRUNCATION")
    source = Pattern.objects.exclude(pk=target.pk).get()
    own_regex = target.regex
    patterns_merge(target=target, sources=[source])

    dirs = {name: tmp_path / name for name in ("detectors", "tests", "backlog")}
    again = _mine(
        "--generate-code",
        "--output-dir",
        str(dirs["detectors"]),
        "--tests-dir",
        str(dirs["tests"]),
        "--backlog-dir",
        str(dirs["backlog"]),
    )
    assert set(again["assignments"]) == {target.pattern_id}
    (mined,) = again["patterns"]
    assert mined["count"] == 6
    target.refresh_from_db()
    source.refresh_from_db()
    # The stored regex stays the target's own; merges are combined on every run.
    assert target.regex == own_regex and target.occurrences == 6
    assert source.merged_into == target
    registry.reload()
    assert registry.detect_all(STOP_REASON.format(9), directory=dirs["detectors"]) == [
        target.pattern_id
    ]

    patterns_unmerge(patterns=[source])
    assert len(_mine()["patterns"]) == 2


@pytest.mark.django_db
def test_admin_merges_into_the_most_frequent_and_splits_again(admin_client):
    small, big = PatternFactory(occurrences=2), PatternFactory(occurrences=9)
    changelist = "/admin/patterns/pattern/"
    response = admin_client.post(
        changelist,
        {"action": "merge_into_most_frequent", "_selected_action": [small.pk, big.pk]},
        follow=True,
    )
    assert f"Merged 1 pattern(s) into {big.pattern_id}" in response.content.decode()
    small.refresh_from_db()
    assert small.merged_into == big
    only_one = admin_client.post(
        changelist,
        {"action": "merge_into_most_frequent", "_selected_action": [big.pk]},
        follow=True,
    )
    assert "Select at least two patterns" in only_one.content.decode()
    assert admin_client.get(changelist, {"merged_into__isempty": "0"}).status_code == 200
    admin_client.post(changelist, {"action": "unmerge", "_selected_action": [small.pk]})
    small.refresh_from_db()
    assert small.merged_into is None


@pytest.mark.django_db
def test_api_shows_merges_and_a_match_counts_for_the_target(authed_client):
    target = PatternFactory(template="output truncated", regex=r"(?<!\S)output truncated(?!\S)")
    source = PatternFactory(template="TRUNCATION", regex=r"(?<!\S)TRUNCATION:")
    patterns_merge(target=target, sources=[source])
    rows = {
        row["pattern_id"]: row for row in authed_client.get("/api/v1/patterns/").json()["results"]
    }
    assert rows[source.pattern_id]["merged_into"] == target.pattern_id
    assert rows[target.pattern_id]["merged_into"] is None
    match = authed_client.post(
        "/api/v1/patterns/match", {"message": "TRUNCATION: phase=x used all tokens"}, format="json"
    )
    assert [m["pattern_id"] for m in match.json()["matches"]] == [target.pattern_id]

"""Merge suggestions: which patterns may be one cause worded differently."""

import math
import random
from collections import Counter

import pytest

from patterns.models import Pattern
from patterns.services import patterns_mark_distinct, patterns_merge, patterns_unmark_distinct
from patterns.similarity import (
    TEXT_MAX_CHARS,
    MergeSuggestion,
    PatternText,
    ngrams,
    suggest_merges,
)
from patterns.tests.factories import PatternFactory

DELIVERABLES = [
    PatternText(
        "missing_deliverables",
        "Missing <*> required deliverables\nMissing 11 required deliverables",
        occurrences=2,
    ),
    PatternText(
        "deliverables_status",
        "Phase <*> finished with status: "
        "DELIVERABLES_VALIDATION_FAILED\nPhase build130-phase0 finished with status: "
        "DELIVERABLES_VALIDATION_FAILED",
        occurrences=10,
    ),
    PatternText("deliverables_failed", "Deliverables validation FAILED", occurrences=1),
]
UNRELATED = [
    PatternText("no_module", "No module named <*>\nNo module named 'tiktoken'", occurrences=7),
    PatternText("soft_cap", "run_id=<*> phase_id=<*> est_total=<*> soft_cap=<*>", occurrences=5),
    PatternText("port_in_use", "error while attempting to bind on address <*>", occurrences=2),
]


def _pairs(suggestions):
    return {(s.source, s.target) for s in suggestions}


def test_ngrams_ignore_case_digits_and_masked_values():
    assert ngrams("Missing 11 <*> DELIVERABLES <url>/runs") == ngrams("missing deliverables runs")
    assert " mi" in ngrams("Missing") and "ing " in ngrams("Missing")
    assert ngrams("<*> 42 <hunk>") == {}


def test_only_the_start_of_a_huge_text_counts():
    huge = "Read timed out " + "x" * 10_000_000
    assert ngrams(huge) == ngrams("Read timed out " + "x" * (TEXT_MAX_CHARS - 15))


def test_one_cause_in_other_words_is_suggested_and_other_causes_are_not():
    suggestions = suggest_merges(DELIVERABLES + UNRELATED)
    # `Missing … deliverables` and `DELIVERABLES_VALIDATION_FAILED` share one word:
    # too little on its own, but both are close to `Deliverables validation FAILED`.
    assert _pairs(suggestions) == {
        ("deliverables_failed", "deliverables_status"),
        ("deliverables_failed", "missing_deliverables"),
    }
    assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)
    assert all(0.25 <= s.score <= 1 for s in suggestions)


def test_the_less_frequent_pattern_is_the_source_and_each_pair_comes_once():
    twins = [PatternText("rare", "Read timed out", 1), PatternText("common", "Read timed out", 9)]
    assert suggest_merges(twins) == [MergeSuggestion(source="rare", target="common", score=1.0)]
    tie = [PatternText("b_id", "Read timed out", 3), PatternText("a_id", "Read timed out", 3)]
    assert _pairs(suggest_merges(tie)) == {("b_id", "a_id")}


def test_min_score_and_limit_narrow_the_list():
    everything = suggest_merges(DELIVERABLES + UNRELATED, min_score=0.01)
    assert len(everything) > 3
    assert len(suggest_merges(DELIVERABLES + UNRELATED, min_score=0.01, limit=2)) == 2
    assert suggest_merges(DELIVERABLES + UNRELATED, min_score=1.0) == []
    assert suggest_merges([]) == []
    for bad in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="min_score"):
            suggest_merges(DELIVERABLES, min_score=bad)


def test_the_pairs_of_one_pattern_are_those_of_the_full_list():
    everything = suggest_merges(DELIVERABLES + UNRELATED, min_score=0.01)
    for text in DELIVERABLES + UNRELATED:
        assert suggest_merges(
            DELIVERABLES + UNRELATED, min_score=0.01, involving=text.pattern_id
        ) == [s for s in everything if text.pattern_id in (s.source, s.target)]
    assert suggest_merges(DELIVERABLES, involving="unknown") == []


def _cosines_by_definition(texts):
    """TF-IDF (sublinear tf, smoothed idf) cosines of every pair, one by one."""
    documents = [ngrams(text.text) for text in texts]
    frequency = Counter(gram for document in documents for gram in document)
    vectors = []
    for document in documents:
        vector = {
            gram: (1 + math.log(n)) * (1 + math.log((1 + len(documents)) / (1 + frequency[gram])))
            for gram, n in document.items()
        }
        norm = math.sqrt(sum(weight * weight for weight in vector.values())) or 1.0
        vectors.append({gram: weight / norm for gram, weight in vector.items()})
    return {
        frozenset((texts[i].pattern_id, texts[j].pattern_id)): sum(
            weight * vectors[j].get(gram, 0.0) for gram, weight in vectors[i].items()
        )
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
    }


def test_scores_are_the_cosines_of_the_definition():
    rng = random.Random(5)
    words = [
        "timed",
        "out",
        "patch",
        "failed",
        "apply",
        "hunk",
        "deliverables",
        "missing",
        "connection",
        "aborted",
        "table",
        "exists",
        "scope",
        "protected",
        "path",
    ]
    texts = [
        PatternText(
            f"p{index}", " ".join(rng.choices(words, k=rng.randint(2, 9))), rng.randint(1, 50)
        )
        for index in range(40)
    ]
    expected = {
        pair: round(score, 4)
        for pair, score in _cosines_by_definition(texts).items()
        if score >= 0.3
    }
    found = {frozenset((s.source, s.target)): s.score for s in suggest_merges(texts, min_score=0.3)}
    assert found == pytest.approx(expected, abs=1e-4) and len(found) > 20


def test_declined_pairs_are_left_out():
    declined = {frozenset(("deliverables_failed", "deliverables_status"))}
    assert _pairs(suggest_merges(DELIVERABLES, declined=declined)) == {
        ("deliverables_failed", "missing_deliverables")
    }


def _store(texts):
    return {
        text.pattern_id: PatternFactory(
            pattern_id=text.pattern_id,
            template=text.text.split("\n")[0],
            samples=text.text.split("\n")[1:],
            occurrences=text.occurrences,
        )
        for text in texts
    }


@pytest.mark.django_db
def test_api_lists_suggestions_for_unmerged_patterns(authed_client):
    stored = _store(DELIVERABLES + UNRELATED)
    url = "/api/v1/patterns/merge-suggestions"
    body = authed_client.get(url).json()
    assert {(s["source"], s["target"]) for s in body["suggestions"]} == _pairs(
        suggest_merges(DELIVERABLES + UNRELATED)
    )
    assert len(authed_client.get(url, {"limit": 1}).json()["suggestions"]) == 1
    # Once merged, the pair is no longer suggested; the target speaks for both.
    patterns_merge(target=stored["deliverables_status"], sources=[stored["missing_deliverables"]])
    after = {(s["source"], s["target"]) for s in authed_client.get(url).json()["suggestions"]}
    assert after == {("deliverables_failed", "deliverables_status")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [
        ({"min_score": "abc"}, "min_score"),
        ({"min_score": "0"}, "min_score"),
        ({"min_score": "1.5"}, "min_score"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
    ],
)
def test_api_rejects_bad_parameters_with_field_errors(authed_client, query, field):
    response = authed_client.get("/api/v1/patterns/merge-suggestions", query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_api_needs_an_api_key(client):
    assert client.get("/api/v1/patterns/merge-suggestions").status_code in (401, 403)


@pytest.mark.django_db
def test_admin_page_links_similar_patterns(admin_client):
    stored = _store(DELIVERABLES + UNRELATED)
    page = admin_client.get(
        f"/admin/patterns/pattern/{stored['deliverables_failed'].pk}/change/"
    ).content.decode()
    assert f"/admin/patterns/pattern/{stored['deliverables_status'].pk}/change/" in page
    assert "missing_deliverables</a>" in page
    assert "no_module</a>" not in page
    lonely = admin_client.get(f"/admin/patterns/pattern/{stored['no_module'].pk}/change/")
    assert "None with similar wording." in lonely.content.decode()
    patterns_merge(target=stored["deliverables_status"], sources=[stored["deliverables_failed"]])
    merged = admin_client.get(
        f"/admin/patterns/pattern/{stored['deliverables_failed'].pk}/change/"
    ).content.decode()
    assert "Merged: see the pattern it was merged into." in merged
    assert Pattern.objects.get(pk=stored["deliverables_failed"].pk).merged_into_id is not None


@pytest.mark.django_db
def test_marking_different_causes_is_pairwise_symmetric_idempotent_and_undoable():
    first, second, third = PatternFactory.create_batch(3)
    assert patterns_mark_distinct(patterns=[first, second, third]) == 3
    assert patterns_mark_distinct(patterns=[third, first]) == 0
    assert set(first.distinct_from.all()) == {second, third}
    assert set(second.distinct_from.all()) == {first, third}
    assert patterns_unmark_distinct(patterns=[first, second]) == 1
    assert set(second.distinct_from.all()) == {third}
    assert set(first.distinct_from.all()) == {third}


@pytest.mark.django_db
def test_a_declined_suggestion_is_not_suggested_again(authed_client, admin_client):
    stored = _store(DELIVERABLES + UNRELATED)
    pair = [stored["deliverables_failed"].pk, stored["deliverables_status"].pk]
    changelist = "/admin/patterns/pattern/"
    one = admin_client.post(
        changelist, {"action": "mark_distinct", "_selected_action": pair[:1]}, follow=True
    )
    assert "Select at least two patterns." in one.content.decode()
    marked = admin_client.post(
        changelist, {"action": "mark_distinct", "_selected_action": pair}, follow=True
    )
    assert "1 pair(s) marked as different causes." in marked.content.decode()
    url = "/api/v1/patterns/merge-suggestions"
    assert {(s["source"], s["target"]) for s in authed_client.get(url).json()["suggestions"]} == {
        ("deliverables_failed", "missing_deliverables")
    }
    page = admin_client.get(f"{changelist}{pair[0]}/change/").content.decode()
    assert f"{changelist}{pair[1]}/change/" not in page
    admin_client.post(changelist, {"action": "unmark_distinct", "_selected_action": pair})
    assert len(authed_client.get(url).json()["suggestions"]) == 2

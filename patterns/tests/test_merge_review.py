"""Operators answer merge suggestions, through the API or the admin's review page (both
databases): same cause merges, different causes keeps the pair out of later suggestions."""

import pytest
from django.contrib.auth.models import Permission, User

from patterns.models import Pattern
from patterns.services import patterns_merge
from patterns.tests.factories import PatternFactory

ANSWERS = "/api/v1/patterns/merge-suggestions/answers"
SUGGESTIONS = "/api/v1/patterns/merge-suggestions"
REVIEW = "/admin/patterns/pattern/review/"


@pytest.fixture
def similar(db):
    """Two wordings of one cause and an unrelated pattern."""
    return {
        "often": PatternFactory(
            pattern_id="truncated_often",
            occurrences=9,
            template="Output was truncated (stop_reason=max_tokens)",
            samples=["[Builder] Output was truncated (stop_reason=max_tokens)"],
        ),
        "rarely": PatternFactory(
            pattern_id="truncated_rarely",
            occurrences=2,
            template="Truncation detected (stop_reason=max_tokens)",
            samples=["Truncation detected (stop_reason=max_tokens)"],
        ),
        "other": PatternFactory(
            pattern_id="no_module",
            occurrences=4,
            template="No module named <*>",
            samples=["No module named 'tiktoken'"],
        ),
    }


def _suggested(client) -> set[tuple[str, str]]:
    return {(s["source"], s["target"]) for s in client.get(SUGGESTIONS).json()["suggestions"]}


def _untouched() -> bool:
    return (
        not Pattern.objects.filter(merged_into__isnull=False).exists()
        and not Pattern.distinct_from.through.objects.exists()
    )


def test_api_same_cause_merges_source_into_target(authed_client, similar):
    assert ("truncated_rarely", "truncated_often") in _suggested(authed_client)
    response = authed_client.post(
        ANSWERS, {"source": "truncated_rarely", "target": "truncated_often", "same_cause": True}
    )
    assert response.status_code == 200
    assert response.json() == {
        "source": "truncated_rarely",
        "target": "truncated_often",
        "same_cause": True,
    }
    similar["rarely"].refresh_from_db()
    similar["often"].refresh_from_db()
    assert similar["rarely"].merged_into == similar["often"]
    assert similar["often"].occurrences == 11
    assert ("truncated_rarely", "truncated_often") not in _suggested(authed_client)


def test_api_different_causes_are_not_suggested_again(authed_client, similar):
    response = authed_client.post(
        ANSWERS, {"source": "truncated_rarely", "target": "truncated_often", "same_cause": False}
    )
    assert response.status_code == 200
    assert set(similar["often"].distinct_from.all()) == {similar["rarely"]}
    assert Pattern.objects.get(pattern_id="truncated_rarely").merged_into is None
    assert ("truncated_rarely", "truncated_often") not in _suggested(authed_client)
    # Answering twice is harmless.
    again = authed_client.post(
        ANSWERS, {"source": "truncated_often", "target": "truncated_rarely", "same_cause": False}
    )
    assert again.status_code == 200
    assert Pattern.distinct_from.through.objects.count() == 2  # one row per direction


@pytest.mark.parametrize(
    "body, field",
    [
        ({"source": "truncated_rarely", "target": "", "same_cause": True}, "target"),
        ({"source": "truncated_rarely", "target": "truncated_often"}, "same_cause"),
        (
            {"source": "truncated_rarely", "target": "truncated_often", "same_cause": "maybe"},
            "same_cause",
        ),
        ({"source": ["a"], "target": {"b": 1}, "same_cause": True}, "source"),
    ],
)
def test_api_rejects_bad_answers_with_field_errors_and_writes_nothing(
    authed_client, similar, body, field
):
    response = authed_client.post(ANSWERS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert _untouched()


def test_api_answers_about_an_unknown_pattern_are_404(authed_client, similar):
    for body in (
        {"source": "missing", "target": "truncated_often", "same_cause": True},
        {"source": "truncated_often", "target": "missing", "same_cause": False},
    ):
        response = authed_client.post(ANSWERS, body)
        assert response.status_code == 404, body
    assert _untouched()


def test_api_answers_the_patterns_state_forbids_are_409_naming_the_side(authed_client, similar):
    itself = authed_client.post(
        ANSWERS, {"source": "truncated_often", "target": "truncated_often", "same_cause": False}
    )
    assert itself.status_code == 409 and "target" in itself.json()["fields"]
    assert _untouched()
    patterns_merge(target=similar["other"], sources=[similar["rarely"]])
    moved = authed_client.post(
        ANSWERS, {"source": "truncated_rarely", "target": "truncated_often", "same_cause": True}
    )
    assert moved.status_code == 409
    assert "already merged into no_module" in moved.json()["fields"]["source"][0]
    assert moved.json()["code"] == "conflict"
    into_merged = authed_client.post(
        ANSWERS, {"source": "truncated_often", "target": "truncated_rarely", "same_cause": True}
    )
    assert into_merged.status_code == 409 and "target" in into_merged.json()["fields"]
    similar["often"].refresh_from_db()
    assert similar["often"].merged_into is None and similar["often"].occurrences == 9


def test_api_latest_answer_wins_where_nothing_is_lost(authed_client, similar):
    pair = {"source": "truncated_rarely", "target": "truncated_often"}
    authed_client.post(ANSWERS, {**pair, "same_cause": False})
    # Same cause after all: the decline is forgotten and the pair merged.
    assert authed_client.post(ANSWERS, {**pair, "same_cause": True}).status_code == 200
    assert not Pattern.distinct_from.through.objects.exists()
    assert Pattern.objects.get(pattern_id="truncated_rarely").merged_into == similar["often"]
    # A merged pair cannot be called different causes until it is split.
    refused = authed_client.post(ANSWERS, {**pair, "same_cause": False})
    assert refused.status_code == 409
    assert "split it out first" in refused.json()["fields"]["same_cause"][0]
    assert not Pattern.distinct_from.through.objects.exists()


def test_api_answers_need_an_api_key(api_client, similar):
    response = api_client.post(
        ANSWERS, {"source": "truncated_rarely", "target": "truncated_often", "same_cause": True}
    )
    assert response.status_code in (401, 403)
    assert _untouched()


def test_review_page_lists_pairs_and_the_pattern_list_links_it(admin_client, similar):
    page = admin_client.get(REVIEW).content.decode()
    assert page.count('class="suggestion"') == 1
    assert "truncated_rarely" in page and "truncated_often" in page
    assert "[Builder] Output was truncated" in page
    assert 'value="yes"' in page and 'value="no"' in page
    assert "no_module" not in page
    assert REVIEW in admin_client.get("/admin/patterns/pattern/").content.decode()


def test_review_page_merges_on_yes_and_shows_the_next_state(admin_client, similar):
    response = admin_client.post(
        REVIEW,
        {"source": "truncated_rarely", "target": "truncated_often", "same_cause": "yes"},
        follow=True,
    )
    assert response.redirect_chain == [(f"{REVIEW}?min_score=0.25", 302)]
    page = response.content.decode()
    assert "Merged truncated_rarely into truncated_often." in page
    assert "Nothing to review at similarity ≥ 0.25" in page
    assert Pattern.objects.get(pattern_id="truncated_rarely").merged_into == similar["often"]


def test_review_page_declines_on_no(admin_client, similar):
    response = admin_client.post(
        REVIEW,
        {"source": "truncated_rarely", "target": "truncated_often", "same_cause": "no"},
        follow=True,
    )
    assert "are different causes." in response.content.decode()
    assert set(similar["rarely"].distinct_from.all()) == {similar["often"]}
    assert Pattern.objects.get(pattern_id="truncated_rarely").merged_into is None


@pytest.mark.parametrize(
    "form",
    [
        {"source": "gone", "target": "truncated_often", "same_cause": "yes"},
        {"source": "truncated_rarely", "target": "truncated_often", "same_cause": "perhaps"},
        {"source": "truncated_often", "target": "truncated_often", "same_cause": "yes"},
    ],
)
def test_review_page_reports_a_bad_answer_and_writes_nothing(admin_client, similar, form):
    response = admin_client.post(REVIEW, form, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Answer not recorded" in page or "cannot be compared with itself" in page
    assert _untouched()


def test_review_page_needs_the_change_permission(client, similar):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_pattern"))
    client.force_login(viewer)
    assert client.get(REVIEW).status_code == 403
    refused = client.post(
        REVIEW, {"source": "truncated_rarely", "target": "truncated_often", "same_cause": "yes"}
    )
    assert refused.status_code == 403
    assert _untouched()
    client.logout()
    assert client.get(REVIEW).status_code == 302  # to the admin login


def test_review_page_leaves_out_a_pattern_deleted_since_scoring(admin_client, similar, monkeypatch):
    from patterns import admin as patterns_admin
    from patterns.similarity import MergeSuggestion

    scored = patterns_admin.merge_suggestions()
    monkeypatch.setattr(
        patterns_admin,
        "merge_suggestions",
        lambda **_: [
            MergeSuggestion(source="deleted_meanwhile", target="truncated_often", score=0.99),
            *scored,
        ],
    )
    response = admin_client.get(REVIEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert "deleted_meanwhile" not in page and page.count('class="suggestion"') == 1


def test_review_page_threshold_is_chosen_kept_and_validated(admin_client, similar):
    assert (
        "Nothing to review at similarity ≥ 1.0"
        in admin_client.get(REVIEW, {"min_score": "1"}).content.decode()
    )
    bad = admin_client.get(REVIEW, {"min_score": "abc"}).content.decode()
    assert "Showing 0.25 instead." in bad and bad.count('class="suggestion"') == 1
    assert "Showing 0.25 instead." in admin_client.get(REVIEW, {"min_score": "0"}).content.decode()
    kept = admin_client.post(
        REVIEW,
        {
            "source": "truncated_rarely",
            "target": "truncated_often",
            "same_cause": "no",
            "min_score": "0.5",
        },
    )
    assert kept["Location"] == f"{REVIEW}?min_score=0.5"


def test_merging_forgets_declines_and_a_merged_pair_cannot_be_declined(admin_client, similar):
    """The rules live in the services, so the admin's list actions keep them too."""
    from patterns.services import patterns_mark_distinct

    patterns_mark_distinct(patterns=[similar["often"], similar["rarely"], similar["other"]])
    changelist = "/admin/patterns/pattern/"
    admin_client.post(
        changelist,
        {
            "action": "merge_into_most_frequent",
            "_selected_action": [similar["often"].pk, similar["rarely"].pk],
        },
    )
    assert set(similar["often"].distinct_from.all()) == {similar["other"]}
    assert set(similar["rarely"].distinct_from.all()) == {similar["other"]}
    refused = admin_client.post(
        changelist,
        {
            "action": "mark_distinct",
            "_selected_action": [similar["often"].pk, similar["rarely"].pk],
        },
        follow=True,
    )
    # The admin capitalises its messages.
    assert "Truncated_rarely is merged into truncated_often; split it out first." in (
        refused.content.decode()
    )
    assert set(similar["often"].distinct_from.all()) == {similar["other"]}

"""pattern_expansion on the database and on files; the Pattern model, admin and API."""

import json
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from metrics.models import DashboardEvent
from metrics.tests.factories import DashboardEventFactory, PhaseFactory
from patterns import registry
from patterns.models import Pattern
from patterns.tests.factories import PatternFactory

pytestmark = pytest.mark.django_db

HUNK = "error: patch failed: src/autopack/{}.py:{}"


@pytest.fixture
def failures():
    """Four hunk failures in two runs (each recorded as event AND phase reason), one timeout."""
    phases = []
    for number, module in enumerate(["executor", "llm", "scope", "gates"]):
        phase = PhaseFactory(failed=True, last_failure_reason=HUNK.format(module, number + 10))
        DashboardEventFactory(
            run=phase.run,
            phase=phase,
            message=phase.last_failure_reason,
            event_type=DashboardEvent.EventType.PATCH_FAILED,
        )
        phases.append(phase)
    DashboardEventFactory(
        run=phases[0].run,
        event_type=DashboardEvent.EventType.API_ERROR,
        message="Anthropic API request timed out after 30s",
    )
    DashboardEventFactory(
        run=phases[0].run,
        event_type=DashboardEvent.EventType.INFO,
        message="error: patch failed: not a failure event",
    )
    return phases


def _json(*args):
    out, err = StringIO(), StringIO()
    call_command("pattern_expansion", "--json", *args, stdout=out, stderr=err)
    # One JSON document on one line, and nothing else on stdout.
    assert out.getvalue().count("\n") == 1 and out.getvalue().endswith("\n")
    return json.loads(out.getvalue()), err.getvalue()


def test_counts_a_failure_once_and_stores_patterns_without_touching_status(failures):
    document, notes = _json("--min-occurrences", "1")
    assert len(document["assignments"]) == 5 and "Mined 5 failure messages" in notes
    counts = sorted(p["count"] for p in document["patterns"])
    assert counts == [1, 4]
    hunk = Pattern.objects.get(occurrences=4)
    assert hunk.kind == "patch" and hunk.run_count == 4 and len(hunk.samples) == 4
    Pattern.objects.filter(pk=hunk.pk).update(status=Pattern.Status.IN_PROGRESS)
    call_command("pattern_expansion", stdout=StringIO())
    hunk.refresh_from_db()
    assert hunk.status == Pattern.Status.IN_PROGRESS and Pattern.objects.count() == 2


def test_filters_by_run_and_time(failures):
    document, _ = _json("--run-id", failures[0].run_id, "--run-id", failures[1].run_id)
    assert sorted(p["count"] for p in document["patterns"]) == [1, 2]
    assert _json("--since", "2999-01-01")[0] == {"patterns": [], "assignments": []}
    assert len(_json("--until", "2999-01-01")[0]["assignments"]) == 5
    # An offset PostgreSQL would refuse (beyond ±15:59) is read as the UTC time it means.
    assert len(_json("--since", "2000-01-01T00:00:00+20:00")[0]["assignments"]) == 5
    assert _json("--until", "2000-01-01T00:00:00-20:00")[0]["assignments"] == []


def test_a_date_bound_covers_the_whole_day():
    for moment in (
        "2026-10-31T23:59:59+00:00",
        "2026-11-01T00:00:00+00:00",
        "2026-11-01T23:59:59+00:00",
        "2026-11-02T00:00:00+00:00",
    ):
        DashboardEventFactory(
            created_at=datetime.fromisoformat(moment),
            message=f"error: patch failed: src/{moment[:10]}.py:1",
        )

    def mined(*args):
        return len(_json(*args)[0]["assignments"])

    assert mined("--since", "2026-11-01", "--until", "2026-11-01") == 2
    assert mined("--until", "2026-10-31") == 1
    assert mined("--since", "2026-11-02") == 1
    assert mined("--since", "2026-11-01T12:00:00Z", "--until", "9999-12-31") == 2


def test_stored_ids_stay_when_more_data_widens_a_pattern(failures):
    first, _ = _json()
    stored_id = first["patterns"][0]["pattern_id"]
    phase = PhaseFactory(
        failed=True, last_failure_reason="error: patch failed: docs/guide/intro.md:3"
    )
    again, _ = _json()
    assert again["assignments"].count(stored_id) == 5
    assert phase.run_id in again["patterns"][0]["run_ids"]


def test_dry_run_stores_nothing(failures):
    out = StringIO()
    call_command("pattern_expansion", "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue() and "error_patch_failed" in out.getvalue()
    assert not Pattern.objects.exists()


def test_input_file_reads_json_lines_and_plain_lines_with_crlf(tmp_path):
    lines = [
        json.dumps(
            {"message": HUNK.format(m, 1), "run_id": f"r{m}", "created_at": "2026-11-01T10:00:00"}
        )
        for m in "abc"
    ]
    lines += ["Anthropic API request timed out after 30s", ""]
    path = tmp_path / "failures.jsonl"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    document, _ = _json("--input-file", str(path))
    assert len(document["assignments"]) == 4
    hunk = document["patterns"][0]
    assert hunk["count"] == 3 and hunk["run_ids"] == ["ra", "rb", "rc"]
    assert hunk["first_seen"] == "2026-11-01T10:00:00+00:00"
    assert not Pattern.objects.exists()  # a file run never touches the database


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--input-file", "/nonexistent/failures.txt"], "no such file"),
        (["--since", "yesterday"], "not a date"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "before --until"),
        (["--input-file", "x", "--run-id", "r"], "filter the database"),
        (["--since", "2026-13-01"], "not a valid date or time: month must be in 1..12"),
        (["--until", "2026-01-01T00:00:00+25:00"], "not a valid date or time"),
        (["--since", "0001-01-01T00:10:00+21:52"], "out of range"),
        (["--run-id", "no-such-run", "--run-id", "nor-this"], "no such run: no-such-run, nor-this"),
    ],
)
def test_bad_input_is_a_command_error(args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("pattern_expansion", *args, stdout=StringIO())


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"message": 3}', "line 2: a JSON line needs a string 'message'"),
        (
            '{"message": "x", "nested": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "line 2: JSON nested too deeply",
        ),
        ('{"message": "bad \\ud800 text"}', "line 2: 'message' holds a lone surrogate U\\+D800"),
        (
            '{"message": "x", "run_id": "r-\\udfff"}',
            "line 2: 'run_id' holds a lone surrogate U\\+DFFF",
        ),
    ],
)
def test_bad_json_line_names_the_line(tmp_path, line, reason):
    path = tmp_path / "bad.jsonl"
    path.write_text(f"plain message\n{line}\n", encoding="utf-8")
    with pytest.raises(CommandError, match=reason):
        call_command("pattern_expansion", "--input-file", str(path), stdout=StringIO())


def test_generate_code_writes_the_top_patterns_and_registry_loads_them(failures, tmp_path):
    dirs = {name: tmp_path / name for name in ("detectors", "tests", "backlog")}
    out = StringIO()
    call_command(
        "pattern_expansion",
        "--generate-code",
        "--output-dir",
        str(dirs["detectors"]),
        "--tests-dir",
        str(dirs["tests"]),
        "--backlog-dir",
        str(dirs["backlog"]),
        "--top",
        "1",
        stdout=out,
    )
    (detector,) = dirs["detectors"].glob("pattern_*.py")
    assert len(list(dirs["tests"].glob("test_pattern_*.py"))) == 1
    (backlog,) = dirs["backlog"].glob("PATTERN_*.md")
    assert "Occurrences: 4" in backlog.read_text(encoding="utf-8")
    pattern_id = detector.stem.removeprefix("pattern_")
    registry.reload()
    assert registry.detect_all(HUNK.format("new", 5), directory=dirs["detectors"]) == [pattern_id]
    assert registry.detect_all("all good", directory=dirs["detectors"]) == []
    advice = registry.mitigate(pattern_id, "phase-1", {}, directory=dirs["detectors"])
    assert advice["success"] is False and advice["retry_recommended"] is True
    with pytest.raises(registry.UnknownPatternError):
        registry.mitigate("nope", "phase-1", directory=dirs["detectors"])


def test_committed_demo_detectors_load_and_detect():
    registry.reload()
    loaded = registry.detectors()
    assert len(loaded) >= 3
    assert any(registry.detect_all("error: patch failed: src/autopack/x.py:12"))


def test_api_lists_patterns_and_matches_a_message(failures, authed_client, api_client):
    call_command("pattern_expansion", stdout=StringIO())
    listing = authed_client.get("/api/v1/patterns/")
    assert listing.status_code == 200
    (row,) = listing.json()["results"]
    assert row["occurrences"] == 4 and row["status"] == "TODO"
    assert authed_client.get("/api/v1/patterns/", {"status": "DONE"}).json()["count"] == 0
    match = authed_client.post(
        "/api/v1/patterns/match", {"message": HUNK.format("other", 9)}, format="json"
    )
    assert match.status_code == 200
    ids = {m["pattern_id"]: m for m in match.json()["matches"]}
    assert "regex" in ids[row["pattern_id"]]["matched_by"]
    assert ids[row["pattern_id"]]["kind"] == "patch"
    none = authed_client.post("/api/v1/patterns/match", {"message": "fine"}, format="json")
    assert none.json() == {"matches": []}
    bad = authed_client.post("/api/v1/patterns/match", {"context": {}}, format="json")
    assert bad.status_code == 400 and "message" in bad.json()
    assert api_client.get("/api/v1/patterns/").status_code in (401, 403)


def test_api_filters_patterns_by_status_and_kind_and_rejects_unknown_values(authed_client):
    todo_patch = PatternFactory(kind=Pattern.Kind.PATCH)
    done_patch = PatternFactory(kind=Pattern.Kind.PATCH, status=Pattern.Status.DONE)
    todo_import = PatternFactory(kind=Pattern.Kind.IMPORT)

    def listed(**query):
        response = authed_client.get("/api/v1/patterns/", query)
        assert response.status_code == 200, response.content
        return {row["pattern_id"] for row in response.json()["results"]}

    assert listed(kind="patch") == {todo_patch.pattern_id, done_patch.pattern_id}
    assert listed(kind="patch", status="TODO") == {todo_patch.pattern_id}
    assert listed(status=["DONE", "TODO"], kind="import") == {todo_import.pattern_id}
    bad = authed_client.get("/api/v1/patterns/", {"status": "BOGUS", "kind": "nope"})
    assert bad.status_code == 400 and set(bad.json()) == {"status", "kind"}


def test_admin_lists_patterns_and_sets_status(failures, admin_client):
    call_command("pattern_expansion", stdout=StringIO())
    pattern = Pattern.objects.get()
    assert admin_client.get("/admin/patterns/pattern/").status_code == 200
    page = admin_client.get(f"/admin/patterns/pattern/{pattern.pk}/change/")
    assert page.status_code == 200 and pattern.pattern_id in page.content.decode()
    response = admin_client.post(
        f"/admin/patterns/pattern/{pattern.pk}/change/", {"status": "DONE"}
    )
    assert response.status_code == 302
    pattern.refresh_from_db()
    assert pattern.status == "DONE"


@pytest.mark.parametrize(
    "method, route, body",
    [
        ("post", "/api/v1/patterns/match", {"message": "boom"}),
        ("get", "/api/v1/patterns/merge-suggestions", None),
        ("post", "/api/v1/patterns/merge-suggestions/answers", {}),
    ],
)
def test_pattern_routes_end_in_a_slash_and_answer_without_one(authed_client, method, route, body):
    send = getattr(authed_client, method)
    with_slash = send(route + "/", body, format="json") if body is not None else send(route + "/")
    without = send(route, body, format="json") if body is not None else send(route)
    assert with_slash.status_code == without.status_code != 404
    assert with_slash.json() == without.json()
    schema = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert route + "/" in schema["paths"] and route not in schema["paths"]

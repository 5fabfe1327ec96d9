"""The registry isolates detectors people have edited: one that fails to load or
raises is logged and left out, and the others keep matching (the API included)."""

import logging

import pytest

from patterns import registry

WORKING = """PATTERN_ID = "works"


def detect(error_message, context):
    return "boom" in error_message


def mitigate(phase_id, context):
    return {"success": False, "actions_taken": [], "retry_recommended": True, "message": phase_id}
"""
RAISING = """def detect(error_message, context):
    return context["missing"]


def mitigate(phase_id, context):
    raise ValueError("not finished")
"""


@pytest.fixture
def detectors_dir(tmp_path, settings):
    (tmp_path / "pattern_works.py").write_text(WORKING, encoding="utf-8")
    (tmp_path / "pattern_raises.py").write_text(RAISING, encoding="utf-8")
    (tmp_path / "pattern_syntax.py").write_text("def detect(:\n", encoding="utf-8")
    (tmp_path / "pattern_import.py").write_text("import not_a_module_anywhere\n", encoding="utf-8")
    (tmp_path / "pattern_empty.py").write_text("X = 1\n", encoding="utf-8")
    settings.PATTERN_DETECTORS_DIR = tmp_path
    registry.reload()
    yield tmp_path
    registry.reload()


def test_broken_detectors_are_left_out_with_the_reason(detectors_dir, caplog):
    with caplog.at_level(logging.ERROR, logger="patterns.registry"):
        assert set(registry.detectors()) == {"works", "raises"}
    errors = registry.load_errors()
    assert errors["pattern_syntax.py"].startswith("SyntaxError")
    assert errors["pattern_import.py"].startswith("ModuleNotFoundError")
    assert errors["pattern_empty.py"] == "no detect() and mitigate() functions"
    assert "pattern_syntax.py" in caplog.text


def test_a_detector_that_raises_counts_as_not_matching(detectors_dir, caplog):
    with caplog.at_level(logging.ERROR, logger="patterns.registry"):
        assert registry.detect_all("boom: it failed") == ["works"]
    assert "Detector raises raised" in caplog.text


def test_mitigate_names_the_detector_that_raised(detectors_dir):
    assert registry.mitigate("works", "phase-1")["message"] == "phase-1"
    with pytest.raises(registry.DetectorError, match="detector raises") as raised:
        registry.mitigate("raises", "phase-1")
    assert isinstance(raised.value.__cause__, ValueError)


@pytest.mark.django_db
def test_match_api_answers_despite_broken_detectors(detectors_dir, authed_client):
    response = authed_client.post("/api/v1/patterns/match", {"message": "boom"}, format="json")
    assert response.status_code == 200
    assert response.json()["matches"] == [
        {"pattern_id": "works", "kind": None, "status": None, "matched_by": ["detector"]}
    ]


@pytest.mark.django_db
def test_pattern_list_warns_about_detectors_that_are_not_loaded(detectors_dir, admin_client):
    response = admin_client.get("/admin/patterns/pattern/")
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any(
        text.startswith("Detector pattern_syntax.py is not loaded: SyntaxError") for text in shown
    )
    assert len(shown) == 3

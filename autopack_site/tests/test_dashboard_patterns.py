"""The dashboard's pattern list: counts, trend, generated files, the merge review."""

import re

import pytest

from autopack_site.tests.dashboard_support import queries_of
from autopack_site.tests.test_dashboard import _days_ago
from metrics.tests.factories import RunFactory
from patterns.tests.factories import PatternFactory

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/patterns/"


@pytest.fixture
def generated(tmp_path, settings):
    settings.PATTERN_DETECTORS_DIR = tmp_path / "detectors"
    settings.PATTERN_BACKLOG_DIR = tmp_path / "backlog"
    settings.PATTERN_DETECTORS_DIR.mkdir()
    settings.PATTERN_BACKLOG_DIR.mkdir()
    return settings.PATTERN_DETECTORS_DIR, settings.PATTERN_BACKLOG_DIR


def test_the_list_shows_counts_trends_and_generated_files(staff_client, generated):
    detectors, backlog = generated
    runs = [RunFactory(created_at=_days_ago(days)) for days in (0, 0, 3, 40)]
    top = PatternFactory(pattern_id="no_module_named", occurrences=12, run_ids=[r.id for r in runs])
    PatternFactory(pattern_id="merged_away", occurrences=99, merged_into=top)
    PatternFactory(pattern_id="rare", occurrences=1, run_ids=[])
    (detectors / "pattern_no_module_named.py").write_text("def detect(m): ...\n", encoding="utf-8")
    (backlog / "PATTERN_no_module_named.md").write_text("# No module <named>\n", encoding="utf-8")

    page = staff_client.get(PAGE).content.decode()
    assert re.findall(r'<tr data-pattern="([^"]+)">', page) == ["no_module_named", "rare"]
    trend = re.search(r'<tr data-pattern="no_module_named">.*?data-trend="([^"]+)"', page, re.S)[1]
    values = list(map(int, trend.split(",")))
    assert len(values) == 30 and values[-1] == 2 and values[-4] == 1 and sum(values) == 3
    assert "/dashboard/patterns/no_module_named/detector/" in page
    assert "/dashboard/patterns/no_module_named/backlog/" in page
    assert "/admin/patterns/pattern/review/" in page

    entry = staff_client.get("/dashboard/patterns/no_module_named/backlog/").content.decode()
    assert "# No module &lt;named&gt;" in entry  # shown as text, escaped
    assert staff_client.get("/dashboard/patterns/rare/detector/").status_code == 404
    assert staff_client.get("/dashboard/patterns/nope/detector/").status_code == 404


def test_the_pattern_list_costs_the_same_queries_whatever_the_data(staff_client, generated):
    def queries() -> int:
        return queries_of(staff_client, PAGE)

    PatternFactory()
    small = queries()
    runs = [RunFactory(created_at=_days_ago(index)) for index in range(10)]
    for index in range(60):
        PatternFactory(run_ids=[run.id for run in runs[: index % 10]])
    assert queries() == small

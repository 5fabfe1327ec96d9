"""Dependencies point one way: replay → abtests, patterns → metrics; the site's
shared pieces import no app; pure modules import no Django. Read from the source
with `ast`, so a new import breaks this test rather than the design. A string that
names a project module (`include("metrics.api.urls")`, `"metrics.Run"`,
`import_module("abtests.stats")`) counts as an import."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["metrics", "abtests", "patterns", "replay"]
SITE = "autopack_site"
# Which project apps each app may import (besides itself and autopack_site).
ALLOWED = {
    "metrics": set(),
    "abtests": {"metrics"},
    "patterns": {"metrics"},
    "replay": {"metrics", "abtests", "patterns"},
}
# The site's composition roots (settings, URL maps) wire every app together; its tests
# exercise the whole site. Everything else in autopack_site (API pieces, ops,
# kill switches, migration operations) imports no app.
SITE_COMPOSITION = {
    "autopack_site/settings.py",
    "autopack_site/settings_test.py",
    "autopack_site/urls.py",
    "autopack_site/dashboard_urls.py",
    # The operators' pages read every app's selectors (and write nothing).
    "autopack_site/dashboard/views.py",
    "autopack_site/dashboard/filters.py",
    "autopack_site/dashboard/benchmark.py",
    "autopack_site/management/commands/bench_dashboard.py",
}
# Pure modules: mining, statistics, similarity, code generation, benchmarks and the
# HTTP smoke check run without Django.
PURE = [
    *(str(path.relative_to(ROOT)) for path in sorted((ROOT / "patterns/mining").glob("*.py"))),
    "patterns/similarity.py",
    "patterns/codegen.py",
    "patterns/input_files.py",
    "patterns/benchmarks/grouping.py",
    "patterns/benchmarks/scale.py",
    "abtests/stats.py",
    "abtests/charts.py",
    "autopack_site/ops/smoke.py",
    "autopack_site/dashboard/charts.py",
]
FRAMEWORKS = {
    "django",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "django_filters",
    "health_check",
    "celery",
}


_MODULE_STRING = re.compile(rf"(?:{'|'.join([*APPS, SITE])})(?:\.[A-Za-z_]\w*)+")


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_STRING.fullmatch(node.value)
        ):
            roots.add(node.value.split(".")[0])
    return roots


def _sources(app: str) -> list[Path]:
    # Generated detectors and their tests are standalone files; they import nothing
    # of the project, and are covered by the same rule anyway.
    return sorted((ROOT / app).rglob("*.py"))


@pytest.mark.parametrize("app", APPS)
def test_apps_import_only_the_apps_below_them(app):
    forbidden = set(APPS) - ALLOWED[app] - {app}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & forbidden)
        for path in _sources(app)
        if _imported_roots(path) & forbidden
    }
    assert offenders == {}


def test_the_sites_shared_pieces_import_no_app():
    offenders = {
        relative: sorted(_imported_roots(path) & set(APPS))
        for path in sorted((ROOT / SITE).rglob("*.py"))
        if (relative := path.relative_to(ROOT).as_posix()) not in SITE_COMPOSITION
        and not relative.startswith(f"{SITE}/tests/")
        and _imported_roots(path) & set(APPS)
    }
    assert offenders == {}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_framework(module):
    assert _imported_roots(ROOT / module) & FRAMEWORKS == set()


def test_the_rules_see_real_imports(tmp_path):
    """The checker itself: it finds plain, dotted and from-imports, not relative ones."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os.path\nfrom django.db import models\nfrom . import local\n"
        "def f():\n    import abtests.stats\n"
        "urls = include('replay.api.urls')\nrun = ForeignKey('metrics.Run')\n"
        "note = 'metrics and patterns.'\n",
        encoding="utf-8",
    )
    assert _imported_roots(sample) == {"os", "django", "abtests", "replay", "metrics"}

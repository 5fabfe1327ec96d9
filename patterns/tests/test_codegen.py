"""Generated detectors, tests and backlog entries: they work, they are inert, they are stable."""

import os
import subprocess
import sys

import pytest

from autopack_site.testing import subprocess_env
from patterns import codegen, mining
from patterns.mining import FailureMessage, mine

HOSTILE = [
    "error: it's \"quoted\" ''' \"\"\" \\ \\n and __import__('os').system('touch PWNED') failed",
    "error: it's \"quoted\" ''' \"\"\" \\ \\n and __import__('os').system('touch PWNED') failed\n"
    "second line }}{{ {PATTERN_ID}",
    "error: it's \"quoted\" ''' \"\"\" \\ \\n and __import__('os').system('touch PWNED') failed",
]
OTHERS = [f"LLM output truncated at max_tokens={n}" for n in (4096, 8192, 16384)]


def _generate(tmp_path, texts, *, dry_run=False):
    result = mine([FailureMessage(text) for text in texts])
    dirs = {name: tmp_path / name for name in ("detectors", "tests", "backlog")}
    statuses = []
    for pattern in result.patterns:
        others = [s for p in result.patterns if p is not pattern for s in p.samples]
        for file in codegen.detector_files(
            pattern,
            output_dir=dirs["detectors"],
            tests_dir=dirs["tests"],
            backlog_dir=dirs["backlog"],
            must_not_match=others,
            total=len(texts),
        ):
            statuses.append((file.path, codegen.write_generated(file, dry_run=dry_run)))
    return result, dirs, statuses


def _run_pytest(tests_dir, *, cwd):
    """The generated tests, run as a human would: pytest in a fresh interpreter."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            str(tests_dir),
        ],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_generated_tests_pass_in_a_subprocess_and_hostile_messages_stay_inert(tmp_path):
    _result, dirs, statuses = _generate(tmp_path, HOSTILE + OTHERS)
    assert {status for _, status in statuses} == {"created"} and len(statuses) == 6
    completed = _run_pytest(dirs["tests"], cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout and "failed" not in completed.stdout
    assert not (tmp_path / "PWNED").exists() and not any(tmp_path.rglob("PWNED"))
    # The hostile text is data: it appears only inside string literals.
    detector = next(dirs["detectors"].glob("pattern_*.py")).read_text(encoding="utf-8")
    assert detector.startswith(codegen.GENERATED_MARKER + "\n")


def test_tests_find_their_detector_wherever_the_directories_are(tmp_path):
    _, _dirs, _ = _generate(tmp_path / "first", OTHERS)
    moved = tmp_path / "elsewhere"
    (tmp_path / "first").rename(moved)
    completed = _run_pytest(moved / "tests", cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_regeneration_is_idempotent_and_keeps_taken_over_files(tmp_path):
    _, dirs, statuses = _generate(tmp_path, OTHERS)
    stamps = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path, _ in statuses}
    _, _, again = _generate(tmp_path, OTHERS)
    assert {status for _, status in again} == {"unchanged"}
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path, _ in again} == stamps
    detector = next(dirs["detectors"].glob("pattern_*.py"))
    owned = "# mine now\n" + detector.read_text(encoding="utf-8").split("\n", 1)[1]
    detector.write_text(owned, encoding="utf-8")
    _, _, third = _generate(tmp_path, [*OTHERS, "LLM output truncated at max_tokens=2048"])
    assert dict(third)[detector] == "taken over"
    assert detector.read_text(encoding="utf-8") == owned
    assert {status for path, status in third if path != detector} == {"updated"}


def test_dry_run_writes_nothing(tmp_path):
    _, _dirs, statuses = _generate(tmp_path, OTHERS, dry_run=True)
    assert {status for _, status in statuses} == {"created"}
    assert not any(path.exists() for path, _ in statuses)


def test_nothing_is_written_outside_the_output_directory_or_with_a_bad_id(tmp_path):
    (pattern,) = mine([FailureMessage(text) for text in OTHERS]).patterns
    escaping = codegen.GeneratedFile(
        tmp_path / "out" / ".." / "evil.py", tmp_path / "out", "x = 1\n"
    )
    with pytest.raises(codegen.GenerationError, match="outside"):
        codegen.write_generated(escaping)
    broken = codegen.GeneratedFile(tmp_path / "out" / "bad.py", tmp_path / "out", "x = (\n")
    with pytest.raises(codegen.GenerationError, match="does not parse"):
        codegen.write_generated(broken)
    pattern.pattern_id = "x'); import os; ('"
    with pytest.raises(codegen.GenerationError, match="pattern id"):
        codegen.render_detector(pattern)
    assert not any(tmp_path.rglob("*.py"))


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_new_files_get_the_usual_permissions_and_updates_keep_theirs(tmp_path):
    umask = os.umask(0o022)  # a typical umask, whatever the test runner's is
    try:
        _, dirs, statuses = _generate(tmp_path, OTHERS)
        # As any new file: readable by the people meant to finish the detector.
        assert {path.stat().st_mode & 0o777 for path, _ in statuses} == {0o644}
        backlog = next(dirs["backlog"].glob("PATTERN_*.md"))
        backlog.chmod(0o640)
        _, _, again = _generate(tmp_path, [*OTHERS, "LLM output truncated at max_tokens=2048"])
        assert dict(again)[backlog] == "updated"  # one occurrence more
        assert backlog.stat().st_mode & 0o777 == 0o640
        assert not list(tmp_path.rglob("*.tmp"))  # no temporary file is left behind
    finally:
        os.umask(umask)


def test_huge_messages_are_sampled_by_their_headline_and_their_tests_pass(tmp_path):
    log = "\n".join(f"tests/test_{n}.py::test_case PASSED" for n in range(3000))
    huge = [
        f"{log}\nE   ModuleNotFoundError: No module named 'tiktoken'\n{log}",
        f"{log}\nE   ModuleNotFoundError: No module named 'tiktoken'\nFAILED (errors=1)",
        "error: patch failed: src/a.py:1 " + "context " * 20_000,
        "error: patch failed: src/b.py:2 " + "context " * 20_000,
        "error: patch failed: src/c.py:3 " + "context " * 20_000,
    ]
    result, dirs, _ = _generate(tmp_path, huge + OTHERS)
    samples = [sample for pattern in result.patterns for sample in pattern.samples]
    assert max(map(len, samples)) <= mining.SAMPLE_MAX_CHARS
    assert "ModuleNotFoundError: No module named 'tiktoken'" in samples
    generated = [path for folder in dirs.values() for path in folder.iterdir()]
    assert max(path.stat().st_size for path in generated) < 100_000
    completed = _run_pytest(dirs["tests"], cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr

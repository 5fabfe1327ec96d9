"""`smoke_check` against a live test server over real HTTP."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from autopack_site.testing import free_port, manage, subprocess_env
from metrics.models import Run

pytestmark = pytest.mark.django_db(transaction=True)


def smoke(*args: str) -> str:
    out = StringIO()
    call_command("smoke_check", *args, stdout=out)
    return out.getvalue()


def test_passes_with_phase6_off_expecting_503(live_server, api_key):
    output = smoke("--base-url", live_server.url, "--api-key", api_key)
    assert "PASS ledger ingestion: HTTP 503 (expected 503)" in output
    assert "phase6_metrics off per /health" in output
    assert "FAIL" not in output
    assert "PASS consolidated metrics: HTTP 503 (expected 503)" in output
    assert "PASS A/B results list: HTTP 200" in output
    assert "PASS A/B dashboard: HTTP 200" in output
    assert "PASS patterns list: HTTP 200" in output
    assert "PASS patterns match: HTTP 200 (expected 200)" in output
    assert output.strip().endswith("Smoke check: 19 passed, 0 failed.")
    assert not Run.objects.exists()  # the throwaway run was deleted


def test_passes_with_phase6_on_expecting_201(live_server, api_key, phase6_on, monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", "1")
    output = smoke("--base-url", live_server.url, "--api-key", api_key)
    assert "PASS ledger ingestion: HTTP 201 (expected 201)" in output
    assert "PASS consolidated metrics: HTTP 200 (expected 200)" in output
    assert "total_tokens 4 (expected 4)" in output
    assert not Run.objects.exists()


def test_without_key_checks_that_auth_is_enforced(live_server):
    output = smoke("--base-url", live_server.url)
    assert "PASS runs (auth enforced): HTTP 401" in output
    assert "5 passed, 0 failed" in output


def test_wrong_key_fails_with_summary(live_server, api_key):
    out = StringIO()
    with pytest.raises(CommandError, match=r"Smoke check: \d+ passed, [1-9]\d* failed"):
        call_command(
            "smoke_check", "--base-url", live_server.url, "--api-key", "bad.key", stdout=out
        )
    assert "FAIL runs list: HTTP 401 (expected 200)" in out.getvalue()


def test_unreachable_instance_is_a_command_error():
    with pytest.raises(CommandError, match="Could not reach"):
        smoke("--base-url", f"http://127.0.0.1:{free_port()}", "--timeout", "2")


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "601"])
def test_timeout_out_of_range_is_a_command_error(timeout):
    with pytest.raises(CommandError, match="--timeout must be more than 0 and at most 600"):
        smoke("--base-url", "http://127.0.0.1:8000", "--timeout", timeout)


def test_base_url_must_be_http():
    with pytest.raises(CommandError, match="--base-url must start with http"):
        smoke("--base-url", "ops.example.com")


def test_exit_code_is_non_zero_in_a_real_process(live_server):
    result = manage(
        "smoke_check", "--base-url", live_server.url, "--api-key", "bad.key", env=subprocess_env()
    )
    assert result.returncode == 1
    assert "CommandError: Smoke check:" in result.stderr
    ok = manage("smoke_check", "--base-url", live_server.url, env=subprocess_env())
    assert ok.returncode == 0, ok.stdout + ok.stderr

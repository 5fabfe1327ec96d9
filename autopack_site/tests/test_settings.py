"""Production settings are secure by default; tested in real subprocesses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
STRONG_SECRET = "q8Xv2-pL0z!w7Rk9@tYb4nM1cJ6hD3sF5gA0eU8iO2rT7yW4xZ9vB1nC5mK3jH6"


def manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": "autopack_site.settings",
                "DJANGO_READ_DOT_ENV_FILE": "0", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.mark.parametrize(
    "secret",
    [None, "", "   ", "django-insecure-autopack-ops-development-only"],
    ids=["missing", "empty", "blank", "development-default"],
)
def test_production_refuses_to_start_without_a_real_secret(secret):
    env = {"DJANGO_DEBUG": "0"}
    if secret is not None:
        env["DJANGO_SECRET_KEY"] = secret
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_mode_starts_with_the_development_secret():
    result = manage("check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_SECRET, DJANGO_ALLOWED_HOSTS="ops.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_tls_proxy_deployments_can_turn_ssl_redirect_off():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_SECRET, DJANGO_ALLOWED_HOSTS="ops.example.com",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr

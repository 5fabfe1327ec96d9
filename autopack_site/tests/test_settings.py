"""Production settings are secure by default; tested in real subprocesses."""

import pytest

from autopack_site.testing import STRONG_SECRET, subprocess_env
from autopack_site.testing import manage as run_manage


def manage(*args: str, **env_overrides: str):
    env = subprocess_env(**env_overrides)
    # These tests are about the secret and the HTTPS defaults: start from none.
    for name in ("DJANGO_SECRET_KEY", "DJANGO_SECURE_SSL_REDIRECT"):
        if name not in env_overrides:
            env.pop(name)
    return run_manage(*args, env=env)


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
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_ALLOWED_HOSTS="ops.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_tls_proxy_deployments_can_turn_ssl_redirect_off():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=STRONG_SECRET,
        DJANGO_ALLOWED_HOSTS="ops.example.com",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["", "   ", "not-a-url"], ids=["empty", "blank", "schemeless"])
def test_a_database_url_that_names_no_database_is_refused_with_the_reason(url):
    result = manage("check", DJANGO_DEBUG="1", DATABASE_URL=url)
    assert result.returncode != 0
    assert "DATABASE_URL must be a database URL" in result.stderr

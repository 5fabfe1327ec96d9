"""Fixtures shared by every app's tests (loaded with `-p` from pytest.ini).

Django imports happen inside the fixtures: this plugin loads before Django is set up.
"""

import pytest


@pytest.fixture
def api_client():
    """A client with no credentials."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def api_key(db) -> str:
    from rest_framework_api_key.models import APIKey

    _, key = APIKey.objects.create_key(name="test-client")
    return key


@pytest.fixture
def authed_client(api_key):
    """A client sending a valid key in the X-API-Key header, as the executor does."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


@pytest.fixture
def phase6_on(monkeypatch):
    monkeypatch.setenv("AUTOPACK_ENABLE_PHASE6_METRICS", "1")


@pytest.fixture(autouse=True)
def _kill_switches_unset(monkeypatch):
    """Start every test with the switches unset, whatever the shell exported."""
    monkeypatch.delenv("AUTOPACK_ENABLE_PHASE6_METRICS", raising=False)
    monkeypatch.delenv("AUTOPACK_ENABLE_CONSOLIDATED_METRICS", raising=False)

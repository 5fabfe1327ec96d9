"""The service's own management commands (the health and smoke checks have their own tests)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework_api_key.models import APIKey

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_a_key_that_authenticates(api_client):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "executor-staging", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "." in key and "will not be shown again" in err.getvalue()
    assert api_client.get("/api/v1/runs/", HTTP_X_API_KEY=key).status_code == 200


def test_create_api_key_stores_only_a_hash():
    out = StringIO()
    call_command("create_api_key", "ci", stdout=out, stderr=StringIO())
    key = out.getvalue().strip()
    record = APIKey.objects.get(name="ci")
    assert key not in record.hashed_key and record.hashed_key.startswith("sha512$$")


def test_create_api_key_refuses_blank_name():
    with pytest.raises(CommandError, match="NAME must not be empty"):
        call_command("create_api_key", "  ", stdout=StringIO(), stderr=StringIO())


def test_create_api_key_refuses_a_name_longer_than_the_model_keeps():
    limit = APIKey._meta.get_field("name").max_length
    with pytest.raises(CommandError, match=f"longer than {limit} characters"):
        call_command("create_api_key", "k" * (limit + 1), stdout=StringIO(), stderr=StringIO())
    assert not APIKey.objects.exists()

"""Fixtures of the site's page tests: a logged-in staff member (the dashboard's reader)."""

import pytest
from django.contrib.auth.models import User


@pytest.fixture
def staff(db):
    return User.objects.create_user("operator", password="x", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client

"""Browser middleware: messages built on first use, sessions and users passed by
for key clients."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty
from rest_framework.test import APIClient

from autopack_site.middleware import LazyMessageMiddleware, is_key_client_request


def _middleware_response(view):
    request = RequestFactory().get("/")
    request.session = {}  # a session, as SessionMiddleware gives every request
    return request, LazyMessageMiddleware(view)(request)


def test_messages_are_stored_when_a_view_adds_one():
    def view(request):
        messages.success(request, "saved")
        return HttpResponse()

    _, response = _middleware_response(view)
    reader = RequestFactory().get("/")
    reader.COOKIES["messages"] = response.cookies["messages"].value
    assert [str(message) for message in CookieStorage(reader)] == ["saved"]


def test_a_request_that_never_uses_messages_never_builds_their_storage():
    request, response = _middleware_response(lambda request: HttpResponse())
    assert request._messages._wrapped is empty and "messages" not in response.cookies


@pytest.mark.parametrize(
    "path, headers, key_client",
    [
        ("/api/v1/runs/", {"HTTP_X_API_KEY": "k"}, True),
        ("/runs/r1/phases/p1/update_status", {"HTTP_AUTHORIZATION": "Bearer k"}, True),
        ("/api/v1/runs/", {"HTTP_AUTHORIZATION": "bearer k"}, True),
        ("/api/v1/runs/", {}, False),  # a browser, or nobody: sessions as usual
        ("/api/v1/runs/", {"HTTP_X_API_KEY": "k", "HTTP_COOKIE": "sessionid=s"}, False),
        ("/api/v1/runs/", {"HTTP_AUTHORIZATION": "Basic a2V5Og=="}, False),
        ("/dashboard/", {"HTTP_X_API_KEY": "k"}, False),  # an HTML page reads the user
        ("/admin/", {"HTTP_X_API_KEY": "k"}, False),
    ],
)
def test_key_clients_are_machines_on_machine_paths_without_cookies(path, headers, key_client):
    assert is_key_client_request(RequestFactory().get(path, **headers)) is key_client


@pytest.mark.django_db
def test_a_key_client_gets_no_session_and_a_browser_keeps_its_own(api_key, staff):
    machine = APIClient()
    machine.credentials(HTTP_X_API_KEY=api_key)
    answered = machine.get("/api/v1/runs/")
    assert answered.status_code == 200 and "Cookie" not in answered.get("Vary", "")
    assert not answered.cookies
    browser = APIClient()
    browser.force_login(staff)  # a session cookie: the browsable API's user
    read = browser.get("/api/v1/runs/")
    assert read.status_code == 200 and "Cookie" in read["Vary"]  # the session was read


@pytest.mark.django_db
def test_a_key_on_an_html_page_still_meets_the_login(api_key):
    page = APIClient().get("/dashboard/", HTTP_X_API_KEY=api_key)
    assert page.status_code == 302 and "/admin/login/" in page["Location"]

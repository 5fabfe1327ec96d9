"""Django's messages with their storage built on first use."""

from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from autopack_site.middleware import LazyMessageMiddleware


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

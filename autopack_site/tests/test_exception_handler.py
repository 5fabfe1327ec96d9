"""The API's exception handler: DRF's shapes and headers, our rollback rule."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from rest_framework import exceptions

from autopack_site.api.exceptions import exception_handler


class AtomicView:
    """Stands for a view that runs inside the request transaction."""

    def dispatch(self, request, *args, **kwargs):
        raise NotImplementedError


class NonAtomicView:
    @transaction.non_atomic_requests
    def dispatch(self, request, *args, **kwargs):
        raise NotImplementedError


def handle(exc, view_class=AtomicView):
    return exception_handler(exc, {"view": view_class(), "args": (), "kwargs": {}})


@pytest.mark.parametrize(
    "exc, status, body",
    [
        (Http404("No such run."), 404, {"detail": "No such run."}),
        (PermissionDenied("Not yours."), 403, {"detail": "Not yours."}),
        (exceptions.ValidationError({"limit": ["Too big."]}), 400, {"limit": ["Too big."]}),
        (exceptions.ValidationError(["Refused."]), 400, ["Refused."]),
        (exceptions.MethodNotAllowed("PUT"), 405, {"detail": 'Method "PUT" not allowed.'}),
    ],
)
def test_drf_and_django_exceptions_keep_drf_shapes(exc, status, body):
    response = handle(exc)
    assert (response.status_code, response.data) == (status, body)


def test_a_challenge_and_a_wait_become_headers():
    unauthenticated = exceptions.NotAuthenticated()
    unauthenticated.auth_header = "Bearer"
    assert handle(unauthenticated)["WWW-Authenticate"] == "Bearer"
    throttled = handle(exceptions.Throttled(wait=7.6))
    # DRF rounds the wait up to whole seconds.
    assert (throttled.status_code, throttled["Retry-After"]) == (429, "8")


def test_anything_else_is_left_for_drf_to_raise():
    assert handle(RuntimeError("bug")) is None


@pytest.mark.django_db
def test_a_refusal_marks_the_request_transaction_for_rollback():
    with transaction.atomic():
        handle(exceptions.NotFound())
        assert transaction.get_rollback()
        transaction.set_rollback(False)


@pytest.mark.django_db
def test_a_refusal_outside_the_request_transaction_leaves_an_enclosing_block_alone():
    # The enclosing block is the test's; a view outside the request
    # transaction must not mark it, as DRF's set_rollback() would.
    with transaction.atomic():
        handle(exceptions.NotFound(), NonAtomicView)
        assert not transaction.get_rollback()

"""Limit/offset pagination that rejects out-of-range parameters.

DRF's stock class silently clamps a bad `limit`, which hides client bugs; here a
`limit` outside 1…max_limit or a negative `offset` is a 400 naming the bound.
"""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_LIMIT = 10_000


def page_parameters(*, default_limit: int) -> list[OpenApiParameter]:
    """`limit` and `offset` as the schema states them for views that paginate by hand:
    the bounds parse_limit_offset enforces, so the schema allows only what it takes."""
    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_LIMIT},
            description=f"1…{MAX_PAGE_LIMIT} (default {default_limit})",
        ),
        OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="≥ 0"),
    ]


def parse_limit_offset(query_params, *, default_limit: int, max_limit: int) -> tuple[int, int]:
    """Return (limit, offset) from query parameters, or raise a 400 naming the bound.

    An empty value is not given, as for every query parameter of the API.
    """
    errors = {}
    limit = default_limit
    raw_limit = query_params.get("limit")
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            limit = None
        if limit is None or not 1 <= limit <= max_limit:
            errors["limit"] = [f"limit must be an integer between 1 and {max_limit}."]
    offset = 0
    raw_offset = query_params.get("offset")
    if raw_offset:
        try:
            offset = int(raw_offset)
        except ValueError:
            offset = None
        if offset is None or offset < 0:
            errors["offset"] = ["offset must be an integer greater than or equal to 0."]
    if errors:
        raise ValidationError(errors)
    return limit, offset


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 100
    max_limit = MAX_PAGE_LIMIT

    def read_page_request(self, request) -> tuple[int, int]:
        """(limit, offset) of the page asked for, or a 400 naming the bound."""
        self.request = request
        self.limit, self.offset = parse_limit_offset(
            request.query_params, default_limit=self.default_limit, max_limit=self.max_limit
        )
        return self.limit, self.offset

    def page_links(self, count: int) -> dict:
        """limit, offset, next and previous for a page of `count` results counted
        elsewhere (an aggregate query that also gave the totals)."""
        self.count = count
        return {
            "limit": self.limit,
            "offset": self.offset,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
        }

    def paginate_queryset(self, queryset, request, view=None):
        self.read_page_request(request)
        self.count = self.get_count(queryset)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if self.count == 0 or self.offset > self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "limit":
                parameter["schema"].update({"minimum": 1, "maximum": self.max_limit})
            if parameter["name"] == "offset":
                parameter["schema"].update({"minimum": 0})
        return parameters

"""Query-string filters for the run list."""

import django_filters

from autopack_site.api.filters import (
    ListChoiceFilter,
    StrictBooleanFilter,
    UTCIsoDateTimeFilter,
)
from metrics.models import DashboardEvent, Run


class RunFilter(django_filters.FilterSet):
    state = ListChoiceFilter(choices=Run.State.choices)
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    has_failures = StrictBooleanFilter(
        method="filter_has_failures",
        label="Runs in a failed state or with a FAILED phase (true), or neither (false).",
    )

    class Meta:
        model = Run
        fields = ["state", "created_after", "created_before", "has_failures"]

    def filter_has_failures(self, queryset, name, value):
        return queryset.with_failures() if value else queryset.without_failures()


class EventFilter(django_filters.FilterSet):
    event_type = ListChoiceFilter(choices=DashboardEvent.EventType.choices)

    class Meta:
        model = DashboardEvent
        fields = ["event_type"]

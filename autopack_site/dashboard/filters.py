"""The dashboard's run list filters: the API's run filter (one rule for states and
failures) plus whole UTC days and an id search, as an HTML form sends them."""

import django_filters

from autopack_site.dates import utc_day_end, utc_day_start
from metrics.api.filters import RunFilter


class RunPageFilter(RunFilter):
    created_from = django_filters.DateFilter(method="filter_created_from", label="Created from")
    created_to = django_filters.DateFilter(method="filter_created_to", label="Created to")
    run_id = django_filters.CharFilter(
        field_name="id", lookup_expr="icontains", max_length=128, label="Run id contains"
    )

    class Meta(RunFilter.Meta):
        fields = [*RunFilter.Meta.fields, "created_from", "created_to", "run_id"]

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=utc_day_start(value))

    def filter_created_to(self, queryset, name, value):
        end = utc_day_end(value)  # None: the last representable day, so no bound
        return queryset if end is None else queryset.filter(created_at__lt=end)

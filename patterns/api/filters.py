"""Query-string filters for the pattern list."""

import django_filters

from autopack_site.api.filters import ListChoiceFilter
from patterns.models import Pattern


class PatternFilter(django_filters.FilterSet):
    # Choice filters, so `?status=BOGUS` is a 400 with the field's error, not an
    # empty page that reads like "no such patterns".
    status = ListChoiceFilter(choices=Pattern.Status.choices)
    kind = ListChoiceFilter(choices=Pattern.Kind.choices)

    class Meta:
        model = Pattern
        fields = ["status", "kind"]

"""Query-string filters for the pattern list."""

import django_filters

from patterns.models import Pattern


class PatternFilter(django_filters.FilterSet):
    # Choice filters, so `?status=BOGUS` is a 400 with the field's error, not an
    # empty page that reads like "no such patterns".
    status = django_filters.MultipleChoiceFilter(choices=Pattern.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Pattern.Kind.choices)

    class Meta:
        model = Pattern
        fields = ["status", "kind"]

"""Factories for stored patterns."""

import factory

from patterns.models import Pattern


class PatternFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pattern

    pattern_id = factory.Sequence(lambda n: f"pattern_{n:04d}")
    kind = Pattern.Kind.OTHER
    template = factory.Sequence(lambda n: f"failure number {n}")
    regex = factory.LazyAttribute(lambda pattern: rf"(?<!\S){pattern.template}(?!\S)")
    occurrences = 3
    run_ids = factory.Sequence(lambda n: [f"run-{n}"])
    run_count = 1

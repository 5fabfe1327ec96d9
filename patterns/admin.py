"""Patterns in the admin: browse what mining found and set each pattern's status."""

from django.contrib import admin

from patterns.models import Pattern

MINED_FIELDS = [
    "pattern_id", "kind", "template", "regex", "keywords", "occurrences", "run_count",
    "run_ids", "samples", "first_seen", "last_seen", "created_at", "updated_at",
]


@admin.register(Pattern)
class PatternAdmin(admin.ModelAdmin):
    list_display = ["pattern_id", "kind", "status", "occurrences", "run_count", "last_seen"]
    list_editable = ["status"]
    list_filter = ["status", "kind"]
    search_fields = ["pattern_id", "template"]
    # Everything but the status is mining output: the next run of the command rewrites it.
    readonly_fields = MINED_FIELDS
    fields = ["status", *MINED_FIELDS]

    def has_add_permission(self, request) -> bool:
        return False

"""Patterns in the admin: browse what mining found and set each pattern's status."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from patterns.models import Pattern
from patterns.services import patterns_merge, patterns_unmerge

MINED_FIELDS = [
    "pattern_id", "kind", "template", "regex", "keywords", "occurrences", "run_count",
    "run_ids", "samples", "first_seen", "last_seen", "created_at", "updated_at",
]


@admin.register(Pattern)
class PatternAdmin(admin.ModelAdmin):
    list_display = ["pattern_id", "kind", "status", "occurrences", "run_count", "last_seen",
                    "merged_into"]
    list_editable = ["status"]
    list_filter = ["status", "kind", ("merged_into", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_into"]
    actions = ["merge_into_most_frequent", "unmerge"]
    search_fields = ["pattern_id", "template"]
    # Everything but the status is mining output: the next run of the command rewrites it.
    readonly_fields = [*MINED_FIELDS, "merged_into"]
    fields = ["status", "merged_into", *MINED_FIELDS]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Merge selected patterns into the most frequent one")
    def merge_into_most_frequent(self, request, queryset):
        chosen = list(queryset.order_by("-occurrences", "created_at", "id"))
        if len(chosen) < 2:
            self.message_user(request, "Select at least two patterns to merge.", messages.ERROR)
            return
        target = next((pattern for pattern in chosen if pattern.merged_into_id is None), None)
        if target is None:
            self.message_user(request, "Every selected pattern is already merged elsewhere.",
                              messages.ERROR)
            return
        try:
            merged = patterns_merge(target=target, sources=chosen)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, f"Merged {merged} pattern(s) into {target}.", messages.SUCCESS)

    @admin.action(description="Split selected patterns out of their merge")
    def unmerge(self, request, queryset):
        count = patterns_unmerge(patterns=list(queryset))
        self.message_user(request, f"{count} pattern(s) are their own again.", messages.SUCCESS)

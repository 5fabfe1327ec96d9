"""Patterns in the admin: browse what mining found and set each pattern's status."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from patterns import registry
from patterns.models import Pattern
from patterns.selectors import merge_suggestions
from patterns.services import (
    patterns_answer_suggestion,
    patterns_mark_distinct,
    patterns_merge_into_most_frequent,
    patterns_unmark_distinct,
    patterns_unmerge,
)
from patterns.similarity import DEFAULT_MIN_SCORE

SIMILAR_SHOWN = 5
# Suggestions on one review page: answering one reloads the page with the next.
REVIEW_PAGE_SIZE = 20
SAMPLES_SHOWN = 2

MINED_FIELDS = [
    "pattern_id",
    "kind",
    "template",
    "regex",
    "keywords",
    "occurrences",
    "run_count",
    "run_ids",
    "samples",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
]


class MergeAnswerForm(forms.Form):
    source = forms.ModelChoiceField(
        Pattern.objects.select_related("merged_into"), to_field_name="pattern_id"
    )
    target = forms.ModelChoiceField(
        Pattern.objects.select_related("merged_into"), to_field_name="pattern_id"
    )
    same_cause = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")], coerce=lambda answer: answer == "yes"
    )


class ReviewFilterForm(forms.Form):
    min_score = forms.FloatField(
        label="min similarity", min_value=0.01, max_value=1.0, required=False
    )

    def min_score_or_default(self) -> float:
        if self.is_valid() and self.cleaned_data["min_score"] is not None:
            return self.cleaned_data["min_score"]
        return DEFAULT_MIN_SCORE


@admin.register(Pattern)
class PatternAdmin(admin.ModelAdmin):
    list_display = [
        "pattern_id",
        "kind",
        "status",
        "occurrences",
        "run_count",
        "last_seen",
        "merged_into",
    ]
    list_editable = ["status"]
    list_filter = ["status", "kind", ("merged_into", admin.EmptyFieldListFilter)]
    list_select_related = ["merged_into"]
    actions = ["merge_into_most_frequent", "unmerge", "mark_distinct", "unmark_distinct"]
    search_fields = ["pattern_id", "template"]
    # Everything but the status is mining output: the next run of the command rewrites it.
    readonly_fields = [*MINED_FIELDS, "merged_into", "similar_patterns", "distinct_from"]
    fields = ["status", "merged_into", "similar_patterns", "distinct_from", *MINED_FIELDS]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Similar patterns (one cause? answer on the review page)")
    def similar_patterns(self, pattern: Pattern):
        if pattern.merged_into_id is not None:
            return "Merged: see the pattern it was merged into."
        involved = [
            (
                suggestion.target if suggestion.source == pattern.pattern_id else suggestion.source,
                suggestion.score,
            )
            for suggestion in merge_suggestions(involving=pattern.pattern_id, limit=SIMILAR_SHOWN)
        ]
        if not involved:
            return "None with similar wording."
        pks = dict(
            Pattern.objects.filter(pattern_id__in=[pid for pid, _ in involved]).values_list(
                "pattern_id", "pk"
            )
        )
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> (similarity {})</li>',
                (
                    (reverse("admin:patterns_pattern_change", args=[pks[pid]]), pid, f"{score:.2f}")
                    for pid, score in involved
                ),
            ),
        )

    @admin.action(description="Merge selected patterns into the most frequent one")
    def merge_into_most_frequent(self, request, queryset):
        try:
            target, merged = patterns_merge_into_most_frequent(patterns=list(queryset))
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, f"Merged {merged} pattern(s) into {target}.", messages.SUCCESS)

    @admin.action(description="Split selected patterns out of their merge")
    def unmerge(self, request, queryset):
        count = patterns_unmerge(patterns=list(queryset))
        self.message_user(request, f"{count} pattern(s) are their own again.", messages.SUCCESS)

    @admin.action(description="Mark selected patterns as different causes (no merge suggestion)")
    def mark_distinct(self, request, queryset):
        chosen = list(queryset)
        if len(chosen) < 2:
            self.message_user(request, "Select at least two patterns.", messages.ERROR)
            return
        try:
            pairs = patterns_mark_distinct(patterns=chosen)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        self.message_user(request, f"{pairs} pair(s) marked as different causes.", messages.SUCCESS)

    @admin.action(description="Forget 'different causes' marks among selected patterns")
    def unmark_distinct(self, request, queryset):
        pairs = patterns_unmark_distinct(patterns=list(queryset))
        self.message_user(request, f"{pairs} pair(s) may be suggested again.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        # Detectors people took over can break; say so where they manage patterns.
        for file_name, reason in registry.load_errors().items():
            self.message_user(
                request, f"Detector {file_name} is not loaded: {reason}", messages.WARNING
            )
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        review = path(
            "review/", self.admin_site.admin_view(self.review_view), name="patterns_pattern_review"
        )
        return [review, *super().get_urls()]

    def review_view(self, request):
        """Merge suggestions, most similar first, each answered with one click:
        the same cause (merge) or different causes (never suggested again)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        # The threshold travels with each answer, so the next page keeps it.
        threshold = ReviewFilterForm(request.POST if request.method == "POST" else request.GET)
        min_score = threshold.min_score_or_default()
        if request.method == "POST":
            self._answer(request, MergeAnswerForm(request.POST))
            return redirect(
                reverse("admin:patterns_pattern_review") + "?" + urlencode({"min_score": min_score})
            )
        if threshold.errors:
            self.message_user(
                request,
                f"min similarity: {' '.join(threshold.errors['min_score'])} "
                f"Showing {DEFAULT_MIN_SCORE} instead.",
                messages.WARNING,
            )
        suggestions = merge_suggestions(min_score=min_score, limit=REVIEW_PAGE_SIZE)
        shown = {
            pattern.pattern_id: pattern
            for pattern in Pattern.objects.filter(
                pattern_id__in={pid for s in suggestions for pid in (s.source, s.target)}
            )
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Review merge suggestions",
            "samples_shown": SAMPLES_SHOWN,
            "min_score": min_score,
            # A pattern deleted since the suggestions were scored is left out.
            "pairs": [
                {
                    "score": suggestion.score,
                    "sides": [shown[suggestion.source], shown[suggestion.target]],
                }
                for suggestion in suggestions
                if suggestion.source in shown and suggestion.target in shown
            ],
        }
        return render(request, "admin/patterns/pattern/review.html", context)

    def _answer(self, request, form: MergeAnswerForm) -> None:
        if not form.is_valid():
            errors = "; ".join(
                f"{field}: {' '.join(problems)}" for field, problems in form.errors.items()
            )
            self.message_user(request, f"Answer not recorded ({errors}).", messages.ERROR)
            return
        source, target = form.cleaned_data["source"], form.cleaned_data["target"]
        try:
            patterns_answer_suggestion(**form.cleaned_data)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        verdict = (
            f"Merged {source} into {target}."
            if form.cleaned_data["same_cause"]
            else f"{source} and {target} are different causes."
        )
        self.message_user(request, verdict, messages.SUCCESS)

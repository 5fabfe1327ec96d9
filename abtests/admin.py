"""A/B results in the admin: the operators' main view. Read-only: results are computed."""

from django.contrib import admin
from django.shortcuts import render
from django.urls import re_path, reverse
from django.utils.html import format_html, format_html_join

from abtests import charts, selectors
from abtests.models import ABTestResult
from metrics.models import IDENTIFIER_PATTERN, TOKEN_CATEGORIES


def _run_link(run_id: str):
    url = reverse("admin:metrics_run_change", args=[run_id])
    return format_html('<a href="{}">{}</a>', url, run_id)


@admin.register(ABTestResult)
class ABTestResultAdmin(admin.ModelAdmin):
    list_display = [
        "test_id",
        "control",
        "treatment",
        "validity",
        "token_delta",
        "success_rate_delta_pp",
        "created_at",
        "summary_link",
    ]
    list_filter = ["is_valid", "test_id", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["test_id", "control_run__id", "treatment_run__id"]
    date_hierarchy = "created_at"
    list_select_related = ["control_run", "treatment_run"]
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {"fields": ["test_id", "control", "treatment", "validity", "created_at", "created_by"]},
        ),
        (
            "Validity",
            {
                "fields": [
                    "validity_errors_list",
                    "validity_warnings_list",
                    "control_commit_sha",
                    "treatment_commit_sha",
                    "control_model_hash",
                    "treatment_model_hash",
                ]
            },
        ),
        (
            "Comparison (treatment − control)",
            {"fields": ["comparison", "time_delta_seconds", "success_rate_delta_pp"]},
        ),
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the audit trail stays

    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @admin.display(description="control", ordering="control_run")
    def control(self, obj: ABTestResult):
        return _run_link(obj.control_run_id)

    @admin.display(description="treatment", ordering="treatment_run")
    def treatment(self, obj: ABTestResult):
        return _run_link(obj.treatment_run_id)

    @admin.display(description="validity", ordering="is_valid")
    def validity(self, obj: ABTestResult):
        colour, label = ("#1a7f37", "✔ valid") if obj.is_valid else ("#c62828", "✘ invalid")
        return format_html('<strong style="color:{}">{}</strong>', colour, label)

    @admin.display(description="success-rate delta", ordering="success_rate_delta")
    def success_rate_delta_pp(self, obj: ABTestResult) -> str:
        return "—" if obj.success_rate_delta is None else f"{obj.success_rate_delta:+.1f} pp"

    @admin.display(description="summary")
    def summary_link(self, obj: ABTestResult):
        url = reverse("admin:abtests_abtestresult_summary", args=[obj.test_id])
        return format_html('<a href="{}">statistics</a>', url)

    @admin.display(description="validity errors")
    def validity_errors_list(self, obj: ABTestResult):
        return self._bullets(obj.validity_errors) or "none"

    @admin.display(description="validity warnings")
    def validity_warnings_list(self, obj: ABTestResult):
        return self._bullets(obj.validity_warnings) or "none"

    @staticmethod
    def _bullets(messages: list[str]):
        if not messages:
            return ""
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((m,) for m in messages))
        )

    @admin.display(description="tokens by category")
    def comparison(self, obj: ABTestResult):
        rows = [
            (
                name,
                obj.control_tokens.get(name, 0),
                obj.treatment_tokens.get(name, 0),
                getattr(obj, f"{name}_delta"),
            )
            for name in TOKEN_CATEGORIES
        ]
        rows.append(
            ("total_tokens", obj.control_total_tokens, obj.treatment_total_tokens, obj.token_delta)
        )
        rows.append(
            (
                "phases complete / countable",
                f"{obj.control_phases_complete} / "
                f"{obj.control_phases_total - obj.control_phases_skipped}",
                f"{obj.treatment_phases_complete} / "
                f"{obj.treatment_phases_total - obj.treatment_phases_skipped}",
                "",
            )
        )
        body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="ab-comparison"><thead><tr><th></th><th>control</th>'
            "<th>treatment</th><th>delta</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    def get_urls(self):
        # Only a well-formed id reaches the query: anything else (a NUL, which
        # PostgreSQL text cannot hold) is an unknown admin URL, not a 500.
        summary = re_path(
            rf"^summary/(?P<test_id>{IDENTIFIER_PATTERN})/$",
            self.admin_site.admin_view(self.summary_view),
            name="abtests_abtestresult_summary",
        )
        return [summary, *super().get_urls()]

    def summary_view(self, request, test_id: str):
        """Per-test statistics with a chart of per-pair token deltas and the mean's CI."""
        summary = selectors.experiment_summary(test_id)
        chart = charts.summary_delta_chart(
            summary.pair_token_deltas, summary.token_deltas["token_delta"]
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"A/B summary: {test_id}",
            "summary": summary,
            "chart": chart,
        }
        return render(request, "admin/abtests/summary.html", context)

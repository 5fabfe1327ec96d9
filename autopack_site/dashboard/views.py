"""The operator dashboard's HTML pages: every figure read by the selectors the API
uses, laid out as server-rendered SVG (autopack_site.dashboard.charts).

A composition root, like the URL map: it reads from every app, and writes nothing.
Staff only; the admin's login page is the login.
"""

import json
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from abtests import charts as ab_charts
from abtests import selectors as ab_selectors
from autopack_site.dashboard import charts
from autopack_site.dashboard.filters import RunPageFilter
from metrics import selectors as metrics_selectors
from metrics import services as metrics_services
from metrics.forms import ApprovalDecisionForm
from metrics.models import APPROVAL_DECIDE_PERMISSION, TOKEN_CATEGORIES, ApprovalRequest, Run
from patterns import registry as pattern_registry
from patterns import selectors as pattern_selectors
from patterns.models import Pattern
from replay import compare
from replay import selectors as replay_selectors
from replay.forms import ReplayDryRunForm
from replay.models import ReplayAttempt

WINDOW_DAYS = 30
TOP_PATTERNS = 5
PENDING_APPROVALS_SHOWN = 10
RUNS_PER_PAGE = 50
TESTS_PER_PAGE = 50
PATTERNS_PER_PAGE = 50
CAMPAIGNS_PER_PAGE = 50
EVENTS_SHOWN = 200
# Stacking order, bottom first: outcomes, then runs still in flight.
RUN_STATE_GROUPS = {
    "succeeded": [Run.State.DONE_SUCCESS],
    "failed": Run.State.failed(),
    "in progress": [state for state in Run.State.values if not state.startswith("DONE_")],
}


def _category_label(name: str) -> str:
    """ "second_opinion_tokens" as the pages show it: "second opinion"."""
    return name.removesuffix("_tokens").replace("_", " ")


def _window(today: date) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(WINDOW_DAYS - 1, -1, -1)]


def _runs_chart(
    days: list[date],
) -> tuple[charts.StackedChart, dict[str, int], list[tuple[str, int]]]:
    """The chart (states stacked in three groups), each group's total, and each
    state's own count over the window, in the states' order."""
    group_of = {state: group for group, states in RUN_STATE_GROUPS.items() for state in states}
    index = {day: position for position, day in enumerate(days)}
    series = {group: [0] * len(days) for group in RUN_STATE_GROUPS}
    per_state = dict.fromkeys(Run.State.values, 0)
    for row in metrics_selectors.runs_by_state_per_day(days[0]):
        if row["date"] in index:
            series[group_of[row["state"]]][index[row["date"]]] += row["runs"]
            per_state[row["state"]] += row["runs"]
    totals = {group: sum(values) for group, values in series.items()}
    labels = [day.strftime("%m-%d") for day in days]
    states = [(state, count) for state, count in per_state.items() if count]
    return charts.stacked_bars(labels, series), totals, states


def _tokens_chart(days: list[date]) -> tuple[charts.StackedChart, dict[str, int]]:
    index = {day: position for position, day in enumerate(days)}
    series = {name: [0] * len(days) for name in TOKEN_CATEGORIES}
    for row in metrics_selectors.daily_totals(date_from=days[0], date_to=days[-1]):
        for name in TOKEN_CATEGORIES:
            series[name][index[row["date"]]] = row[name]
    named = {_category_label(name): values for name, values in series.items()}
    totals = {name: sum(values) for name, values in named.items()}
    labels = [day.strftime("%m-%d") for day in days]
    return charts.stacked_bars(labels, named), totals


def _with_trends(patterns: list[Pattern], days: list[date]) -> list[dict]:
    """Each pattern with its runs per day over `days` as a sparkline (one query)."""
    per_day = pattern_selectors.pattern_runs_per_day(patterns, days[0])
    return [
        {
            "pattern": pattern,
            "runs_in_window": sum(per_day[pattern.pk].values()),
            "trend": charts.sparkline([per_day[pattern.pk].get(day, 0) for day in days]),
        }
        for pattern in patterns
    ]


@staff_member_required
def overview(request):
    days = _window(timezone.now().date())
    runs_chart, runs_totals, runs_per_state = _runs_chart(days)
    tokens_chart, tokens_totals = _tokens_chart(days)
    finished = runs_totals["succeeded"] + runs_totals["failed"]
    pending = metrics_selectors.approvals_pending()
    context = {
        "section": "overview",
        "window_days": WINDOW_DAYS,
        "first_day": days[0],
        "last_day": days[-1],
        "runs_chart": runs_chart,
        "runs_totals": runs_totals,
        "runs_per_state": runs_per_state,
        "runs_in_progress": runs_totals["in progress"],
        # Of the runs that finished in the window, the share that failed.
        "failure_rate_percent": 100 * runs_totals["failed"] / finished if finished else None,
        "tokens_chart": tokens_chart,
        "tokens_totals": tokens_totals,
        "top_patterns": _with_trends(pattern_selectors.patterns_top(TOP_PATTERNS), days),
        "campaigns": list(replay_selectors.campaigns_active()),
        "pending_approvals": list(pending[:PENDING_APPROVALS_SHOWN]),
        "pending_approvals_count": metrics_selectors.approvals_pending_count(),
    }
    return render(request, "dashboard/overview.html", context)


@staff_member_required
def runs(request):
    filters = RunPageFilter(request.GET, queryset=metrics_selectors.runs_newest_first())
    valid = filters.is_valid()
    listed = metrics_selectors.with_phase_counts(filters.qs) if valid else Run.objects.none()
    page = Paginator(listed, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "section": "runs",
        "filters": filters,
        "states": Run.State.choices,
        "chosen_states": request.GET.getlist("state"),
        "runs_page": page,
        "query": query.urlencode(),
    }
    return render(request, "dashboard/runs.html", context, status=200 if valid else 400)


def _phase_tokens_chart(run: Run, phases: list) -> charts.StackedChart:
    per_phase = metrics_selectors.phase_token_totals(run.pk)
    empty = dict.fromkeys(TOKEN_CATEGORIES, 0)
    series = {
        _category_label(name): [per_phase.get(phase.pk, empty)[name] for phase in phases]
        for name in TOKEN_CATEGORIES
    }
    return charts.stacked_bars([phase.phase_id for phase in phases], series, label_every=1)


@staff_member_required
def run_detail(request, run_id: str):
    run = metrics_selectors.run_detail_get(run_id)
    phases = list(run.phases.all())
    context = {
        "section": "runs",
        "run": run,
        "tiers": [
            {"tier": tier, "phases": [phase for phase in phases if phase.tier_id == tier.pk]}
            for tier in run.tiers.all()
        ],
        "totals": metrics_selectors.consolidated_totals(run.pk),
        "phase_chart": _phase_tokens_chart(run, phases),
        "events": list(metrics_selectors.events_for_run(run)[:EVENTS_SHOWN]),
        "events_shown": EVENTS_SHOWN,
        "patterns": list(pattern_selectors.patterns_of_run(run.pk)[: TOP_PATTERNS * 4]),
        "original": run.replay_of,
        "replays": list(run.replays.order_by("created_at", "id")),
        "comparisons": list(ab_selectors.ab_results_for_run(run.pk)),
    }
    return render(request, "dashboard/run_detail.html", context)


@staff_member_required
def approvals(request):
    metrics_services.approvals_expire()  # what passed its deadline shows as decided
    context = {
        "section": "approvals",
        "approvals": list(metrics_selectors.approvals_pending()),
        "may_decide": request.user.has_perm(APPROVAL_DECIDE_PERMISSION),
    }
    return render(request, "dashboard/approvals.html", context)


approvals.writes_on_read = True  # SQLite: this GET's transaction takes the write lock


@require_POST
@staff_member_required
def approval_decide(request, approval_id: int):
    """Record the operator's decision, then back to the pending list."""
    if not request.user.has_perm(APPROVAL_DECIDE_PERMISSION):
        raise PermissionDenied
    get_object_or_404(ApprovalRequest, pk=approval_id)
    decided, text = ApprovalDecisionForm(request.POST).decide(
        approval_id, by=request.user.get_username(), method=ApprovalRequest.Method.DASHBOARD
    )
    messages.add_message(request, messages.SUCCESS if decided else messages.ERROR, text)
    return redirect("dashboard:approvals")


@staff_member_required
def ab_tests(request):
    page = Paginator(ab_selectors.ab_tests_overview(), TESTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "dashboard/ab_tests.html", {"section": "ab", "tests_page": page})


@staff_member_required
def ab_test_detail(request, test_id: str):
    summary = ab_selectors.experiment_summary(test_id)
    if summary.valid_pairs + summary.invalid_pairs == 0:
        raise Http404(f"No A/B test {test_id!r}.")
    context = {
        "section": "ab",
        "summary": summary,
        "chart": ab_charts.summary_delta_chart(
            summary.pair_token_deltas, summary.token_deltas["token_delta"]
        ),
        "pairs": list(ab_selectors.ab_results_for_test(test_id)),
    }
    return render(request, "dashboard/ab_test.html", context)


@staff_member_required
def patterns(request):
    page = Paginator(pattern_selectors.patterns_standalone(), PATTERNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    days = _window(timezone.now().date())
    rows = _with_trends(list(page.object_list), days)
    for row in rows:
        row["files"] = pattern_registry.generated_files(row["pattern"].pattern_id)
    context = {
        "section": "patterns",
        "patterns_page": page,
        "rows": rows,
        "window_days": WINDOW_DAYS,
    }
    return render(request, "dashboard/patterns.html", context)


@staff_member_required
def pattern_file(request, pattern_id: str, kind: str):
    """A pattern's generated detector or backlog entry, as text."""
    pattern = pattern_selectors.pattern_get(pattern_id)
    path = pattern_registry.generated_files(pattern.pattern_id).get(kind)
    if path is None:
        raise Http404(f"No generated {kind} for {pattern_id}.")
    context = {
        "section": "patterns",
        "pattern": pattern,
        "kind": kind,
        "file_name": path.name,
        "text": path.read_text(encoding="utf-8"),
    }
    return render(request, "dashboard/pattern_file.html", context)


def _replays_page(request, form: ReplayDryRunForm, selection: list[dict] | None, status=200):
    campaigns = replay_selectors.campaigns_with_progress().order_by("-created_at", "-id")
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "section": "replays",
        "campaigns_page": page,
        "form": form,
        "selection": selection,
    }
    return render(request, "dashboard/replays.html", context, status=status)


@staff_member_required
def replays(request):
    return _replays_page(request, ReplayDryRunForm(), None)


@require_POST
@staff_member_required
def replay_dry_run(request):
    """What a campaign with these filters would replay; nothing is cloned or stored."""
    form = ReplayDryRunForm(request.POST)
    if not form.is_valid():
        return _replays_page(request, form, None, status=400)
    options = form.cleaned_data
    runs = replay_selectors.runs_for_replay(
        run_ids=options["run_ids"],
        date_from=options["from_date"],
        date_to=options["to_date"],
        state=options["state"],
    )
    return _replays_page(request, form, replay_selectors.replay_candidates(runs))


@staff_member_required
def replay_detail(request, campaign_id: str):
    campaign = get_object_or_404(replay_selectors.campaigns_with_progress(), pk=campaign_id)
    attempts = [
        {"attempt": attempt, "report": replay_selectors.attempt_report(attempt)}
        for attempt in replay_selectors.campaign_attempts(campaign)
    ]
    reports = [entry["report"] for entry in attempts if entry["report"]]
    context = {
        "section": "replays",
        "campaign": campaign,
        "attempts": attempts,
        "still_failing": compare.still_failing_pattern_counts(reports),
    }
    return render(request, "dashboard/replay_detail.html", context)


@staff_member_required
def replay_report(request, campaign_id: str, attempt_id: int):
    """One attempt's comparison report (original against replay), as written."""
    attempt = get_object_or_404(ReplayAttempt, pk=attempt_id, campaign_id=campaign_id)
    report = replay_selectors.attempt_report(attempt)
    if report is None:
        raise Http404(f"Attempt {attempt_id} has no report.")
    context = {
        "section": "replays",
        "attempt": attempt,
        "report": report,
        "text": json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True),
    }
    return render(request, "dashboard/replay_report.html", context)

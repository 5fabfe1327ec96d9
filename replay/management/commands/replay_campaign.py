"""Re-run failed runs as clones with the Phase 6 features on, and compare each with
its original."""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from autopack_site.arguments import positive_int
from metrics.selectors import unknown_run_ids
from replay import dispatch, runner, services
from replay.executors import ExecutorConfigError
from replay.models import ReplayCampaign
from replay.selectors import FAILED, replay_candidates, replay_states, runs_for_replay

BAR_WIDTH = 24


def _day(value: str) -> date:
    return date.fromisoformat(value)


class Command(BaseCommand):
    help = (
        "Replay failed runs as clones with the Phase 6 features on, one attempt per run, at "
        "most --batch-size at once; compare each replay with its original and report."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run-id", action="append", default=[], dest="run_ids")
        parser.add_argument("--from-date", type=_day, help="YYYY-MM-DD, the whole UTC day.")
        parser.add_argument("--to-date", type=_day, help="YYYY-MM-DD, the whole UTC day.")
        parser.add_argument(
            "--state", default=FAILED, help="A run state, or FAILED (every DONE_FAILED_*)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show the selection only.")
        parser.add_argument(
            "--executor",
            choices=ReplayCampaign.Executor.values,
            default=ReplayCampaign.Executor.LOCAL,
            help="local: AUTOPACK_EXECUTOR_COMMAND per replay; api: the server at "
            "AUTOPACK_API_URL executes it (POST /runs/{id}/execute) and is polled.",
        )
        parser.add_argument("--batch-size", type=positive_int, default=5)
        parser.add_argument(
            "--timeout", type=positive_int, default=3600, help="Seconds per replay."
        )
        parser.add_argument("--no-wait", action="store_true")
        parser.add_argument("--resume", metavar="CAMPAIGN_ID")
        parser.add_argument("--cancel", metavar="CAMPAIGN_ID")
        parser.add_argument("--expand-patterns", action="store_true")
        parser.add_argument("--json", action="store_true", help="One JSON document on stdout.")

    def handle(self, *args, **options):
        if options["no_wait"] and not dispatch.uses_task_queue():
            raise CommandError(
                "--no-wait needs a task queue to go on without this command (set "
                "CELERY_BROKER_URL and run workers); the in-process pool stops with it"
            )
        if options["cancel"]:
            return self._cancel(options)
        if options["resume"]:
            campaign = self._campaign(options["resume"])
            executor = self._executor(campaign.executor)
            try:
                queued = services.campaign_resume(campaign=campaign)
            except services.CampaignBusy as error:
                raise CommandError(str(error)) from None
            self._note(options, f"Resuming {campaign.pk}: {queued} attempt(s) to run.")
            return self._run(campaign, executor, options)

        try:
            replay_states(options["state"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        if unknown := unknown_run_ids(options["run_ids"]):
            raise CommandError(f"no such run: {', '.join(unknown)}")
        if (
            options["from_date"]
            and options["to_date"]
            and options["from_date"] > options["to_date"]
        ):
            raise CommandError("--from-date must not be after --to-date")
        runs = runs_for_replay(
            run_ids=options["run_ids"],
            date_from=options["from_date"],
            date_to=options["to_date"],
            state=options["state"],
        )
        candidates = replay_candidates(runs)
        if options["dry_run"] or not candidates:
            return self._selection(candidates, options)

        executor = services.executor_named(options["executor"])
        try:
            campaign = services.replay_campaign_open(
                executor=executor,
                runs=list(runs),
                filters=services.campaign_filters(
                    run_ids=options["run_ids"],
                    from_date=options["from_date"],
                    to_date=options["to_date"],
                    state=options["state"],
                ),
                batch_size=options["batch_size"],
                timeout_seconds=options["timeout"],
                executor_name=options["executor"],
                created_by=_operator(),
                expand_patterns=options["expand_patterns"],
            )
        except services.ReplayRefused as error:
            raise CommandError(error.detail) from None
        self._note(options, f"Campaign {campaign.pk}: {len(candidates)} run(s) to replay.")
        return self._run(campaign, executor, options)

    # --- steps ------------------------------------------------------------------

    def _campaign(self, campaign_id: str) -> ReplayCampaign:
        try:
            return ReplayCampaign.objects.get(pk=campaign_id)
        except ReplayCampaign.DoesNotExist:
            raise CommandError(f"no such campaign: {campaign_id}") from None

    def _cancel(self, options):
        campaign = self._campaign(options["cancel"])
        try:
            cancelled = services.campaign_cancel_and_settle(campaign=campaign)
        except services.ConflictError as error:
            raise CommandError(error.detail) from None
        self._note(
            options,
            f"Cancelled {campaign.pk}: {cancelled} queued attempt(s) will not start; "
            "running ones are being killed.",
        )
        if options["json"]:
            self.stdout.write(json.dumps({"campaign": campaign.pk, "cancelled_queued": cancelled}))

    def _executor(self, name: str) -> services.Executor:
        """Checked before anything is cloned: a missing command stops here."""
        executor = services.executor_named(name)
        try:
            executor.check()
        except ExecutorConfigError as error:
            raise CommandError(str(error)) from None
        return executor

    def _run(self, campaign: ReplayCampaign, executor: services.Executor, options):
        if not dispatch.uses_task_queue():
            # Workers make their own keys: only hashes are stored, none travels.
            executor = services.with_campaign_key(executor, campaign)
        stop = threading.Event()
        # Ctrl-C and SIGTERM stop the campaign cleanly (only the main thread may listen).
        listening = threading.current_thread() is threading.main_thread()
        previous = {
            number: signal.signal(number, lambda *_: stop.set())
            for number in ((signal.SIGINT, signal.SIGTERM) if listening else ())
        }
        try:
            if not dispatch.uses_task_queue():
                campaign = runner.campaign_run(
                    campaign=campaign,
                    executor=executor,
                    stop=stop,
                    on_progress=self._progress_printer(options),
                )
            elif options["no_wait"]:
                dispatch.campaign_start(campaign=campaign)
            else:
                campaign = dispatch.campaign_wait_on_queue(
                    campaign=campaign, stop=stop, on_progress=self._progress_printer(options)
                )
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        if options["no_wait"]:
            self._note(options, f"Campaign {campaign.pk} is on the queue; follow it in the admin.")
            if options["json"]:
                self.stdout.write(json.dumps({"campaign": campaign.pk, "status": campaign.status}))
            return
        counts = services.attempt_counts(campaign)
        if stop.is_set():
            self._note(
                options,
                f"Stopped; resume with: manage.py replay_campaign --resume {campaign.pk}",
            )
        else:
            self._note(
                options,
                f"Campaign {campaign.pk} {campaign.status}: "
                + ", ".join(f"{status} {n}" for status, n in counts.items() if n),
            )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "campaign": campaign.pk,
                        "status": campaign.status,
                        "attempts": counts,
                        "summary": str(services.results_dir() / f"{campaign.pk}_summary.json"),
                        "interrupted": stop.is_set(),
                    }
                )
            )
        if stop.is_set():
            raise CommandError(f"interrupted; resume with --resume {campaign.pk}", returncode=130)

    def _selection(self, candidates: list[dict], options):
        if options["json"]:
            rows = [{**row, "created_at": row["created_at"].isoformat()} for row in candidates]
            self.stdout.write(json.dumps({"dry_run": options["dry_run"], "runs": rows}))
            return
        if not candidates:
            self.stdout.write("No runs match; nothing to replay.")
            return
        self.stdout.write(f"Would replay {len(candidates)} run(s):")
        for row in candidates:
            reason = row["last_failure_reason"].replace("\n", " ")
            reason = reason if len(reason) <= 80 else reason[:77] + "..."
            self.stdout.write(
                f"  {row['run_id']}  {row['state']}  {row['created_at']:%Y-%m-%d %H:%M}  "
                f"{row['failed_phases']} failed phase(s)  {reason}"
            )

    # --- output -----------------------------------------------------------------

    def _note(self, options, text: str) -> None:
        (self.stderr if options["json"] else self.stdout).write(text)

    def _progress_printer(self, options):
        if options["json"]:
            return lambda progress: None
        terminal = sys.stdout.isatty()
        last = [None]

        def show(progress: runner.Progress) -> None:
            eta = "-" if progress.eta is None else f"{progress.eta:.0f}s"
            line = (
                f"{progress.done}/{progress.total} done, {progress.running} running, "
                f"{progress.recovered} recovered, {progress.failed} failed, "
                f"{progress.elapsed:.0f}s elapsed, ETA {eta}"
            )
            if terminal:
                filled = BAR_WIDTH * progress.done // max(progress.total, 1)
                bar = "#" * filled + "-" * (BAR_WIDTH - filled)
                self.stdout.write(f"\r[{bar}] {line}", ending="")
                self.stdout.flush()
            elif (progress.done, progress.running) != last[0]:
                last[0] = (progress.done, progress.running)
                self.stdout.write(line)

        return show


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""

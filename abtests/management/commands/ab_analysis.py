"""Compare control and treatment runs with strict validity and record the results."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from abtests import selectors
from abtests.services import UnknownRunError, ab_results_analyze_pairs
from metrics.models import TOKEN_CATEGORIES


def _number(value, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:+,.1f}{suffix}"
    return f"{value:+,}{suffix}"


def _plain(value, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f}{suffix}" if isinstance(value, float) else f"{value:,}{suffix}"


class Command(BaseCommand):
    help = (
        "Analyse A/B pairs (control vs treatment) under a test id: token, time and "
        "success-rate deltas with STRICT validity (same commit SHA, same model-mapping "
        "hash). Exits non-zero if any pair is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("--control-run", help="Control run id (with --treatment-run).")
        parser.add_argument("--treatment-run", help="Treatment run id (with --control-run).")
        parser.add_argument(
            "--pair",
            action="append",
            default=[],
            metavar="CONTROL:TREATMENT",
            help="A pair of run ids; repeat for several pairs under one test id.",
        )
        parser.add_argument("--test-id", required=True, help="The experiment's id.")
        parser.add_argument("--created-by", default="", help="Who ran the analysis.")
        parser.add_argument("--dry-run", action="store_true", help="Analyse, store nothing.")

    def handle(self, *args, **options):
        pairs = self._pairs(options)
        try:
            results = ab_results_analyze_pairs(
                test_id=options["test_id"],
                pairs=pairs,
                created_by=options["created_by"],
                dry_run=options["dry_run"],
            )
        except UnknownRunError as exc:
            raise CommandError(f"Unknown run: {exc}; nothing was recorded.") from None
        except ValidationError as exc:
            raise CommandError(f"Invalid input: {'; '.join(exc.messages)}") from None

        for result in results:
            self._report(result)
        if options["dry_run"]:
            rows = [
                {field: getattr(result, field) for field in selectors.SUMMARY_FIELDS}
                for result in results
            ]
            summary = selectors.experiment_summary_of(options["test_id"], rows)
            self.stdout.write(self.style.NOTICE("DRY RUN: nothing was recorded."))
        else:
            summary = selectors.experiment_summary(options["test_id"])
        self._report_summary(summary)

        invalid = [result for result in results if not result.is_valid]
        if invalid:
            reasons = "; ".join(
                f"{r.control_run_id} vs {r.treatment_run_id}: {', '.join(r.validity_errors)}"
                for r in invalid
            )
            raise CommandError(f"{len(invalid)} of {len(results)} pairs invalid: {reasons}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Analysed {len(results)} pairs for {options['test_id']}, all valid."
            )
        )

    def _pairs(self, options) -> list[tuple[str, str]]:
        single = (options["control_run"], options["treatment_run"])
        if any(single) and options["pair"]:
            raise CommandError("Pass either --control-run/--treatment-run or --pair, not both.")
        if any(single):
            if not all(single):
                raise CommandError("--control-run and --treatment-run go together.")
            return [single]
        if not options["pair"]:
            raise CommandError("Pass --control-run and --treatment-run, or at least one --pair.")
        pairs = []
        for text in options["pair"]:
            parts = text.split(":")
            if len(parts) != 2 or not all(parts):
                raise CommandError(
                    f"--pair {text!r} is not CONTROL:TREATMENT; for ids containing ':' "
                    "use --control-run/--treatment-run."
                )
            pairs.append((parts[0], parts[1]))
        return pairs

    def _report(self, result) -> None:
        verdict = self.style.SUCCESS("VALID") if result.is_valid else self.style.ERROR("INVALID")
        write = self.stdout.write
        write(
            f"\n{result.test_id}: control {result.control_run_id} vs treatment "
            f"{result.treatment_run_id} — {verdict}"
        )
        write(f"  {'tokens':<24}{'control':>14}{'treatment':>14}{'delta':>14}")
        control_total, treatment_total = result.control_total_tokens, result.treatment_total_tokens
        for name in TOKEN_CATEGORIES:
            delta = getattr(result, f"{name}_delta")
            write(
                f"  {name:<24}{result.control_tokens[name]:>14,}"
                f"{result.treatment_tokens[name]:>14,}{_number(delta):>14}"
            )
        write(
            f"  {'total_tokens':<24}{control_total:>14,}{treatment_total:>14,}"
            f"{_number(result.token_delta):>14}"
        )
        write(
            f"  phases complete/failed/skipped/total: control "
            f"{result.control_phases_complete}/{result.control_phases_failed}/"
            f"{result.control_phases_skipped}/{result.control_phases_total}, treatment "
            f"{result.treatment_phases_complete}/{result.treatment_phases_failed}/"
            f"{result.treatment_phases_skipped}/{result.treatment_phases_total}"
        )
        write(
            f"  success rate: control {_plain(result.control_success_rate, '%')}, treatment "
            f"{_plain(result.treatment_success_rate, '%')}, delta "
            f"{_number(result.success_rate_delta, ' pp')}"
        )
        write(f"  time delta: {_number(result.time_delta_seconds, ' s')}")
        for error in result.validity_errors:
            write(self.style.ERROR(f"  error: {error}"))
        for warning in result.validity_warnings:
            write(self.style.WARNING(f"  warning: {warning}"))

    def _report_summary(self, summary) -> None:
        write = self.stdout.write
        write(
            f"\nExperiment {summary.test_id}: {summary.valid_pairs} valid pairs, "
            f"{summary.invalid_pairs} invalid (statistics use valid pairs only)"
        )
        for field, interval in summary.token_deltas.items():
            if interval["mean"] is None:
                write(f"  mean {field}: n/a")
            elif interval["ci_low"] is None:
                write(f"  mean {field}: {interval['mean']:+,.1f} (no interval below 2 pairs)")
            else:
                write(
                    f"  mean {field}: {interval['mean']:+,.1f} "
                    f"(95% CI {interval['ci_low']:+,.1f} … {interval['ci_high']:+,.1f})"
                )
        success = summary.success_rate_delta
        if success["estimate"] is None:
            write("  success-rate delta: n/a")
        else:
            write(
                f"  success-rate delta: {success['estimate']:+.1f} pp "
                f"(95% Newcombe CI {success['ci_low']:+.1f} … {success['ci_high']:+.1f} pp)"
            )
        write(f"  mean time delta: {_number(summary.mean_time_delta_seconds, ' s')}")

"""Demo data for replays: a small campaign over the demo's failed runs, executed by
the demo executor against this project served in-process, so a fresh machine's
admin shows campaigns, attempts, replays and their A/B pairs."""

import os
import socketserver
import threading
from io import StringIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.core.wsgi import get_wsgi_application
from django.db import connections

from autopack_site.kill_switches import PHASE6_METRICS as PHASE6
from replay.demo_data import demo_replays_clear
from replay.selectors import runs_for_replay


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def process_request_thread(self, request, client_address):
        # Each request thread's database connection goes with it (as runserver does).
        try:
            super().process_request_thread(request, client_address)
        finally:
            connections.close_all()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class Command(BaseCommand):
    help = "Run a small replay campaign over the demo's failed runs with the demo executor."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=6, help="How many failed runs (6).")
        parser.add_argument("--recover-rate", default="0.6")
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Only delete the demo's campaigns, replays and their A/B pairs.",
        )

    def handle(self, *args, **options):
        if options["clear"]:
            self.stdout.write(f"Deleted {demo_replays_clear()} demo replay campaign(s).")
            return
        run_ids = list(runs_for_replay().values_list("pk", flat=True)[: options["runs"]])
        if not run_ids:
            self.stdout.write("No failed runs to replay; run seed_demo first.")
            return
        server = make_server(
            "127.0.0.1", 0, get_wsgi_application(), _ThreadingServer, _QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        # The in-process server is where the replays report: Phase 6 on there, for
        # this command only.
        overrides = {
            "AUTOPACK_API_URL": f"http://127.0.0.1:{server.server_port}",
            "AUTOPACK_EXECUTOR_COMMAND": (
                "python manage.py simulate_executor {run_id} --api-url {api_url} "
                f"--recover-rate {options['recover_rate']} --seed 1"
            ),
        }
        saved_settings = {name: getattr(settings, name) for name in overrides}
        saved_switch = os.environ.get(PHASE6)
        os.environ[PHASE6] = "1"
        for name, value in overrides.items():
            setattr(settings, name, value)
        out = StringIO()
        try:
            call_command(
                "replay_campaign",
                *(f"--run-id={run_id}" for run_id in run_ids),
                "--batch-size",
                "3",
                "--timeout",
                "120",
                stdout=out,
                stderr=out,
            )
        finally:
            server.shutdown()
            for name, value in saved_settings.items():
                setattr(settings, name, value)
            if saved_switch is None:
                os.environ.pop(PHASE6, None)
            else:
                os.environ[PHASE6] = saved_switch
        self.stdout.write(out.getvalue().strip().splitlines()[-1])

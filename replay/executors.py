"""Executors: what runs one replay. Plain Python (no Django): subprocesses and HTTP.

`LocalExecutor` runs a command line as a subprocess, never through a shell, and on
timeout or cancellation kills its whole process tree (psutil, so Windows too).
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from autopack_site.ops.http import JsonClient

# How often a waiting executor checks for cancellation (and how long a tree gets to
# exit after terminate before it is killed).
POLL_SECONDS = 0.2
TERMINATE_GRACE_SECONDS = 3.0
# Both Phase 6 switches on in the executor's environment: what the replay is for.
PHASE6_ENVIRONMENT = {
    "AUTOPACK_ENABLE_PHASE6_METRICS": "1",
    "AUTOPACK_ENABLE_CONSOLIDATED_METRICS": "1",
}


class ExecutorConfigError(ValueError):
    """The executor cannot be used as configured; the message says how to fix it."""


@dataclass(frozen=True)
class ExecutorOutcome:
    exit_code: int | None = None
    timed_out: bool = False
    cancelled: bool = False
    error: str = ""  # the executor could not start or crashed
    detail: str = ""  # why a failing executor failed, when it says


def command_argv(command: str, *, run_id: str, api_url: str) -> list[str]:
    """The argument list of AUTOPACK_EXECUTOR_COMMAND for one run.

    Split like a POSIX shell would split it (shlex), placeholders `{run_id}` and
    `{api_url}` filled in per argument (a run id is never parsed as syntax), and a
    leading `python` is this interpreter (`sys.executable`)."""
    try:
        parts = shlex.split(command)
    except ValueError as error:
        raise ExecutorConfigError(f"AUTOPACK_EXECUTOR_COMMAND does not parse: {error}") from None
    if not parts:
        raise ExecutorConfigError(
            "AUTOPACK_EXECUTOR_COMMAND is not set; set it to the command that runs one run, "
            "e.g. 'python manage.py simulate_executor {run_id} --api-url {api_url}'"
        )
    argv = [part.replace("{run_id}", run_id).replace("{api_url}", api_url) for part in parts]
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def kill_tree(pid: int) -> None:
    """Terminate a process and every descendant; kill what is still alive after a grace."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = [*parent.children(recursive=True), parent]
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(family, timeout=TERMINATE_GRACE_SECONDS)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(alive, timeout=TERMINATE_GRACE_SECONDS)


@dataclass(frozen=True)
class LocalExecutor:
    command: str
    api_url: str
    api_key: str
    cwd: Path
    environment: Mapping[str, str] | None = None  # base environment (default os.environ)

    def check(self) -> None:
        """Raise ExecutorConfigError unless the command is usable (before any clone)."""
        command_argv(self.command, run_id="check", api_url=self.api_url)

    def run(
        self,
        run_id: str,
        *,
        timeout: float,
        log_path: Path,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ExecutorOutcome:
        argv = command_argv(self.command, run_id=run_id, api_url=self.api_url)
        env = {
            **(os.environ if self.environment is None else self.environment),
            **PHASE6_ENVIRONMENT,
            "AUTOPACK_RUN_ID": run_id,
            "AUTOPACK_API_URL": self.api_url,
            "AUTOPACK_API_KEY": self.api_key,
        }
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            try:
                process = subprocess.Popen(
                    argv, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            except OSError as error:
                return ExecutorOutcome(error=f"could not start {argv[0]}: {error}")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    code = process.wait(timeout=POLL_SECONDS)
                except subprocess.TimeoutExpired:
                    code = None
                if code is not None:
                    return ExecutorOutcome(exit_code=code)
                stop = should_stop()
                if stop or time.monotonic() >= deadline:
                    kill_tree(process.pid)
                    process.wait()
                    return ExecutorOutcome(
                        exit_code=process.returncode, timed_out=not stop, cancelled=stop
                    )


# Autopack's `run_parallel.py --executor api` contract for GET /runs/{id}/status.
API_SUCCESS = frozenset({"COMPLETE", "SUCCEEDED"})
API_FAILURE = frozenset({"FAILED", "CANCELLED", "TIMEOUT"})


@dataclass(frozen=True)
class ApiExecutor:
    """Has a server execute the run: `POST {api_url}/runs/{id}/execute` with the key as
    Bearer, then polls `GET /runs/{id}/status` until its `state` is terminal or the
    timeout passes: about every POLL seconds, jittered ±20%, backing off ×1.5 (to 30 s)
    on errors. COMPLETE is success; FAILED, CANCELLED, TIMEOUT failure; anything else
    means keep polling."""

    api_url: str
    api_key: str
    poll_seconds: float = 2.0
    max_poll_seconds: float = 30.0

    def check(self) -> None:
        if not self.api_url:
            raise ExecutorConfigError("the api executor needs AUTOPACK_API_URL")

    def run(
        self,
        run_id: str,
        *,
        timeout: float,
        log_path: Path,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> ExecutorOutcome:
        client = JsonClient(self.api_url, self.api_key, timeout=30, bearer=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:

            def note(line: str) -> None:
                log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")
                log.flush()

            try:
                started = client.request("POST", f"/runs/{run_id}/execute", {})
            except OSError as error:
                return ExecutorOutcome(error=f"could not reach {self.api_url}: {error}")
            note(f"POST /runs/{run_id}/execute: HTTP {started.status} {started.body}")
            if not 200 <= started.status < 300:
                return ExecutorOutcome(
                    error=f"{self.api_url} refused to execute the run: HTTP {started.status}"
                )
            deadline = time.monotonic() + timeout
            interval, last_state = self.poll_seconds, None
            while True:
                wake = time.monotonic() + interval * random.uniform(0.8, 1.2)
                while time.monotonic() < min(wake, deadline):
                    if should_stop():
                        note("stopped")
                        return ExecutorOutcome(cancelled=True)
                    time.sleep(min(POLL_SECONDS, max(wake - time.monotonic(), 0)))
                if time.monotonic() >= deadline:
                    note(f"timeout after {timeout:g} s in state {last_state}")
                    return ExecutorOutcome(timed_out=True)
                try:
                    reply = client.request("GET", f"/runs/{run_id}/status")
                except OSError as error:
                    reply = None
                    note(f"status poll failed: {error}")
                if reply is None or reply.status != 200 or not isinstance(reply.body, dict):
                    interval = min(interval * 1.5, self.max_poll_seconds)
                    continue
                interval = self.poll_seconds
                state = reply.body.get("state")
                if state != last_state:
                    note(f"state {state}")
                    last_state = state
                if state in API_SUCCESS:
                    return ExecutorOutcome(exit_code=0)
                if state in API_FAILURE:
                    return ExecutorOutcome(exit_code=1, detail=f"the server reported {state}")

"""Executors: what runs one replay. Plain Python (no Django): subprocesses and HTTP.

`LocalExecutor` runs a command line as a subprocess, never through a shell, and on
timeout or cancellation kills its whole process tree (psutil, so Windows too).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

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

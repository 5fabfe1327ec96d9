"""Check the live API against its own OpenAPI schema with schemathesis, every check.

    python -m autopack_site.schemacheck [--examples 300] [--seed N] [--workers 1]
        [--database-url URL]
    python -m autopack_site.schemacheck --base-url URL --api-key KEY [--examples 300]

Without --base-url it serves the project itself: a fresh database (a temporary
SQLite file unless --database-url names another, which must be empty), migrated and
seeded with demo runs, an admin key, gunicorn with the project's config, both
switches on and the run simulator as the replay executor, so every route can do
its real work. Then `schemathesis run --checks all` with the project's
schemathesis.toml (its one documented exception) and prints schemathesis's report;
the exit status is schemathesis's (0: no failure).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from autopack_site.testing import BASE_DIR, free_port, manage, running_server, subprocess_env

SIMULATOR = "python manage.py simulate_executor {run_id} --api-url {api_url}"


def schemathesis_argv(
    base_url: str, api_key: str, *, examples: int, seed: int | None, workers: int
) -> list[str]:
    argv = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "run",
        f"{base_url}/api/schema/?format=json",
        "--url",
        base_url,
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--workers",
        str(workers),
        "--header",
        f"X-API-Key: {api_key}",
        "--no-color",
    ]
    if seed is not None:
        argv += ["--seed", str(seed)]
    return argv


def check(base_url: str, api_key: str, *, examples: int, seed: int | None, workers: int) -> int:
    """Run schemathesis against `base_url` from the project root (its config file)."""
    argv = schemathesis_argv(base_url, api_key, examples=examples, seed=seed, workers=workers)
    return subprocess.run(argv, cwd=BASE_DIR, check=False).returncode


def serve_and_check(
    *, database_url: str | None, examples: int, seed: int | None, workers: int
) -> int:
    with tempfile.TemporaryDirectory(prefix="autopack-schemacheck-") as scratch:
        database_url = database_url or f"sqlite:///{Path(scratch) / 'schemacheck.sqlite3'}"
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = subprocess_env(
            DATABASE_URL=database_url,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            AUTOPACK_ENABLE_PHASE6_METRICS="1",
            AUTOPACK_ENABLE_CONSOLIDATED_METRICS="1",
            AUTOPACK_API_URL=base_url,
            AUTOPACK_EXECUTOR_COMMAND=SIMULATOR,
            AUTOPACK_REPLAY_RESULTS_DIR=str(Path(scratch) / "replay_results"),
        )
        for command in (["migrate", "--no-input"], ["seed_demo"]):
            _manage_or_exit(command, env)
        api_key = _manage_or_exit(["create_api_key", "schemacheck", "--scope", "admin"], env)
        log_path = Path(scratch) / "server.log"
        with running_server(env, gunicorn=True, log_path=log_path, port=port):
            status = check(base_url, api_key, examples=examples, seed=seed, workers=workers)
        if status:
            sys.stderr.write(f"server log:\n{log_path.read_text(encoding='utf-8')[-4000:]}\n")
        return status


def _manage_or_exit(args: list[str], env: dict[str, str]) -> str:
    done = manage(*args, env=env, timeout=600)
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300, help="per operation")
    parser.add_argument("--seed", type=int, default=None)
    # One worker by default: with worker threads, hypothesis's lambda descriptions
    # call ast.parse concurrently, which CPython 3.11 can fail with a spurious
    # "AST constructor recursion depth mismatch" SystemError (cpython gh-106905).
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="an empty database to serve")
    parser.add_argument("--base-url", default=None, help="check this server instead")
    parser.add_argument("--api-key", default=None, help="an admin key of --base-url")
    options = parser.parse_args(argv)
    if options.examples < 1 or options.workers < 1:
        parser.error("--examples and --workers must be at least 1")
    if options.base_url:
        if not options.api_key:
            parser.error("--base-url needs --api-key")
        return check(
            options.base_url.rstrip("/"),
            options.api_key,
            examples=options.examples,
            seed=options.seed,
            workers=options.workers,
        )
    return serve_and_check(
        database_url=options.database_url,
        examples=options.examples,
        seed=options.seed,
        workers=options.workers,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for tests that run the service in a real subprocess over real HTTP."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SERVE_WSGI = (
    "import sys\n"
    "from wsgiref.simple_server import make_server\n"
    "from autopack_site.wsgi import application\n"
    "make_server('127.0.0.1', int(sys.argv[1]), application).serve_forever()\n"
)
STRONG_SECRET = "q8Xv2-pL0z!w7Rk9@tYb4nM1cJ6hD3sF5gA0eU8iO2rT7yW4xZ9vB1nC5mK3jH6"


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The current environment without Django/database/switch settings, plus overrides."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "AUTOPACK_", "CELERY_", "QDRANT_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "autopack_site.settings",
            "DJANGO_READ_DOT_ENV_FILE": "0",
            "DJANGO_SECRET_KEY": STRONG_SECRET,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database of `settings_dict` (a test database too), for
    a subprocess that must see what the test wrote."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_server(
    env: dict[str, str],
    *,
    gunicorn: bool = False,
    log_path: Path | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """Serve the WSGI application in a subprocess; yield its base URL.

    By default the standard library's WSGI server (runserver refuses to start when
    the database is unreachable, a case under test); with `gunicorn`, the
    production server with the project's gunicorn.conf.py. `port` (default: a free
    one) lets the server be told its own URL beforehand.
    """
    port = port or free_port()
    if gunicorn:
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    else:
        command = [sys.executable, "-c", SERVE_WSGI, str(port)]
    with contextlib.ExitStack() as stack:
        output = (
            stack.enter_context(log_path.open("w", encoding="utf-8"))
            if log_path
            else subprocess.DEVNULL
        )
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                if process.poll() is not None:
                    raise RuntimeError("server exited before listening")
                time.sleep(0.1)
            else:
                raise RuntimeError("server did not start listening within 30 s")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def http_get(url: str) -> tuple[int, dict, str]:
    """GET a URL; return (status, parsed JSON body, content type)."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read()), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers["Content-Type"]


def celery_worker(
    name: str, env: dict[str, str], log_path: Path, *, pool: str = "prefork", concurrency: int = 1
) -> subprocess.Popen:
    """Start `celery -A autopack_site worker` (a subprocess logging to `log_path`) and
    wait until it is ready. The caller stops it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "autopack_site",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log_path.open("w", encoding="utf-8"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while " ready." not in log_path.read_text(encoding="utf-8"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"worker {name} did not start: {log_path.read_text('utf-8')}")
        time.sleep(0.2)
    return process


def manage_in_background(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """`manage.py ARGS` as a subprocess with its output captured (for signals)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary folder, a free port),
    for tests that stop or restart the database: never the machine's shared one."""

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/autopack_load"

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        # initdb and postgres refuse to run as root: run them as the postgres user.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *command],
            check=True,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
        )

    def pg_ctl(self, *args: str) -> None:
        self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", options, "-w", "start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._run(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )
        self.start()
        self._run(
            str(POSTGRES_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "autopack_load",
        )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """Create, start and finally remove a throwaway cluster (skips where PostgreSQL 15's
    binaries are missing is the caller's business: see `postgres_binaries_present`)."""
    root = Path(tempfile.mkdtemp(prefix="autopack_pg_", dir="/tmp"))
    root.chmod(0o755)
    cluster = ThrowawayPostgres(root)
    try:
        cluster.create()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def postgres_binaries_present() -> bool:
    return (POSTGRES_BIN / "initdb").is_file() and shutil.which("runuser") is not None

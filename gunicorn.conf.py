"""gunicorn's configuration for Autopack Ops (`make serve`); every value can be
overridden from the environment (GUNICORN_*).

Threads, not sync workers: an ingestion batch of 10,000 rows holds its thread for
a few hundred milliseconds, and the health probes (`/health/live`, `/health/ready`)
must answer within their budget meanwhile. With sync workers a probe waits for a
free process; with threads it is served beside the batch. Worker processes give
parallelism beyond the GIL; a few per core suffice, the threads absorb waiting.
"""

import os
import sys

wsgi_app = "autopack_site.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# 4 x 24 threads: 50 concurrent ingestion clients leave every worker threads free
# for the probes (with 8, a probe waited seconds in a worker whose threads all held
# batches); under PostgreSQL's default max_connections of 100.
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
# A request running longer than this is a stuck worker: gunicorn restarts it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# A worker accepts no more connections than it has threads: gthread would queue
# the extra ones behind its busy threads (a probe waiting seconds for a batch
# to finish) while another worker has a thread free. Idle keep-alive connections
# count against that limit too, so keep-alive is off unless connections are
# raised above threads.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", str(threads)))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
# Recycle workers now and then (bounded memory growth), staggered.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# Access and error logs to stdout and stderr, for the process supervisor to keep.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Load the application once in the master, so a broken configuration fails at
# start and workers fork with the code already imported.
preload_app = True


def when_ready(server):
    """Before the workers fork: read what the readiness probe compares against once,
    in the master, so no worker pays for it under load."""
    from autopack_site.ops.health import warm_up

    warm_up()


def post_fork(server, worker):
    # A thread waiting for the GIL (a probe between two database round trips) gets
    # it sooner while batches are being parsed: 1 ms slices instead of 5 ms.
    sys.setswitchinterval(0.001)

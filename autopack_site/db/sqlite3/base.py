"""SQLite, where reads never wait for the write lock.

Writers take the lock when their transaction begins (BEGIN IMMEDIATE): a
transaction that read first and then tries to write fails at once with "database
is locked" when another writer committed in between, instead of waiting its busy
timeout. But a read-only request under ATOMIC_REQUESTS must not queue behind
ingestion: requests that only read begin DEFERRED and read their WAL snapshot.
`autopack_site.middleware.TransactionIntentMiddleware` says which is which.
"""

from contextvars import ContextVar

from django.db.backends.sqlite3 import base

# True unless a request declared that it only reads (commands, workers, services
# called outside a request: writers).
writes_expected: ContextVar[bool] = ContextVar("writes_expected", default=True)


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        mode = "IMMEDIATE" if writes_expected.get() else "DEFERRED"
        self.cursor().execute(f"BEGIN {mode}")

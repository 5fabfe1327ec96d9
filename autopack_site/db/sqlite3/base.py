"""SQLite, where reads never wait for the write lock.

Writers take the lock when their transaction begins (BEGIN IMMEDIATE): a
transaction that read first and then tries to write fails at once with "database
is locked" when another writer committed in between, instead of waiting its busy
timeout. But a read-only request under ATOMIC_REQUESTS must not queue behind
ingestion: requests that only read begin DEFERRED and read their WAL snapshot.
`autopack_site.middleware.TransactionIntentMiddleware` says which is which.
"""

from contextvars import ContextVar
from functools import lru_cache

from django.db.backends.sqlite3 import base

# True unless a request declared that it only reads (commands, workers, services
# called outside a request: writers).
writes_expected: ContextVar[bool] = ContextVar("writes_expected", default=True)


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        mode = "IMMEDIATE" if writes_expected.get() else "DEFERRED"
        self.cursor().execute(f"BEGIN {mode}")

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, converting each distinct short statement's `%s` placeholders
    to SQLite's `?` once instead of by regex at every execution (a tenth of a small
    indexed query's cost on the hot paths)."""

    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            converted = _prepared_statements.get(query)
            if converted is not None:
                return converted
            if len(query) <= _CACHED_QUERY_MAX_LENGTH:
                return _format_to_qmark(query)
        return super().convert_query(query, param_names=param_names)


# Long statements (a bulk UPDATE's CASE over a thousand rows) are rarely repeated…
_CACHED_QUERY_MAX_LENGTH = 4096
# …except the prepared ones, whatever their length (converting the consolidated
# document's 5 KB statement by regex costs a quarter of running it).
_prepared_statements: dict[str, str] = {}


def statement_prepare(query: str) -> None:
    """Keep the `?` form of a statement that runs again and again
    (`autopack_site.db.prepared`): SQLite's counterpart of PostgreSQL's PREPARE."""
    _prepared_statements[query] = base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


@lru_cache(maxsize=1024)
def _format_to_qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")

"""Telling a database outage from a bug: an outage is answered 503 with Retry-After
(the client retries and nothing is lost), a bug stays a 500.

An outage is the server down, restarting or refusing connections (PostgreSQL), or
the file locked or unreachable (SQLite). An OperationalError that a retry would
only repeat (a statement timeout, an overflow, too many SQL variables) is not one.
"""

from django.conf import settings
from django.db import InterfaceError, OperationalError

# SQLSTATEs of a PostgreSQL server shutting down or refusing work; class 08 is
# every connection exception.
_POSTGRES_UNAVAILABLE = {"57P01", "57P02", "57P03", "53300"}
# SQLite reports these as messages only.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
)
DETAIL = "The database is unavailable; retry shortly."
CODE = "database_unavailable"


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, InterfaceError):  # the connection is already closed
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if type(cause).__module__.split(".")[0] in ("psycopg2", "psycopg"):
        code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
        # No SQLSTATE: the failure is the connection itself (refused, reset, lost).
        return code is None or code.startswith("08") or code in _POSTGRES_UNAVAILABLE
    message = str(error).lower()
    return any(marker in message for marker in _SQLITE_UNAVAILABLE)


def retry_after_seconds() -> int:
    return settings.AUTOPACK_RETRY_AFTER_SECONDS

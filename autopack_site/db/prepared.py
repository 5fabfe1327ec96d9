"""ORM querysets compiled to SQL once per database, then run with new values.

Compiling a queryset costs the ORM 0.3-7 ms (the consolidated roll-up, with ten
subqueries, the most), and planning it costs PostgreSQL 1-10 ms: both more than
the database spends running the small indexed queries of the hot paths (the
API-key lookup of every request, the consolidated totals and page, the
ingestion cap check). A `PreparedQuery` builds its queryset once with a marker
for each parameter and keeps the SQL; on PostgreSQL it is also a server-side
prepared statement, planned once per connection (PREPARE, then EXECUTE). The
SQL is still the ORM's: quoting, vendor differences, the plans the plan checks
read.
"""

import itertools
import re
import weakref
from collections.abc import Callable
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

_names = itertools.count(1)
# The statements prepared on each live PostgreSQL connection (a prepared statement
# lives as long as its session, whatever transactions roll back).
_prepared_on: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%(s|%)")


class PreparedQuery:
    """`build(**markers)` must return a queryset using each marker as a string
    parameter (a filter value). `paged=True` adds LIMIT and OFFSET parameters,
    given to `tuples(limit=…, offset=…)`."""

    def __init__(self, build: Callable[..., QuerySet], *names: str, paged: bool = False):
        self.build = build
        self.names = names
        self.paged = paged
        self.statement = f"autopack_prepared_{next(_names)}"
        self._compiled: dict[tuple[str, str], tuple[str, tuple, dict[int, str]]] = {}

    @staticmethod
    def _marker(name: str) -> str:
        return f"\x00prepared:{name}\x00"

    def sql(self, db=None) -> tuple[str, tuple, dict[int, str]]:
        """(SQL, parameters, position → name of each marker) for the database."""
        # The connection itself, looked up once: each attribute read through
        # django.db.connection (a proxy to a context-local) costs a lookup.
        db = db or connections[DEFAULT_DB_ALIAS]
        key = (db.alias, db.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            markers = {self._marker(name): name for name in self.names}
            sql, params = self._compile({name: self._marker(name) for name in self.names})
            positions = {index: markers[p] for index, p in enumerate(params) if p in markers}
            if set(positions.values()) != set(self.names):
                raise ValueError(f"a prepared query must use each of {self.names}")
            if self.paged:
                sql += " LIMIT %s OFFSET %s"
                params = (*params, None, None)
            compiled = self._compiled[key] = (sql, tuple(params), positions)
        return compiled

    def _compile(self, markers: dict[str, str]) -> tuple[str, tuple]:
        return self.build(**markers).query.sql_with_params()

    def _execute(self, values: dict, page: tuple[int, int] | None):
        db = connections[DEFAULT_DB_ALIAS]
        sql, params, positions = self.sql(db)
        params = [values[positions[i]] if i in positions else p for i, p in enumerate(params)]
        if self.paged:
            params[-2:] = page
        cursor = db.cursor()
        if db.vendor == "postgresql":
            sql = self._prepared(db, cursor, sql, len(params))
        cursor.execute(sql, params)
        return cursor

    def _prepared(self, db, cursor, sql: str, count: int) -> str:
        """`EXECUTE` of this query's statement, prepared on the connection first."""
        prepared = _prepared_on.setdefault(db.connection, set())
        if self.statement not in prepared:
            numbers = itertools.count(1)
            body = _PLACEHOLDER.sub(
                lambda match: f"${next(numbers)}" if match[1] == "s" else "%", sql
            )
            # Connection setup, like the backend's own SET on connecting: through
            # the DB-API cursor, so query logs and counts show the EXECUTEs only.
            with db.wrap_database_errors:
                cursor.cursor.execute(f"PREPARE {self.statement} AS {body}")
            prepared.add(self.statement)
        return f"EXECUTE {self.statement}({', '.join(['%s'] * count)})"

    def tuples(self, *, limit: int | None = None, offset: int = 0, **values) -> list[tuple]:
        """The rows as the database cursor returns them: no ORM converters run."""
        if self.paged != (limit is not None):
            raise ValueError("limit goes with a paged query, and only with one")
        with self._execute(values, (limit, offset) if self.paged else None) as cursor:
            return cursor.fetchall()

    def first_row(self, **values) -> dict | None:
        """The first row as a dict of column → value (a NUMERIC sum read as an int),
        or None."""
        with self._execute(values, None) as cursor:
            row = cursor.fetchone()
            names = [column[0] for column in cursor.description]
        if row is None:
            return None
        return {
            name: int(value) if isinstance(value, Decimal) else value
            for name, value in zip(names, row, strict=True)
        }


class PreparedSideBySide(PreparedQuery):
    """Two querysets of at most one row each, read in one statement (one round
    trip, one snapshot): the first's row with the second's columns beside it,
    NULL when the second has no row. Their column names must differ."""

    def __init__(self, first: Callable[..., QuerySet], second: Callable[..., QuerySet], *names):
        super().__init__(first, *names)
        self.second = second

    def _compile(self, markers: dict[str, str]) -> tuple[str, tuple]:
        first_sql, first_params = self.build(**markers).query.sql_with_params()
        second_sql, second_params = self.second(**markers).query.sql_with_params()
        sql = (
            f"SELECT * FROM ({first_sql}) AS first_query "
            f"LEFT JOIN ({second_sql}) AS second_query ON 1 = 1"
        )
        return sql, (*first_params, *second_params)

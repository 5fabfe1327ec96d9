"""ORM querysets compiled to SQL once per database, then run with new values.

Compiling a queryset costs the ORM 0.3-7 ms (the consolidated roll-up, with ten
subqueries, the most), which is more than the database spends running the small
indexed queries of the hot paths: the API-key lookup of every request, the
consolidated totals and page, the ingestion cap check. A `PreparedQuery` builds
its queryset once with a marker for each parameter, keeps the SQL, and swaps the
markers for real values at each call. The SQL is still the ORM's (quoting, vendor
differences, the same plans the plan checks read).
"""

from collections.abc import Callable
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


class PreparedQuery:
    """`build(**markers)` must return a queryset using each marker exactly once,
    as a string parameter (a filter value, not a LIMIT: append those with
    `rows(limit=…)`)."""

    def __init__(self, build: Callable[..., QuerySet], *names: str):
        self.build = build
        self.names = names
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
            queryset = self.build(**{name: self._marker(name) for name in self.names})
            sql, params = queryset.query.sql_with_params()
            positions = {index: markers[p] for index, p in enumerate(params) if p in markers}
            if sorted(positions.values()) != sorted(self.names):
                raise ValueError(f"a prepared query must use each of {self.names} exactly once")
            compiled = self._compiled[key] = (sql, tuple(params), positions)
        return compiled

    def _execute(self, values: dict, limit: int | None, offset: int):
        db = connections[DEFAULT_DB_ALIAS]
        sql, params, positions = self.sql(db)
        params = [values[positions[i]] if i in positions else p for i, p in enumerate(params)]
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        cursor = db.cursor()
        cursor.execute(sql, params)
        return cursor

    def tuples(self, *, limit: int | None = None, offset: int = 0, **values) -> list[tuple]:
        """The rows as the database cursor returns them: no ORM converters run."""
        with self._execute(values, limit, offset) as cursor:
            return cursor.fetchall()

    def first_row(self, **values) -> dict | None:
        """The first row as a dict of column → value (a NUMERIC sum read as an int),
        or None."""
        with self._execute(values, None, 0) as cursor:
            row = cursor.fetchone()
            names = [column[0] for column in cursor.description]
        if row is None:
            return None
        return {
            name: int(value) if isinstance(value, Decimal) else value
            for name, value in zip(names, row, strict=True)
        }

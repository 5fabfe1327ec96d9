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
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from autopack_site.db.sqlite3.base import statement_prepare as sqlite_statement_prepare

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
            sql, params = self._compile(
                {name: self._marker(name) for name in self.names}, db.vendor
            )
            positions = {index: markers[p] for index, p in enumerate(params) if p in markers}
            if set(positions.values()) != set(self.names):
                raise ValueError(f"a prepared query must use each of {self.names}")
            if any(
                isinstance(p, str) and "\x00prepared:" in p and p not in markers for p in params
            ):
                # e.g. `__startswith`, which sends "marker%": never replaced by the value.
                raise ValueError("a lookup changed a prepared query's parameter: filter by value")
            if db.vendor == "sqlite":
                sqlite_statement_prepare(sql)
            compiled = self._compiled[key] = (sql, tuple(params), positions)
        return compiled

    def _compile(self, markers: dict[str, str], vendor: str) -> tuple[str, tuple]:
        """(SQL, parameters); a paged query's last two are its LIMIT and OFFSET."""
        sql, params = self.build(**markers).query.sql_with_params()
        if self.paged:
            return f"{sql} LIMIT %s OFFSET %s", (*params, None, None)
        return sql, params

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

    def _page(self, limit: int | None, offset: int) -> tuple[int, int] | None:
        if self.paged != (limit is not None):
            raise ValueError("limit goes with a paged query, and only with one")
        return (limit, offset) if self.paged else None

    def tuples(self, *, limit: int | None = None, offset: int = 0, **values) -> list[tuple]:
        """The rows as the database cursor returns them: no ORM converters run."""
        with self._execute(values, self._page(limit, offset)) as cursor:
            return cursor.fetchall()

    def first_row(self, *, limit: int | None = None, offset: int = 0, **values) -> dict | None:
        """The first row as a dict of column → value (a NUMERIC sum read as an int),
        or None."""
        with self._execute(values, self._page(limit, offset)) as cursor:
            row = cursor.fetchone()
            names = [column[0] for column in cursor.description]
        if row is None:
            return None
        return {
            name: int(value) if isinstance(value, Decimal) else value
            for name, value in zip(names, row, strict=True)
        }


@dataclass(frozen=True)
class JSONArrayPage:
    """A part of `PreparedSideBySide`: one page of a queryset whose single column
    is a JSON document per row (`autopack_site.db.json_text.JSONObjectText`),
    read as one JSON array text in the column `alias` (`[]` for no rows). The
    statement takes the page's LIMIT and OFFSET as its last two parameters.

    The rows keep the queryset's order: they come from a subquery with LIMIT,
    which neither database merges into the aggregate over it, so the aggregate
    reads them as the subquery returns them (SQLite before 3.44 has no ORDER BY
    inside an aggregate). A test checks the order on both databases."""

    build: Callable[..., QuerySet]
    alias: str

    def sql_with_params(self, markers: dict[str, str], vendor: str) -> tuple[str, tuple]:
        sql, params = self.build(**markers).query.sql_with_params()
        join = "string_agg" if vendor == "postgresql" else "group_concat"
        aggregate = f"'[' || COALESCE({join}(page_row.body, ','), '') || ']'"
        return (
            f"SELECT {aggregate} AS {self.alias} FROM ({sql} LIMIT %s OFFSET %s) AS page_row",
            (*params, None, None),
        )


class PreparedSideBySide(PreparedQuery):
    """Querysets of at most one row each, read in one statement (one round trip,
    one snapshot): the first's row with the others' columns beside it, NULL where
    one has no row. Their column names must differ. A `JSONArrayPage` as the last
    part makes the statement paged (`first_row(limit=…, offset=…)`)."""

    def __init__(self, parts: list, *names: str):
        first, *others = parts
        if not others or any(isinstance(part, JSONArrayPage) for part in parts[:-1]):
            raise ValueError("side by side needs two parts or more, a JSON page only last")
        super().__init__(first, *names, paged=isinstance(parts[-1], JSONArrayPage))
        self.others = others

    def _compile(self, markers: dict[str, str], vendor: str) -> tuple[str, tuple]:
        sql, params = self.build(**markers).query.sql_with_params()
        sql = f"SELECT * FROM ({sql}) AS part_0"
        for number, part in enumerate(self.others, start=1):
            if isinstance(part, JSONArrayPage):
                part_sql, part_params = part.sql_with_params(markers, vendor)
            else:
                part_sql, part_params = part(**markers).query.sql_with_params()
            sql += f" LEFT JOIN ({part_sql}) AS part_{number} ON 1 = 1"
            params = (*params, *part_params)
        return sql, params

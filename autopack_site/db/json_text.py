"""JSON text built by the database, for rows a response embeds as they come.

Fetching a page of rows builds a Python object per value, then the encoder walks
them; asking the database for each row as JSON text (and a page as one JSON
array, `autopack_site.db.prepared.JSONArrayPage`) skips both. The text is what
DRF renders for the same values: compact, keys in the order given, strings
escaped by the database's own JSON quoting, integers as their digits.
"""

import json

from django.db import models


def _sql_literal(text: str) -> str:
    # A constant of ours (a key and its punctuation), as an SQL string literal; `%`
    # doubled because the compiled SQL still goes through parameter formatting.
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


class JSONObjectText(models.Expression):
    """`{"key": value, …}` as compact JSON text, one per row. Values are text
    (quoted as JSON strings) or integers (their digits); NULL is `null`."""

    output_field = models.TextField()

    def __init__(self, **fields):
        if not fields:
            raise ValueError("a JSON object needs at least one field")
        super().__init__()
        self.keys = list(fields)
        self.values = [
            models.F(value) if isinstance(value, str) else value for value in fields.values()
        ]

    def get_source_expressions(self):
        return self.values

    def set_source_expressions(self, exprs):
        self.values = list(exprs)

    def as_sql(self, compiler, connection):
        pieces, params = [], []
        for number, (key, value) in enumerate(zip(self.keys, self.values, strict=True)):
            sql, value_params = compiler.compile(value)
            pieces.append(_sql_literal(("{" if number == 0 else ",") + json.dumps(key) + ":"))
            if _is_text(value):
                pieces.append(f"COALESCE(to_json(({sql})::text)::text, 'null')")
            else:
                pieces.append(f"COALESCE(CAST(({sql}) AS TEXT), 'null')")
            params.extend(value_params)
        pieces.append(_sql_literal("}"))
        return "(" + " || ".join(pieces) + ")", params

    def as_sqlite(self, compiler, connection):
        # json_object() builds the text in one pass; values keep their types
        # (text is quoted, integers are digits, NULL is null).
        arguments, params = [], []
        for key, value in zip(self.keys, self.values, strict=True):
            _is_text(value)  # only the types the other databases render
            sql, value_params = compiler.compile(value)
            arguments.append(f"{_sql_literal(key)}, {sql}")
            params.extend(value_params)
        return f"json_object({', '.join(arguments)})", params


def _is_text(value) -> bool:
    """Whether a value is text (else an integer); TypeError for any other type."""
    field = value.output_field
    if isinstance(field, (models.CharField, models.TextField)):
        return True
    if isinstance(field, models.IntegerField):  # BigIntegerField, PositiveIntegerField…
        return False
    raise TypeError(f"JSONObjectText cannot render a {type(field).__name__}")

"""Migration operations that work on both SQLite and PostgreSQL."""

from django.db import NotSupportedError
from django.db.migrations.operations import AddIndex


class AddIndexConcurrentlyOnPostgres(AddIndex):
    """Add an index without locking writes on PostgreSQL; a plain index elsewhere.

    PostgreSQL builds it with CREATE INDEX CONCURRENTLY, so the ledger keeps taking
    rows while a big table is indexed. Django's own AddIndexConcurrently fails
    on SQLite, where a plain CREATE INDEX is all there is. The migration using
    this operation must set ``atomic = False``: CONCURRENTLY cannot run inside a
    transaction.
    """

    atomic = False

    def describe(self) -> str:
        return f"Create index {self.index.name} (concurrently on PostgreSQL) on {self.model_name}"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            self._ensure_not_in_transaction(schema_editor)
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            self._ensure_not_in_transaction(schema_editor)
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)

    def _ensure_not_in_transaction(self, schema_editor) -> None:
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError(
                f"{self.__class__.__name__} cannot run inside a transaction; "
                "set atomic = False on the migration."
            )


def _single_column_indexes(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
    ]


def drop_column_index(table: str, column: str):
    """Return a RunPython function dropping the plain single-column index on table.column.

    Used instead of AlterField(db_index=False), which on PostgreSQL also drops and
    re-adds the foreign key (a full-table validation under lock on a big table).
    """

    def forwards(apps, schema_editor):
        concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
        for name in _single_column_indexes(schema_editor, table, column):
            schema_editor.execute(f"DROP INDEX {concurrently}{schema_editor.quote_name(name)}")

    return forwards


def create_column_index(table: str, column: str):
    """Return a RunPython function restoring the index `drop_column_index` removed."""

    def backwards(apps, schema_editor):
        if _single_column_indexes(schema_editor, table, column):
            return
        concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(
            f"CREATE INDEX {concurrently}{schema_editor.quote_name(name)} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )

    return backwards

"""Bulk writes through each database's fast path, for imports of hundreds of thousands of rows.

Inserts need no RETURNING (which SQLAlchemy sends one row at a time when ids must come back
in order on SQLite): PostgreSQL ids are taken from the sequence first and the rows COPied;
SQLite rows go through executemany and their ids are read back under the write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnDefault,
    Connection,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from garrison.core.clock import utc_now

BATCH_ROWS = 5000
COPY_BATCH_ROWS = 50_000
Progress = Callable[[str, int], None]


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """Ids taken from a PostgreSQL table's sequence up front, so rows can be inserted without
    RETURNING."""
    sequence = text(
        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
    )
    return list(connection.execute(sequence, {"table": table.name, "n": count}).scalars())


def insert_rows(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    progress: Progress | None = None,
) -> list[int]:
    """Insert rows in batches; returns their new ids in the order given. Every row has the
    keys of the first (as for executemany); columns it leaves out get their defaults."""
    ids: list[int] = []
    postgresql = connection.dialect.name == "postgresql"
    copy = postgresql and _copyable(table, rows)
    size = COPY_BATCH_ROWS if copy else BATCH_ROWS
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        if postgresql:
            returned = reserve_ids(connection, table, len(batch))
            if copy:
                _copy_rows(connection, table, batch, returned)
            else:
                numbered = zip(batch, returned, strict=True)
                connection.execute(insert(table), [{**row, "id": id_} for row, id_ in numbered])
        else:
            connection.execute(insert(table), list(batch))
            # SQLite gives each new row the largest rowid plus one, and no other connection
            # can insert while this transaction holds the write lock it has just taken.
            last = connection.execute(select(func.max(table.c.id))).scalar_one()
            returned = list(range(last - len(batch) + 1, last + 1))
        ids.extend(returned)
        if progress:
            progress(table.name, len(batch))
    return ids


def _copyable(table: Table, rows: Sequence[dict[str, Any]]) -> bool:
    """Whether COPY can write these rows exactly as an INSERT would: every default of a
    column they leave out is a Python value or function, not SQL."""
    if not rows:
        return False
    return all(
        column.default is None
        or (isinstance(column.default, ColumnDefault) and not column.default.is_clause_element)
        for column in table.c
        if column.name not in rows[0] and column.name != "id"
    )


def _copy_rows(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], ids: Sequence[int]
) -> None:
    """COPY FROM STDIN on the connection's own transaction, each value bound as SQLAlchemy
    binds it (its type's processing, its column's Python default)."""
    dialect = connection.dialect
    given = [column for column in table.c if column.name in rows[0] and column.name != "id"]
    defaulted = [
        column
        for column in table.c
        if column.name not in rows[0] and column.name != "id" and column.default is not None
    ]
    columns = [table.c.id, *given, *defaulted]
    processors = [
        (index, process)
        for index, column in enumerate(columns)
        if (process := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    names = ", ".join(dialect.identifier_preparer.format_column(column) for column in columns)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row_id, row in zip(ids, rows, strict=True):
            values = [row_id, *(row[column.name] for column in given)]
            values += [_default(column) for column in defaulted]
            for index, process in processors:
                values[index] = process(values[index])
            copy.write_row(values)


def _default(column: Column[Any]) -> Any:
    default = column.default
    assert isinstance(default, ColumnDefault)
    return default.arg(None) if default.is_callable else default.arg


def update_rows(
    connection: Connection,
    table: Table,
    changes: Sequence[tuple[int, dict[str, Any]]],
    progress: Progress | None = None,
    *,
    touch: bool = True,
) -> None:
    """Set new values on rows by id, grouping rows that change the same columns into one
    executemany; `touch` also sets `updated_at`."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes:
        if values:
            # Parameters are prefixed: a bindparam may not share its column's name.
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"row_id": row_id, **{f"new_{name}": value for name, value in values.items()}}
            )
    stamp = {"updated_at": utc_now()} if touch else {}
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in columns} | stamp)
        )
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            connection.execute(statement, batch)
            if progress:
                progress(table.name, len(batch))

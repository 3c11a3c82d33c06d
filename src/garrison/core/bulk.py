"""Bulk writes through each database's fast path, for imports of hundreds of thousands of rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, text, update

from garrison.core.clock import utc_now

BATCH_ROWS = 5000
Progress = Callable[[str, int], None]


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """Ids taken from a PostgreSQL table's sequence up front, so rows can be inserted without
    RETURNING (psycopg's pipelined executemany instead of re-parsing huge statements)."""
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
    """Insert rows in batches; returns their new ids in the order given."""
    ids: list[int] = []
    reserve = connection.dialect.name == "postgresql"
    returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), BATCH_ROWS):
        batch = list(rows[start : start + BATCH_ROWS])
        if reserve:
            returned = reserve_ids(connection, table, len(batch))
            batch = [{**row, "id": row_id} for row, row_id in zip(batch, returned, strict=True)]
            connection.execute(insert(table), batch)
        else:
            returned = list(connection.execute(returning, batch).scalars())
        ids.extend(returned)
        if progress:
            progress(table.name, len(batch))
    return ids


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

"""Bulk writes through each database's fast path, for imports of hundreds of thousands of rows.

Inserts need no RETURNING (which SQLAlchemy sends one row at a time when ids must come back
in order on SQLite): PostgreSQL ids are taken from the sequence first and the rows COPied;
SQLite rows go through the driver's executemany and their ids are read back under the write
lock. Either way each value is bound as SQLAlchemy would bind it, without its per-row cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnDefault,
    Connection,
    Dialect,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from garrison.core.clock import utc_now

BATCH_ROWS = 5000
FAST_BATCH_ROWS = 50_000
MEMO_LIMIT = 2048
BULK_CACHE_KIB = 256 * 1024
Progress = Callable[[str, int], None]
Process = Callable[[Any], Any]


@contextmanager
def bulk_writing(connection: Connection) -> Iterator[None]:
    """Settings for merging a million rows on this connection, restored afterwards.

    SQLite: a page cache that holds the indexes written into at random places (the default
    2 MiB makes each insert read pages back). PostgreSQL: a plan for each lookup, since
    psycopg prepares a statement run five times and the server may then keep a generic plan
    made while the tables were empty: a sequential scan, run again as they grow."""
    if connection.dialect.name == "sqlite":
        previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
        connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        restore = f"PRAGMA cache_size = {previous}"
    elif connection.dialect.name == "postgresql":
        previous_mode = connection.exec_driver_sql("SHOW plan_cache_mode").scalar_one()
        if previous_mode not in ("auto", "force_custom_plan", "force_generic_plan"):
            raise ValueError(f"unknown plan_cache_mode {previous_mode!r}")
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
        restore = f"SET LOCAL plan_cache_mode = {previous_mode}"
    else:
        restore = ""
    try:
        yield
    except BaseException:
        # A failed PostgreSQL transaction drops SET LOCAL with it; SQLite's cache must shrink
        # before the connection goes back to the pool, without hiding the error.
        if connection.dialect.name == "sqlite":
            with suppress(SQLAlchemyError):
                connection.exec_driver_sql(restore)
        raise
    if restore:
        connection.exec_driver_sql(restore)


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
    if not rows:
        return ids
    postgresql = connection.dialect.name == "postgresql"
    bound = _BoundRows.of(connection.dialect, table, rows[0], with_id=postgresql)
    size = BATCH_ROWS if bound is None else FAST_BATCH_ROWS
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        if postgresql:
            returned = reserve_ids(connection, table, len(batch))
            if bound is None:
                numbered = zip(batch, returned, strict=True)
                connection.execute(insert(table), [{**row, "id": id_} for row, id_ in numbered])
            else:
                bound.copy(connection, batch, returned)
        else:
            if bound is None:
                connection.execute(insert(table), list(batch))
            else:
                bound.executemany(connection, batch)
            # SQLite gives each new row the largest rowid plus one, and no other connection
            # can insert while this transaction holds the write lock it has just taken.
            last = connection.execute(select(func.max(table.c.id))).scalar_one()
            returned = list(range(last - len(batch) + 1, last + 1))
        ids.extend(returned)
        if progress:
            progress(table.name, len(batch))
    return ids


class _BoundRows:
    """Rows turned into the values the driver takes: each bound by its column type's
    processing, a left-out column given its Python default, as an INSERT through SQLAlchemy
    would, for tables whose left-out columns have no SQL default."""

    def __init__(
        self, dialect: Dialect, table: Table, first: dict[str, Any], *, with_id: bool
    ) -> None:
        given = [column for column in table.c if column.name in first and column.name != "id"]
        defaulted = [
            column
            for column in table.c
            if column.name not in first and column.name != "id" and column.default is not None
        ]
        self.table = table
        self.dialect = dialect
        self.with_id = with_id
        names = [column.name for column in given]
        self.given: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            itemgetter(*names) if len(names) > 1 else lambda row: tuple(row[n] for n in names)
        )
        self.defaults = [column.default for column in defaulted]
        self.columns = [*([table.c.id] if with_id else []), *given, *defaulted]
        self.processors: list[tuple[int, Process]] = []
        for index, column in enumerate(self.columns):
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                memo = isinstance(column.type, JSON)
                self.processors.append((index, _memoised(process) if memo else process))

    @classmethod
    def of(
        cls, dialect: Dialect, table: Table, first: dict[str, Any], *, with_id: bool
    ) -> _BoundRows | None:
        """None when a left-out column has a default only the database or SQLAlchemy's
        statement can compute (SQL expressions, sequences)."""
        for column in table.c:
            default = column.default
            if column.name in first or column.name == "id" or default is None:
                continue
            if not isinstance(default, ColumnDefault) or default.is_clause_element:
                return None
        return cls(dialect, table, first, with_id=with_id)

    def defaulted(self) -> list[Any]:
        values = []
        for default in self.defaults:
            assert isinstance(default, ColumnDefault)
            values.append(default.arg(None) if default.is_callable else default.arg)
        return values

    def column_list(self) -> str:
        quote = self.dialect.identifier_preparer.format_column
        return ", ".join(quote(column) for column in self.columns)

    def bound(self, rows: Sequence[dict[str, Any]], ids: Sequence[int] | None = None) -> Any:
        """Each row's values in column order, processed. A value object met again (the
        batch's one `now`, a first_seen that is also the last_seen) is processed once: the
        processors are pure, and the memo keeps each object alive so its id stays its own
        (cleared now and then, so that unique values do not pile up)."""
        processors, given, defaults = self.processors, self.given, self.defaults
        memo: dict[int, tuple[Any, Any]] = {}
        if ids is not None and len(ids) != len(rows):
            raise ValueError(f"{len(ids)} ids for {len(rows)} rows")
        for position, row in enumerate(rows):
            if position % MEMO_LIMIT == 0:
                memo.clear()
            values = [ids[position], *given(row)] if ids is not None else [*given(row)]
            if defaults:
                values += self.defaulted()
            for index, process in processors:
                value = values[index]
                known = memo.get(id(value))
                if known is not None and known[0] is value:
                    values[index] = known[1]
                else:
                    values[index] = result = process(value)
                    memo[id(value)] = (value, result)
            yield values

    def copy(self, connection: Connection, rows: Sequence[dict[str, Any]], ids: list[int]) -> None:
        """COPY FROM STDIN on the connection's own transaction (PostgreSQL)."""
        table = self.dialect.identifier_preparer.format_table(self.table)
        driver = connection.connection.driver_connection
        assert driver is not None and self.with_id
        statement = f"COPY {table} ({self.column_list()}) FROM STDIN"
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for values in self.bound(rows, ids):
                copy.write_row(values)

    def executemany(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """The driver's executemany on the connection's own transaction (SQLite)."""
        table = self.dialect.identifier_preparer.format_table(self.table)
        marks = ", ".join("?" * len(self.columns))
        statement = f"INSERT INTO {table} ({self.column_list()}) VALUES ({marks})"
        driver = connection.connection.driver_connection
        assert driver is not None and not self.with_id
        cursor = driver.cursor()
        try:
            cursor.executemany(statement, self.bound(rows))
        finally:
            cursor.close()


def _memoised(process: Process) -> Process:
    """The same JSON list comes row after row (no tags, one source): bound once. Types are
    part of the key, since [1] and [True] are equal in Python but not in JSON."""
    memo: dict[tuple[tuple[Any, ...], tuple[type, ...]], Any] = {}

    def bound(value: Any) -> Any:
        if type(value) is not list:
            return process(value)
        try:
            key = (tuple(value), tuple(map(type, value)))
            return memo[key]
        except KeyError:
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            result = memo[key] = process(value)
            return result
        except TypeError:  # an unhashable member
            return process(value)

    return bound


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

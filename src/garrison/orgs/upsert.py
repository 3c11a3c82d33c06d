"""Upsert planning for bulk imports: decide creates, updates and no-ops before writing anything.

Planning first is what makes an import atomic and idempotent: rows are compared with what is
stored, problems are collected, and only a clean plan is written, in one transaction, through
the database's executemany fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Table

from garrison.core.audit import AuditRecord, record_audit_events
from garrison.core.bulk import Progress, insert_rows, update_rows
from garrison.core.clock import utc_now

K = TypeVar("K", bound=Hashable)


@dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class UpsertPlan(Generic[K]):
    """What must change in one table for its rows to equal the wanted ones.

    Values are compared in people's terms (an owner's name, not its id); `to_columns` turns
    them into column values only when writing, once every id is known.
    """

    table: Table
    existing: dict[K, tuple[int, dict[str, Any]]]
    label: Callable[[K, dict[str, Any]], str]
    to_columns: Callable[[dict[str, Any]], dict[str, Any]] = dict
    creates: dict[K, dict[str, Any]] = field(default_factory=dict)
    updates: list[tuple[int, K, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0

    def want(self, key: K, values: dict[str, Any], given: Collection[str] | None = None) -> None:
        """Plan one wanted row; a stored row keeps every value not named in `given` (all if None).

        A file that has no column for a field says nothing about it: it must not erase it.
        """
        current = self.existing.get(key)
        if current is None:
            self.creates[key] = values
            return
        row_id, stored = current
        after = {
            name: value
            for name, value in values.items()
            if (given is None or name in given) and stored.get(name) != value
        }
        if after:
            before = {name: stored.get(name) for name in after}
            self.updates.append((row_id, key, before, after))
        else:
            self.unchanged += 1

    @property
    def counts(self) -> EntityCounts:
        return EntityCounts(len(self.creates), len(self.updates), self.unchanged)

    def apply(self, connection: Connection, progress: Progress | None = None) -> dict[K, int]:
        """Write the plan; returns the id of every row it created."""
        created_ids = self._insert(connection, progress)
        self._update(connection, progress)
        audit = [
            AuditRecord(
                "create",
                self.table.name,
                str(created_ids[key]),
                self.label(key, values),
                None,
                values,
            )
            for key, values in self.creates.items()
        ]
        audit += [
            AuditRecord(
                "update", self.table.name, str(row_id), self.label(key, after), before, after
            )
            for row_id, key, before, after in self.updates
        ]
        record_audit_events(connection, audit)
        return created_ids

    def _insert(self, connection: Connection, progress: Progress | None) -> dict[K, int]:
        keys = list(self.creates)
        now = utc_now()
        rows = [
            {**self.to_columns(self.creates[key]), "created_at": now, "updated_at": now}
            for key in keys
        ]
        return dict(zip(keys, insert_rows(connection, self.table, rows, progress), strict=True))

    def _update(self, connection: Connection, progress: Progress | None) -> None:
        changes = [
            (row_id, self.to_columns(after)) for row_id, _key, _before, after in self.updates
        ]
        update_rows(connection, self.table, changes, progress)

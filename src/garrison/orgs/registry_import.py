"""Importing the registry from CSV or XLSX: all rows or none, and a re-import changes nothing."""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from garrison.core.bulk import Progress
from garrison.core.db import Database
from garrison.core.errors import InputError, RowProblem
from garrison.core.model import table_of
from garrison.core.tabular import Record, normalise_header, read_tables
from garrison.orgs.addresses import address_key, parse_address
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
    OrganisationKind,
)
from garrison.orgs.registry_rows import (
    AssetRow,
    ComponentRow,
    ContactRow,
    DomainRow,
    NetworkRow,
    OrganisationRow,
    RegistryRow,
    parse_record,
)
from garrison.orgs.registry_tables import REGISTRY_TABLES
from garrison.orgs.upsert import EntityCounts, UpsertPlan

RowT = TypeVar("RowT", bound=RegistryRow)
TABLE_ORDER = tuple(spec.name for spec in REGISTRY_TABLES)
AssetKey = tuple[str, str]


@dataclass
class ImportReport:
    """What an import did, table by table, and the warnings it accepted."""

    file: str
    counts: dict[str, EntityCounts] = field(default_factory=dict)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(count.total for count in self.counts.values())

    @property
    def changed(self) -> bool:
        return any(count.created or count.updated for count in self.counts.values())


def name_key(text: str) -> str:
    """How two spellings of one organisation's name or short name are recognised as equal."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass
class _Registry:
    """What is stored, what the file adds, and the problems found so far."""

    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    org_names: dict[str, str] = field(default_factory=dict)
    org_ids: dict[str, int] = field(default_factory=dict)
    asset_ids: dict[AssetKey, int] = field(default_factory=dict)
    file_assets: set[AssetKey] = field(default_factory=set)

    def know_organisation(self, name: str, short_name: str | None) -> None:
        self.org_names.setdefault(name_key(name), name)
        if short_name:
            self.org_names.setdefault(name_key(short_name), name)

    def resolve(self, reference: str) -> str | None:
        return self.org_names.get(name_key(reference))

    def owner_key(self, reference: str) -> str:
        """One key per organisation, whether a row names it by name or by short name."""
        return self.resolve(reference) or name_key(reference)

    def owner(self, row: RegistryRow) -> str | None:
        reference = getattr(row, "organisation", "")
        name = self.resolve(reference)
        if name is None:
            self.problems.append(
                row.record.problem(
                    "organisation",
                    f"no organisation named {reference!r} in the registry or in this file",
                )
            )
        return name

    def first_seen(
        self, rows: Iterable[RowT], key: Callable[[RowT], Any], field_name: str
    ) -> list[RowT]:
        """Rows whose key the file has not given before; repeats become problems."""
        seen: dict[Any, Record] = {}
        unique: list[RowT] = []
        for row in rows:
            k = key(row)
            if k in seen:
                other = seen[k]
                where = f"row {other.row}" + (f" of sheet {other.sheet!r}" if other.sheet else "")
                self.problems.append(row.record.problem(field_name, f"repeats {where}"))
                continue
            seen[k] = row.record
            unique.append(row)
        return unique

    def with_owner_id(self, values: dict[str, Any]) -> dict[str, Any]:
        columns = dict(values)
        if "organisation" in columns:
            columns["organisation_id"] = self.org_ids[columns.pop("organisation")]
        return columns


def _parse_file(
    path: Path, max_bytes: int, tables: Collection[str]
) -> tuple[dict[str, list[RegistryRow]], list[RowProblem]]:
    rows: dict[str, list[RegistryRow]] = {name: [] for name in TABLE_ORDER}
    problems: list[RowProblem] = []
    specs = [spec for spec in REGISTRY_TABLES if spec.name in tables]
    for table in read_tables(path, specs, max_bytes=max_bytes):
        for record in table.records:
            parsed = parse_record(table.spec.name, record)
            if isinstance(parsed, RowProblem):
                problems.append(parsed)
            else:
                rows[table.spec.name].append(parsed)
    return rows, problems


def _typed(rows: list[RegistryRow], kind: type[RowT]) -> list[RowT]:
    return [row for row in rows if isinstance(row, kind)]


def _given(record: Record, renamed: dict[str, str] | None = None) -> set[str]:
    """The values the file has a column for; a stored row keeps all the others."""
    return {(renamed or {}).get(name, name) for name in record.values}


def _label(key: Any, _values: dict[str, Any]) -> str:
    return " / ".join(key) if isinstance(key, tuple) else str(key)


class RegistryImport:
    """One import of one file: plan everything, and write only a plan without problems."""

    def __init__(
        self,
        session: Session,
        path: Path,
        *,
        max_bytes: int,
        tables: Collection[str] = TABLE_ORDER,
    ) -> None:
        self.session = session
        self.path = path
        self.max_bytes = max_bytes
        self.tables = tables
        self.registry = _Registry()

    def run(
        self, progress: Progress | None = None, on_plan: Callable[[int], None] | None = None
    ) -> ImportReport:
        rows, problems = _parse_file(self.path, self.max_bytes, self.tables)
        registry = self.registry
        registry.problems.extend(problems)
        self._load_stored()
        organisations, parents = self._plan_organisations(
            _typed(rows["organisations"], OrganisationRow)
        )
        contacts = self._plan_contacts(_typed(rows["contacts"], ContactRow))
        networks = self._plan_networks(_typed(rows["networks"], NetworkRow))
        domains = self._plan_domains(_typed(rows["domains"], DomainRow))
        assets = self._plan_assets(_typed(rows["assets"], AssetRow))
        components = self._plan_components(_typed(rows["components"], ComponentRow))
        if registry.problems:
            raise InputError(registry.problems)
        plans: dict[str, UpsertPlan[Any]] = {
            "organisations": organisations,
            "contacts": contacts,
            "networks": networks,
            "domains": domains,
            "assets": assets,
            "components": components,
        }
        if on_plan:
            on_plan(sum(len(p.creates) + len(p.updates) for p in plans.values()))
        connection = self.session.connection()
        registry.org_ids.update(organisations.apply(connection, progress))
        self._link_parents(connection, organisations, parents)
        for name in ("contacts", "networks", "domains"):
            plans[name].apply(connection, progress)
        created_assets = assets.apply(connection, progress)
        registry.asset_ids.update(created_assets)
        self._write_addresses(connection, assets, created_assets)
        components.apply(connection, progress)
        return ImportReport(
            self.path.name, {name: plan.counts for name, plan in plans.items()}, registry.warnings
        )

    def _load_stored(self) -> None:
        registry = self.registry
        for kind in self.session.scalars(select(OrganisationKind)):
            for spelling in (kind.code, kind.name_vi, kind.name_en):
                registry.kinds[normalise_header(spelling)] = kind.code
        for org_id, name, short_name in self.session.execute(
            select(Organisation.id, Organisation.name, Organisation.short_name)
        ):
            registry.org_ids[name] = org_id
            registry.know_organisation(name, short_name)

    def _stored_names(self) -> dict[int, str]:
        return {org_id: name for name, org_id in self.registry.org_ids.items()}

    def _plan_organisations(
        self, rows: list[OrganisationRow]
    ) -> tuple[UpsertPlan[str], dict[str, str | None]]:
        registry = self.registry
        stored = self.session.execute(
            select(
                Organisation.id,
                Organisation.name,
                Organisation.short_name,
                Organisation.kind_code,
                Organisation.parent_id,
                Organisation.notes,
            )
        ).all()
        names = self._stored_names()
        existing = {
            row.name: (
                row.id,
                {
                    "short_name": row.short_name,
                    "kind_code": row.kind_code,
                    "parent": names.get(row.parent_id) if row.parent_id else None,
                    "notes": row.notes,
                },
            )
            for row in stored
        }
        short_owner = {name_key(row.short_name): row.name for row in stored if row.short_name}
        # A stored organisation spelt in another case or spacing is that organisation.
        stored_names = {name_key(row.name): row.name for row in stored}
        rows = [replace(r, name=stored_names.get(name_key(r.name), r.name)) for r in rows]
        unique = registry.first_seen(rows, lambda r: name_key(r.name), "name")
        unique = registry.first_seen(
            unique, lambda r: name_key(r.short_name or r.name), "short_name"
        )
        for row in unique:
            registry.know_organisation(row.name, row.short_name)
        plan: UpsertPlan[str] = UpsertPlan(
            table_of(Organisation),
            existing,
            _label,
            to_columns=lambda values: {k: v for k, v in values.items() if k != "parent"},
        )
        parents = {name: values["parent"] for name, (_id, values) in existing.items()}
        for row in unique:
            holder = short_owner.get(name_key(row.short_name or ""))
            if row.short_name and holder not in (None, row.name):
                registry.problems.append(
                    row.record.problem(
                        "short_name", f"{row.short_name!r} is already the short name of {holder!r}"
                    )
                )
            kind = registry.kinds.get(normalise_header(row.kind))
            if kind is None:
                registry.problems.append(
                    row.record.problem(
                        "kind",
                        f"{row.kind!r} is not an organisation kind; use one of "
                        + ", ".join(sorted(set(registry.kinds.values()))),
                    )
                )
                continue
            if "parent" in row.record.values:
                parent = self._parent_of(row)
            else:
                parent = parents.get(row.name)
            parents[row.name] = parent
            values = {
                "short_name": row.short_name,
                "kind_code": kind,
                "parent": parent,
                "notes": row.notes,
            }
            if row.name not in existing:
                values["name"] = row.name
            plan.want(row.name, values, _given(row.record, {"kind": "kind_code"}))
        for row in unique:
            if _has_cycle(row.name, parents):
                registry.problems.append(row.record.problem("parent", "the parents form a cycle"))
        return plan, {
            name: parents[name] for name in (row.name for row in unique) if name in parents
        }

    def _parent_of(self, row: OrganisationRow) -> str | None:
        if not row.parent:
            return None
        parent = self.registry.resolve(row.parent)
        if parent is None:
            self.registry.problems.append(
                row.record.problem(
                    "parent",
                    f"no organisation named {row.parent!r} in the registry or in this file",
                )
            )
        elif parent == row.name:
            self.registry.problems.append(
                row.record.problem("parent", "an organisation cannot be its own parent")
            )
            return None
        return parent

    def _link_parents(
        self, connection: Connection, plan: UpsertPlan[str], parents: dict[str, str | None]
    ) -> None:
        """Parent links are written once every organisation, old or new, has its id."""
        changed = {key for key, values in plan.creates.items() if values.get("parent")}
        changed |= {key for _id, key, _before, after in plan.updates if "parent" in after}
        links = [
            {
                "row_id": self.registry.org_ids[name],
                "parent": self.registry.org_ids[parent] if parent else None,
            }
            for name, parent in parents.items()
            if name in changed
        ]
        if links:
            table = table_of(Organisation)
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(parent_id=bindparam("parent")),
                links,
            )

    def _plan_contacts(self, rows: list[ContactRow]) -> UpsertPlan[Any]:
        registry, names = self.registry, self._stored_names()
        existing = {
            (names[row.organisation_id], row.name): (
                row.id,
                {
                    "organisation": names[row.organisation_id],
                    "name": row.name,
                    "role": row.role,
                    "email": row.email,
                    "phones": row.phones,
                    "language": row.language,
                },
            )
            for row in self.session.execute(
                select(
                    Contact.id,
                    Contact.organisation_id,
                    Contact.name,
                    Contact.role,
                    Contact.email,
                    Contact.phones,
                    Contact.language,
                )
            )
        }
        plan: UpsertPlan[Any] = UpsertPlan(
            table_of(Contact), existing, _label, to_columns=registry.with_owner_id
        )
        for row in registry.first_seen(
            rows, lambda r: (registry.owner_key(r.organisation), r.name), "name"
        ):
            owner = registry.owner(row)
            if owner is not None:
                plan.want(
                    (owner, row.name),
                    {
                        "organisation": owner,
                        "name": row.name,
                        "role": row.role,
                        "email": row.email,
                        "phones": list(row.phones),
                        "language": row.language,
                    },
                    _given(row.record),
                )
        return plan

    def _plan_networks(self, rows: list[NetworkRow]) -> UpsertPlan[str]:
        registry, names = self.registry, self._stored_names()
        existing = {
            row.cidr: (
                row.id,
                {"organisation": names[row.organisation_id], "description": row.description},
            )
            for row in self.session.execute(
                select(Network.id, Network.cidr, Network.organisation_id, Network.description)
            )
        }
        plan: UpsertPlan[str] = UpsertPlan(
            table_of(Network), existing, _label, to_columns=registry.with_owner_id
        )
        for row in registry.first_seen(rows, lambda r: r.network.cidr, "network"):
            owner = registry.owner(row)
            if row.network.had_host_bits:
                registry.warnings.append(
                    row.record.problem("network", f"host bits set; stored as {row.network.cidr}")
                )
            if owner is None:
                continue
            values: dict[str, Any] = {"organisation": owner, "description": row.description}
            if row.network.cidr not in existing:
                values |= {
                    "cidr": row.network.cidr,
                    "version": row.network.network.version,
                    "prefix_length": row.network.network.prefixlen,
                    "first_key": row.network.first_key,
                    "last_key": row.network.last_key,
                }
            plan.want(row.network.cidr, values, _given(row.record))
        return plan

    def _plan_domains(self, rows: list[DomainRow]) -> UpsertPlan[str]:
        registry, names = self.registry, self._stored_names()
        existing = {
            row.name: (row.id, {"organisation": names[row.organisation_id]})
            for row in self.session.execute(select(Domain.id, Domain.name, Domain.organisation_id))
        }
        plan: UpsertPlan[str] = UpsertPlan(
            table_of(Domain), existing, _label, to_columns=registry.with_owner_id
        )
        for row in registry.first_seen(rows, lambda r: r.domain, "domain"):
            owner = registry.owner(row)
            if owner is not None:
                values = {"organisation": owner}
                if row.domain not in existing:
                    values["name"] = row.domain
                plan.want(row.domain, values)
        return plan

    def _plan_assets(self, rows: list[AssetRow]) -> UpsertPlan[AssetKey]:
        registry, names = self.registry, self._stored_names()
        addresses: dict[int, list[str]] = {}
        for asset_id, address in self.session.execute(
            select(AssetAddress.asset_id, AssetAddress.address).order_by(AssetAddress.key)
        ):
            addresses.setdefault(asset_id, []).append(address)
        existing: dict[AssetKey, tuple[int, dict[str, Any]]] = {}
        for asset in self.session.execute(
            select(
                Asset.id,
                Asset.organisation_id,
                Asset.name,
                Asset.kind,
                Asset.hostnames,
                Asset.operating_system,
                Asset.security_level,
                Asset.level_approved_on,
                Asset.internet_facing,
                Asset.notes,
            )
        ):
            key = (names[asset.organisation_id], asset.name)
            registry.asset_ids[key] = asset.id
            existing[key] = (
                asset.id,
                {
                    "organisation": key[0],
                    "name": asset.name,
                    "kind": asset.kind,
                    "addresses": addresses.get(asset.id, []),
                    "hostnames": asset.hostnames,
                    "operating_system": asset.operating_system,
                    "security_level": asset.security_level,
                    "level_approved_on": asset.level_approved_on,
                    "internet_facing": asset.internet_facing,
                    "notes": asset.notes,
                },
            )
        plan: UpsertPlan[AssetKey] = UpsertPlan(
            table_of(Asset),
            existing,
            _label,
            to_columns=lambda values: registry.with_owner_id(
                {k: v for k, v in values.items() if k != "addresses"}
            ),
        )
        for row in registry.first_seen(
            rows, lambda r: (registry.owner_key(r.organisation), r.name), "name"
        ):
            owner = registry.owner(row)
            if owner is None:
                continue
            registry.file_assets.add((owner, row.name))
            ordered = sorted(row.addresses, key=lambda a: address_key(parse_address(a)))
            plan.want(
                (owner, row.name),
                {
                    "organisation": owner,
                    "name": row.name,
                    "kind": row.kind,
                    "addresses": ordered,
                    "hostnames": list(row.hostnames),
                    "operating_system": row.operating_system,
                    "security_level": row.security_level,
                    "level_approved_on": row.level_approved_on,
                    "internet_facing": row.internet_facing,
                    "notes": row.notes,
                },
                _given(row.record),
            )
        return plan

    def _write_addresses(
        self, connection: Connection, plan: UpsertPlan[AssetKey], created: dict[AssetKey, int]
    ) -> None:
        """An asset's addresses are replaced as a set whenever the file changes them."""
        replaced = [row_id for row_id, _key, _before, after in plan.updates if "addresses" in after]
        for start in range(0, len(replaced), 1000):
            connection.execute(
                delete(table_of(AssetAddress)).where(
                    table_of(AssetAddress).c.asset_id.in_(replaced[start : start + 1000])
                )
            )
        wanted = [(created[key], values["addresses"]) for key, values in plan.creates.items()]
        wanted += [
            (row_id, after["addresses"])
            for row_id, _key, _before, after in plan.updates
            if "addresses" in after
        ]
        rows = [
            {"asset_id": asset_id, "address": address, "key": address_key(parse_address(address))}
            for asset_id, addresses in wanted
            for address in addresses
        ]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(table_of(AssetAddress)), rows[start : start + 5000])

    def _plan_components(self, rows: list[ComponentRow]) -> UpsertPlan[Any]:
        registry = self.registry
        asset_names = {asset_id: key for key, asset_id in registry.asset_ids.items()}
        existing = {}
        for component in self.session.execute(
            select(
                Component.id,
                Component.asset_id,
                Component.ref,
                Component.cpe,
                Component.purl,
                Component.vendor,
                Component.product,
                Component.version,
            )
        ):
            holder, asset_name = asset_names[component.asset_id]
            existing[(holder, asset_name, component.ref)] = (
                component.id,
                {
                    "organisation": holder,
                    "asset": asset_name,
                    "ref": component.ref,
                    "cpe": component.cpe,
                    "purl": component.purl,
                    "vendor": component.vendor,
                    "product": component.product,
                    "version": component.version,
                },
            )

        def to_columns(values: dict[str, Any]) -> dict[str, Any]:
            columns = dict(values)
            owner, asset = columns.pop("organisation", None), columns.pop("asset", None)
            if owner is not None:
                columns["asset_id"] = registry.asset_ids[(owner, asset or "")]
            return columns

        plan: UpsertPlan[Any] = UpsertPlan(
            table_of(Component), existing, _label, to_columns=to_columns
        )
        unique = registry.first_seen(
            rows, lambda r: (registry.owner_key(r.organisation), r.asset, r.ref), "asset"
        )
        for row in unique:
            owner = registry.owner(row)
            if owner is None:
                continue
            key = (owner, row.asset)
            if key not in registry.asset_ids and key not in registry.file_assets:
                registry.problems.append(
                    row.record.problem(
                        "asset",
                        f"{owner!r} has no asset named {row.asset!r} in the registry or "
                        "in this file",
                    )
                )
                continue
            plan.want(
                (owner, row.asset, row.ref),
                {
                    "organisation": owner,
                    "asset": row.asset,
                    "ref": row.ref,
                    "cpe": row.cpe,
                    "purl": row.purl,
                    "vendor": row.vendor,
                    "product": row.product,
                    "version": row.version,
                },
                _given(row.record),
            )
        return plan


def _has_cycle(start: str, parents: dict[str, str | None]) -> bool:
    seen = {start}
    current = parents.get(start)
    while current is not None:
        if current == start:
            return True
        if current in seen:
            return False
        seen.add(current)
        current = parents.get(current)
    return False


def import_registry(
    database: Database,
    path: Path,
    *,
    max_bytes: int,
    progress: Progress | None = None,
    on_plan: Callable[[int], None] | None = None,
    tables: Collection[str] = TABLE_ORDER,
) -> ImportReport:
    """Import one CSV or XLSX file in one transaction; InputError means nothing was written.

    `tables` limits which kinds of table are looked for (e.g. only assets and components).
    """
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of short-lived rows: the collector only slows it down
    try:
        with database.session() as session:
            return RegistryImport(session, path, max_bytes=max_bytes, tables=tables).run(
                progress, on_plan
            )
    finally:
        if collecting:
            gc.enable()

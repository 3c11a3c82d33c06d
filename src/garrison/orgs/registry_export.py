"""Exporting the registry to the same CSV and XLSX shapes the importer reads back unchanged."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from garrison.core.errors import GarrisonError
from garrison.core.tabular import TableSpec
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)
from garrison.orgs.registry_tables import REGISTRY_TABLES

SPECS = {spec.name: spec for spec in REGISTRY_TABLES}


def export_header(spec: TableSpec, field_name: str, language: str) -> str:
    """Vietnamese headers by default (the first alias), plain field names in English."""
    column = next(column for column in spec.columns if column.field == field_name)
    return column.aliases[0] if language == "vi" and column.aliases else field_name


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _organisations(session: Session) -> Iterator[list[Any]]:
    parent = aliased(Organisation)
    query = (
        select(
            Organisation.name,
            Organisation.short_name,
            Organisation.kind_code,
            parent.name,
            Organisation.notes,
        )
        .outerjoin(parent, Organisation.parent_id == parent.id)
        .order_by(Organisation.name)
    )
    for row in session.execute(query):
        yield list(row)


def _contacts(session: Session) -> Iterator[list[Any]]:
    query = (
        select(
            Organisation.name,
            Contact.name,
            Contact.role,
            Contact.email,
            Contact.phones,
            Contact.language,
        )
        .join(Contact.organisation)
        .order_by(Organisation.name, Contact.name)
    )
    for row in session.execute(query):
        yield [*row[:4], "; ".join(row.phones), row.language]


def _networks(session: Session) -> Iterator[list[Any]]:
    query = (
        select(Organisation.name, Network.cidr, Network.description)
        .join(Network.organisation)
        .order_by(Network.first_key, Network.prefix_length)
    )
    for row in session.execute(query):
        yield list(row)


def _domains(session: Session) -> Iterator[list[Any]]:
    query = select(Organisation.name, Domain.name).join(Domain.organisation).order_by(Domain.name)
    for row in session.execute(query):
        yield list(row)


def _assets(session: Session) -> Iterator[list[Any]]:
    addresses: dict[int, list[str]] = {}
    for asset_id, address in session.execute(
        select(AssetAddress.asset_id, AssetAddress.address).order_by(AssetAddress.key)
    ):
        addresses.setdefault(asset_id, []).append(address)
    query = (
        select(Organisation.name, Asset)
        .join(Asset.organisation)
        .order_by(Organisation.name, Asset.name)
    )
    for owner, asset in session.execute(query):
        yield [
            owner,
            asset.name,
            asset.kind,
            addresses.get(asset.id, []),
            asset.hostnames,
            asset.operating_system,
            asset.security_level,
            asset.level_approved_on,
            asset.internet_facing,
            asset.notes,
        ]


def _components(session: Session) -> Iterator[list[Any]]:
    query = (
        select(
            Organisation.name,
            Asset.name,
            Component.cpe,
            Component.purl,
            Component.vendor,
            Component.product,
            Component.version,
        )
        .join(Component.asset)
        .join(Asset.organisation)
        .order_by(Organisation.name, Asset.name, Component.ref)
    )
    for row in session.execute(query):
        yield list(row)


ROWS = {
    "organisations": _organisations,
    "contacts": _contacts,
    "networks": _networks,
    "domains": _domains,
    "assets": _assets,
    "components": _components,
}


def registry_rows(session: Session, table: str, language: str) -> Iterator[list[str]]:
    """The header, then every row of one registry table as text cells."""
    spec = SPECS[table]
    yield [export_header(spec, column.field, language) for column in spec.columns]
    for row in ROWS[table](session):
        yield [_cell(value) for value in row]


def export_registry(
    session: Session, path: Path, *, tables: list[str] | None = None, language: str = "vi"
) -> dict[str, int]:
    """Write XLSX (one sheet per table) or CSV (one table); returns rows written per table."""
    chosen = tables or list(ROWS)
    unknown = [name for name in chosen if name not in ROWS]
    if unknown:
        raise GarrisonError(
            f"unknown table(s) {', '.join(unknown)}; choose from " + ", ".join(ROWS)
        )
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if len(chosen) != 1:
            raise GarrisonError(
                "a CSV file holds one table: pass --table with one of " + ", ".join(ROWS)
            )
        return {chosen[0]: _write_csv(session, path, chosen[0], language)}
    if suffix == ".xlsx":
        return _write_xlsx(session, path, chosen, language)
    raise GarrisonError(f"cannot export to {suffix!r}: use .xlsx or .csv")


def _write_csv(session: Session, path: Path, table: str, language: str) -> int:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        rows = registry_rows(session, table, language)
        writer.writerow(next(rows))
        return sum(writer.writerow(row) > 0 for row in rows)


def _text_cell(sheet: Any, value: str) -> Any:
    """A cell that stays text even when it starts with '=' (never a live formula)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _write_xlsx(session: Session, path: Path, tables: list[str], language: str) -> dict[str, int]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    written: dict[str, int] = {}
    for table in tables:
        sheet = workbook.create_sheet(table if language == "en" else SPECS[table].sheet_names[0])
        rows = registry_rows(session, table, language)
        sheet.append(next(rows))
        written[table] = 0
        for row in rows:
            sheet.append([_text_cell(sheet, value) for value in row])
            written[table] += 1
    workbook.save(path)
    return written

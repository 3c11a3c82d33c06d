"""Reading the registry for people: listings and one organisation's full picture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, Select, case, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, selectinload

from garrison.core.errors import NotFoundError
from garrison.core.tabular import normalise_header
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Domain,
    Network,
    Organisation,
    OrganisationKind,
)


@dataclass(frozen=True)
class OrganisationSummary:
    id: int
    name: str
    short_name: str | None
    kind: str
    parent: str | None
    networks: int
    assets: int


@dataclass(frozen=True)
class AssetSummary:
    id: int
    organisation: str
    name: str
    kind: str | None
    addresses: list[str]
    operating_system: str | None
    security_level: int | None
    level_approved_on: date | None
    internet_facing: bool
    organisation_id: int
    hostnames: list[str]


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str
    short_name: str | None = None


def _count_by_organisation(session: Session, column: InstrumentedAttribute[int]) -> dict[int, int]:
    query = select(column, func.count()).group_by(column)
    return {org_id: count for org_id, count in session.execute(query)}


def list_organisations(
    session: Session, *, kind: str | None = None, search: str | None = None
) -> list[OrganisationSummary]:
    """Organisations by name; `search` matches name or short name, ignoring case and marks."""
    parent = aliased(Organisation)
    query = (
        select(Organisation, parent.name)
        .outerjoin(parent, Organisation.parent_id == parent.id)
        .order_by(Organisation.name)
    )
    if kind:
        query = query.where(Organisation.kind_code == kind)
    networks = _count_by_organisation(session, Network.organisation_id)
    assets = _count_by_organisation(session, Asset.organisation_id)
    wanted = normalise_header(search) if search else None
    found = []
    for org, parent_name in session.execute(query):
        if wanted and wanted not in normalise_header(f"{org.name} {org.short_name or ''}"):
            continue
        found.append(
            OrganisationSummary(
                org.id,
                org.name,
                org.short_name,
                org.kind_code,
                parent_name,
                networks.get(org.id, 0),
                assets.get(org.id, 0),
            )
        )
    return found


def _named(reference: str) -> ColumnElement[bool]:
    """Rows an organisation reference names: its id, or its exact name or short name, case
    aside (compared as stored too: SQLite's lower() folds only ASCII)."""
    text = reference.strip()
    conditions = [
        Organisation.name == text,
        Organisation.short_name == text,
        func.lower(Organisation.name) == text.lower(),
        func.lower(Organisation.short_name) == text.lower(),
    ]
    if text.isdigit():
        conditions.append(Organisation.id == int(text))
    return or_(*conditions)


def _not_found(reference: str) -> NotFoundError:
    return NotFoundError(
        f"no organisation named {reference!r} (give its name, short name "
        "or id; `garrison orgs list` shows them)"
    )


def find_organisation(session: Session, reference: str) -> Organisation:
    """An organisation by id, exact name or short name (case-insensitive), with its details."""
    query = (
        select(Organisation)
        .where(_named(reference))
        .options(
            selectinload(Organisation.contacts),
            selectinload(Organisation.networks),
            selectinload(Organisation.domains),
            selectinload(Organisation.assets).selectinload(Asset.addresses),
            selectinload(Organisation.assets).selectinload(Asset.components),
        )
    )
    found = session.scalars(query).first()
    if found is None:
        raise _not_found(reference)
    return found


def organisation_choice(session: Session, reference: str) -> OrganisationChoice:
    """Id and name of the organisation a reference names (see find_organisation), without
    loading its details: what a filter needs."""
    query = select(Organisation.id, Organisation.name).where(_named(reference))
    found = session.execute(query.order_by(Organisation.id).limit(1)).first()
    if found is None:
        raise _not_found(reference)
    return OrganisationChoice(found[0], found[1])


def list_assets(
    session: Session,
    *,
    organisation: str | None = None,
    security_level: int | None = None,
    internet_facing: bool | None = None,
    search: str | None = None,
) -> list[AssetSummary]:
    """Assets by owner and name; `search` matches name, host names or addresses, ignoring case
    and marks."""
    query = _summary_rows().order_by(Organisation.name, Asset.name)
    if organisation:
        query = query.where(Asset.organisation_id == organisation_choice(session, organisation).id)
    if security_level is not None:
        query = query.where(Asset.security_level == security_level)
    if internet_facing is not None:
        query = query.where(Asset.internet_facing == internet_facing)
    addresses: dict[int, list[str]] = {}
    for asset_id, address in session.execute(
        select(AssetAddress.asset_id, AssetAddress.address).order_by(AssetAddress.key)
    ):
        addresses.setdefault(asset_id, []).append(address)
    found = [_asset_summary(row, addresses.get(row[0], [])) for row in session.execute(query)]
    if not search:
        return found
    wanted = normalise_header(search)
    return [
        asset
        for asset in found
        if wanted in normalise_header(" ".join([asset.name, *asset.hostnames, *asset.addresses]))
    ]


@dataclass(frozen=True)
class RegistryOverview:
    """The numbers and distributions a dashboard shows, within what the session may see."""

    organisations: int
    networks: int
    domains: int
    assets: int
    internet_facing: int
    organisations_by_kind: dict[str, int]
    assets_by_level: dict[str, int]  # "1".."5" and "none"


def registry_overview(session: Session) -> RegistryOverview:
    def count(model: type[Organisation] | type[Network] | type[Domain] | type[Asset]) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    by_kind = {
        kind: n
        for kind, n in session.execute(
            select(Organisation.kind_code, func.count()).group_by(Organisation.kind_code)
        )
    }
    by_level = {
        str(level) if level else "none": n
        for level, n in session.execute(
            select(Asset.security_level, func.count()).group_by(Asset.security_level)
        )
    }
    facing = (
        session.scalar(
            select(func.count()).select_from(Asset).where(Asset.internet_facing.is_(True))
        )
        or 0
    )
    return RegistryOverview(
        count(Organisation),
        count(Network),
        count(Domain),
        count(Asset),
        facing,
        dict(sorted(by_kind.items())),
        {key: by_level.get(key, 0) for key in ("1", "2", "3", "4", "5", "none")},
    )


def organisation_kind_names(session: Session, language: str) -> dict[str, str]:
    """Kind code → its name in `language` (kinds are data, so are their names)."""
    return {
        kind.code: kind.name_vi if language == "vi" else kind.name_en
        for kind in session.scalars(select(OrganisationKind).order_by(OrganisationKind.sort_order))
    }


# A page counts the rows after it this far and no further: beyond, a list says "10000+".
# Counting 100,000 assets exactly costs PostgreSQL more than finding the page itself.
COUNT_AHEAD = 10_000

# Sort keys a page of assets can be ordered by in SQL (text compared without case).
ASSET_SORT_COLUMNS: dict[str, Any] = {
    "organisation": Organisation.name,
    "name": Asset.name,
    "kind": Asset.kind,
    "operating_system": Asset.operating_system,
    "security_level": Asset.security_level,
    "internet_facing": Asset.internet_facing,
}


@dataclass(frozen=True)
class AssetFilter:
    organisation_id: int | None = None
    security_level: int | Literal["none"] | None = None
    internet_facing: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found = []
        if self.organisation_id is not None:
            found.append(Asset.organisation_id == self.organisation_id)
        if self.security_level == "none":
            found.append(Asset.security_level.is_(None))
        elif self.security_level is not None:
            found.append(Asset.security_level == self.security_level)
        if self.internet_facing is not None:
            found.append(Asset.internet_facing == self.internet_facing)
        return found


def page_of_assets(
    session: Session, where: AssetFilter, *, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[AssetSummary], int, bool]:
    """One page of assets, the total and whether there are more than it (see _counted);
    filtered, sorted and cut in the database.

    Empty values sort last (first when descending), ties by owner and name: the same order
    as sorting the whole list in Python, without loading 100,000 rows for 50. The total
    counts assets alone (every asset has an owner, the join adds nothing to it).
    """
    conditions = where.conditions()
    total, more = _counted(session, select(Asset.id).where(*conditions), offset)
    ordered = (
        select(Asset.id)
        .join(Organisation, Asset.organisation_id == _owner_key(session, where, sort))
        .where(*conditions)
        .order_by(
            *_ordering(ASSET_SORT_COLUMNS[sort], descending),
            Organisation.name,
            Asset.name,
            Asset.id,
        )
        .offset(offset)
        .limit(limit)
    )
    ids = list(session.scalars(ordered))  # ids only: deep pages skip rows from the indexes
    rows = {row[0]: row for row in session.execute(_summary_rows().where(Asset.id.in_(ids)))}
    addresses: dict[int, list[str]] = {}
    for asset_id, address in session.execute(
        select(AssetAddress.asset_id, AssetAddress.address)
        .where(AssetAddress.asset_id.in_(ids))
        .order_by(AssetAddress.key)
    ):
        addresses.setdefault(asset_id, []).append(address)
    found = [_asset_summary(rows[asset_id], addresses.get(asset_id, [])) for asset_id in ids]
    return found, total, more


def _counted(session: Session, query: Select[int], offset: int) -> tuple[int, bool]:
    """How many rows `query` has, counted no further than COUNT_AHEAD past the page, and
    whether there are more than that."""
    limit = offset + COUNT_AHEAD
    found = session.scalar(select(func.count()).select_from(query.limit(limit + 1).subquery()))
    return min(found or 0, limit), (found or 0) > limit


def _owner_key(session: Session, where: AssetFilter, sort: str) -> ColumnElement[int]:
    """The owner's id as the asset join compares it. Sorted by owner on SQLite, it is hidden
    behind `+ 0`: the planner cannot then fetch each asset's owner by id, so it walks the
    owners in name-index order and stops after a page (without table statistics it would
    rather sort every asset)."""
    by_owner = sort == "organisation" and where.organisation_id is None
    if by_owner and session.get_bind().dialect.name == "sqlite":
        return Organisation.id + literal_column("0")
    return Organisation.id.expression


def _summary_rows() -> Select[*tuple[Any, ...]]:
    """The columns a list shows of each asset and its owner's name: plain rows, not objects
    (an object per asset costs more than the rest of the page)."""
    return select(
        Asset.id,
        Organisation.name.label("owner"),
        Asset.name,
        Asset.kind,
        Asset.operating_system,
        Asset.security_level,
        Asset.level_approved_on,
        Asset.internet_facing,
        Asset.organisation_id,
        Asset.hostnames,
    ).join(Asset.organisation)


def _asset_summary(row: Row[*tuple[Any, ...]], addresses: list[str]) -> AssetSummary:
    """A row of `_summary_rows`, unpacked by position (reading a Row by name is slower)."""
    asset_id, owner, name, kind, system, level, approved, facing, owner_id, hostnames = row
    return AssetSummary(
        asset_id,
        owner,
        name,
        kind,
        addresses,
        system,
        level,
        approved,
        facing,
        owner_id,
        list(hostnames),
    )


# Names are required (the API and the import refuse blank ones), so sorting by them needs no
# "empty last" term: the order then starts with lower(name), which an index serves.
NEVER_EMPTY = frozenset({(Organisation, "name"), (Asset, "name")})


def _ordering(column: Any, descending: bool) -> list[Any]:
    """ORDER BY terms matching Python's sort of people's values: empty values last (first
    when the order is turned round), text without case."""
    text = column.type.python_type is str
    value = func.lower(column) if text else column
    if (column.class_, column.key) in NEVER_EMPTY:
        return [value.desc() if descending else value]
    missing = or_(column.is_(None), column == "") if text else column.is_(None)
    empty = case((missing, 1), else_=0)
    return [empty.desc(), value.desc()] if descending else [empty, value]


ORGANISATION_SORT_COLUMNS: dict[str, Any] = {
    "name": Organisation.name,
    "short_name": Organisation.short_name,
    "kind": Organisation.kind_code,
}


def page_of_organisations(
    session: Session, *, kind: str | None, sort: str, descending: bool, offset: int, limit: int
) -> tuple[list[OrganisationSummary], int, bool]:
    """One page of organisations with their counts, cut in the database (see page_of_assets)."""
    parent = aliased(Organisation)
    query = select(
        Organisation.id,
        Organisation.name,
        Organisation.short_name,
        Organisation.kind_code,
        parent.name,
    ).outerjoin(parent, Organisation.parent_id == parent.id)
    of_kind = [Organisation.kind_code == kind] if kind else []
    query = query.where(*of_kind)
    total, more = _counted(session, select(Organisation.id).where(*of_kind), offset)
    ordering = _ordering(ORGANISATION_SORT_COLUMNS[sort], descending)
    rows = session.execute(
        query.order_by(*ordering, Organisation.name, Organisation.id).offset(offset).limit(limit)
    ).all()
    ids = [row[0] for row in rows]
    networks = _counts_for(session, Network.organisation_id, ids)
    assets = _counts_for(session, Asset.organisation_id, ids)
    found = [
        OrganisationSummary(
            org_id,
            name,
            short,
            kind_code,
            parent_name,
            networks.get(org_id, 0),
            assets.get(org_id, 0),
        )
        for org_id, name, short, kind_code, parent_name in rows
    ]
    return found, total, more


def _counts_for(
    session: Session, column: InstrumentedAttribute[int], organisation_ids: list[int]
) -> dict[int, int]:
    query = select(column, func.count()).where(column.in_(organisation_ids)).group_by(column)
    return {org_id: count for org_id, count in session.execute(query)}


def organisation_kinds_in_use(session: Session) -> list[str]:
    """Kind codes some visible organisation has: one index probe per kind, not a pass over
    every organisation."""
    used = select(Organisation.id).where(Organisation.kind_code == OrganisationKind.code)
    query = select(OrganisationKind.code).where(used.exists()).order_by(OrganisationKind.code)
    return list(session.scalars(query))


def organisation_choices(session: Session) -> list[OrganisationChoice]:
    """Id and name of every visible organisation, for menus (no counts, no objects)."""
    query = select(Organisation.id, Organisation.name).order_by(Organisation.name)
    return [OrganisationChoice(org_id, name) for org_id, name in session.execute(query)]


SUGGESTIONS = 20


def suggest_organisations(
    session: Session, typed: str, limit: int = SUGGESTIONS
) -> list[OrganisationChoice]:
    """Organisations whose name or short name holds the typed text (case aside), those that
    start with it first: a few suggestions for a field, found in the database."""
    text = typed.strip()
    if not text:
        return []
    name, short = func.lower(Organisation.name), func.lower(Organisation.short_name)
    starts = or_(
        name.startswith(text.lower(), autoescape=True),
        short.startswith(text.lower(), autoescape=True),
    )
    query = (
        select(Organisation.id, Organisation.name, Organisation.short_name)
        .where(
            or_(
                Organisation.name.icontains(text, autoescape=True),
                Organisation.short_name.icontains(text, autoescape=True),
            )
        )
        .order_by(case((starts, 0), else_=1), name, Organisation.name)
        .limit(limit)
    )
    return [OrganisationChoice(*row) for row in session.execute(query)]

"""Finding indicators: by exact value, by an address inside a stored network, by text."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from garrison.core.errors import NotFoundError
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.normalise import InvalidIndicator, guess_indicator, refang
from garrison.intel.types import IndicatorType
from garrison.orgs.addresses import address_key

SEARCH_LIMIT = 200


@dataclass(frozen=True)
class IndicatorFilter:
    text: str = ""
    type: IndicatorType | None = None
    source_id: int | None = None
    include_warninglisted: bool = True


def _address_clause(text: str) -> list[object]:
    """An address matches itself and every stored network that holds it."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return []
    key = address_key(address)
    return [and_(Indicator.first_key <= key, Indicator.last_key >= key)]


def _text_clauses(text: str) -> list[object]:
    value = refang(text)
    clauses: list[object] = _address_clause(value)
    try:
        exact = guess_indicator(value)
        clauses.append(and_(Indicator.type == exact.type.value, Indicator.value == exact.value))
    except InvalidIndicator:
        pass
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    clauses.append(func.lower(Indicator.value).like(f"%{escaped}%", escape="\\"))
    return clauses


def indicator_query(wanted: IndicatorFilter) -> Select[Indicator]:
    query = select(Indicator)
    if wanted.text.strip():
        query = query.where(or_(*_text_clauses(wanted.text)))  # type: ignore[arg-type]
    if wanted.type is not None:
        query = query.where(Indicator.type == wanted.type.value)
    if wanted.source_id is not None:
        from_source = select(Sighting.indicator_id).where(Sighting.source_id == wanted.source_id)
        query = query.where(Indicator.id.in_(from_source))
    if not wanted.include_warninglisted:
        query = query.where(func.coalesce(func.json_array_length(Indicator.warninglists), 0) == 0)
    return query


def search_indicators(
    session: Session,
    wanted: IndicatorFilter,
    limit: int = SEARCH_LIMIT,
    offset: int = 0,
    *,
    oldest_first: bool = False,
) -> tuple[list[Indicator], int]:
    """One page of matches, newest sightings first (or oldest), and how many match in all."""
    query = indicator_query(wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (
        (Indicator.last_seen.asc(), Indicator.id.asc())
        if oldest_first
        else (Indicator.last_seen.desc(), Indicator.id.desc())
    )
    page = session.scalars(query.order_by(*order).limit(limit).offset(offset))
    return list(page), total


def indicator_counts(
    session: Session, wanted: IndicatorFilter, column: InstrumentedAttribute[str]
) -> dict[str, int]:
    """How many matching indicators have each value of `column` (type or TLP), for charts."""
    grouped = (
        indicator_query(wanted)
        .with_only_columns(column, func.count())
        .group_by(column)
        .order_by(column)
    )
    return {value: count for value, count in session.execute(grouped)}


def indicator_detail(session: Session, indicator_id: int) -> Indicator | None:
    return session.scalars(
        select(Indicator)
        .where(Indicator.id == indicator_id)
        .options(selectinload(Indicator.sightings).joinedload(Sighting.source))
    ).one_or_none()


def find_indicator(session: Session, indicator_id: int) -> Indicator:
    """`indicator_detail`, or NotFoundError when it is missing or not the viewer's to see."""
    found = indicator_detail(session, indicator_id)
    if found is None:
        raise NotFoundError(f"no indicator {indicator_id}")
    return found


def find_source(session: Session, source_id: int) -> Source:
    found = session.scalars(select(Source).where(Source.id == source_id)).one_or_none()
    if found is None:
        raise NotFoundError(f"no intel source {source_id}")
    return found


def find_run(session: Session, run_id: int) -> ImportRun:
    found = session.scalars(
        select(ImportRun).where(ImportRun.id == run_id).options(selectinload(ImportRun.source))
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"no import run {run_id}")
    return found


def latest_runs(session: Session) -> dict[int, ImportRun]:
    """Each source's most recent import run, for the source list."""
    newest = select(func.max(ImportRun.id)).group_by(ImportRun.source_id)
    runs = session.scalars(select(ImportRun).where(ImportRun.id.in_(newest)))
    return {run.source_id: run for run in runs}


def source_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Source.id, Source.name).where(Source.id.in_(list(ids))))
    return {row_id: name for row_id, name in rows}


def recent_runs(session: Session, source_id: int | None = None, limit: int = 50) -> list[ImportRun]:
    query = select(ImportRun).options(selectinload(ImportRun.source))
    if source_id is not None:
        query = query.where(ImportRun.source_id == source_id)
    return list(session.scalars(query.order_by(ImportRun.id.desc()).limit(limit)))

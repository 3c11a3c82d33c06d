"""Which stored indicators an export carries: TLP ceiling, freshness, warninglists, types.

Selection runs through the caller's session, so a member's export passes through the same
tenancy criteria as its pages; the TLP ceiling then limits what even a coordinator sends
out of the building (a firewall list handed to a member, a zone given to an operator).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from garrison.core.clock import utc_now
from garrison.intel.exports import ExportedIndicator
from garrison.intel.models import Indicator, Sighting, Source
from garrison.intel.types import IndicatorType, Tlp

STREAM_ROWS = 5000


@dataclass(frozen=True)
class ExportSelection:
    max_tlp: Tlp = Tlp.GREEN
    types: frozenset[IndicatorType] | None = None
    min_confidence: int = 0
    seen_since: datetime | None = None
    include_expired: bool = False
    include_warninglisted: bool = False
    source_names: tuple[str, ...] = ()


def exported_indicators(
    session: Session, selection: ExportSelection
) -> Iterator[ExportedIndicator]:
    """Matching indicators as export records, streamed from the database in value order."""
    names: dict[int, str] = {i: name for i, name in session.execute(select(Source.id, Source.name))}
    allowed = [tlp.value for tlp in Tlp if tlp.rank <= selection.max_tlp.rank]
    query = select(Indicator).where(
        Indicator.tlp.in_(allowed), Indicator.confidence >= selection.min_confidence
    )
    if selection.types is not None:
        query = query.where(Indicator.type.in_([kind.value for kind in selection.types]))
    if selection.seen_since is not None:
        query = query.where(Indicator.last_seen >= selection.seen_since)
    if not selection.include_expired:
        query = query.where(or_(Indicator.expires_at.is_(None), Indicator.expires_at > utc_now()))
    if not selection.include_warninglisted:
        query = query.where(func.coalesce(func.json_array_length(Indicator.warninglists), 0) == 0)
    if selection.source_names:
        wanted = [i for i, name in names.items() if name in selection.source_names]
        reported = select(Sighting.indicator_id).where(Sighting.source_id.in_(wanted))
        query = query.where(Indicator.id.in_(reported))
    query = query.order_by(Indicator.type, Indicator.value).execution_options(yield_per=STREAM_ROWS)
    for indicator in session.scalars(query):
        # a member's session sees no sources: their names stay out of its exports
        sources = tuple(names[i] for i in indicator.source_ids if i in names)
        yield ExportedIndicator(
            type=IndicatorType(indicator.type),
            value=indicator.value,
            first_seen=indicator.first_seen,
            last_seen=indicator.last_seen,
            tlp=Tlp(indicator.tlp),
            confidence=indicator.confidence,
            tags=tuple(indicator.tags),
            malware=tuple(indicator.malware),
            sources=sources,
            classification_type=indicator.classification_type,
            expires_at=indicator.expires_at,
            description=None,
            stable_id=indicator.uuid,
        )

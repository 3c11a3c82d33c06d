"""Notices from an attribution: one per organisation per run, holding only its own rows.

Telecom operators also get the rows nobody in the registry owns but that the list placed in
their network: they are the ones who can reach the customer. The list names the network as
"AS<number> <name>"; an operator organisation matches when an explicit ASN mapping says so,
or when the list's name equals its short name or begins its name ("VNPT" → "VNPT Sơn Lâm").

Building is idempotent per run: a draft notice for the same (organisation, run) is refilled in
place (its id and its edited number kept); a notice already queued, sent or held is left as it
is. Rows of a run attributed to nobody and to no operator stay out of every notice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from garrison.attribution.actions import recommended_action
from garrison.attribution.attribute import AttributedItem, Attribution
from garrison.attribution.documents import LetterHead
from garrison.attribution.models import Notice, NoticeItem
from garrison.core.errors import NotFoundError
from garrison.intel.models import ImportRun
from garrison.orgs.models import Contact, Organisation

TELECOM_KIND = "telecom"
_OPERATOR_LABEL = re.compile(r"^AS(\d+)(?:\s+(.*))?$", re.IGNORECASE)
_SEQUENCE = re.compile(r"^(\d+)/")


@dataclass(frozen=True)
class OperatorDirectory:
    """Which telecom organisation a list's network label ("AS45899 VNPT") stands for."""

    by_asn: Mapping[int, int]
    by_name: Mapping[str, int]
    name_prefixes: tuple[tuple[str, int], ...]

    @classmethod
    def build(cls, session: Session, asns: Mapping[int, int] | None = None) -> OperatorDirectory:
        operators = session.execute(
            select(Organisation.id, Organisation.short_name, Organisation.name).where(
                Organisation.kind_code == TELECOM_KIND
            )
        ).all()
        return cls(
            dict(asns or {}),
            {short.casefold(): org for org, short, _ in operators if short},
            tuple((name.casefold() + " ", org) for org, _, name in operators),
        )

    def organisation_for(self, label: str) -> int | None:
        match = _OPERATOR_LABEL.match(label.strip())
        name = label.strip()
        if match:
            if int(match.group(1)) in self.by_asn:
                return self.by_asn[int(match.group(1))]
            name = match.group(2) or ""
        key = name.strip().casefold()
        if not key:
            return None
        if key in self.by_name:
            return self.by_name[key]
        return next((org for full, org in self.name_prefixes if full.startswith(key + " ")), None)


def _contact_language(session: Session, organisation_id: int) -> str:
    language = session.scalar(
        select(Contact.language)
        .where(Contact.organisation_id == organisation_id, Contact.email.is_not(None))
        .order_by(Contact.id)
        .limit(1)
    )
    return language if language in ("vi", "en") else "vi"


def _next_sequence(session: Session, letter_prefix: str, year: int) -> int:
    numbers = session.scalars(
        select(Notice.number).where(
            Notice.number.like(f"%/{letter_prefix}"),
            Notice.issued_on >= date(year, 1, 1),
            Notice.issued_on <= date(year, 12, 31),
        )
    )
    used = [int(found.group(1)) for number in numbers if (found := _SEQUENCE.match(number))]
    return max(used, default=0) + 1


def _item(item: AttributedItem, language: str, forwarded: bool) -> NoticeItem:
    families = sorted(item.malware)
    return NoticeItem(
        indicator_id=item.indicator_id,
        value=item.value,
        type=item.type.value,
        first_seen=item.first_seen,
        last_seen=item.last_seen,
        count=item.count,
        malware=", ".join(families),
        asset_id=item.owner.asset_id if item.owner is not None else None,
        operator=item.operator if forwarded else None,
        recommended_action=recommended_action(families, language),
        state="open",
    )


def rows_per_organisation(
    attribution: Attribution, operators: OperatorDirectory
) -> dict[int, list[tuple[AttributedItem, bool]]]:
    """Each organisation's own rows, then the customers' rows forwarded to operators."""
    grouped: dict[int, list[tuple[AttributedItem, bool]]] = {
        org: [(item, False) for item in items] for org, items in attribution.by_organisation.items()
    }
    for label, items in attribution.unattributed.items():
        operator = operators.organisation_for(label)
        if operator is not None:
            grouped.setdefault(operator, []).extend((item, True) for item in items)
    return grouped


def build_notices(
    session: Session,
    attribution: Attribution,
    *,
    run_id: int | None,
    letter_prefix: str,
    issued_on: date,
    operator_asns: Mapping[int, int] | None = None,
) -> list[Notice]:
    """Draft (or refill) one notice per organisation that has rows; returned by organisation.

    `operator_asns` maps an AS number to the telecom organisation that answers for it, when
    the operator's name in the lists does not match its name in the registry.
    """
    grouped = rows_per_organisation(attribution, OperatorDirectory.build(session, operator_asns))
    source_id = None
    if run_id is not None:
        run = session.get(ImportRun, run_id)
        source_id = run.source_id if run is not None else None
    existing: dict[int, Notice] = {}
    if run_id is not None:
        existing = {
            notice.organisation_id: notice
            for notice in session.scalars(
                select(Notice)
                .where(Notice.import_run_id == run_id)
                .options(selectinload(Notice.items))
            )
        }
    sequence = _next_sequence(session, letter_prefix, issued_on.year)
    notices: list[Notice] = []
    for organisation_id in sorted(grouped):
        notice = existing.get(organisation_id)
        if notice is not None and notice.status != "draft":
            notices.append(notice)
            continue
        language = _contact_language(session, organisation_id)
        if notice is None:
            notice = Notice(
                organisation_id=organisation_id,
                import_run_id=run_id,
                source_id=source_id,
                number=f"{sequence}/{letter_prefix}",
                status="draft",
            )
            sequence += 1
            session.add(notice)
        notice.scope = attribution.scope.describe()
        notice.issued_on = issued_on
        notice.language = language
        rows = sorted(grouped[organisation_id], key=lambda pair: (pair[1], pair[0].value))
        notice.items = [_item(item, language, forwarded) for item, forwarded in rows]
        notices.append(notice)
    session.flush()
    return notices


COORDINATOR_KIND = "coordinator"


@dataclass(frozen=True)
class Issuer:
    """Who issues notices: the letter head and the number suffix ("123/SKHCN-CNTT")."""

    head: LetterHead
    letter_prefix: str


def registry_issuer(session: Session) -> Issuer:
    """The coordinator organisation of the registry as the issuer of notices."""
    coordinator = session.scalars(
        select(Organisation)
        .where(Organisation.kind_code == COORDINATOR_KIND)
        .order_by(Organisation.id)
        .limit(1)
    ).first()
    if coordinator is None:
        raise NotFoundError("no coordinator organisation in the registry to issue notices")
    parent = coordinator.parent.name if coordinator.parent is not None else None
    return Issuer(
        LetterHead.for_agency(coordinator.name, parent),
        f"{coordinator.short_name or 'CSIRT'}-CNTT",
    )

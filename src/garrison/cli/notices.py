"""`garrison notices`: build an import run's notices, preview their documents, queue them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.attribution.attribute import AttributionScope, attribute
from garrison.attribution.delivery import queue_notices
from garrison.attribution.documents import (
    attachment_names,
    notice_email,
    notice_letter,
    notice_workbook,
)
from garrison.attribution.models import Notice
from garrison.attribution.notices import build_notices, registry_issuer
from garrison.cli.runtime import CommandState, console, open_database, print_table
from garrison.core.clock import local_time, utc_now
from garrison.orgs.queries import find_organisation

app = typer.Typer(help="Notices of an attribution to the organisations.", no_args_is_help=True)

RunArgument = Annotated[int, typer.Argument(help="An import run id.")]


def _build(session: Session, run: int, issued_on: date | None) -> list[Notice]:
    settings = CommandState.settings()
    issuer = registry_issuer(session)
    return build_notices(
        session,
        attribute(session, AttributionScope(run_id=run)),
        run_id=run,
        letter_prefix=issuer.letter_prefix,
        issued_on=issued_on or local_time(utc_now(), settings.zone).date(),
    )


def _rows(notices: list[Notice]) -> list[list[object]]:
    return [
        [
            notice.id,
            notice.number,
            notice.organisation.name,
            len(notice.items),
            sum(1 for item in notice.items if item.operator),
            notice.language,
            notice.status,
        ]
        for notice in notices
    ]


COLUMNS = ["id", "number", "organisation", "items", "forwarded", "language", "status"]


@app.command()
def preview(
    run: RunArgument,
    organisation: Annotated[
        str | None, typer.Option(help="Only this organisation (name or short name).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the documents.")] = Path("notices"),
) -> None:
    """Build the run's draft notices and write each one's XLSX, DOCX and e-mail into a folder."""
    settings = CommandState.settings()
    with open_database() as database, database.session() as session:
        notices = _build(session, run, None)
        if organisation is not None:
            wanted = find_organisation(session, organisation).id
            notices = [notice for notice in notices if notice.organisation_id == wanted]
        head = registry_issuer(session).head
        out.mkdir(parents=True, exist_ok=True)
        for notice in notices:
            workbook, letter = attachment_names(notice)
            (out / workbook).write_bytes(notice_workbook(notice, notice.language))
            (out / letter).write_bytes(
                notice_letter(notice, notice.language, head, data_dir=settings.data_dir)
            )
            mail = notice_email(notice, notice.language, head, data_dir=settings.data_dir)
            stem = workbook.removesuffix(".xlsx").replace("danh-sach-ip-", "thu-")
            (out / f"{stem}.txt").write_text(f"{mail.subject}\n\n{mail.text}", encoding="utf-8")
            (out / f"{stem}.html").write_text(mail.html, encoding="utf-8")
        print_table(f"Notices of run {run} (drafts)", COLUMNS, _rows(notices))
    console.print(f"documents written to {out}")


@app.command()
def send(run: RunArgument) -> None:
    """Build the run's notices and queue them in the outbox (held when no e-mail contact)."""
    settings = CommandState.settings()
    with open_database() as database, database.session() as session:
        notices = _build(session, run, None)
        messages = queue_notices(
            session, notices, registry_issuer(session).head, data_dir=settings.data_dir
        )
        print_table(f"Notices of run {run}", COLUMNS, _rows(notices))
    held = sum(1 for notice in notices if notice.status == "held")
    console.print(f"{len(messages)} e-mail(s) in the outbox; {held} notice(s) held: no address")


@app.command()
def status(run: Annotated[int | None, typer.Argument(help="An import run id.")] = None) -> None:
    """List notices (of one run, or all) with their number, items and delivery status."""
    with open_database() as database, database.session() as session:
        query = select(Notice).order_by(Notice.import_run_id, Notice.id)
        if run is not None:
            query = query.where(Notice.import_run_id == run)
        notices = list(session.scalars(query))
        print_table("Notices" if run is None else f"Notices of run {run}", COLUMNS, _rows(notices))

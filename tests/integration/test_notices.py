"""Notices of the demo province's two monthly botnet lists, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from garrison.attribution.attribute import AttributionScope, attribute
from garrison.attribution.delivery import queue_notices
from garrison.attribution.demo import load_demo_botnet_lists
from garrison.attribution.documents import (
    LetterHead,
    notice_email,
    notice_letter,
    notice_workbook,
    xml_text,
)
from garrison.attribution.models import Notice, NoticeItem
from garrison.attribution.notice_templates import TemplateProblem, check_template, save_template
from garrison.attribution.notices import TELECOM_KIND, build_notices
from garrison.auth.accounts import create_user, grant_membership, principal_for
from garrison.auth.roles import Role
from garrison.auth.tenancy import bind_principal
from garrison.cli.main import app
from garrison.core.db import Database
from garrison.notify.models import OutboxMessage
from garrison.orgs.models import Contact, Organisation

pytestmark = pytest.mark.db
PREFIX = "SKHCN-CNTT"
HEAD = LetterHead.for_agency("Sở Khoa học và Công nghệ tỉnh Sơn Lâm")


def _build(database: Database, run_id: int) -> list[int]:
    with database.session() as session:
        attribution = attribute(session, AttributionScope(run_id=run_id))
        notices = build_notices(
            session, attribution, run_id=run_id, letter_prefix=PREFIX, issued_on=date(2026, 10, 5)
        )
        return [notice.id for notice in notices]


@pytest.fixture
def runs(province: Database, tmp_path: Path) -> list[int]:
    imported = load_demo_botnet_lists(province, tmp_path / "lists")
    assert [run.status for run in imported] == ["succeeded", "succeeded"]
    return [run.id for run in imported]


def test_one_notice_per_organisation_with_only_its_rows(
    province: Database, runs: list[int]
) -> None:
    for run_id in runs:
        _build(province, run_id)
        with province.session() as session:
            attribution = attribute(session, AttributionScope(run_id=run_id))
            notices = session.scalars(select(Notice).where(Notice.import_run_id == run_id)).all()
            by_org = {notice.organisation_id: notice for notice in notices}
            assert len(by_org) == len(notices)
            assert set(attribution.by_organisation) <= set(by_org)
            for org, items in attribution.by_organisation.items():
                own = {item.value for item in by_org[org].items if item.operator is None}
                assert own == {item.value for item in items}
            numbers = [notice.number for notice in notices]
            assert len(set(numbers)) == len(numbers)
            assert all(number.endswith(f"/{PREFIX}") for number in numbers)


def test_operators_get_their_customers_unattributed_rows(
    province: Database, runs: list[int]
) -> None:
    _build(province, runs[0])
    with province.session() as session:
        attribution = attribute(session, AttributionScope(run_id=runs[0]))
        operators = dict(
            session.execute(
                select(Organisation.short_name, Organisation.id).where(
                    Organisation.kind_code == TELECOM_KIND
                )
            ).all()
        )
        forwarded = {
            notice.organisation_id: {item.value for item in notice.items if item.operator}
            for notice in session.scalars(select(Notice).where(Notice.import_run_id == runs[0]))
        }
    expected: dict[int, set[str]] = {}
    for label, items in attribution.unattributed.items():
        name = label.split(" ", 1)[1] if " " in label else ""
        org = operators.get(name.upper().replace(" ", ""))
        if org is not None:
            expected.setdefault(org, set()).update(item.value for item in items)
    assert expected, "the demo list names customers of the province's operators"
    for org, values in expected.items():
        assert forwarded[org] == values
    fpt = attribution.unattributed.get("AS18403 FPT Telecom", [])
    every_forwarded = set().union(*forwarded.values())
    assert not {item.value for item in fpt} & every_forwarded  # no FPT organisation


def test_rebuilding_is_idempotent(province: Database, runs: list[int]) -> None:
    first = _build(province, runs[0])
    with province.session() as session:
        edited = session.get_one(Notice, first[0])
        edited.number = "999/SKHCN-CNTT"
        items_before = session.scalar(select(func.count()).select_from(NoticeItem))
    second = _build(province, runs[0])
    assert second == first
    with province.session() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == len(first)
        assert session.scalar(select(func.count()).select_from(NoticeItem)) == items_before
        assert session.get_one(Notice, first[0]).number == "999/SKHCN-CNTT"
    third = _build(province, runs[1])
    assert not set(third) & set(first)


def test_workbook_letter_and_email_hold_the_rows(province: Database, runs: list[int]) -> None:
    notice_id = _build(province, runs[0])[0]
    with province.session() as session:
        notice = session.get_one(Notice, notice_id)
        name = notice.organisation.name
        values = [item.value for item in notice.items]
        sheet = load_workbook(io.BytesIO(notice_workbook(notice, "vi"))).active
        letter = Document(io.BytesIO(notice_letter(notice, "vi", HEAD)))
        mail = notice_email(notice, "vi", HEAD)
        english = load_workbook(io.BytesIO(notice_workbook(notice, "en"))).active
        number = notice.number
    cells = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header = cells.index(next(row for row in cells if row[0] == "STT"))
    assert cells[header][1] == "Địa chỉ IP" and cells[header][7] == "Khuyến nghị xử lý"
    assert [row[1] for row in cells[header + 1 :]] == values
    assert any(name in str(row[0]) for row in cells[:header])
    assert "Recommended action" in next(english.iter_rows(min_row=6, max_row=6, values_only=True))
    text = "\n".join(paragraph.text for paragraph in letter.paragraphs)
    cells_text = "\n".join(
        cell.text for table in letter.tables for row in table.rows for cell in row.cells
    )
    assert "Kính gửi" in text and name in text
    assert number in cells_text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells_text
    assert "Độc lập - Tự do - Hạnh phúc" in cells_text and "Nơi nhận" in cells_text
    assert "Sơn Lâm, ngày 05 tháng 10 năm 2026" in cells_text
    items_table = next(table for table in letter.tables if table.rows[0].cells[0].text == "STT")
    assert [row.cells[1].text for row in items_table.rows[1:]] == values
    assert "{{" not in text + cells_text and "{%" not in text + cells_text
    assert mail.subject.startswith(f"Thông báo {number}")
    assert name in mail.text and all(value in mail.text for value in values)
    assert "nhiễm mã độc" in mail.html


def test_template_syntax_error_names_its_line(tmp_path: Path) -> None:
    check_template("Kính gửi: {{ organisation }}\n{% for row in rows %}{{ row }}{% endfor %}\n")
    with pytest.raises(TemplateProblem) as unclosed:
        check_template("Kính gửi: {{ organisation }}\n{% for row in rows %}\n")
    assert unclosed.value.line is not None and unclosed.value.line >= 2
    with pytest.raises(TemplateProblem) as problem:
        save_template(tmp_path, "notice_email.vi.txt", "Dòng một\nDòng hai {{ row.value \n")
    assert problem.value.line == 2 and "line 2" in str(problem.value)
    assert not (tmp_path / "templates").exists() or not any((tmp_path / "templates").rglob("*"))


def test_members_see_only_their_own_notices(province: Database, runs: list[int]) -> None:
    _build(province, runs[0])
    with province.session() as session:
        own = session.scalars(select(Notice).order_by(Notice.id)).first()
        assert own is not None and own.organisation.short_name
        user = create_user(session, "canbo.notice", "correct horse battery")
        grant_membership(session, user, own.organisation.short_name, Role.MEMBER_STAFF)
        member = principal_for(session, user)
        everyone = session.scalar(select(func.count()).select_from(Notice))
    with province.sessions() as session:
        bind_principal(session, member)
        seen = session.scalars(select(Notice)).all()
        assert seen and {n.organisation_id for n in seen} <= member.visible_organisations
        assert len(seen) < (everyone or 0)
        item_notices = set(session.scalars(select(NoticeItem.notice_id)))
        assert item_notices <= {n.id for n in seen}


def test_queueing_holds_organisations_without_email(province: Database, runs: list[int]) -> None:
    ids = _build(province, runs[0])
    with province.session() as session:
        mute = session.get_one(Notice, ids[0])
        for contact in session.scalars(
            select(Contact).where(Contact.organisation_id == mute.organisation_id)
        ):
            contact.email = None
        notices = [session.get_one(Notice, notice_id) for notice_id in ids]
        messages = queue_notices(session, notices, HEAD)
        assert len({message.idempotency_key for message in messages}) == len(messages)
        assert {n.status for n in notices} <= {"queued", "held"}
        assert session.get_one(Notice, ids[0]).status == "held"
        held = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == f"notice:{ids[0]}")
        ).one()
        assert held.status == "held" and not held.recipients
        sent_to = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == f"notice:{ids[1]}")
        ).one()
        assert sent_to.recipients and len(sent_to.attachments) == 2
        count = session.scalar(select(func.count()).select_from(OutboxMessage))
    with province.session() as session:
        again = queue_notices(session, list(session.scalars(select(Notice))), HEAD)
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == count
        assert all(message.idempotency_key.startswith(f"notice:{ids[0]}") for message in again)


def test_cli_preview_writes_documents(province_url: str, runs: list[int], tmp_path: Path) -> None:
    out = tmp_path / "preview"
    base = ["--database-url", province_url, "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(app, [*base, "notices", "preview", str(runs[1]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) and {p.suffix for p in out.iterdir()} == {
        ".xlsx",
        ".docx",
        ".txt",
        ".html",
    }
    status = CliRunner().invoke(app, [*base, "notices", "status", str(runs[1])])
    assert status.exit_code == 0 and "draft" in status.output


_UNTRUSTED = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
) | st.sampled_from(["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2", "<b>&amp;</b>", "{{ x }}"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=_UNTRUSTED, malware=_UNTRUSTED)
def test_untrusted_values_stay_text(value: str, malware: str) -> None:
    """Whatever a list says comes out as the same text (minus XML-illegal characters)."""
    notice = Notice(
        organisation=Organisation(name="Sở Y tế tỉnh Sơn Lâm", kind_code="department"),
        scope="run 1",
        number="1/TEST",
        issued_on=date(2026, 10, 5),
        language="vi",
    )
    notice.items = [
        NoticeItem(
            value=value,
            type="ipv4",
            first_seen=datetime(2026, 10, 1, tzinfo=UTC),
            last_seen=datetime(2026, 10, 2, tzinfo=UTC),
            count=1,
            malware=malware,
            recommended_action="",
        )
    ]
    sheet = load_workbook(io.BytesIO(notice_workbook(notice, "vi"))).active
    letter = Document(io.BytesIO(notice_letter(notice, "vi", HEAD)))
    mail = notice_email(notice, "vi", HEAD)
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert last[1] == xml_text(value) and last[4] == xml_text(malware)
    table = next(t for t in letter.tables if t.rows[0].cells[0].text == "STT")
    assert table.rows[1].cells[1].text.replace("\n", "") == xml_text(value).replace("\n", "")
    if "<" in value:
        assert xml_text(value) not in mail.html  # escaped, never markup

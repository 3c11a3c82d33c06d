"""A notice's documents: the spreadsheet of its rows, the official letter and the e-mail.

Every value that came from a list is untrusted text: it is written as text (never as a
spreadsheet formula), stripped of the characters XML cannot carry, and escaped in HTML.
Times are shown in the department's zone (Asia/Ho_Chi_Minh by default).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docxtpl import DocxTemplate
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from garrison.attribution.actions import recommended_action
from garrison.attribution.letter_template import LETTER_TEMPLATE, default_letter_template
from garrison.attribution.models import Notice
from garrison.attribution.notice_templates import override_folder, template_environment
from garrison.core.clock import local_time

DEFAULT_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
REPLY_DAYS = 7
"""Days the organisation is given to report back, counted from the letter's date."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

COLUMNS = {
    "vi": (
        "STT",
        "Địa chỉ IP",
        "Lần đầu ghi nhận",
        "Lần cuối ghi nhận",
        "Họ mã độc",
        "Số lần",
        "Tài sản",
        "Khuyến nghị xử lý",
    ),
    "en": (
        "No.",
        "IP address",
        "First seen",
        "Last seen",
        "Malware family",
        "Count",
        "Asset",
        "Recommended action",
    ),
}
WIDTHS = (6, 40, 19, 19, 22, 8, 30, 90)
LABELS = {
    "vi": {
        "title": "DANH SÁCH ĐỊA CHỈ IP NHIỄM MÃ ĐỘC",
        "organisation": "Đơn vị",
        "letter": "Kèm theo công văn số",
        "scope": "Nguồn",
        "of": "ngày",
    },
    "en": {
        "title": "MALWARE-INFECTED IP ADDRESSES",
        "organisation": "Organisation",
        "letter": "Attached to letter no.",
        "scope": "Source",
        "of": "of",
    },
}


def xml_text(value: object) -> str:
    """Text that any XML document (XLSX, DOCX) can hold: control characters removed."""
    return _NOT_XML.sub("", str(value))


@dataclass(frozen=True)
class LetterHead:
    """Who issues the letter and who signs it; the template may reword everything else."""

    agency: str
    parent_body: str = ""
    place: str = ""
    signer_title: str = "Giám đốc"
    signer_name: str = ""
    copies: tuple[str, ...] = field(default_factory=tuple)
    """Extra "Nơi nhận" lines besides "Như trên" and "Lưu: VT"."""

    @classmethod
    def for_agency(cls, agency: str, parent_body: str | None = None) -> LetterHead:
        """Place and parent body read from a name such as "Sở … tỉnh Sơn Lâm"."""
        _, marker, province = agency.rpartition(" tỉnh ")
        place = province if marker else ""
        parent = parent_body or (f"Ủy ban nhân dân tỉnh {province}" if marker else "")
        return cls(agency=agency, parent_body=parent, place=place)


@dataclass(frozen=True)
class NoticeRow:
    """One item as the documents show it, in one language and zone."""

    number: int
    value: str
    first_seen: str
    last_seen: str
    first_seen_at: datetime
    last_seen_at: datetime
    malware: str
    count: int
    asset: str
    action: str
    operator: str


def notice_rows(notice: Notice, language: str, zone: ZoneInfo = DEFAULT_ZONE) -> list[NoticeRow]:
    rows = []
    for number, item in enumerate(notice.items, 1):
        first = local_time(item.first_seen, zone).replace(tzinfo=None)
        last = local_time(item.last_seen, zone).replace(tzinfo=None)
        families = [name for name in item.malware.split(", ") if name]
        action = (
            item.recommended_action
            if language == notice.language and item.recommended_action
            else recommended_action(families, language)
        )
        rows.append(
            NoticeRow(
                number=number,
                value=xml_text(item.value),
                first_seen=f"{first:%d/%m/%Y %H:%M}",
                last_seen=f"{last:%d/%m/%Y %H:%M}",
                first_seen_at=first,
                last_seen_at=last,
                malware=xml_text(item.malware),
                count=item.count,
                asset=xml_text(item.asset.name) if item.asset is not None else "",
                action=xml_text(action),
                operator=xml_text(item.operator or ""),
            )
        )
    return rows


def _text_cell(sheet: Any, row: int, column: int, value: str) -> None:
    """A string cell, even when the string looks like a formula ('=cmd|…')."""
    cell = sheet.cell(row=row, column=column, value=value)
    cell.data_type = "s"
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def notice_workbook(notice: Notice, language: str, zone: ZoneInfo = DEFAULT_ZONE) -> bytes:
    """The notice's rows as an XLSX: a header block, then one line per item."""
    labels = LABELS.get(language, LABELS["vi"])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "IP"
    header_block = (
        labels["title"],
        f"{labels['organisation']}: {notice.organisation.name}",
        f"{labels['letter']} {notice.number} {labels['of']} {notice.issued_on:%d/%m/%Y}",
        f"{labels['scope']}: {notice.scope}",
    )
    for line, text in enumerate(header_block, 1):
        _text_cell(sheet, line, 1, xml_text(text))
    sheet["A1"].font = Font(bold=True, size=13)
    header_row = len(header_block) + 2
    for column, title in enumerate(COLUMNS.get(language, COLUMNS["vi"]), 1):
        _text_cell(sheet, header_row, column, title)
        sheet.cell(row=header_row, column=column).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS[column - 1]
    for offset, row in enumerate(notice_rows(notice, language, zone), 1):
        line = header_row + offset
        sheet.cell(row=line, column=1, value=row.number)
        _text_cell(sheet, line, 2, row.value)
        for column, moment in ((3, row.first_seen_at), (4, row.last_seen_at)):
            sheet.cell(row=line, column=column, value=moment).number_format = "dd/mm/yyyy hh:mm"
        _text_cell(sheet, line, 5, row.malware)
        sheet.cell(row=line, column=6, value=row.count)
        _text_cell(sheet, line, 7, row.asset)
        _text_cell(sheet, line, 8, row.action)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _context(notice: Notice, language: str, head: LetterHead, zone: ZoneInfo) -> dict[str, Any]:
    rows = notice_rows(notice, language, zone)
    issued: date = notice.issued_on
    return {
        "number": xml_text(notice.number),
        "organisation": xml_text(notice.organisation.name),
        "scope": xml_text(notice.scope),
        "rows": rows,
        "forwarded": sum(1 for row in rows if row.operator),
        "agency": xml_text(head.agency),
        "parent_body": xml_text(head.parent_body),
        "place": xml_text(head.place),
        "signer_title": xml_text(head.signer_title),
        "signer_name": xml_text(head.signer_name),
        "copies": [xml_text(line) for line in head.copies],
        "day": f"{issued.day:02d}",
        "month": f"{issued.month:02d}",
        "year": issued.year,
        "issued_on": f"{issued:%d/%m/%Y}",
        "reply_by": f"{issued + timedelta(days=REPLY_DAYS):%d/%m/%Y}",
        "subject": (
            "cảnh báo địa chỉ IP nhiễm mã độc"
            if language != "en"
            else "warning of malware-infected IP addresses"
        ),
        "language": language,
    }


def _letter_template(language: str, data_dir: Path | None) -> bytes:
    folder = override_folder(data_dir)
    if folder is not None:
        for name in (f"cong_van.{language}.docx", LETTER_TEMPLATE):
            if (folder / name).is_file():
                return (folder / name).read_bytes()
    return default_letter_template()


def notice_letter(
    notice: Notice,
    language: str,
    head: LetterHead,
    *,
    data_dir: Path | None = None,
    zone: ZoneInfo = DEFAULT_ZONE,
) -> bytes:
    """The official letter as DOCX, from the edited template when the data directory has one.

    Official letters are Vietnamese; `language` picks `cong_van.<language>.docx` when such an
    edited template exists, and the language of the recommended actions in the table.
    """
    template = DocxTemplate(io.BytesIO(_letter_template(language, data_dir)))
    template.render(_context(notice, language, head, zone), autoescape=True)
    stream = io.BytesIO()
    template.save(stream)
    return stream.getvalue()


@dataclass(frozen=True)
class NoticeEmail:
    subject: str
    text: str
    html: str


def notice_email(
    notice: Notice,
    language: str,
    head: LetterHead,
    *,
    data_dir: Path | None = None,
    zone: ZoneInfo = DEFAULT_ZONE,
) -> NoticeEmail:
    """Subject, plain text and HTML of the e-mail, from the (possibly edited) templates."""
    language = language if language in COLUMNS else "vi"
    environment = template_environment(data_dir)
    context = _context(notice, language, head, zone)
    subject = environment.get_template(f"notice_email.{language}.subject").render(context)
    context["subject"] = " ".join(subject.split())
    return NoticeEmail(
        subject=context["subject"],
        text=environment.get_template(f"notice_email.{language}.txt").render(context),
        html=environment.get_template(f"notice_email.{language}.html").render(context),
    )


def attachment_names(notice: Notice) -> tuple[str, str]:
    """File names for the spreadsheet and the letter, from the letter's number."""
    stem = re.sub(r"[^\w.-]+", "-", notice.number).strip("-") or f"notice-{notice.id}"
    return f"danh-sach-ip-{stem}.xlsx", f"cong-van-{stem}.docx"

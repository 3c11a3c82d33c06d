"""The default official letter (công văn) template, drawn with python-docx in the national shape.

Shape after Decree 30/2020/NĐ-CP on administrative documents: the issuing body's parent and
name with the number and the "V/v" subject on the left, the national motto and the place and
date on the right, "Kính gửi", the body, then the recipients ("Nơi nhận") and the signature.
The Jinja tags are those of docxtpl. Written to `<data_dir>/templates/attribution/cong_van.docx`
it can be edited in Word; the edited file then wins over this one.
"""

from __future__ import annotations

import io
from functools import cache

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

LETTER_TEMPLATE = "cong_van.docx"
TABLE_COLUMNS = (
    ("STT", "{{ row.number }}", 1.0),
    ("Địa chỉ IP", "{{ row.value }}", 3.0),
    ("Lần cuối ghi nhận", "{{ row.last_seen }}", 2.6),
    ("Họ mã độc", "{{ row.malware }}", 2.4),
    ("Số lần", "{{ row.count }}", 1.3),
    ("Khuyến nghị xử lý", "{{ row.action }}", 6.0),
)
BODY = (
    "Căn cứ danh sách địa chỉ IP nhiễm mã độc ({{ scope }}), {{ agency }} đã đối chiếu với các "
    "mạng, hệ thống thông tin trên địa bàn và ghi nhận {{ rows|length }} địa chỉ IP thuộc quản lý "
    "của {{ organisation }} có dấu hiệu nhiễm mã độc (chi tiết tại bảng dưới đây).",
    "Để bảo đảm an toàn thông tin mạng, {{ agency }} đề nghị {{ organisation }}:",
    "1. Khẩn trương kiểm tra, rà soát, cô lập và gỡ bỏ mã độc trên các thiết bị sử dụng các địa "
    "chỉ IP nêu trên, theo khuyến nghị xử lý kèm theo.",
    "2. Báo cáo kết quả xử lý về {{ agency }} trước ngày {{ reply_by }}.",
)
FORWARDED = (
    "Trong đó có {{ forwarded }} địa chỉ IP thuộc khách hàng của đơn vị: đề nghị đơn vị thông báo "
    "cho khách hàng và hỗ trợ khách hàng xử lý."
)


def _paragraph(
    container: _Cell | DocxDocument,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    centre: bool = False,
    size: float = 13,
) -> Paragraph:
    paragraph = container.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold
    run.italic = italic
    run.font.size = Pt(size)
    if centre:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _header(document: DocxDocument) -> None:
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(9.5)
    left.paragraphs[0].text = ""
    _paragraph(left, "{{ parent_body|upper }}", centre=True, size=12)
    _paragraph(left, "{{ agency|upper }}", bold=True, centre=True, size=12)
    _paragraph(left, "Số: {{ number }}", centre=True)
    _paragraph(left, "V/v {{ subject }}", centre=True, size=12)
    _paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, centre=True)
    _paragraph(right, "Độc lập - Tự do - Hạnh phúc", bold=True, centre=True, size=14)
    _paragraph(
        right,
        "{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}",
        italic=True,
        centre=True,
    )


def _items_table(document: DocxDocument) -> None:
    table = document.add_table(rows=4, cols=len(TABLE_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for position, (title, field, width) in enumerate(TABLE_COLUMNS):
        cells = [row.cells[position] for row in table.rows]
        for cell in cells:
            cell.width = Cm(width)
        cells[0].paragraphs[0].add_run(title).bold = True
        cells[2].paragraphs[0].add_run(field).font.size = Pt(11)
    table.rows[1].cells[0].paragraphs[0].add_run("{%tr for row in rows %}")
    table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")


def _closing(document: DocxDocument) -> None:
    table = document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _paragraph(left, "Nơi nhận:", bold=True, italic=True, size=12)
    _paragraph(left, "- Như trên;", size=11)
    _paragraph(left, "{%p for line in copies %}", size=11)
    _paragraph(left, "- {{ line }};", size=11)
    _paragraph(left, "{%p endfor %}", size=11)
    _paragraph(left, "- Lưu: VT.", size=11)
    _paragraph(right, "{{ signer_title|upper }}", bold=True, centre=True)
    _paragraph(right, "", centre=True)
    _paragraph(right, "", centre=True)
    _paragraph(right, "{{ signer_name }}", bold=True, centre=True)


@cache
def default_letter_template() -> bytes:
    """The packaged letter template as .docx bytes (drawn once per process)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    section = document.sections[0]
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    _header(document)
    _paragraph(document, "Kính gửi: {{ organisation }}.", centre=True, size=14)
    for text in BODY[:1]:
        _paragraph(document, text)
    _paragraph(document, "{%p if forwarded %}")
    _paragraph(document, FORWARDED)
    _paragraph(document, "{%p endif %}")
    _items_table(document)
    for text in BODY[1:]:
        _paragraph(document, text)
    _paragraph(document, "Trân trọng./.")
    _closing(document)
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()

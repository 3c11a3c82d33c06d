"""Receiving one uploaded file safely.

- Size: a declared Content-Length over the limit is refused (413) before any of the body is
  read, and the body is counted while it streams in, so a sender that lies or sends chunks is
  cut off at the limit too; nothing is ever held whole in memory.
- Type: only the kinds a page accepts, by the file name's extension and the declared media
  type, and by the first bytes where the kind has a signature (415 otherwise).
- Name: the client's file name is kept only to show (escaped, like any text); on disk the file
  gets a generated name in a private temporary folder, removed when the request is done.
- CSRF: the form's token (or the X-CSRF-Token header) is checked like any other form post.
"""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message, Receive

from garrison.auth.roles import Permission
from garrison.web.problems import (
    NotAuthenticated,
    PayloadTooLarge,
    UnprocessableContent,
    UnsupportedMediaType,
    WebProblem,
)
from garrison.web.viewer import CSRF_FIELD, Viewer, app_database, check_csrf, identify

FORM_OVERHEAD = 64 * 1024  # multipart boundaries, part headers and the small fields
CHUNK = 1024 * 1024
SHOWN_NAME_LENGTH = 200


@dataclass(frozen=True)
class UploadKind:
    """A kind of file a page accepts: its extension, media types browsers send for it, and
    the bytes every such file starts with (if any)."""

    suffix: str
    media_types: frozenset[str]
    signature: bytes = b""


CSV_UPLOAD = UploadKind(
    ".csv",
    frozenset(
        {
            "text/csv",
            "application/csv",
            "text/plain",
            "application/vnd.ms-excel",  # what Windows browsers send for .csv
            "application/octet-stream",
            "",
        }
    ),
)
XLSX_UPLOAD = UploadKind(
    ".xlsx",
    frozenset(
        {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/octet-stream",
            "application/zip",
            "",
        }
    ),
    signature=b"PK\x03\x04",
)
SPREADSHEET_UPLOADS = (CSV_UPLOAD, XLSX_UPLOAD)
_TEXT_TYPES = frozenset({"text/plain", "application/octet-stream", ""})
_JSON_TYPES = _TEXT_TYPES | {"application/json", "application/x-ndjson", "application/jsonl"}
FEED_UPLOADS = (
    *SPREADSHEET_UPLOADS,
    UploadKind(".tsv", CSV_UPLOAD.media_types | {"text/tab-separated-values"}),
    UploadKind(".txt", _TEXT_TYPES),
    UploadKind(".json", _JSON_TYPES),
    UploadKind(".jsonl", _JSON_TYPES),
    UploadKind(
        ".xls",
        frozenset({"application/vnd.ms-excel", "application/octet-stream", ""}),
        signature=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2 compound document
    ),
)
"""Feed files people download and import by hand: tables, plain lists, JSON documents."""


@dataclass(frozen=True)
class UploadMessages:
    """What to tell the person, in their language, when an upload is refused."""

    too_large: str
    not_a_form: str
    no_file: str
    wrong_type: str


def refusal_messages(
    gettext: Callable[[str], str], max_bytes: int, wrong_type: str
) -> UploadMessages:
    """The refusals every upload form shares, in the viewer's language; `wrong_type` names
    the kinds of file the form takes."""
    megabytes = f"{max_bytes / (1024 * 1024):g}"
    return UploadMessages(
        too_large=gettext("The file is larger than the upload limit of %(size)s MB.")
        % {"size": megabytes},
        not_a_form=gettext("Send the file with the upload form (multipart/form-data)."),
        no_file=gettext("Choose a file to upload."),
        wrong_type=wrong_type,
    )


@dataclass(frozen=True)
class ReceivedUpload:
    path: Path  # a generated name in a private folder, never the client's
    shown_name: str  # the client's file name, for display only
    size: int
    fields: Mapping[str, str] = field(default_factory=dict)  # the form's other text fields


def shown_file_name(name: str | None) -> str:
    """The client's file name as text to show: control characters dropped, length capped."""
    text = "".join(ch for ch in name or "" if unicodedata.category(ch)[0] != "C")
    return text[:SHOWN_NAME_LENGTH] or "?"


def _suffix(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def _media_type(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def _counting_receive(receive: Receive, limit: int, refusal: WebProblem) -> Receive:
    """`receive` that refuses the request once its body passes `limit` bytes."""
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
        return message

    return counted


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _copy_bounded(source: IO[bytes], target: Path, max_bytes: int) -> int:
    """Copy an upload to `target`; the size, or -1 once it passes `max_bytes`."""
    size = 0
    with target.open("wb") as handle:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                return -1
            handle.write(chunk)
    return size


def _starts_with(path: Path, signature: bytes) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(signature)) == signature


async def uploading_viewer(request: Request, permission: Permission) -> Viewer:
    """The viewer behind an upload, refused unless they may do `permission`. Identified without
    touching the body: `received_upload` reads it within the limit and checks its CSRF token."""
    viewer = await run_in_threadpool(identify, request, app_database(request))
    if viewer is None:
        raise NotAuthenticated("sign in first")
    request.state.viewer = viewer
    viewer.principal.require(permission)
    return viewer


@asynccontextmanager
async def received_upload(
    request: Request,
    viewer: Viewer,
    *,
    field: str,
    kinds: tuple[UploadKind, ...],
    max_bytes: int,
    messages: UploadMessages,
) -> AsyncIterator[ReceivedUpload]:
    """The one file posted in form field `field`, on disk for the duration of the block."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType(messages.not_a_form)
    declared = _declared_length(request)
    if declared is not None and declared > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(messages.too_large)
    bounded = Request(
        request.scope,
        _counting_receive(
            request.receive, max_bytes + FORM_OVERHEAD, PayloadTooLarge(messages.too_large)
        ),
    )
    form = await bounded.form(max_files=1, max_fields=10, max_part_size=FORM_OVERHEAD)
    folder = Path(tempfile.mkdtemp(prefix="garrison-upload-"))
    try:
        await check_csrf(bounded, viewer)
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise UnprocessableContent(messages.no_file)
        kind = next((k for k in kinds if k.suffix == _suffix(upload.filename)), None)
        if kind is None or _media_type(upload) not in kind.media_types:
            raise UnsupportedMediaType(messages.wrong_type)
        path = folder / f"upload{kind.suffix}"
        size = await run_in_threadpool(_copy_bounded, upload.file, path, max_bytes)
        if size < 0:
            raise PayloadTooLarge(messages.too_large)
        if kind.signature and size and not _starts_with(path, kind.signature):
            raise UnsupportedMediaType(messages.wrong_type)
        fields = {
            name: value
            for name, value in form.multi_items()
            if isinstance(value, str) and name != CSRF_FIELD
        }
        yield ReceivedUpload(path, shown_file_name(upload.filename), size, fields)
    finally:
        await form.close()
        await run_in_threadpool(shutil.rmtree, folder, True)

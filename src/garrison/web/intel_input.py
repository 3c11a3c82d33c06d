"""What people send to set up intel sources and to import feed files, read once for the pages
and the API alike.

A feed upload is received within the upload size limit into a private temporary file (the
client's file name is kept only as the document's name, for sniffing and display), then
imported synchronously with the configured warninglists; the run, failed or not, comes back.
"""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from garrison.auth.roles import Permission
from garrison.auth.tenancy import bind_principal
from garrison.core.audit import acting_as
from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.intel.formats import FeedDocument, registered_formats
from garrison.intel.importing import ImportRequest, configured_warninglists, import_document
from garrison.intel.models import ImportRun
from garrison.intel.queries import find_source
from garrison.intel.sources import SourceSpec, parse_interval
from garrison.web.i18n import translations
from garrison.web.problems import UnprocessableContent
from garrison.web.uploads import FEED_UPLOADS, received_upload, refusal_messages, uploading_viewer
from garrison.web.viewer import Viewer, app_database, app_settings

AUTO_FORMAT = "auto"
FORMAT_FIELD = "format"


def format_choices() -> list[str]:
    """What a feed upload may name as its format: 'auto' (detect it) or a registered one."""
    return [AUTO_FORMAT, *registered_formats()]


def checked_format(name: str, location: str) -> str:
    if name not in format_choices():
        message = f"unknown feed format {name!r}; known: {', '.join(format_choices())}"
        raise UnprocessableContent(
            message, errors=[{"location": [location, FORMAT_FIELD], "message": message}]
        )
    return name


def _blank(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


class SourceFields(BaseModel):
    """A new source as a person describes it; `spec()` checks it the way the CLI does."""

    name: str = Field(min_length=1, max_length=100, examples=["Shadowserver"])
    format: str = Field(default=AUTO_FORMAT, max_length=40, examples=["shadowserver"])
    url: str | None = Field(default=None, max_length=2000)
    schedule: str | None = Field(
        default=None, max_length=20, description="how often to pull the URL: '30m', '6h', '1d'"
    )
    default_tlp: str = Field(default="amber", max_length=20, examples=["amber", "TLP:GREEN"])
    reliability: str = Field(default="C", max_length=1, description="Admiralty scale, A to F")
    default_confidence: int = Field(default=50, ge=0, le=100)
    default_expiry_days: int | None = Field(default=None, ge=1, le=36500)
    default_classification_type: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=2000)
    auth_header: str | None = Field(default=None, max_length=100)
    auth_secret: str | None = Field(default=None, max_length=500)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """A form may carry a NUL, which no text column stores (PostgreSQL refuses it)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("holds a NUL character")
        return value

    @field_validator("default_expiry_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """An empty form field means 'no expiry'."""
        return None if value == "" else value

    def spec(self) -> SourceSpec:
        """Raises SourceError (or UnknownFormatError) naming the field at fault."""
        schedule = _blank(self.schedule)
        return SourceSpec(
            name=self.name,
            format=self.format or AUTO_FORMAT,
            url=_blank(self.url),
            pull_interval_minutes=parse_interval(schedule) if schedule else None,
            default_tlp=self.default_tlp,
            reliability=self.reliability,
            default_confidence=self.default_confidence,
            default_expiry_days=self.default_expiry_days,
            default_classification_type=_blank(self.default_classification_type),
            description=_blank(self.description),
            auth_header=_blank(self.auth_header),
            auth_secret=_blank(self.auth_secret),
        )


def _source_name(database: Database, viewer: Viewer, source_id: int) -> str:
    """The source's name, if the viewer may see it (NotFoundError otherwise)."""
    with database.sessions() as session:
        bind_principal(session, viewer.principal)
        return find_source(session, source_id).name


def _import(
    database: Database, settings: Settings, request: ImportRequest, actor: str
) -> ImportRun:
    with acting_as(actor):
        return import_document(database, request, configured_warninglists(settings))


async def import_feed_upload(
    request: Request, source_id: int, format_name: str | None = None, *, for_api: bool = False
) -> ImportRun:
    """Import the file posted in form field 'file' into a source (MANAGE_INTEL). The format is
    `format_name` (a query parameter), or else the form's 'format' field; 'auto' detects it."""
    viewer = await uploading_viewer(request, Permission.MANAGE_INTEL)
    if format_name is not None:
        checked_format(format_name, "query")
    database = app_database(request)
    settings = app_settings(request)
    source_name = await run_in_threadpool(_source_name, database, viewer, source_id)
    gettext = translations("en" if for_api else viewer.language).gettext
    wrong_type = gettext(
        "Feed files can be imported as CSV, TSV, text, JSON, JSON lines or Excel (.xlsx, .xls)."
    )
    async with received_upload(
        request,
        viewer,
        field="file",
        kinds=FEED_UPLOADS,
        max_bytes=settings.max_upload_bytes,
        messages=refusal_messages(gettext, settings.max_upload_bytes, wrong_type),
    ) as upload:
        if format_name is None:
            format_name = checked_format(upload.fields.get(FORMAT_FIELD, AUTO_FORMAT), "body")
        import_request = ImportRequest(
            source_name, FeedDocument(upload.path, upload.shown_name), format_name
        )
        return await run_in_threadpool(
            _import, database, settings, import_request, viewer.principal.actor
        )

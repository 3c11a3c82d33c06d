"""What every resource under /api/v1 shares, written once.

Bounded ids and query parameters; finding a row the viewer may see (a row outside the viewer's
tenancy is answered exactly like a missing one: 404); checking the rights on the owning
organisation before a change (403), on both sides when a row moves; partial updates that
refuse nulls where a column needs a value; commits that turn unique-constraint clashes into
409; filters and keyset pages; the GET and DELETE of one row; and a route class that answers
values no database can store (NUL characters, numbers out of range) with 422, not 500.

Annotations here are evaluated when defined (no postponed annotations): `row_routes` builds
endpoints whose path parameter is named at run time.
"""

from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response, params
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import ColumnElement, Select, inspect, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from garrison.auth.roles import Permission
from garrison.auth.tenancy import EDIT_PERMISSION
from garrison.core.model import Base
from garrison.orgs.models import Asset, Component, Contact, Domain, Network, Organisation
from garrison.web.api.pagination import MAX_KEY, MAX_LIMIT, Page, decode_cursor, next_cursor
from garrison.web.problems import PROBLEM_MEDIA_TYPE, Conflict, NotFound, UnprocessableContent
from garrison.web.viewer import CurrentViewer, TenantSession, Viewer

M = TypeVar("M", bound=Base)
T = TypeVar("T")
Owned = Organisation | Network | Domain | Contact | Asset | Component
R = TypeVar("R", bound=Owned)

RowId = Annotated[int, Path(ge=1, le=MAX_KEY)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_KEY)]
OwnerId = Annotated[int, Field(ge=1, le=MAX_KEY)]
Search = Annotated[str | None, Query(max_length=200)]
Email = Annotated[
    str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", to_lower=True)
]
UNSTORABLE = "a value cannot be stored (a number out of range or a NUL character)"


def invalid(field: str, message: str, location: str = "body") -> UnprocessableContent:
    """A 422 naming the field at fault, in the shape request validation uses."""
    errors = [{"location": [location, field], "message": message}]
    return UnprocessableContent(message, errors=errors)


class StorableValuesRoute(APIRoute):
    """Turns values the database refuses to hold into 422 problems rather than 500s."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except DataError:
                raise invalid("request", UNSTORABLE, "request") from None

        return guarded


_TEXT = {"type": "string"}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": _TEXT,
        "title": _TEXT,
        "status": {"type": "integer"},
        "detail": _TEXT,
        "instance": _TEXT,
        "errors": {
            "type": "array",
            "description": "with 422: each field at fault, where and why",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "array", "items": _TEXT}, "message": _TEXT},
            },
        },
    },
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
    for status, description in (
        (401, "not signed in, or the API token is unknown, expired or revoked"),
        (403, "signed in, but not allowed to do this (or a read-only token tried to write)"),
        (404, "no such row, or none the caller may see"),
        (409, "it clashes with an existing row"),
        (422, "the request is not valid; `errors` says where and why"),
    )
}


def resource_router(
    prefix: str, tag: str, dependencies: Sequence[params.Depends] = ()
) -> APIRouter:
    """A router whose errors are documented as problem details and whose values the database
    cannot store are refused as 422."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=dependencies,
        responses=PROBLEMS,
        route_class=StorableValuesRoute,
    )


def _storable(text: str) -> bool:
    """Text every backend stores as given: no NUL character, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Body(BaseModel):
    """A request body: unknown fields are refused, text is stripped of surrounding spaces, and
    text no database can store is refused alike on every backend."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not _storable(text):
                raise ValueError("holds a NUL character or a lone surrogate")
        return value


class PatchBody(Body):
    """A partial update: absent fields stay; null clears a field, except those in `required`."""

    required: ClassVar[tuple[str, ...]] = ()

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_unset=True)
        cleared = [name for name in self.required if name in changes and changes[name] is None]
        if cleared:
            errors = [{"location": ["body", name], "message": "needs a value"} for name in cleared]
            raise UnprocessableContent(f"{', '.join(cleared)} cannot be emptied", errors=errors)
        return changes


def noun(model: type[Base]) -> str:
    return model.__name__.lower()


def find(session: Session, model: type[M], row_id: int) -> M:
    """The row with this id if the viewer may see it; 404 whether it is missing or hidden."""
    key = inspect(model).primary_key[0]
    found = session.scalar(select(model).where(key == row_id))
    if found is None:
        raise NotFound(f"no {noun(model)} {row_id}")
    return found


def owner_of(session: Session, row: Owned) -> int:
    """The organisation whose rights a change to `row` needs."""
    if isinstance(row, Organisation):
        return row.id
    if isinstance(row, Component):
        return find(session, Asset, row.asset_id).organisation_id
    return row.organisation_id


def check_owner(
    session: Session, viewer: Viewer, permission: Permission, organisation_id: int
) -> None:
    """The viewer may write rows of this organisation (403 if not), and it exists (422 if not)."""
    viewer.principal.require(permission, organisation_id)
    if session.scalar(select(Organisation.id).where(Organisation.id == organisation_id)) is None:
        raise invalid("organisation_id", f"no organisation {organisation_id}")


@contextmanager
def conflicts_refused(session: Session, conflict: str) -> Iterator[None]:
    """A unique-constraint clash inside the block becomes 409 with `conflict` as the detail."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None


def commit(session: Session, conflict: str) -> None:
    with conflicts_refused(session, conflict):
        session.commit()


def add(session: Session, viewer: Viewer, row: Owned, conflict: str) -> None:
    """Create `row` if the viewer may write its organisation's rows."""
    check_owner(session, viewer, EDIT_PERMISSION[type(row)], owner_of(session, row))
    session.add(row)
    commit(session, conflict)


def change(session: Session, viewer: Viewer, row: Owned, changes: dict[str, Any]) -> None:
    """Apply `changes` (uncommitted) if the viewer may; moving needs rights on both sides."""
    permission = EDIT_PERMISSION[type(row)]
    owner = owner_of(session, row)
    viewer.principal.require(permission, owner)
    target = changes.get("organisation_id")
    if target is not None and target != owner:
        check_owner(session, viewer, permission, target)
    for name, value in changes.items():
        setattr(row, name, value)


def update(session: Session, viewer: Viewer, row: R, changes: dict[str, Any], conflict: str) -> R:
    """`change`, then commit (409 with `conflict` on a clash); returns the changed row."""
    change(session, viewer, row, changes)
    commit(session, conflict)
    return row


def remove(session: Session, viewer: Viewer, row: Owned) -> Response:
    viewer.principal.require(EDIT_PERMISSION[type(row)], owner_of(session, row))
    session.delete(row)
    commit(session, f"this {noun(type(row))} is still referenced and cannot be deleted")
    return Response(status_code=204)


def row_routes(
    router: APIRouter, model: type[Owned], out: type[BaseModel], under: str = ""
) -> None:
    """GET {under}/{<noun>_id} (404 unless visible) and DELETE (with rights on the owner)."""
    key = f"{noun(model)}_id"

    def read(
        session: TenantSession,
        viewer: CurrentViewer,
        row_id: Annotated[int, Path(alias=key, ge=1, le=MAX_KEY)],
    ) -> Any:
        return find(session, model, row_id)

    def delete(
        session: TenantSession,
        viewer: CurrentViewer,
        row_id: Annotated[int, Path(alias=key, ge=1, le=MAX_KEY)],
    ) -> Response:
        return remove(session, viewer, find(session, model, row_id))

    path = f"{under}/{{{key}}}"
    router.add_api_route(path, read, methods=["GET"], response_model=out, name=f"get_{noun(model)}")
    router.add_api_route(
        path, delete, methods=["DELETE"], status_code=204, name=f"delete_{noun(model)}"
    )


def narrowed(
    query: Select[M],
    *equal: tuple[InstrumentedAttribute[Any], object],
    search: str | None = None,
    searched: Sequence[Any] = (),
) -> Select[M]:
    """`query` kept to rows whose columns equal the given values (None: not filtered) and, with
    `search`, to rows where a searched column holds it as literal text, ignoring case (% and _
    match only themselves)."""
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    if search:
        matches: list[ColumnElement[bool]] = [
            column.icontains(search, autoescape=True) for column in searched
        ]
        query = query.where(or_(*matches))
    return query


@dataclass
class PageRequest:
    cursor: Annotated[str | None, Query(max_length=100)] = None
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100


Paging = Annotated[PageRequest, Depends()]


def keyset_page(
    session: Session,
    query: Select[M],
    id_column: InstrumentedAttribute[int],
    page: PageRequest,
    render: Callable[[M], T],
    prepare: Callable[[list[M]], None] | None = None,
) -> Page[T]:
    """One page of `query` in id order, starting after the cursor; `prepare` may load what
    the rows need for rendering, for the whole page at once."""
    bounded = query.where(id_column > decode_cursor(page.cursor))
    rows = list(session.scalars(bounded.order_by(id_column).limit(page.limit)))
    if prepare is not None:
        prepare(rows)
    return Page(
        items=[render(row) for row in rows],
        next_cursor=next_cursor([getattr(row, id_column.key) for row in rows], page.limit),
    )

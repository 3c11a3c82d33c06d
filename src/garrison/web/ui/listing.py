"""What every list page shares: its query string (filters, sort, page), pages of rows, and the
partial refresh HTMX asks for."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.responses import Response

from garrison.core.clock import local_time
from garrison.web.rendering import render
from garrison.web.viewer import Viewer

T = TypeVar("T")
PAGE_SIZE = 50
MAX_PAGE = 100_000
LIST_PARAMETERS = frozenset({"sort", "descending", "page"})


def _blank_is_none(value: object) -> object:
    """An empty choice in a filter form means 'any'."""
    return None if value == "" else value


OptionalInt = Annotated[int | None, BeforeValidator(_blank_is_none)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]
SearchText = Annotated[str, Field(max_length=200)]


class ListQuery(BaseModel):
    """The query string of a list page; subclasses add their filters and sort keys."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sort: str = ""
    descending: bool = False
    page: int = Field(default=1, ge=1, le=MAX_PAGE)

    def filters(self) -> dict[str, str]:
        """The filters that are set, as query parameters."""
        values = self.model_dump(mode="json", exclude=set(LIST_PARAMETERS))
        return {name: str(value) for name, value in values.items() if value not in (None, "")}

    def _parameters(self, **changes: object) -> dict[str, str]:
        given: dict[str, object] = {
            **self.filters(),
            "sort": self.sort,
            "descending": self.descending,
            "page": self.page,
            **changes,
        }
        return {
            name: ("true" if value else "false") if isinstance(value, bool) else str(value)
            for name, value in given.items()
        }

    def link(self, **changes: object) -> str:
        """This list with some parameters changed, e.g. `link(page=2)` → '?search=…&page=2'."""
        return "?" + urlencode(self._parameters(**changes))

    def sort_link(self, key: str) -> str:
        """Sort by `key`; asked again, the order turns around."""
        return self.link(sort=key, descending=self.sort == key and not self.descending, page=1)

    def export_link(self, path: str, export_format: str) -> str:
        """Every row of this list, as the page filters and sorts it, in a spreadsheet."""
        parameters = self._parameters()
        del parameters["page"]
        return f"{path}.{export_format}?{urlencode(parameters)}"


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One page of a list, and where it stands among the others."""

    items: list[T]
    total: int
    page: int
    more: bool = False  # counting stopped at `total`: there are more rows

    @property
    def pages(self) -> int:
        return page_count(self.total)


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def offset_of(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def paginate(found: Sequence[T], page: int) -> Listing[T]:
    start = offset_of(page)
    return Listing(list(found[start : start + PAGE_SIZE]), len(found), page)


def page_of(
    query: ListQuery,
    database_sorts: Collection[str],
    *,
    in_database: Callable[[int, int], tuple[list[T], int, bool]],
    in_memory: Callable[[], list[T]],
) -> Listing[T]:
    """One page of a list: cut in the database when it can sort and filter everything the
    query asks (no free-text search), otherwise sorted and cut in memory."""
    if getattr(query, "search", "") or query.sort not in database_sorts:
        return paginate(in_memory(), query.page)
    items, total, more = in_database(offset_of(query.page), PAGE_SIZE)
    return Listing(items, total, query.page, more)


def sort_value(value: Any) -> tuple[bool, Any]:
    """Empty values last; text compared without case; lists by their first item."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or value == "":
        return (True, "")
    return (False, value.casefold() if isinstance(value, str) else value)


def sorted_by(found: list[T], query: ListQuery) -> list[T]:
    """The rows in the order the query asks for (stable: ties keep their order)."""
    return sorted(
        found, key=lambda item: sort_value(getattr(item, query.sort)), reverse=query.descending
    )


def shown_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC time as people read it in the configured zone ('' when there is none)."""
    return f"{local_time(moment, zone):%Y-%m-%d %H:%M:%S}" if moment else ""


def list_response(
    request: Request,
    viewer: Viewer,
    page_template: str,
    rows_template: str,
    context: dict[str, Any],
) -> Response:
    """The whole page, or only its rows when HTMX refreshes them after a filter changed."""
    template = rows_template if request.headers.get("hx-request") else page_template
    return render(request, template, context, viewer=viewer)

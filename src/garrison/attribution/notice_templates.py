"""The editable templates of notices: packaged defaults, overridden from the data directory.

The department rewords its e-mails and its letter without a release: a file of the same name
in `<data_dir>/templates/attribution/` wins over the packaged one. A template is checked when
it is saved, so a syntax error is refused with its line instead of breaking the next run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    TemplateSyntaxError,
    select_autoescape,
)

from garrison.core.errors import GarrisonError

TEMPLATE_FOLDER = Path("templates") / "attribution"
"""Inside the data directory: where edited templates are kept."""
EDITABLE = frozenset(
    f"notice_email.{language}.{part}"
    for language in ("vi", "en")
    for part in ("subject", "txt", "html")
)


class TemplateProblem(GarrisonError):
    """A template cannot be used; `line` is where Jinja found the error, when it knows."""

    def __init__(self, name: str, reason: str, line: int | None = None) -> None:
        self.name = name
        self.reason = reason
        self.line = line
        where = f"{name}, line {line}" if line else name
        super().__init__(f"template {where}: {reason}")


def override_folder(data_dir: Path | None) -> Path | None:
    return None if data_dir is None else data_dir / TEMPLATE_FOLDER


@cache
def _environment(folder: Path | None) -> Environment:
    loaders: list[BaseLoader] = [PackageLoader("garrison.attribution", "templates")]
    if folder is not None:
        loaders.insert(0, FileSystemLoader(folder))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template_environment(data_dir: Path | None) -> Environment:
    """The notices' Jinja environment: HTML autoescaped, text and subjects verbatim."""
    return _environment(override_folder(data_dir))


def check_template(text: str, name: str = "template") -> None:
    """Raise `TemplateProblem` naming the line of the first Jinja syntax error in `text`."""
    try:
        _environment(None).parse(text)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(name, exc.message or "syntax error", exc.lineno) from exc


def save_template(data_dir: Path, name: str, text: str) -> Path:
    """Check, then store an edited e-mail template over the packaged one."""
    if name not in EDITABLE:
        raise TemplateProblem(name, f"not an editable template (one of {sorted(EDITABLE)})")
    check_template(text, name)
    folder = data_dir / TEMPLATE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    _environment.cache_clear()
    return path

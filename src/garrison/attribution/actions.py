"""What an organisation should do about each malware family: advice kept as data.

The advice lives in `actions.toml` beside this module (aliases, Vietnamese and English text
per family, and a default), so the department can change it without touching code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class Advice:
    vi: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.vi


@dataclass(frozen=True)
class ActionTable:
    by_alias: dict[str, Advice]
    default: Advice

    @classmethod
    def parse(cls, text: str) -> ActionTable:
        data = tomllib.loads(text)
        by_alias: dict[str, Advice] = {}
        for family in data.get("families", {}).values():
            advice = Advice(family["vi"], family["en"])
            for alias in family["aliases"]:
                by_alias[alias.lower()] = advice
        default = data["default"]
        return cls(by_alias, Advice(default["vi"], default["en"]))

    def advice_for(self, families: Iterable[str]) -> list[Advice]:
        """One advice per distinct matching family, in the order given; the default if none."""
        found: list[Advice] = []
        for family in families:
            for name in family.lower().replace("\\", "/").split("/"):
                advice = self.by_alias.get(name.strip())
                if advice is not None and advice not in found:
                    found.append(advice)
        return found or [self.default]

    def recommended_action(self, families: Iterable[str], language: str) -> str:
        return "\n".join(advice.text(language) for advice in self.advice_for(families))


@cache
def default_actions() -> ActionTable:
    text = resources.files("garrison.attribution").joinpath("actions.toml").read_text("utf-8")
    return ActionTable.parse(text)


def recommended_action(families: Iterable[str], language: str = "vi") -> str:
    """The packaged advice for the families an item was reported with."""
    return default_actions().recommended_action(families, language)

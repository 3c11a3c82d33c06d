"""The kinds of indicator Garrison stores and the markings they carry."""

from __future__ import annotations

from enum import StrEnum


class IndicatorType(StrEnum):
    """What an indicator's value is; one stored row per (type, normalised value)."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    CIDR4 = "cidr4"
    CIDR6 = "cidr6"
    DOMAIN = "domain"
    URL = "url"
    EMAIL = "email"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    FILENAME = "filename"
    PHONE = "phone"
    ASN = "asn"
    BRANDNAME = "brandname"

    @property
    def is_network(self) -> bool:
        return self in NETWORK_TYPES

    @property
    def is_hash(self) -> bool:
        return self in HASH_TYPES


NETWORK_TYPES = frozenset(
    {IndicatorType.IPV4, IndicatorType.IPV6, IndicatorType.CIDR4, IndicatorType.CIDR6}
)
HASH_TYPES = frozenset({IndicatorType.MD5, IndicatorType.SHA1, IndicatorType.SHA256})


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 labels, from the least to the most restricted."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    @property
    def rank(self) -> int:
        return _TLP_RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """'TLP:AMBER+STRICT', 'amber', 'TLP:WHITE' (TLP 1.0's name for CLEAR) → a label."""
        value = text.strip().lower().removeprefix("tlp:").strip()
        if value == "white":
            return cls.CLEAR
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{text!r} is not a TLP 2.0 label") from None

    def most_restrictive(self, other: Tlp) -> Tlp:
        return self if self.rank >= other.rank else other


_TLP_RANKS = {label: rank for rank, label in enumerate(Tlp)}
"""Looked up for every observation a feed import merges: a dict, not a list search."""

"""MISP warninglists: well-known values (public resolvers, private networks, URL shorteners,
hashes of empty files, …) that are rarely malicious, so a hit flags a likely false positive.

Load the lists (`load_warninglists` or `WarninglistIndex.load`), compile them once into a
`WarninglistIndex`, then ask it about one value (`hits`) or a million addresses
(`check_addresses`).
"""

from garrison.intel.warninglists.index import WarninglistIndex
from garrison.intel.warninglists.lists import (
    ATTRIBUTE_TYPES,
    LoadedWarninglists,
    MatchType,
    Warninglist,
    WarninglistHit,
    load_warninglists,
    read_warninglist,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "LoadedWarninglists",
    "MatchType",
    "Warninglist",
    "WarninglistHit",
    "WarninglistIndex",
    "load_warninglists",
    "read_warninglist",
]

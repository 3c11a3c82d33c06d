"""Vietnamese phone numbers to E.164, including those written before the 2018 renumbering."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

LEGACY_MOBILE_PREFIXES = {
    # MobiFone
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    # VinaPhone
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    # Viettel
    "0162": "032",
    "0163": "033",
    "0164": "034",
    "0165": "035",
    "0166": "036",
    "0167": "037",
    "0168": "038",
    "0169": "039",
    # Vietnamobile
    "0186": "056",
    "0188": "058",
    # Gmobile
    "0199": "059",
}
"""11-digit mobile prefixes replaced by 10-digit ones between 15/9/2018 and 30/6/2019."""

_SEPARATORS = re.compile(r"[\s.()\-/]")


class PhoneNumberError(ValueError):
    """Not a dialable phone number; the message says why."""


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    converted: bool
    """True when an old 11-digit mobile prefix was mapped to its 10-digit replacement."""


def _national_digits(text: str) -> str | None:
    """The number as national digits ('0…') when written in a Vietnamese form, else None."""
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+84", "0084", "84"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (9, 10):
            return "0" + digits[len(prefix) :]
    return digits if digits.startswith("0") and not digits.startswith("00") else None


def convert_legacy_prefix(national: str) -> tuple[str, bool]:
    if len(national) == 11 and national[:4] in LEGACY_MOBILE_PREFIXES:
        return LEGACY_MOBILE_PREFIXES[national[:4]] + national[4:], True
    return national, False


def normalise_phone(text: str, region: str = "VN") -> PhoneNumber:
    value = text.strip()
    converted = False
    national = _national_digits(value)
    if national is not None:
        national, converted = convert_legacy_prefix(national)
        value = national
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"{text!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(f"{text!r} is not a valid phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, converted)

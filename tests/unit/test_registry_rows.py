"""Registry rows: each spreadsheet record becomes a typed row or a located problem."""

from __future__ import annotations

from datetime import date

import pytest

from garrison.core.errors import RowProblem
from garrison.core.tabular import Record
from garrison.orgs.registry_rows import (
    AssetRow,
    ComponentRow,
    ContactRow,
    DomainRow,
    NetworkRow,
    OrganisationRow,
    RegistryRow,
    normalise_domain,
    parse_date,
    parse_record,
)

# A complete, valid record per table; each test changes only what it is about.
VALID: dict[str, dict[str, str]] = {
    "organisations": {"name": "Sở Tài chính", "short_name": "STC", "kind": "department"},
    "contacts": {"organisation": "STC", "name": "Nguyễn Văn An", "email": "an@stc.gov.vn"},
    "networks": {"organisation": "STC", "network": "203.0.113.0/24"},
    "domains": {"organisation": "STC", "domain": "stc.sonla.gov.vn"},
    "assets": {"organisation": "STC", "name": "Cổng thông tin", "addresses": "203.0.113.10"},
    "components": {"organisation": "STC", "asset": "Cổng thông tin", "product": "nginx"},
}


def record(table: str, **changes: str) -> Record:
    """The valid record of `table` with some values changed; headers are upper-cased fields."""
    values = {**VALID[table], **changes}
    return Record("registry.xlsx", "Sheet 1", 7, values, {k: k.upper() for k in values})


def parsed(table: str, **changes: str) -> RegistryRow:
    result = parse_record(table, record(table, **changes))
    assert not isinstance(result, RowProblem), result
    return result


def rejected(table: str, **changes: str) -> RowProblem:
    result = parse_record(table, record(table, **changes))
    assert isinstance(result, RowProblem), result
    assert (result.file, result.sheet, result.row) == ("registry.xlsx", "Sheet 1", 7)
    return result


@pytest.mark.parametrize(
    ("table", "kind"),
    [
        ("organisations", OrganisationRow),
        ("contacts", ContactRow),
        ("networks", NetworkRow),
        ("domains", DomainRow),
        ("assets", AssetRow),
        ("components", ComponentRow),
    ],
)
def test_valid_records_become_typed_rows(table: str, kind: type) -> None:
    assert isinstance(parsed(table), kind)


@pytest.mark.parametrize(
    ("table", "field_name"),
    [
        ("organisations", "name"),
        ("organisations", "kind"),
        ("contacts", "organisation"),
        ("contacts", "name"),
        ("networks", "network"),
        ("networks", "organisation"),
        ("domains", "domain"),
        ("assets", "name"),
        ("components", "asset"),
    ],
)
def test_required_values_are_required(table: str, field_name: str) -> None:
    problem = rejected(table, **{field_name: "  "})
    assert problem.column == field_name.upper()
    assert problem.reason == "a value is required"


def test_text_is_collapsed_but_free_text_keeps_its_lines() -> None:
    row = parsed("organisations", name="  Sở   Tài\tchính ", notes=" Trực 24/7\nGọi trước ")
    assert isinstance(row, OrganisationRow)
    assert row.name == "Sở Tài chính"
    assert row.notes == "Trực 24/7\nGọi trước"


@pytest.mark.parametrize(
    ("table", "field_name", "limit"),
    [
        ("organisations", "name", 300),
        ("organisations", "short_name", 60),
        ("contacts", "name", 200),
        ("contacts", "role", 200),
        ("contacts", "email", 320),
        ("assets", "name", 300),
        ("assets", "kind", 60),
        ("assets", "operating_system", 200),
        ("components", "vendor", 200),
        ("components", "product", 200),
        ("components", "version", 100),
    ],
)
def test_text_longer_than_its_column_is_rejected(table: str, field_name: str, limit: int) -> None:
    """Limits match the database columns, so PostgreSQL never refuses what validation took."""
    fits = "a" * (limit - 5) + "@b.vn" if field_name == "email" else "a" * limit
    assert not isinstance(parse_record(table, record(table, **{field_name: fits})), RowProblem)
    too_long = "a" + fits
    problem = rejected(table, **{field_name: too_long})
    assert problem.column == field_name.upper()
    assert f"longer than {limit}" in problem.reason


def test_component_reference_longer_than_its_column_is_rejected() -> None:
    problem = rejected("components", vendor="v" * 200, product="p" * 200, version="1" * 100)
    assert "longer than 500" in problem.reason


@pytest.mark.parametrize(
    ("raw", "level"),
    [("3", 3), ("Cấp độ 4", 4), ("cap do 2", 2), ("III", 3), ("cấp độ v", 5), ("", None)],
)
def test_security_levels_are_read_the_ways_people_write_them(raw: str, level: int | None) -> None:
    row = parsed("assets", security_level=raw)
    assert isinstance(row, AssetRow)
    assert row.security_level == level


@pytest.mark.parametrize("raw", ["7", "0", "VI", "cấp độ 6", "ba", "3.5", "9" * 5000])
def test_security_levels_outside_one_to_five_are_rejected(raw: str) -> None:
    problem = rejected("assets", security_level=raw)
    assert problem.column == "SECURITY_LEVEL"
    assert "is not a security level 1–5" in problem.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("05/03/2024", date(2024, 3, 5)),
        ("5-3-2024", date(2024, 3, 5)),
        ("05.03.2024", date(2024, 3, 5)),
        ("2024-03-05T00:00:00", date(2024, 3, 5)),
    ],
)
def test_dates_in_vietnamese_and_iso_order(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected
    row = parsed("assets", security_level="2", level_approved_on=raw)
    assert isinstance(row, AssetRow)
    assert row.level_approved_on == expected


@pytest.mark.parametrize("raw", ["31/02/2024", "2024-13-01", "hôm qua", "03/05/24", "45000"])
def test_bad_dates_are_rejected(raw: str) -> None:
    problem = rejected("assets", security_level="2", level_approved_on=raw)
    assert problem.column == "LEVEL_APPROVED_ON"
    assert "is not a date" in problem.reason


def test_an_approval_date_needs_a_level() -> None:
    problem = rejected("assets", level_approved_on="2024-03-05")
    assert problem.column == "LEVEL_APPROVED_ON"
    assert "needs a security level" in problem.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("x", True), ("Có", True), ("yes", True), ("", False), ("Không", False), ("no", False)],
)
def test_internet_facing_flags(raw: str, expected: bool) -> None:
    row = parsed("assets", internet_facing=raw)
    assert isinstance(row, AssetRow)
    assert row.internet_facing is expected


def test_unclear_flags_are_rejected() -> None:
    problem = rejected("assets", internet_facing="có lẽ")
    assert problem.column == "INTERNET_FACING"


def test_asset_addresses_and_hostnames_are_lists_without_repeats() -> None:
    row = parsed(
        "assets",
        addresses="203.0.113.10, 2001:DB8::1; 203.0.113.10\n198.51.100.1",
        hostnames="WWW.Sonla.gov.vn., cổng.sonla.gov.vn www.sonla.gov.vn",
    )
    assert isinstance(row, AssetRow)
    assert row.addresses == ("203.0.113.10", "2001:db8::1", "198.51.100.1")
    assert row.hostnames == ("www.sonla.gov.vn", "xn--cng-qmz.sonla.gov.vn")


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        ("203.0.113.10, 148.81.111.11.12", "'148.81.111.11.12' is not an IPv4 or IPv6 address"),
        ("fe80::1%eth0", "zone id"),
        ("203.0.113.0/24", "is not an IPv4 or IPv6 address"),
    ],
)
def test_bad_asset_addresses_are_rejected(addresses: str, reason: str) -> None:
    problem = rejected("assets", addresses=addresses)
    assert problem.column == "ADDRESSES"
    assert reason in problem.reason


def test_bad_hostnames_are_rejected() -> None:
    problem = rejected("assets", hostnames="web-.sonla.gov.vn")
    assert problem.column == "HOSTNAMES"
    assert "is not a host name" in problem.reason


def test_networks_keep_the_host_bits_fact() -> None:
    row = parsed("networks", network="203.0.113.77/24")
    assert isinstance(row, NetworkRow)
    assert (row.network.cidr, row.network.had_host_bits) == ("203.0.113.0/24", True)


@pytest.mark.parametrize("network", ["148.81.111.11.12", "fe80::1%eth0", "203.0.113.0/40"])
def test_bad_networks_are_rejected(network: str) -> None:
    problem = rejected("networks", network=network)
    assert problem.column == "NETWORK"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SonLa.GOV.vn.", "sonla.gov.vn"),
        ("sởtàichính.gov.vn", "xn--stichnh-9va4j2795a.gov.vn"),
    ],
)
def test_domains_are_normalised(raw: str, expected: str) -> None:
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://sonla.gov.vn", "not a bare domain name"),
        ("sonla.gov.vn/trang-chu", "not a bare domain name"),
        ("localhost", "has no dot"),
        ("a_b.gov.vn", "not a valid domain name"),
        ("a" * 250 + ".gov.vn", "not a valid domain name"),
    ],
)
def test_bad_domains_are_rejected(raw: str, reason: str) -> None:
    problem = rejected("domains", domain=raw)
    assert problem.column == "DOMAIN"
    assert reason in problem.reason


def test_contacts_email_phones_and_language() -> None:
    row = parsed(
        "contacts",
        email=" An.Nguyen@STC.gov.vn ",
        phones="0912 345 678; 0223.3852.111 / +84 912345679\n",
        language="Tiếng Anh",
    )
    assert isinstance(row, ContactRow)
    assert row.email == "an.nguyen@stc.gov.vn"
    assert row.phones == ("0912 345 678", "0223.3852.111", "+84 912345679")
    assert row.language == "en"
    default = parsed("contacts")
    assert isinstance(default, ContactRow)
    assert (default.language, default.phones) == ("vi", ())


@pytest.mark.parametrize("email", ["an.stc.gov.vn", "an@stc", "an@@stc.gov.vn", "an nguyen@stc.vn"])
def test_bad_emails_are_rejected(email: str) -> None:
    problem = rejected("contacts", email=email)
    assert problem.column == "EMAIL"
    assert "is not an e-mail address" in problem.reason


def test_unknown_contact_language_is_rejected() -> None:
    problem = rejected("contacts", language="fr")
    assert problem.column == "LANGUAGE"


@pytest.mark.parametrize(
    ("changes", "ref"),
    [
        (
            {"cpe": "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*", "product": ""},
            "cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*",
        ),
        (
            {"cpe": r"cpe:2.3:a:acme:web\:portal:2.0:*:*:*:*:*:*:*", "product": ""},
            r"cpe:2.3:a:acme:web\:portal:2.0:*:*:*:*:*:*:*",
        ),
        ({"purl": "pkg:pypi/django@4.2.1", "product": ""}, "pkg:pypi/django@4.2.1"),
        ({"vendor": "F5", "product": "nginx", "version": "1.24"}, "F5/nginx/1.24"),
        ({}, "/nginx/"),
    ],
)
def test_components_are_told_apart_by_their_reference(changes: dict[str, str], ref: str) -> None:
    row = parsed("components", **changes)
    assert isinstance(row, ComponentRow)
    assert row.ref == ref


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"cpe": "cpe:/a:f5:nginx:1.24"}, "CPE", "is not a CPE 2.3 name"),
        ({"cpe": "cpe:2.3:a:f5:nginx"}, "CPE", "is not a CPE 2.3 name"),
        ({"cpe": "cpe:2.3:a:f5:nginx:1:*:*:*:*:*:*:*:extra"}, "CPE", "is not a CPE 2.3 name"),
        ({"purl": "django==4.2"}, "PURL", "is not a package URL"),
        ({"product": ""}, "PRODUCT", "give a CPE, a purl or at least a product name"),
    ],
)
def test_bad_components_are_rejected(changes: dict[str, str], column: str, reason: str) -> None:
    problem = rejected("components", **changes)
    assert problem.column == column
    assert reason in problem.reason


def test_windows_host_names_with_underscores_are_kept() -> None:
    from garrison.orgs.registry_rows import _hostname

    assert _hostname("PC_KE_TOAN-01") == "pc_ke_toan-01"
    assert _hostname("sv_web.syt.sonlam.gov.vn.") == "sv_web.syt.sonlam.gov.vn"

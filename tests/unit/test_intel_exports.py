"""Indicator exports: every format with tricky values, read back with a real parser.

CSV is read with the csv module, STIX with the stix2 library and pattern validator, RPZ with
dnspython; ipset, nftables and FortiGate scripts are checked line by line; the MISP feed
against the layout of MISP's own sample feed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dns.name
import dns.rdatatype
import dns.zone
import pytest
import stix2
from stix2.pattern_visitor import create_pattern_object
from stix2patterns.validator import run_validator

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    InvalidExportOption,
    RpzPolicy,
    UnknownExportError,
    export_named,
    registered_exports,
)
from garrison.intel.exports.csv_table import HEADER, split_list, unprotect
from garrison.intel.exports.rpz import rpz_ip_name
from garrison.intel.exports.stix_bundle import TLP_MARKINGS
from garrison.intel.normalise import normalise
from garrison.intel.types import IndicatorType, Tlp

T = IndicatorType
MOMENT = datetime(2024, 5, 17, 8, 30, 0, tzinfo=UTC)
FIRST = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
LAST = datetime(2024, 5, 16, 23, 59, 59, tzinfo=UTC)
OPTIONS = ExportOptions(generated_at=MOMENT)
ALL_FORMATS = ("csv", "fortigate", "ipset", "misp-feed", "nftables", "plain", "rpz", "stix2")


def indicator(kind: IndicatorType, raw: str, number: int, **changes: Any) -> ExportedIndicator:
    """A record as the database layer would give it: the value normalised like the store's."""
    key = normalise(kind, raw)
    record = ExportedIndicator(
        type=key.type,
        value=key.value,
        first_seen=FIRST,
        last_seen=LAST,
        tlp=Tlp.AMBER,
        confidence=80,
        tags=("botnet",),
        malware=(),
        sources=("vncert",),
        classification_type="c2-server",
        expires_at=None,
        description=None,
        stable_id=str(uuid.UUID(int=number)),
    )
    return replace(record, **changes)


IPV4 = indicator(T.IPV4, "203.0.113.7", 1, malware=("emotet",))
CIDR4 = indicator(
    T.CIDR4, "198.51.100.0/24", 2, classification_type="infected-system", tlp=Tlp.GREEN
)
IPV6 = indicator(T.IPV6, "2001:DB8::1", 3)
CIDR6 = indicator(T.CIDR6, "2001:db8:0:0:1::/80", 4)
IDN = indicator(
    T.DOMAIN,
    "Bộ-Y-Tế.VN",
    5,
    malware=("emotet", "qakbot"),
    description='Trang giả mạo "Bộ Y tế" \\ lừa đảo?',
    classification_type="phishing",
)
URL = indicator(T.URL, 'hxxp://Evil[.]example/a\'b\\c?q="x"', 6, classification_type="phishing")
EMAIL = indicator(T.EMAIL, "O'Brien\\x@Example.COM", 7, classification_type="spam")
MD5 = indicator(T.MD5, "D41D8CD98F00B204E9800998ECF8427E", 8, expires_at=LAST + timedelta(30))
SHA1 = indicator(T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 9, confidence=None)
SHA256 = indicator(T.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 10)
FORMULA = indicator(
    T.FILENAME, '=1+1 o\'neil "x".exe', 11, tags=("=cmd", "a;b\\c"), description="'quoted"
)
PHONE = indicator(T.PHONE, "+84 90 123 4567", 12, classification_type="fraud", tlp=Tlp.RED)
ASN = indicator(T.ASN, "as13335", 13)
BRANDNAME = indicator(T.BRANDNAME, "Viettel", 14)
TRICKY = [
    IPV4,
    CIDR4,
    IPV6,
    CIDR6,
    IDN,
    URL,
    EMAIL,
    MD5,
    SHA1,
    SHA256,
    FORMULA,
    PHONE,
    ASN,
    BRANDNAME,
]


def export(
    name: str, indicators: Iterable[ExportedIndicator], **options: Any
) -> tuple[bytes, ExportSummary]:
    stream = io.BytesIO()
    summary = export_named(name).write(
        indicators, stream, options=replace(OPTIONS, **options) if options else OPTIONS
    )
    return stream.getvalue(), summary


def lines(name: str, indicators: list[ExportedIndicator], **options: Any) -> list[str]:
    return export(name, indicators, **options)[0].decode("utf-8").splitlines()


def test_the_tricky_values_are_the_canonical_ones() -> None:
    assert IDN.value == "xn--b-y-t-s61b7g.vn"
    assert URL.value == "http://evil.example/a'b%5Cc?q=%22x%22"
    assert EMAIL.value == "o'brien\\x@example.com"
    assert CIDR6.value == "2001:db8:0:0:1::/80"
    assert PHONE.value == "+84901234567"
    assert ASN.value == "AS13335"


# Registry


def test_every_format_is_registered_with_its_file_details() -> None:
    exports = registered_exports()
    assert tuple(exports) == ALL_FORMATS
    assert exports["stix2"].media_type == "application/stix+json;version=2.1"
    assert exports["misp-feed"].file_suffix == ".zip"
    assert exports["rpz"].media_type == "text/dns"
    for name, fmt in exports.items():
        assert fmt.name == name
        assert fmt.title
        assert fmt.file_suffix.startswith(".")


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(UnknownExportError, match="known formats: csv, fortigate"):
        export_named("pdf")


@pytest.mark.parametrize(
    ("name", "unsupported"),
    [
        ("csv", set()),
        ("plain", set()),
        ("stix2", {T.PHONE, T.BRANDNAME}),
        ("misp-feed", {T.BRANDNAME}),
        ("ipset", set(T) - {T.IPV4, T.IPV6, T.CIDR4, T.CIDR6}),
        ("nftables", set(T) - {T.IPV4, T.IPV6, T.CIDR4, T.CIDR6}),
        ("fortigate", set(T) - {T.IPV4, T.IPV6, T.CIDR4, T.CIDR6, T.DOMAIN}),
        ("rpz", set(T) - {T.IPV4, T.IPV6, T.CIDR4, T.CIDR6, T.DOMAIN, T.URL}),
    ],
)
def test_unsupported_types_are_skipped_and_counted(
    name: str, unsupported: set[IndicatorType]
) -> None:
    _, summary = export(name, TRICKY)
    assert summary.skipped == {f"{kind}: not supported by {name}": 1 for kind in unsupported}
    assert summary.written == len(TRICKY) - len(unsupported)
    assert set(summary.written_by_type) == {i.type for i in TRICKY} - unsupported


def test_types_option_leaves_the_others_out() -> None:
    _, summary = export("csv", TRICKY, types=frozenset({T.DOMAIN, T.URL}))
    assert summary.written == 2
    assert summary.skipped["ipv4: type not selected"] == 1
    assert summary.skipped_total == len(TRICKY) - 2


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_exports_are_deterministic(name: str) -> None:
    assert export(name, TRICKY)[0] == export(name, TRICKY)[0]


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_an_empty_export_is_still_a_valid_file(name: str) -> None:
    data, summary = export(name, [])
    assert summary.written == 0
    if name == "stix2":
        assert "objects" not in stix2.parse(data.decode(), version="2.1")
    if name == "rpz":
        zone = dns.zone.from_text(data.decode(), origin="rpz.garrison.invalid.")
        assert len(zone.nodes) == 1


# CSV


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for spreadsheet programs"
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames or ()) == HEADER
    return [{key: unprotect(cell) for key, cell in row.items()} for row in reader]


def test_csv_round_trips_every_value() -> None:
    data, summary = export("csv", TRICKY)
    rows = read_csv(data)
    assert summary.written == len(rows) == len(TRICKY)
    for row, record in zip(rows, TRICKY, strict=True):
        assert row["type"] == record.type.value
        assert row["value"] == record.value
        assert datetime.fromisoformat(row["first_seen"]) == FIRST.replace(microsecond=0)
        assert datetime.fromisoformat(row["last_seen"]) == LAST
        assert row["tlp"] == record.tlp.value
        assert split_list(row["malware"]) == record.malware
        assert split_list(row["tags"]) == record.tags
        assert split_list(row["sources"]) == record.sources
        assert row["classification"] == (record.classification_type or "")
        assert row["description"] == (record.description or "")
    assert rows[TRICKY.index(SHA1)]["confidence"] == ""
    assert rows[TRICKY.index(MD5)]["expires_at"] == "2024-06-15T23:59:59Z"
    assert split_list(rows[TRICKY.index(FORMULA)]["tags"]) == ("=cmd", "a;b\\c")


def test_csv_cells_never_start_a_formula() -> None:
    data, _ = export("csv", TRICKY)
    text = data.decode("utf-8-sig")
    assert '"\'=1+1 o\'neil ""x"".exe"' in text
    assert ",'+84901234567," in text
    assert ",'=cmd;a\\;b\\\\c," in text
    assert ",''quoted\r\n" in text
    for row in csv.reader(io.StringIO(text, newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


# STIX 2.1


def unescape(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal)


def stix_objects(data: bytes) -> dict[str, list[Any]]:
    bundle = stix2.parse(data.decode("utf-8"), allow_custom=False)
    objects: dict[str, list[Any]] = {}
    for stix in bundle.objects:
        objects.setdefault(stix.type, []).append(stix)
    return objects


EXPECTED_PATTERNS = {
    IPV4: "[ipv4-addr:value = '203.0.113.7']",
    CIDR4: "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    IPV6: "[ipv6-addr:value = '2001:db8::1']",
    CIDR6: "[ipv6-addr:value ISSUBSET '2001:db8:0:0:1::/80']",
    IDN: "[domain-name:value = 'xn--b-y-t-s61b7g.vn']",
    URL: "[url:value = 'http://evil.example/a\\'b%5Cc?q=%22x%22']",
    EMAIL: "[email-addr:value = 'o\\'brien\\\\x@example.com']",
    MD5: "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    SHA1: "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
    SHA256: "[file:hashes.'SHA-256' = "
    "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
    FORMULA: "[file:name = '=1+1 o\\'neil \"x\".exe']",
    ASN: "[autonomous-system:number = 13335]",
}


def test_stix_bundle_parses_with_exact_patterns() -> None:
    data, summary = export("stix2", TRICKY)
    objects = stix_objects(data)
    indicators = {stix.name: stix for stix in objects["indicator"]}
    assert summary.skipped == {
        "phone: not supported by stix2": 1,
        "brandname: not supported by stix2": 1,
    }
    assert len(indicators) == len(EXPECTED_PATTERNS)
    for record, pattern in EXPECTED_PATTERNS.items():
        stix = indicators[record.value]
        assert stix.pattern == pattern
        assert run_validator(stix.pattern) == []
        comparison = create_pattern_object(stix.pattern, version="2.1").operand
        if record.type is not T.ASN:
            assert unescape(comparison.rhs.value) == record.value
        assert stix.valid_from == FIRST.replace(microsecond=123000)
        assert stix.created == stix.valid_from
        assert stix.modified == LAST
        assert stix.object_marking_refs == [TLP_MARKINGS[record.tlp]]
    email = indicators[EMAIL.value]
    assert email.confidence == 80
    assert email.labels == ["botnet", "spam"]
    assert email.indicator_types == ["malicious-activity"]
    assert email.external_references[0].source_name == "vncert"
    assert indicators[CIDR4.value].indicator_types == ["compromised"]
    assert indicators[MD5.value].valid_until == datetime(2024, 6, 15, 23, 59, 59, tzinfo=UTC)
    assert "confidence" not in indicators[SHA1.value]
    assert indicators[IDN.value].description == IDN.description


def test_stix_bundle_carries_markings_families_and_relationships() -> None:
    data, _ = export("stix2", TRICKY)
    objects = stix_objects(data)
    markings = {stix.id: stix for stix in objects["marking-definition"]}
    assert set(markings) == {TLP_MARKINGS[Tlp.AMBER], TLP_MARKINGS[Tlp.GREEN]}
    amber = markings["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
    assert amber.name == "TLP:AMBER"
    assert (
        amber.extensions["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"]
        == "amber"
    )
    families = {stix.name: stix for stix in objects["malware"]}
    assert set(families) == {"emotet", "qakbot"}
    assert all(family.is_family for family in families.values())
    indicator_ids = {stix.name: stix.id for stix in objects["indicator"]}
    links = {(rel.source_ref, rel.target_ref) for rel in objects["relationship"]}
    assert {rel.relationship_type for rel in objects["relationship"]} == {"indicates"}
    assert links == {
        (indicator_ids[IPV4.value], families["emotet"].id),
        (indicator_ids[IDN.value], families["emotet"].id),
        (indicator_ids[IDN.value], families["qakbot"].id),
    }


def test_stix_ids_derive_from_the_stored_indicator() -> None:
    whole = stix_objects(export("stix2", TRICKY)[0])
    alone = stix_objects(export("stix2", [IDN])[0])
    assert alone["indicator"][0].id in {stix.id for stix in whole["indicator"]}
    moved = stix_objects(export("stix2", [replace(IDN, stable_id=str(uuid.UUID(int=99)))])[0])
    assert moved["indicator"][0].id != alone["indicator"][0].id
    assert len({stix.id for stix in whole["indicator"]}) == len(whole["indicator"])
    assert json.loads(export("stix2", [IDN])[0])["id"] != json.loads(export("stix2", [])[0])["id"]


def test_stix_skips_an_indicator_that_expires_before_it_starts() -> None:
    expired = replace(IPV4, expires_at=FIRST - timedelta(days=1))
    data, summary = export("stix2", [expired, IPV6])
    assert summary.skipped == {"ipv4: expires before it was first seen": 1}
    assert [stix.name for stix in stix_objects(data)["indicator"]] == [IPV6.value]


# MISP feed


def read_feed(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_misp_feed_has_the_layout_of_misps_sample_feed(shared_data: Path) -> None:
    sample_dir = shared_data / "misp" / "feed"
    sample_manifest = json.loads((sample_dir / "manifest.json").read_text())
    (sample_uuid, sample_entry) = next(iter(sample_manifest.items()))
    sample_event = json.loads((sample_dir / f"{sample_uuid}.json").read_text())["Event"]

    data, summary = export("misp-feed", TRICKY)
    files = read_feed(data)
    manifest = json.loads(files["manifest.json"])
    (event_uuid, entry) = next(iter(manifest.items()))
    assert set(files) == {"manifest.json", "hashes.csv", f"{event_uuid}.json"}
    assert set(entry) == set(sample_entry)
    assert set(entry["Orgc"]) == set(sample_entry["Orgc"]) == {"name", "uuid"}
    assert set(entry["Tag"][0]) == set(sample_entry["Tag"][0])
    assert entry["info"] == "Garrison indicator export"
    assert entry["date"] == "2024-05-17"
    assert entry["timestamp"] == int(MOMENT.timestamp())

    event = json.loads(files[f"{event_uuid}.json"])["Event"]
    assert set(sample_event) <= set(event)
    assert event["uuid"] == event_uuid
    assert len(event["Attribute"]) == summary.written == len(TRICKY) - 1
    for attribute in event["Attribute"]:
        assert set(sample_event["Attribute"][0]) <= set(attribute)
        assert attribute["to_ids"] is True
    assert summary.skipped == {"brandname: not supported by misp-feed": 1}
    assert event["Tag"] == entry["Tag"]
    assert event["Tag"][0]["name"] == "tlp:red"  # the most restrictive attribute's


def test_misp_attributes_map_types_and_carry_tags_and_times() -> None:
    files = read_feed(export("misp-feed", TRICKY)[0])
    event_uuid = next(iter(json.loads(files["manifest.json"])))
    attributes = json.loads(files[f"{event_uuid}.json"])["Event"]["Attribute"]
    by_value = {attribute["value"]: attribute for attribute in attributes}
    assert by_value["203.0.113.7"]["type"] == "ip-dst"  # c2-server
    assert by_value["198.51.100.0/24"]["type"] == "ip-src"  # infected-system
    assert by_value[IDN.value]["type"] == "domain"
    assert by_value[EMAIL.value]["type"] == "email-src"
    assert by_value[EMAIL.value]["category"] == "Payload delivery"
    assert by_value["13335"]["type"] == "AS"
    assert by_value[PHONE.value]["type"] == "phone-number"
    assert by_value[PHONE.value]["category"] == "Person"
    assert by_value[SHA256.value]["type"] == "sha256"
    assert by_value[FORMULA.value]["type"] == "filename"
    tags = [tag["name"] for tag in by_value[FORMULA.value]["Tag"]]
    assert tags == ["tlp:amber", "=cmd", "a;b\\c"]
    assert by_value["198.51.100.0/24"]["Tag"][0] == {
        "colour": "#339900",
        "local": "0",
        "name": "tlp:green",
        "relationship_type": "",
    }
    idn = by_value[IDN.value]
    assert idn["first_seen"] == "2024-03-01T12:00:00.123456+00:00"
    assert idn["last_seen"] == "2024-05-16T23:59:59.000000+00:00"
    assert idn["timestamp"] == str(int(LAST.timestamp()))
    assert idn["comment"] == (
        'phishing; malware emotet, qakbot; source vncert; Trang giả mạo "Bộ Y tế" \\ lừa đảo?'
    )
    assert idn["uuid"] == str(uuid.UUID(idn["uuid"]))


def test_misp_hashes_csv_holds_the_md5_of_each_value() -> None:
    files = read_feed(export("misp-feed", TRICKY)[0])
    event_uuid = next(iter(json.loads(files["manifest.json"])))
    attributes = json.loads(files[f"{event_uuid}.json"])["Event"]["Attribute"]
    expected = [
        f"{hashlib.md5(attribute['value'].encode()).hexdigest()},{event_uuid}"
        for attribute in attributes
    ]
    assert files["hashes.csv"].decode("ascii").splitlines() == expected
    assert expected[0] == f"{hashlib.md5(b'203.0.113.7').hexdigest()},{event_uuid}"


def test_misp_feed_directory_keeps_no_partial_file_on_failure(tmp_path: Path) -> None:
    def failing() -> Iterator[ExportedIndicator]:
        yield IPV4
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        export("misp-feed", failing(), directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_misp_feed_into_a_directory(tmp_path: Path) -> None:
    zipped = read_feed(export("misp-feed", TRICKY)[0])
    data, summary = export("misp-feed", TRICKY, directory=tmp_path / "feed")
    assert data == b""
    written = {path.name: path.read_bytes() for path in (tmp_path / "feed").iterdir()}
    assert written == zipped
    assert summary.written == len(TRICKY) - 1


def test_misp_event_uuid_is_stable_or_chosen() -> None:
    first = read_feed(export("misp-feed", [IPV4])[0])
    second = read_feed(export("misp-feed", [IPV6], generated_at=MOMENT + timedelta(1))[0])
    assert json.loads(first["manifest.json"]).keys() == json.loads(second["manifest.json"]).keys()
    chosen = "5d1a5c2e-0b1c-4a8e-9f6a-2f1b0c9d8e7f"
    files = read_feed(export("misp-feed", [IPV4], event_uuid=chosen)[0])
    assert f"{chosen}.json" in files
    with pytest.raises(InvalidExportOption, match="not a uuid"):
        export("misp-feed", [IPV4], event_uuid="event-1")


# Plain list


def test_plain_lists_one_value_per_line() -> None:
    assert lines("plain", TRICKY, types=frozenset({T.DOMAIN, T.URL, T.PHONE})) == [
        IDN.value,
        URL.value,
        "+84901234567",
    ]


def test_plain_skips_a_value_spanning_lines() -> None:
    broken = [indicator(T.FILENAME, "invoice\n.exe", 20), indicator(T.FILENAME, "a\u2028b", 21)]
    data, summary = export("plain", [*broken, MD5])
    assert data.decode() == MD5.value + "\n"
    assert summary.skipped == {"filename: value spans lines or has control characters": 2}


# ipset


def test_ipset_restore_file_line_by_line() -> None:
    everything = [IPV4, CIDR4, IPV6, CIDR6, indicator(T.CIDR4, "0.0.0.0/0", 30), IDN]
    output, summary = export("ipset", everything)
    assert output.decode().splitlines() == [
        "create garrison_blocklist_v4 hash:net family inet maxelem 1048576 -exist",
        "create garrison_blocklist_v4_new hash:net family inet maxelem 1048576 -exist",
        "flush garrison_blocklist_v4_new",
        "create garrison_blocklist_v6 hash:net family inet6 maxelem 1048576 -exist",
        "create garrison_blocklist_v6_new hash:net family inet6 maxelem 1048576 -exist",
        "flush garrison_blocklist_v6_new",
        "add garrison_blocklist_v4_new 203.0.113.7 -exist",
        "add garrison_blocklist_v4_new 198.51.100.0/24 -exist",
        "add garrison_blocklist_v6_new 2001:db8::1 -exist",
        "add garrison_blocklist_v6_new 2001:db8:0:0:1::/80 -exist",
        "swap garrison_blocklist_v4_new garrison_blocklist_v4",
        "swap garrison_blocklist_v6_new garrison_blocklist_v6",
        "destroy garrison_blocklist_v4_new",
        "destroy garrison_blocklist_v6_new",
    ]
    assert summary.skipped == {
        "cidr4: hash:net cannot hold a /0 network": 1,
        "domain: not supported by ipset": 1,
    }


def test_ipset_set_size_and_names() -> None:
    output, summary = export("ipset", [IPV4, CIDR4, IPV6], set_size=1, set_name="c2")
    assert "add garrison_c2_v4_new 198.51.100.0/24 -exist" not in output.decode().splitlines()
    assert "create garrison_c2_v6 hash:net family inet6 maxelem 1 -exist" in output.decode()
    assert summary.skipped == {"cidr4: set full (set_size 1)": 1}
    with pytest.raises(InvalidExportOption, match="longer than 27"):
        export("ipset", [IPV4], set_name="a-very-long-blocklist-name")
    with pytest.raises(InvalidExportOption, match="must start with a letter"):
        export("ipset", [IPV4], set_name="c2 servers")


# nftables


def test_nftables_script_line_by_line() -> None:
    more = [IPV4, CIDR4, IPV6, indicator(T.IPV4, "192.0.2.1", 31), CIDR6]
    assert lines("nftables", more, chunk_size=2) == [
        "#!/usr/sbin/nft -f",
        "# Garrison indicator export, generated 2024-05-17T08:30:00Z",
        "table inet garrison {",
        "\tset blocklist_v4 {",
        "\t\ttype ipv4_addr",
        "\t\tflags interval",
        "\t\tauto-merge",
        "\t}",
        "\tset blocklist_v6 {",
        "\t\ttype ipv6_addr",
        "\t\tflags interval",
        "\t\tauto-merge",
        "\t}",
        "}",
        "flush set inet garrison blocklist_v4",
        "flush set inet garrison blocklist_v6",
        "add element inet garrison blocklist_v4 { 203.0.113.7, 198.51.100.0/24 }",
        "add element inet garrison blocklist_v6 { 2001:db8::1, 2001:db8:0:0:1::/80 }",
        "add element inet garrison blocklist_v4 { 192.0.2.1 }",
    ]


def test_nftables_rejects_unsafe_names() -> None:
    with pytest.raises(InvalidExportOption, match="nftables table"):
        export("nftables", [IPV4], namespace="garrison; flush ruleset")
    with pytest.raises(InvalidExportOption, match="chunk size"):
        export("nftables", [IPV4], chunk_size=0)


# FortiGate


def test_fortigate_script_addresses_and_groups() -> None:
    records = [IPV4, CIDR4, IDN, IPV6, CIDR6]
    assert lines("fortigate", records, group_size=2) == [
        "config firewall address",
        '    edit "garrison-1"',
        "        set type ipmask",
        "        set subnet 203.0.113.7 255.255.255.255",
        '        set comment "c2-server; malware emotet; source vncert"',
        "    next",
        '    edit "garrison-2"',
        "        set type ipmask",
        "        set subnet 198.51.100.0 255.255.255.0",
        '        set comment "infected-system; source vncert"',
        "    next",
        "end",
        "config firewall addrgrp",
        '    edit "garrison-blocklist-1"',
        '        set member "garrison-1" "garrison-2"',
        "    next",
        "end",
        "config firewall address6",
        '    edit "garrison6-1"',
        "        set type ipprefix",
        "        set ip6 2001:db8::1/128",
        '        set comment "c2-server; source vncert"',
        "    next",
        '    edit "garrison6-2"',
        "        set type ipprefix",
        "        set ip6 2001:db8:0:0:1::/80",
        '        set comment "c2-server; source vncert"',
        "    next",
        "end",
        "config firewall addrgrp6",
        '    edit "garrison-blocklist6-1"',
        '        set member "garrison6-1" "garrison6-2"',
        "    next",
        "end",
        "config firewall address",
        '    edit "garrison-3"',
        "        set type fqdn",
        '        set fqdn "xn--b-y-t-s61b7g.vn"',
        '        set comment "phishing; malware emotet, qakbot; source vncert; '
        'Trang giả mạo \\"Bộ Y tế\\" \\\\ lừa đảo"',
        "    next",
        "end",
        "config firewall addrgrp",
        '    edit "garrison-blocklist-2"',
        '        set member "garrison-3"',
        "    next",
        "end",
    ]


def test_fortigate_member_lines_stay_short() -> None:
    records = [indicator(T.IPV4, f"192.0.2.{n}", 100 + n) for n in range(1, 121)]
    output = lines("fortigate", records)
    members = [line.strip() for line in output if "member" in line]
    assert [line.split()[0] for line in members] == ["set", "append", "append"]
    assert [len(line.split()) - 2 for line in members] == [50, 50, 20]
    assert members[2].endswith('"garrison-120"')
    names = [line.split('"')[1] for line in output if line.strip().startswith("edit")]
    assert all(len(name) <= 79 for name in names)


def test_fortigate_names_fit_79_characters() -> None:
    with pytest.raises(InvalidExportOption, match="longer than 67"):
        export("fortigate", [IPV4], set_name="b" * 60)
    with pytest.raises(InvalidExportOption, match="group size"):
        export("fortigate", [IPV4], group_size=0)


# RPZ


def rpz_zone(data: bytes, zone: str = "rpz.garrison.invalid.") -> dns.zone.Zone:
    return dns.zone.from_text(data.decode("utf-8"), origin=zone, relativize=True)


def cname(zone: dns.zone.Zone, owner: str) -> str:
    rdataset = zone.get_rdataset(owner, dns.rdatatype.CNAME)
    assert rdataset is not None, f"no CNAME at {owner}"
    assert len(rdataset) == 1
    return str(next(iter(rdataset)).target)


def test_rpz_zone_parses_with_dnspython() -> None:
    data, summary = export("rpz", TRICKY)
    zone = rpz_zone(data)
    soa = next(iter(zone.get_rdataset("@", dns.rdatatype.SOA)))
    assert soa.serial == int(MOMENT.timestamp())
    assert str(soa.mname) == "localhost." and soa.minimum == 300
    assert [str(ns.target) for ns in zone.get_rdataset("@", dns.rdatatype.NS)] == ["localhost."]
    expected_owners = {
        "32.7.113.0.203.rpz-ip",
        "24.0.100.51.198.rpz-ip",
        "128.1.zz.db8.2001.rpz-ip",
        "80.zz.1.0.0.db8.2001.rpz-ip",
        "xn--b-y-t-s61b7g.vn",
        "*.xn--b-y-t-s61b7g.vn",
        "evil.example",
        "*.evil.example",
    }
    owners = {str(name) for name in zone.nodes} - {"@"}
    assert owners == expected_owners
    assert all(cname(zone, owner) == "." for owner in expected_owners)
    assert summary.written == 6
    text = data.decode()
    assert "; phishing; malware emotet, qakbot; source vncert; Trang giả mạo" in text


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ("1.2.3.4", "32.4.3.2.1.rpz-ip"),
        ("10.0.0.0/8", "8.0.0.0.10.rpz-ip"),
        ("2001:db8::/32", "32.zz.db8.2001.rpz-ip"),
        ("::1", "128.1.zz.rpz-ip"),
        ("2001:db8::", "128.zz.db8.2001.rpz-ip"),
        ("2001:db8:0:0:1:0:0:1", "128.1.0.0.1.zz.db8.2001.rpz-ip"),  # first run of equals
        ("2001:db8:0:1:0:0:0:1", "128.1.zz.1.0.db8.2001.rpz-ip"),  # longest run
        ("2001:db8:1:0:2:3:4:5", "128.5.4.3.2.0.1.db8.2001.rpz-ip"),  # one zero: no zz
        ("::ffff:1.2.3.4", "128.304.102.ffff.zz.rpz-ip"),
    ],
)
def test_rpz_ip_trigger_names(value: str, owner: str) -> None:
    assert rpz_ip_name(value) == owner


@pytest.mark.parametrize(
    ("policy", "target"),
    [
        (RpzPolicy.NXDOMAIN, "."),
        (RpzPolicy.NODATA, "*."),
        (RpzPolicy.DROP, "rpz-drop."),
        (RpzPolicy.WALLED_GARDEN, "walled.example."),
    ],
)
def test_rpz_policies(policy: RpzPolicy, target: str) -> None:
    data, _ = export("rpz", [IDN, IPV4], policy=policy, walled_garden="Walled.Example.")
    zone = rpz_zone(data)
    assert cname(zone, IDN.value) == target
    assert cname(zone, "32.7.113.0.203.rpz-ip") == target


def test_rpz_options() -> None:
    data, _ = export(
        "rpz",
        [IDN],
        zone="rpz.vnpt.vn",
        nameserver="ns1.vnpt.vn",
        wildcard=False,
        serial="date",
        ttl=60,
    )
    zone = rpz_zone(data, "rpz.vnpt.vn.")
    assert {str(name) for name in zone.nodes} == {"@", IDN.value}
    soa = next(iter(zone.get_rdataset("@", dns.rdatatype.SOA)))
    assert (soa.serial, str(soa.mname), soa.minimum) == (2024051708, "ns1.vnpt.vn.", 60)
    assert "$TTL 60\n" in data.decode()
    with pytest.raises(InvalidExportOption, match="walled garden host"):
        export("rpz", [IDN], policy=RpzPolicy.WALLED_GARDEN)
    with pytest.raises(InvalidExportOption, match="not a DNS name"):
        export("rpz", [IDN], zone="rpz zone")


def test_rpz_skips_what_it_cannot_express() -> None:
    long_domain = ".".join(["a" * 60] * 4) + ".vn"
    records = [
        indicator(T.DOMAIN, "evil.rpz-ip", 40),
        indicator(T.URL, "http://203.0.113.9:8080/panel", 41),
        indicator(T.URL, "http://[2001:db8::9]/panel", 42),
        indicator(T.CIDR6, "::/0", 43),
        indicator(T.DOMAIN, long_domain, 44),
        IDN,
    ]
    data, summary = export("rpz", records)
    assert summary.skipped == {
        "domain: ends in an RPZ trigger label": 1,
        "url: URL host is an IP address": 2,
        "cidr6: a /0 network has no response-IP trigger": 1,
        "domain: name too long under the zone": 1,
    }
    assert summary.written == 1
    assert {str(name) for name in rpz_zone(data).nodes} == {"@", IDN.value, f"*.{IDN.value}"}


def test_rpz_writes_a_url_host_once() -> None:
    pages = [indicator(T.URL, f"http://evil.example/page{n}", 50 + n) for n in range(3)]
    data, summary = export("rpz", [*pages, URL])
    assert summary.written == 4
    assert data.decode().count("\nevil.example CNAME .\n") == 1


# Streaming


def many_records(count: int, trace_from: int | None = None) -> Iterator[ExportedIndicator]:
    """Distinct indicators of the network and name types, made one at a time; memory tracing
    starts when record `trace_from` is made."""
    for number in range(count):
        if number == trace_from:
            tracemalloc.start()
        kind = number % 4
        if kind == 0:
            value, of_type = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}", T.IPV4
        elif kind == 1:
            value, of_type = f"host{number}.example.com", T.DOMAIN
        elif kind == 2:
            value, of_type = f"http://site{number}.example.net/p/{number}", T.URL
        else:
            value, of_type = f"2001:db8::{number >> 16:x}:{number & 0xFFFF:x}", T.IPV6
        yield ExportedIndicator(
            of_type,
            value,
            FIRST,
            LAST,
            Tlp.GREEN,
            50,
            ("botnet",),
            (f"family{number % 7}",) if number % 10 == 0 else (),
            ("vncert",),
            "c2-server",
            None,
            None,
            str(uuid.UUID(int=number)),
        )


class Discard(io.RawIOBase):
    """A write-only stream that keeps nothing, so only the exporter's memory is measured."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


STREAMED = 50_000
TRACED = 25_000


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_exports_stream_in_bounded_memory(name: str) -> None:
    """50,000 indicators go through; over the last 25,000 (traced: tracing every allocation
    of the whole run would take minutes) the memory held stays under 1.5 MiB, which covers the
    formats' bounded buffers (a FortiGate group's pending entries, the RPZ recent-host cache)
    while 64 bytes kept per indicator would already exceed it."""
    sink = Discard()
    records = many_records(STREAMED, trace_from=STREAMED - TRACED)
    try:
        summary = export_named(name).write(records, sink, options=OPTIONS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert summary.written + summary.skipped_total == STREAMED
    assert summary.written >= STREAMED // 2
    assert sink.size > STREAMED * 5
    assert 0 < peak < 1536 * 1024, f"{name} held {peak} bytes at its peak"

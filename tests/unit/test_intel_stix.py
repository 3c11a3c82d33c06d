"""STIX 2.1 bundles: every shared sample, pattern comparisons, markings, sightings, bad input."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem, detect_format
from garrison.intel.formats.stix2_bundle import FORMAT, InvalidPattern, read_pattern
from garrison.intel.types import IndicatorType, Tlp

STAMP = "2024-03-01T08:00:00.000Z"
MD5 = "001dd76872d80801692ff942308c64e6"
SHA1 = "c79a326f8411e9488bdc3779753e1e3489aaedea"
SHA256 = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


def parse(path: Path) -> list[ParsedItem]:
    return list(FORMAT.parse(FeedDocument.from_path(path)))


def events(items: list[ParsedItem]) -> list[IntelEvent]:
    return [item for item in items if isinstance(item, IntelEvent)]


def problems(items: list[ParsedItem]) -> list[RowProblem]:
    return [item for item in items if isinstance(item, RowProblem)]


def sample(shared_data: Path, name: str) -> list[ParsedItem]:
    return parse(shared_data / "stix" / name)


def object_id(kind: str, seed: str) -> str:
    """A stable random-style (version 4) UUID, as STIX 2.0 requires."""
    return f"{kind}--{uuid.UUID(int=uuid.uuid5(uuid.NAMESPACE_URL, seed).int, version=4)}"


def indicator(pattern: str, seed: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id("indicator", seed or pattern),
        "created": STAMP,
        "modified": STAMP,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
        **fields,
    }


def bundle_file(tmp_path: Path, objects: list[Any], **fields: Any) -> Path:
    path = tmp_path / "bundle.json"
    document = {"type": "bundle", "id": object_id("bundle", "test"), "objects": objects}
    document.update(fields)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def parse_objects(tmp_path: Path, *objects: Any) -> list[ParsedItem]:
    return parse(bundle_file(tmp_path, list(objects)))


# --- the shared samples ---------------------------------------------------------------------


def test_c2_ip_address_indicator(shared_data: Path) -> None:
    items = sample(shared_data, "indicator-for-c2-ip-address.json")
    assert problems(items) == []
    (event,) = events(items)
    assert event.indicator_type is IndicatorType.IPV4
    assert event.value == "10.0.0.0"
    assert event.feed_name == "stix2"
    assert event.line == 9
    assert event.time_source == datetime(2014, 5, 8, 9, 0, tzinfo=UTC)
    assert event.tags == ("malicious-activity",)
    assert event.tlp is None
    assert event.description == "IP Address for known C2 channel"
    assert event.extra["stix_id"] == "indicator--33fe3b22-0201-47cf-85d0-97c02164528d"
    assert event.extra["pattern"] == "[ipv4-addr:value = '10.0.0.0']"
    assert "pattern_group" not in event.extra
    assert json.loads(event.raw)["valid_from"] == "2014-05-08T09:00:00.000000Z"
    assert event.harmonised()["source.ip"] == "10.0.0.0"


def test_c2_indicators_take_the_malware_they_indicate(shared_data: Path) -> None:
    items = sample(shared_data, "indicators-for-C2-with-COA.json")
    assert problems(items) == []
    address, digest = events(items)
    assert (address.indicator_type, address.value) == (IndicatorType.IPV4, "10.0.0.0")
    assert address.malware_name == "poison ivy"
    assert (address.classification_taxonomy, address.classification_type) == (
        "malicious-code",
        "c2-server",
    )
    assert digest.indicator_type is IndicatorType.SHA256
    assert digest.value == "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"
    assert digest.malware_name == "poison ivy"
    assert digest.classification_taxonomy == "malicious-code"
    assert digest.classification_type is None
    assert digest.extra["created_by"] == "The MITRE Corporation - DHS Support Team"


def test_infrastructure_scos_are_events_classified_by_their_infrastructure(
    shared_data: Path,
) -> None:
    items = sample(shared_data, "infrastructure.json")
    assert problems(items) == []
    address, domain = events(items)
    assert (address.indicator_type, address.value) == (IndicatorType.IPV4, "198.51.100.3")
    assert address.classification_type == "c2-server"
    assert address.malware_name == "poison ivy"
    assert address.extra["infrastructure"] == ["Poison Ivy C2"]
    assert address.extra["stix_id"] == "ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956"
    assert (domain.indicator_type, domain.value) == (IndicatorType.DOMAIN, "example.com")
    assert domain.malware_name == "imddos"
    assert (domain.classification_taxonomy, domain.classification_type) == (
        "malicious-code",
        "malware-configuration",
    )


def test_apt1_report(shared_data: Path) -> None:
    items = sample(shared_data, "apt1.json")
    found = events(items)
    kinds = [event.indicator_type for event in found]
    assert kinds.count(IndicatorType.CIDR4) == 4
    assert kinds.count(IndicatorType.DOMAIN) == 3
    assert kinds.count(IndicatorType.MD5) == 3
    assert len(found) == 10
    networks = {event.value: event for event in found if event.indicator_type.is_network}
    assert set(networks) == {"223.166.0.0/15", "58.246.0.0/15", "112.64.0.0/15", "139.226.0.0/15"}
    assert networks["58.246.0.0/15"].malware_name == "huc packet transmit tool (htran)"
    domains = {
        event.value: event for event in found if event.indicator_type is IndicatorType.DOMAIN
    }
    assert set(domains) == {"hugesoft.org", "arrowservice.net", "msnhome.org"}
    assert domains["hugesoft.org"].extra["attributed_to"] == ["Ugly Gorilla"]
    assert domains["hugesoft.org"].malware_name is None
    md5s = [event.value for event in found if event.indicator_type is IndicatorType.MD5]
    assert md5s[0] == "001dd76872d80801692ff942308c64e6"
    # the two x509 certificate indicators: each comparison reported, naming the indicator
    reported = problems(items)
    assert len(reported) == 4
    assert all(problem.column == "pattern" for problem in reported)
    assert reported[0].reason.startswith("indicator--b3b6b540-d838-41e2-853b-005056c00008: ")
    assert "unsupported: x509-certificate:issuer = 'CN=WEBMAIL'" in reported[0].reason
    assert reported[0].row == 363
    assert str(reported[0]).startswith("apt1.json, row 363, column 'pattern': ")


def test_sighting_of_an_indicator_counts_on_its_events(shared_data: Path) -> None:
    items = sample(shared_data, "sighting-of-an-indicator.json")
    assert problems(items) == []
    (event,) = events(items)
    assert (event.indicator_type, event.value) == (IndicatorType.URL, "http://paypa1.banking.com")
    assert event.count == 1
    assert event.last_seen == datetime(2017, 2, 27, 21, 37, 11, 214000, tzinfo=UTC)
    assert event.extra["sightings"] == {
        "count": 1,
        "first_seen": "2017-02-27T21:37:11.213000+00:00",
        "last_seen": "2017-02-27T21:37:11.214000+00:00",
    }
    assert event.extra["created_by"] == "Alpha Threat Analysis Org."


def test_sighting_of_observed_data_gives_the_files_and_the_malware(shared_data: Path) -> None:
    items = sample(shared_data, "sighting-of-observed-data.json")
    md5, sha1 = events(items)
    assert (md5.indicator_type, md5.value) == (
        IndicatorType.MD5,
        "1717b7fff97d37a1e1a0029d83492de1",
    )
    assert (sha1.indicator_type, sha1.value) == (
        IndicatorType.SHA1,
        "c79a326f8411e9488bdc3779753e1e3489aaedea",
    )
    for event in (md5, sha1):
        assert event.extra["filename"] == "resume.pdf"
        assert event.malware_name == "online job site trojan"
        assert event.time_source == datetime(2017, 2, 27, 21, 37, 11, 213000, tzinfo=UTC)
        assert event.count == 1
        assert event.extra["observed_data"] == [
            "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1"
        ]
    (skipped,) = problems(items)
    assert skipped.reason == (
        "1 windows-registry-key object(s) not imported: Garrison has no indicator type for them"
    )


def test_tlp_1_marking_definition(shared_data: Path) -> None:
    items = sample(shared_data, "using-marking-definitions.json")
    (event,) = events(items)
    assert event.tlp is Tlp.AMBER
    assert event.extra["created_by"] == "Stark Industries"


def test_tlp_2_marking_object_alone_gives_nothing(shared_data: Path) -> None:
    assert sample(shared_data, "tlp2-amber-marking.json") == []


def test_tlp_2_marking_object_marks_an_indicator(shared_data: Path, tmp_path: Path) -> None:
    marking = json.loads((shared_data / "stix" / "tlp2-amber-marking.json").read_text())["objects"][
        0
    ]
    custom = dict(marking, id=object_id("marking-definition", "local"), name="Local marking")
    custom["extensions"] = json.loads(
        json.dumps(marking["extensions"]).replace('"amber"', '"amber+strict"')
    )
    marked = indicator("[domain-name:value = 'amber.example']", object_marking_refs=[marking["id"]])
    strict = indicator("[domain-name:value = 'strict.example']", object_marking_refs=[custom["id"]])
    amber, amber_strict = events(parse_objects(tmp_path, marking, custom, marked, strict))
    assert amber.tlp is Tlp.AMBER
    assert amber_strict.tlp is Tlp.AMBER_STRICT


@pytest.mark.parametrize(
    ("marking", "tlp"),
    [
        ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp.CLEAR),
        ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp.GREEN),
        ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp.AMBER),
        ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp.AMBER_STRICT),
        ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp.RED),
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp.CLEAR),
        ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp.GREEN),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp.RED),
    ],
)
def test_standard_tlp_ids_need_no_definition(tmp_path: Path, marking: str, tlp: Tlp) -> None:
    marked = indicator("[ipv4-addr:value = '203.0.113.9']", object_marking_refs=[marking])
    (event,) = events(parse_objects(tmp_path, marked))
    assert event.tlp is tlp


def test_granular_markings_count_and_the_most_restrictive_wins(tmp_path: Path) -> None:
    marked = indicator(
        "[ipv4-addr:value = '203.0.113.9']",
        object_marking_refs=["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        granular_markings=[
            {
                "marking_ref": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
                "selectors": ["description"],
            }
        ],
        description="internal note",
    )
    (event,) = events(parse_objects(tmp_path, marked))
    assert event.tlp is Tlp.RED


def test_invalid_sample_is_rejected_naming_file_object_and_field(shared_data: Path) -> None:
    with pytest.raises(InputError) as caught:
        sample(shared_data, "invalid/using-tlp2.0-green.json")
    bundle, relationship = caught.value.problems
    assert bundle.file == "using-tlp2.0-green.json"
    assert bundle.column == "type"
    assert 'it has no "type" (must be "bundle")' in bundle.reason
    assert relationship.reason.startswith("relationship--1621d4d4-b67d-11e3-9670-f01faf20d111: ")
    assert relationship.column == "created"
    assert relationship.row == 23
    assert "using-tlp2.0-green.json" in str(caught.value)


def test_a_document_that_is_not_json_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"type": "bundle",\n "objects": [\n  {"type": "indicator",,}\n]}')
    with pytest.raises(InputError) as caught:
        parse(path)
    (problem,) = caught.value.problems
    assert problem.row == 3
    assert "is not valid JSON" in problem.reason


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "the document is a JSON list"),
        ({"type": "report", "objects": []}, 'it has "report" as "type"'),
        ({"type": "bundle", "objects": {}}, '"objects" is not a list'),
        ({"type": "bundle", "spec_version": "1.2", "objects": []}, "'1.2' is not STIX 2.0"),
    ],
)
def test_documents_that_are_not_bundles(tmp_path: Path, document: Any, reason: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as caught:
        parse(path)
    assert reason in str(caught.value)


def test_a_bad_object_is_a_problem_and_the_rest_still_imports(tmp_path: Path) -> None:
    good = indicator("[domain-name:value = 'good.example']")
    bad = indicator("[domain-name:value = 'bad.example']", seed="bad")
    del bad["pattern_type"]
    items = parse_objects(tmp_path, bad, "not an object", good)
    (event,) = events(items)
    assert event.value == "good.example"
    missing, not_object = problems(items)
    assert missing.reason.startswith(f"{bad['id']}: No values for required properties")
    assert "pattern_type" in missing.reason
    assert missing.row is not None
    assert not_object.reason == "objects[1] is str, not a STIX object"


# --- patterns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [(IndicatorType.IPV4, "198.51.100.7")]),
        ("[ipv4-addr:value = '198.51.100.0/24']", [(IndicatorType.CIDR4, "198.51.100.0/24")]),
        (
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            [(IndicatorType.CIDR4, "198.51.100.0/24")],
        ),
        ("[ipv6-addr:value = '2001:db8::1']", [(IndicatorType.IPV6, "2001:db8::1")]),
        ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", [(IndicatorType.CIDR6, "2001:db8::/32")]),
        ("[domain-name:value = 'evil.example']", [(IndicatorType.DOMAIN, "evil.example")]),
        (
            "[url:value = 'http://evil.example/a?b=c']",
            [(IndicatorType.URL, "http://evil.example/a?b=c")],
        ),
        ("[email-addr:value = 'ceo@evil.example']", [(IndicatorType.EMAIL, "ceo@evil.example")]),
        (f"[file:hashes.MD5 = '{MD5}']", [(IndicatorType.MD5, MD5)]),
        (f"[file:hashes.md5 = '{MD5}']", [(IndicatorType.MD5, MD5)]),
        (f"[file:hashes.'SHA-1' = '{SHA1}']", [(IndicatorType.SHA1, SHA1)]),
        (f"[file:hashes.'SHA-256' = '{SHA256}']", [(IndicatorType.SHA256, SHA256)]),
        (
            "[file:name = 'it\\'s a \\\\ trap.exe']",
            [(IndicatorType.FILENAME, "it's a \\ trap.exe")],
        ),
        ("[autonomous-system:number = 64500]", [(IndicatorType.ASN, "64500")]),
        (
            "[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]",
            [(IndicatorType.IPV4, "198.51.100.1"), (IndicatorType.IPV4, "198.51.100.2")],
        ),
    ],
)
def test_supported_comparisons(
    tmp_path: Path, pattern: str, expected: list[tuple[IndicatorType, str]]
) -> None:
    items = parse_objects(tmp_path, indicator(pattern))
    assert problems(items) == []
    assert [(event.indicator_type, event.value) for event in events(items)] == expected


def test_or_gives_separate_events_and_and_groups_them(tmp_path: Path) -> None:
    either = indicator("[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'a.example']")
    both = indicator(
        "([ipv4-addr:value = '198.51.100.2'] AND [url:value = 'http://b.example/x']) "
        "OR [domain-name:value = 'c.example']"
    )
    found = events(parse_objects(tmp_path, either, both))
    assert [event.value for event in found] == [
        "198.51.100.1",
        "a.example",
        "198.51.100.2",
        "http://b.example/x",
        "c.example",
    ]
    assert not any("pattern_group" in event.extra for event in found[:2])
    assert found[2].extra["pattern_group"] == found[3].extra["pattern_group"] == f"{both['id']}#1"
    assert "pattern_group" not in found[4].extra
    assert all(event.extra["pattern"] == both["pattern"] for event in found[2:])
    assert found[3].extra["comparison"] == "url:value = 'http://b.example/x'"


def test_and_within_one_observation_shares_a_group(tmp_path: Path) -> None:
    pattern = f"[file:hashes.MD5 = '{MD5}' AND file:name = 'svchost.exe']"
    digest, name = events(parse_objects(tmp_path, indicator(pattern)))
    assert (digest.indicator_type, name.indicator_type) == (
        IndicatorType.MD5,
        IndicatorType.FILENAME,
    )
    assert digest.extra["pattern_group"] == name.extra["pattern_group"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (
            f"[file:hashes.MD5 = '{MD5}'] AND [file:name MATCHES '^inv']",
            "unsupported: file:name MATCHES '^inv' (operator MATCHES)",
        ),
        (
            f"[file:hashes.MD5 = '{MD5}' OR domain-name:value LIKE '%.evil']",
            None,
        ),
        (
            f"[file:hashes.MD5 = '{MD5}'] WITHIN 300 SECONDS",
            "unsupported: qualifier WITHIN 300 SECONDS",
        ),
        (
            f"([file:hashes.MD5 = '{MD5}']) REPEATS 5 TIMES",
            "unsupported: qualifier REPEATS 5 TIMES",
        ),
        (
            f"[file:hashes.MD5 = '{MD5}'] OR [network-traffic:dst_ref.value = '198.51.100.3']",
            "unsupported: network-traffic:dst_ref.value = '198.51.100.3' (no indicator type",
        ),
        (
            f"[file:hashes.MD5 = '{MD5}'] OR [ipv4-addr:value != '198.51.100.3']",
            "(operator NOT =)",
        ),
        (
            f"[file:hashes.MD5 = '{MD5}'] OR [file:hashes.'SHA-512' = '{'ab' * 64}']",
            "no indicator type for file:hashes.'SHA-512'",
        ),
    ],
)
def test_unsupported_parts_are_problems_and_the_rest_comes_through(
    tmp_path: Path, pattern: str, reason: str | None
) -> None:
    ioc = indicator(pattern)
    items = parse_objects(tmp_path, ioc)
    (event,) = events(items)
    assert (event.indicator_type, event.value) == (
        IndicatorType.MD5,
        MD5,
    )
    (problem,) = problems(items)
    assert problem.reason.startswith(f"{ioc['id']}: unsupported: ")
    assert problem.column == "pattern"
    assert problem.file == "bundle.json"
    if reason is None:
        assert "LIKE '%.evil'" in problem.reason
    else:
        assert reason in problem.reason


def test_invalid_patterns_are_problems_naming_the_indicator(tmp_path: Path) -> None:
    broken = indicator("[ipv4-addr:value = '198.51.100.3'", seed="broken")
    mixed = indicator("[ipv4-addr:value = '198.51.100.3' AND domain-name:value = 'x.example']")
    yara = indicator("rule x { condition: true }", seed="yara", pattern_type="yara")
    items = parse_objects(tmp_path, broken, mixed, yara)
    assert events(items) == []
    by_id = {problem.reason.split(":")[0]: problem for problem in problems(items)}
    assert "pattern" in by_id[broken["id"]].reason
    assert by_id[mixed["id"]].column == "pattern"
    assert "invalid pattern" in by_id[mixed["id"]].reason
    assert "pattern_type 'yara' is not supported" in by_id[yara["id"]].reason


def test_read_pattern_reports_the_grammar_error() -> None:
    with pytest.raises(InvalidPattern):
        read_pattern("[ipv4-addr:value = ")
    terms = read_pattern("[url:value = 'http://x.example/'] OR [x509-certificate:issuer = 'CN=x']")
    assert [[c.value for c in group] for group in terms.groups] == [["http://x.example/"]]
    assert terms.unsupported == [
        "unsupported: x509-certificate:issuer = 'CN=x' (no indicator type for "
        "x509-certificate:issuer)"
    ]


# --- other indicator fields -------------------------------------------------------------------


def test_validity_confidence_and_classification(tmp_path: Path) -> None:
    compromise = indicator(
        "[ipv4-addr:value = '198.51.100.20']",
        indicator_types=["compromise"],
        valid_until="2024-06-01T00:00:00Z",
        confidence=85,
        labels=["vn-province"],
    )
    anomalous = indicator(
        "[domain-name:value = 'odd.example']", indicator_types=["anomalous-activity"]
    )
    first, second = events(parse_objects(tmp_path, compromise, anomalous))
    assert first.time_source == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert first.expires_at == datetime(2024, 6, 1, tzinfo=UTC)
    assert first.confidence == 85
    assert first.tags == ("compromise", "vn-province")
    assert (first.classification_taxonomy, first.classification_type) == (
        "intrusions",
        "system-compromise",
    )
    assert (second.classification_taxonomy, second.classification_type) == ("other", "undetermined")


def test_only_the_latest_version_of_an_object_counts_and_revoked_ones_none(
    tmp_path: Path,
) -> None:
    old = indicator("[domain-name:value = 'old.example']", seed="versioned")
    new = dict(old, pattern="[domain-name:value = 'new.example']", modified="2024-03-02T00:00:00Z")
    revoked = indicator("[domain-name:value = 'gone.example']", revoked=True)
    found = events(parse_objects(tmp_path, new, old, revoked))
    assert [event.value for event in found] == ["new.example"]


def test_a_sighting_of_an_indicator_not_in_the_bundle_is_reported(tmp_path: Path) -> None:
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": object_id("sighting", "lonely"),
        "created": STAMP,
        "modified": STAMP,
        "sighting_of_ref": object_id("indicator", "elsewhere"),
    }
    (problem,) = parse_objects(tmp_path, sighting)
    assert isinstance(problem, RowProblem)
    assert problem.column == "sighting_of_ref"
    assert "which is not in the bundle" in problem.reason


def test_stix_2_0_bundle_with_embedded_observables(tmp_path: Path) -> None:
    objects = [
        {
            "type": "indicator",
            "id": object_id("indicator", "2.0"),
            "created": STAMP,
            "modified": STAMP,
            "labels": ["malicious-activity"],
            "pattern": "[domain-name:value = 'old-style.example']",
            "valid_from": STAMP,
        },
        {
            "type": "observed-data",
            "id": object_id("observed-data", "2.0"),
            "created": STAMP,
            "modified": STAMP,
            "first_observed": STAMP,
            "last_observed": "2024-03-02T08:00:00Z",
            "number_observed": 4,
            "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.40"}},
        },
    ]
    path = bundle_file(tmp_path, objects, spec_version="2.0")
    domain, address = events(parse(path))
    assert (domain.value, domain.tags) == ("old-style.example", ("malicious-activity",))
    assert (address.indicator_type, address.value) == (IndicatorType.IPV4, "198.51.100.40")
    assert address.count == 4
    assert address.last_seen == datetime(2024, 3, 2, 8, 0, tzinfo=UTC)


def test_detection(shared_data: Path) -> None:
    for path in (shared_data / "stix").rglob("*.json"):
        assert detect_format(FeedDocument.from_path(path)).name == "stix2", path.name
    misp = FeedDocument.from_path(shared_data / "misp" / "events" / "event_with_sightings.json")
    assert FORMAT.sniff(misp, misp.head()) == 0.0


def test_empty_values_are_problems(tmp_path: Path) -> None:
    empty = indicator("[domain-name:value = ''] OR [domain-name:value = 'kept.example']")
    blank = {"type": "domain-name", "spec_version": "2.1", "id": object_id("domain-name", "")}
    blank["value"] = " "
    items = parse_objects(tmp_path, empty, blank)
    assert [event.value for event in events(items)] == ["kept.example"]
    pattern, sco = problems(items)
    assert pattern.reason == f"{empty['id']}: empty value: domain-name:value = ''"
    assert sco.reason.startswith("1 domain-name object(s) not imported")

"""MISP events and feeds: every shared sample, attribute types, tags, galaxies, sightings."""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, ParsedItem, detect_format, format_named
from garrison.intel.formats.misp import ATTRIBUTE_TYPES, CONTEXT_TYPES
from garrison.intel.types import IndicatorType, Tlp

EVENT = format_named("misp-event")
FEED = format_named("misp-feed")
XORIST = "57c4445b-c548-4654-af0b-4be3950d210f"
FEED_EVENT = "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81"


def events(items: list[ParsedItem]) -> list[IntelEvent]:
    return [item for item in items if isinstance(item, IntelEvent)]


def problems(items: list[ParsedItem]) -> list[RowProblem]:
    return [item for item in items if isinstance(item, RowProblem)]


def parse_event(path: Path) -> list[ParsedItem]:
    return list(EVENT.parse(FeedDocument.from_path(path)))


def attribute(kind: str, value: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "value": value,
        "category": fields.pop("category", "Network activity"),
        "to_ids": fields.pop("to_ids", True),
        "uuid": fields.pop("uuid", str(uuid.uuid5(uuid.NAMESPACE_URL, value))),
        "timestamp": "1700000000",
        **fields,
    }


def event_file(tmp_path: Path, attributes: list[Any], **fields: Any) -> Path:
    event = {
        "uuid": "5f000000-0000-4000-8000-000000000001",
        "info": "Constructed test event",
        "threat_level_id": "2",
        "distribution": "1",
        "Attribute": attributes,
        **fields,
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"Event": event}, indent=1), encoding="utf-8")
    return path


# --- the shared samples ---------------------------------------------------------------------


def test_circl_osint_event(shared_data: Path) -> None:
    items = parse_event(shared_data / "misp" / "events" / f"{XORIST}.json")
    found = events(items)
    assert [(event.indicator_type, event.value) for event in found] == [
        (IndicatorType.FILENAME, "3Z4wnG9603it23y.exe"),
        (IndicatorType.MD5, "0749bae92ca336a02c83d126e04ec628"),
        (IndicatorType.SHA1, "77b0c41b7d340b8a3d903f21347bbf06aa766b5b"),
        (IndicatorType.SHA256, "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"),
    ]
    md5 = found[1]
    assert md5.feed_name == "misp-event"
    assert md5.tlp is Tlp.CLEAR
    assert md5.time_source == datetime(2016, 8, 29, 14, 19, 55, tzinfo=UTC)
    assert md5.description == "Ransomware - Xorist"
    assert md5.tags == (
        'circl:incident-classification="malware"',
        'ms-caro-malware:malware-type="Ransom"',
        'malware_classification:malware-category="Ransomware"',
    )
    assert md5.extra["misp_event_uuid"] == XORIST
    assert md5.extra["misp_attribute_uuid"] == "57c4448b-454c-4d17-90d1-4d2f950d210f"
    assert md5.extra["misp_category"] == "Payload delivery"
    assert md5.extra["to_ids"] is True
    assert md5.extra["threat_level"] == "low"
    assert md5.extra["org"] == "CIRCL"
    assert json.loads(md5.raw)["value"] == "0749bae92ca336a02c83d126e04ec628"
    # links, the comment and the text are context; the registry key has no indicator type
    (skipped,) = problems(items)
    assert skipped.file == f"{XORIST}.json"
    assert skipped.column == "type"
    assert skipped.reason == (
        "1 attribute(s) of MISP type 'regkey|value' not imported: Garrison has no indicator "
        "type for it"
    )


def test_event_with_sightings(shared_data: Path) -> None:
    items = parse_event(shared_data / "misp" / "events" / "event_with_sightings.json")
    assert problems(items) == []
    found = {event.value: event for event in events(items)}
    assert len(found) == 5
    seen = found["ooiasjdnqjwbeasdasd.com"]
    assert seen.malware_name == "gozi"
    assert (seen.classification_taxonomy, seen.classification_type) == (
        "malicious-code",
        "c2-server",
    )
    assert seen.count == 1
    assert seen.extra["sightings"] == 1
    assert seen.last_seen == datetime(2019, 2, 27, 7, 52, 30, tzinfo=UTC)
    assert seen.line == 37
    assert seen.extra["distribution"] == 3  # the attribute's 5 inherits the event's 3
    assert seen.extra["org"] == "Synovus Financial"
    assert seen.extra["comment"] == "Ursnif"
    assert 'misp-galaxy:banker="Gozi"' in seen.tags
    false_positive = found["eqowiesajenqweasd.com"]
    assert false_positive.extra["false_positives"] == 1
    assert "false-positive" in false_positive.tags
    assert false_positive.count is None
    expired = found["diqjwhebseqhbasdh.com"]
    assert expired.expires_at == datetime(2019, 2, 27, 7, 52, 48, tzinfo=UTC)
    url = found["http://sistemait.it/softaculous/backup/client.rar"]
    assert url.indicator_type is IndicatorType.URL
    assert url.classification_type == "malware-distribution"
    assert url.tlp is None


def test_event_with_objects_and_galaxies(shared_data: Path) -> None:
    items = parse_event(shared_data / "misp" / "events" / "event_with_objects_galaxies.json")
    assert problems(items) == []
    found = events(items)
    kinds = [event.indicator_type for event in found]
    assert len(found) == 83
    assert kinds.count(IndicatorType.DOMAIN) == 7 + 12
    assert kinds.count(IndicatorType.SHA1) == 37
    assert kinds.count(IndicatorType.FILENAME) == 15
    assert kinds.count(IndicatorType.IPV4) == 12
    first = found[0]
    assert (first.value, first.line) == ("movieultimate.com", 84)
    assert first.malware_name == "jhuhugit"
    assert first.extra["malware_names"] == [
        "jhuhugit",
        "xtunnel",
        "advstoreshell",
        "usbstealer",
        "xagentosx",
        "chopstick",
        "downdelph",
    ]
    assert first.extra["attributed_to"] == ["Sofacy"]
    assert first.tlp is Tlp.CLEAR
    assert first.description == "OSINT - Sednit update: How Fancy Bear Spent the Year"
    last = found[-1]
    assert (last.indicator_type, last.value) == (IndicatorType.DOMAIN, "webviewres.net")
    address = found[-2]
    assert (address.indicator_type, address.value) == (IndicatorType.IPV4, "185.216.35.26")
    assert address.extra["misp_object"] == "domain-ip"
    assert address.extra["misp_object_uuid"] == "5a3ce6ae-98d8-4270-b88f-47f2950d210f"
    assert address.extra["object_relation"] == "ip"
    assert address.extra["misp_type"] == "ip-dst"


def test_intelmq_sample_event_without_wrapper(shared_data: Path) -> None:
    items = parse_event(shared_data / "feeds" / "misp" / "misp_event.json")
    assert problems(items) == []
    (event,) = events(items)
    assert (event.indicator_type, event.value) == (
        IndicatorType.URL,
        "http://fake.example.com/malware/is/here",
    )
    assert event.extra["to_ids"] is False
    assert "not-ids" in event.tags
    assert event.malware_name == "locky"  # from the "Payload type" attribute
    assert (event.classification_taxonomy, event.classification_type) == (
        "malicious-code",
        "malware-distribution",
    )
    assert event.extra["threat_level"] == "high"
    assert event.extra["distribution"] == 0
    assert event.time_source == datetime(2016, 6, 11, 21, 41, 44, tzinfo=UTC)


def test_feed_sample_manifest_and_folder(shared_data: Path) -> None:
    folder = shared_data / "misp" / "feed"
    for path in (folder / "manifest.json", folder):
        # the one event carries a link only: context, not an indicator
        assert list(FEED.parse(FeedDocument.from_path(path))) == []


def test_feed_with_two_events_and_a_missing_one(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "misp"
    manifest = json.loads((source / "feed" / "manifest.json").read_text())
    manifest[XORIST] = {"info": "Ransomware - Xorist", "Orgc": {"name": "CIRCL"}, "Tag": []}
    manifest["5f000000-0000-4000-8000-00000000dead"] = {"info": "gone", "Tag": []}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, indent=4))
    shutil.copy(source / "feed" / f"{FEED_EVENT}.json", tmp_path)
    shutil.copy(source / "events" / f"{XORIST}.json", tmp_path)
    items = list(FEED.parse(FeedDocument.from_path(tmp_path / "manifest.json")))
    found = events(items)
    assert [event.value for event in found] == [
        "3Z4wnG9603it23y.exe",
        "0749bae92ca336a02c83d126e04ec628",
        "77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
        "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68",
    ]
    assert {event.feed_name for event in found} == {"misp-feed"}
    missing, skipped = problems(items)
    assert missing.file == "manifest.json"
    assert missing.reason == (
        "event 5f000000-0000-4000-8000-00000000dead is listed in the manifest but "
        "5f000000-0000-4000-8000-00000000dead.json is missing"
    )
    assert missing.row is not None
    assert skipped.file == f"{XORIST}.json"
    assert "'regkey|value'" in skipped.reason
    from_folder = list(FEED.parse(FeedDocument(tmp_path, "feed")))
    assert events(from_folder) == found
    assert problems(from_folder)[0].file == "feed/manifest.json"


def test_feed_event_file_that_is_not_json_is_a_problem(tmp_path: Path) -> None:
    name = "5f000000-0000-4000-8000-000000000002"
    (tmp_path / "manifest.json").write_text(json.dumps({name: {"info": "broken", "Tag": []}}))
    (tmp_path / f"{name}.json").write_text('{"Event": {"Attribute": [}')
    (problem,) = FEED.parse(FeedDocument.from_path(tmp_path / "manifest.json"))
    assert isinstance(problem, RowProblem)
    assert problem.file == f"{name}.json"
    assert "is not valid JSON" in problem.reason


def test_a_manifest_that_is_not_a_manifest_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"uuid": "not a manifest"}))
    with pytest.raises(InputError, match="is not a MISP feed manifest"):
        list(FEED.parse(FeedDocument.from_path(path)))


# --- attribute types --------------------------------------------------------------------------


def test_every_mapped_type_is_a_misp_type(shared_data: Path) -> None:
    described = json.loads((shared_data / "misp" / "describeTypes.json").read_text())["result"]
    assert set(ATTRIBUTE_TYPES) <= set(described["types"])
    assert set(CONTEXT_TYPES) <= set(described["types"])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("ip-src", "198.51.100.1", [(IndicatorType.IPV4, "198.51.100.1")]),
        ("ip-dst", "198.51.100.0/24", [(IndicatorType.CIDR4, "198.51.100.0/24")]),
        ("ip-dst", "2001:db8::7", [(IndicatorType.IPV6, "2001:db8::7")]),
        ("hostname", "mail.evil.example", [(IndicatorType.DOMAIN, "mail.evil.example")]),
        ("url", "hxxp://evil[.]example/a", [(IndicatorType.URL, "hxxp://evil[.]example/a")]),
        ("email-src", "phish@evil.example", [(IndicatorType.EMAIL, "phish@evil.example")]),
        ("AS", "AS64500", [(IndicatorType.ASN, "AS64500")]),
        ("phone-number", "+84 912 345 678", [(IndicatorType.PHONE, "+84 912 345 678")]),
        ("whois-registrant-phone", "+84912345678", [(IndicatorType.PHONE, "+84912345678")]),
        (
            "domain|ip",
            "evil.example|198.51.100.9",
            [(IndicatorType.DOMAIN, "evil.example"), (IndicatorType.IPV4, "198.51.100.9")],
        ),
    ],
)
def test_attribute_types(tmp_path: Path, kind: str, value: str, expected: list[Any]) -> None:
    items = parse_event(event_file(tmp_path, [attribute(kind, value)]))
    assert problems(items) == []
    assert [(event.indicator_type, event.value) for event in events(items)] == expected


def test_composite_values_give_ports_and_file_names(tmp_path: Path) -> None:
    sha256 = "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"
    attributes = [
        attribute("ip-dst|port", "198.51.100.5|8080"),
        attribute("ip-src|port", "203.0.113.7|4444"),
        attribute("hostname|port", "c2.evil.example|443"),
        attribute("filename|sha256", f"invoice.exe|{sha256}", category="Payload delivery"),
        attribute("malware-sample", "dropper.bin|0749bae92ca336a02c83d126e04ec628"),
    ]
    found = events(parse_event(event_file(tmp_path, attributes)))
    assert [(event.value, event.source_port, event.destination_port) for event in found[:3]] == [
        ("198.51.100.5", None, 8080),
        ("203.0.113.7", 4444, None),
        ("c2.evil.example", None, 443),
    ]
    assert (found[3].indicator_type, found[3].value) == (IndicatorType.SHA256, sha256)
    assert found[3].extra["filename"] == "invoice.exe"
    assert (found[4].indicator_type, found[4].extra["filename"]) == (
        IndicatorType.MD5,
        "dropper.bin",
    )


def test_bad_attributes_are_problems_and_unsupported_types_are_counted(tmp_path: Path) -> None:
    attributes = [
        attribute("ip-dst|port", "198.51.100.5|http", uuid="5f000000-0000-4000-8000-0000000000a1"),
        attribute("domain|ip", "only-one.example", uuid="5f000000-0000-4000-8000-0000000000a2"),
        {"type": "domain", "uuid": "5f000000-0000-4000-8000-0000000000a3"},
        attribute("domain", "late.example", timestamp="yesterday"),
        attribute("mutex", "Global\\x1"),
        attribute("mutex", "Global\\x2"),
        attribute("yara", "rule x { condition: true }"),
        attribute("mutex", "Global\\x3"),
        attribute("domain", "deleted.example", deleted=True),
        attribute("url", "  ", uuid="5f000000-0000-4000-8000-0000000000a4"),
        attribute("domain", "kept.example"),
    ]
    items = parse_event(event_file(tmp_path, attributes))
    assert [event.value for event in events(items)] == ["kept.example"]
    port, parts, no_value, time, empty, mutex, yara = problems(items)
    assert empty.reason == "attribute 5f000000-0000-4000-8000-0000000000a4: the value is empty"
    assert port.reason == (
        "attribute 5f000000-0000-4000-8000-0000000000a1: port 'http' is not a number from 0 "
        "to 65535"
    )
    assert port.row is not None
    assert parts.column == "value"
    assert "does not have the 2 parts of type 'domain|ip'" in parts.reason
    assert no_value.reason == "attribute 5f000000-0000-4000-8000-0000000000a3 has no text value"
    assert time.column == "timestamp"
    assert "'yesterday' is not a Unix timestamp" in time.reason
    assert mutex.reason.startswith("3 attribute(s) of MISP type 'mutex' not imported")
    assert yara.reason.startswith("1 attribute(s) of MISP type 'yara' not imported")


def test_tags_give_tlp_classification_and_malware(tmp_path: Path) -> None:
    attributes = [
        attribute("domain", "plain.example"),
        attribute(
            "url",
            "http://login.bank.example/",
            Tag=[{"name": "tlp:red"}, {"name": 'rsit:fraud="phishing"'}],
        ),
        attribute(
            "ip-dst",
            "198.51.100.77",
            Galaxy=[
                {
                    "type": "malpedia",
                    "GalaxyCluster": [{"type": "malpedia", "value": "Emotet"}],
                }
            ],
        ),
    ]
    tags = [
        {"name": "tlp:green"},
        {"name": 'ecsirt:malicious-code="c&c"'},
        {"name": 'misp-galaxy:mitre-malware="QakBot"'},
    ]
    plain, phishing, emotet = events(parse_event(event_file(tmp_path, attributes, Tag=tags)))
    assert plain.tlp is Tlp.GREEN
    assert (plain.classification_taxonomy, plain.classification_type) == (
        "malicious-code",
        "c2-server",
    )
    assert plain.malware_name == "qakbot"
    assert phishing.tlp is Tlp.RED
    assert (phishing.classification_taxonomy, phishing.classification_type) == (
        "fraud",
        "phishing",
    )
    assert emotet.malware_name == "emotet"
    assert emotet.tlp is Tlp.GREEN
    assert "tlp:green" not in emotet.tags
    assert 'ecsirt:malicious-code="c&c"' in emotet.tags


def test_event_level_sightings_and_attribute_times(tmp_path: Path) -> None:
    seen = attribute(
        "domain",
        "seen.example",
        uuid="5f000000-0000-4000-8000-0000000000b1",
        first_seen="2024-02-01T10:00:00.000000+07:00",
    )
    sightings = [
        {"attribute_uuid": seen["uuid"], "type": "0", "date_sighting": "1709251200"},
        {"attribute_uuid": seen["uuid"], "type": "0", "date_sighting": "1709337600"},
    ]
    (event,) = events(parse_event(event_file(tmp_path, [seen], Sighting=sightings)))
    assert event.time_source == datetime(2024, 2, 1, 3, 0, tzinfo=UTC)
    assert event.count == 2
    assert event.last_seen == datetime(2024, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize("shape", ["response", "list"])
def test_other_export_shapes(tmp_path: Path, shape: str) -> None:
    event = {"uuid": "5f000000-0000-4000-8000-000000000003", "Attribute": []}
    event["Attribute"].append(attribute("domain", "shape.example"))
    document: Any = [{"Event": event}]
    if shape == "response":
        document = {"response": document}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    (found,) = events(parse_event(path))
    assert found.value == "shape.example"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"Event": ', "is not valid JSON"),
        ('{"type": "bundle", "objects": []}', "is not a MISP event"),
        ("\udcff", "is not UTF-8"),
    ],
)
def test_documents_that_are_not_misp_events(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "thing.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match=reason) as caught:
        parse_event(path)
    assert caught.value.problems[0].file == "thing.json"


def test_detection(shared_data: Path) -> None:
    for path in [
        *(shared_data / "misp" / "events").glob("*.json"),
        shared_data / "misp" / "feed" / f"{FEED_EVENT}.json",
        shared_data / "feeds" / "misp" / "misp_event.json",
    ]:
        assert detect_format(FeedDocument.from_path(path)).name == "misp-event", path.name
    manifest = FeedDocument.from_path(shared_data / "misp" / "feed" / "manifest.json")
    assert detect_format(manifest).name == "misp-feed"

"""Shadowserver reports: every shared sample, current and legacy columns, named or not."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, detect_format
from garrison.intel.formats.shadowserver import (
    FORMAT,
    report_from_columns,
    report_from_file_name,
)
from garrison.intel.types import IndicatorType

CURRENT = "feeds/shadowserver"
LEGACY = "feeds/shadowserver_legacy"

# file → (events, problems, first event's value, its classification taxonomy/type/identifier)
SAMPLES: dict[str, tuple[int, int, str, tuple[str, str, str]]] = {
    f"{CURRENT}/blocklist.csv": (3, 0, "198.123.245.134", ("other", "blacklist", "blocklist")),
    f"{CURRENT}/compromised_website.csv": (
        3,
        0,
        "http://example.com/header.php",
        ("intrusions", "system-compromise", "compromised-website"),
    ),
    f"{CURRENT}/device_id.csv": (3, 0, "88.84.0.0", ("other", "undetermined", "device-id")),
    f"{CURRENT}/event4_ddos_participant.csv": (
        3,
        0,
        "192.168.0.1",
        ("availability", "ddos", "ddos-participant"),
    ),
    f"{CURRENT}/event4_honeypot_brute_force.csv": (
        6,
        0,
        "141.98.1.2",
        ("intrusion-attempts", "brute-force", "ssh-brute-force"),
    ),
    f"{CURRENT}/event4_honeypot_darknet.csv": (8, 0, "61.3.1.2", ("other", "other", "mirai")),
    f"{CURRENT}/event4_ip_spoofer.csv": (
        6,
        0,
        "98.191.250.0",
        ("fraud", "masquerade", "ip-spoofer"),
    ),
    f"{CURRENT}/event4_microsoft_sinkhole.csv": (
        6,
        0,
        "190.229.1.2",
        ("malicious-code", "infected-system", "b68-zeroaccess-2-32bit"),
    ),
    f"{CURRENT}/event4_sinkhole.csv": (
        3,
        1,
        "190.113.1.2",
        ("malicious-code", "infected-system", "victorygate.b"),
    ),
    f"{CURRENT}/event4_sinkhole_dns.csv": (
        3,
        0,
        "217.110.0.0",
        ("malicious-code", "infected-system", "calypso"),
    ),
    f"{CURRENT}/event4_sinkhole_http.csv": (
        5,
        0,
        "103.196.1.2",
        ("malicious-code", "infected-system", "andromeda"),
    ),
    f"{CURRENT}/event6_sinkhole_http.csv": (
        3,
        0,
        "2001:448a:1082:4d9b:7491:bf9e:3d5f:a634",
        ("malicious-code", "infected-system", "boaxxe"),
    ),
    f"{CURRENT}/malware_url.csv": (
        3,
        0,
        "http://41.86.0.0:50008/Mozi.m",
        ("malicious-code", "malware-distribution", "malware-url"),
    ),
    f"{CURRENT}/phish_url.csv": (
        3,
        0,
        "https://priceless-pare.example.net/Postal-/acec6/",
        ("fraud", "phishing", "phish-url"),
    ),
    f"{CURRENT}/sandbox_conn.csv": (
        3,
        0,
        "40.119.6.228",
        ("malicious-code", "malware-distribution", "sandbox-conn"),
    ),
    f"{CURRENT}/sandbox_url.csv": (
        3,
        0,
        "http://www.msftncsi.com/ncsi.txt",
        ("malicious-code", "malware-distribution", "sandbox-url"),
    ),
    f"{CURRENT}/scan_cwmp.csv": (
        2,
        0,
        "198.123.245.142",
        ("vulnerable", "vulnerable-system", "open-cwmp"),
    ),
    f"{CURRENT}/scan_dns.csv": (
        100,
        0,
        "198.51.100.179",
        ("vulnerable", "vulnerable-system", "dns-open-resolver"),
    ),
    f"{CURRENT}/scan_elasticsearch.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-elasticsearch"),
    ),
    f"{CURRENT}/scan_exchange.csv": (
        7,
        0,
        "12.237.1.2",
        ("vulnerable", "vulnerable-system", "vulnerable-exchange-server"),
    ),
    f"{CURRENT}/scan_http_vulnerable.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "vulnerable-http"),
    ),
    f"{CURRENT}/scan_ics.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-ics"),
    ),
    f"{CURRENT}/scan_memcached.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-memcached"),
    ),
    f"{CURRENT}/scan_mqtt.csv": (
        1,
        0,
        "18.220.0.0",
        ("vulnerable", "vulnerable-system", "open-mqtt"),
    ),
    f"{CURRENT}/scan_ntp.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "ntp-version"),
    ),
    f"{CURRENT}/scan_rdp.csv": (
        2,
        0,
        "198.123.245.178",
        ("vulnerable", "vulnerable-system", "open-rdp"),
    ),
    f"{CURRENT}/scan_smb.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-smb"),
    ),
    f"{CURRENT}/scan_snmp.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-snmp"),
    ),
    f"{CURRENT}/scan_ssdp.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "open-ssdp"),
    ),
    f"{CURRENT}/scan_ssl.csv": (3, 0, "96.60.0.0", ("vulnerable", "vulnerable-system", "open-ssl")),
    f"{CURRENT}/scan_telnet.csv": (
        2,
        0,
        "198.123.245.145",
        ("vulnerable", "vulnerable-system", "open-telnet"),
    ),
    f"{CURRENT}/special.csv": (
        3,
        0,
        "192.168.0.1",
        ("vulnerable", "vulnerable-system", "cyclops-blink"),
    ),
    f"{LEGACY}/botnet_drone.csv": (
        102,
        0,
        "210.23.139.130",
        ("malicious-code", "infected-system", "dorkbot"),
    ),
    f"{LEGACY}/drone_brute_force.csv": (
        1,
        0,
        "198.51.100.169",
        ("intrusion-attempts", "brute-force", "ssh-brute-force"),
    ),
    f"{LEGACY}/microsoft_sinkhole.csv": (
        107,
        0,
        "77.12.73.138",
        ("malicious-code", "infected-system", "b68-zeroaccess-1-64bit"),
    ),
    f"{LEGACY}/scan_netbios.csv": (
        93,
        0,
        "198.51.100.4",
        ("vulnerable", "vulnerable-system", "open-netbios"),
    ),
    f"{LEGACY}/scan_ssl_poodle.csv": (
        30,
        0,
        "203.0.113.85",
        ("vulnerable", "vulnerable-system", "ssl-poodle"),
    ),
}


def _parse(path: Path, name: str | None = None) -> tuple[list[IntelEvent], list[RowProblem]]:
    items = list(FORMAT.parse(FeedDocument(path, name or path.name)))
    events = [item for item in items if isinstance(item, IntelEvent)]
    problems = [item for item in items if isinstance(item, RowProblem)]
    assert len(events) + len(problems) == len(items)
    return events, problems


def _sample(shared_data: Path, relative: str) -> tuple[list[IntelEvent], list[RowProblem]]:
    return _parse(shared_data / relative)


def test_every_shared_sample_is_covered(shared_data: Path) -> None:
    found = {
        str(path.relative_to(shared_data))
        for folder in (CURRENT, LEGACY)
        for path in (shared_data / folder).glob("*.csv")
    }
    assert found == set(SAMPLES)


@pytest.mark.parametrize("relative", sorted(SAMPLES))
def test_sample_counts_first_row_and_classification(shared_data: Path, relative: str) -> None:
    expected_events, expected_problems, value, classification = SAMPLES[relative]
    events, problems = _sample(shared_data, relative)
    assert (len(events), len(problems)) == (expected_events, expected_problems)
    first = events[0]
    assert first.value == value
    assert (
        first.classification_taxonomy,
        first.classification_type,
        first.classification_identifier,
    ) == classification
    report = Path(relative).stem
    assert first.feed_name == f"shadowserver {report}"
    assert first.line == 2
    assert first.time_source is not None and first.time_source.tzinfo is UTC
    lines = (shared_data / relative).read_text(encoding="utf-8").splitlines()
    assert first.raw == lines[1]


@pytest.mark.parametrize("relative", sorted(SAMPLES))
def test_detect_format_picks_shadowserver(shared_data: Path, relative: str) -> None:
    assert detect_format(FeedDocument.from_path(shared_data / relative)).name == "shadowserver"


def test_sinkhole_row_fields(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/event4_sinkhole.csv")
    first = events[0]
    assert first.indicator_type is IndicatorType.IPV4
    assert first.time_source == datetime(2021, 3, 4, tzinfo=UTC)
    assert first.malware_name == "victorygate.b"
    assert first.source_asn == 12252
    assert first.source_geolocation_cc == "PE"
    assert first.source_geolocation_region == "METROPOLITANA DE LIMA"
    assert first.source_port == 17409
    assert (first.destination_ip, first.destination_port) == ("178.162.1.2", 4455)
    assert first.protocol_transport == "tcp"
    assert first.extra["public_source"] == "eset"
    assert first.extra["dst_asn"] == "28753"
    assert first.extra["src_city"] == "LIMA"


def test_malformed_destination_ip_is_a_problem_naming_line_and_column(shared_data: Path) -> None:
    events, problems = _sample(shared_data, f"{CURRENT}/event4_sinkhole.csv")
    [problem] = problems
    assert (problem.file, problem.row, problem.column) == ("event4_sinkhole.csv", 4, "dst_ip")
    assert "'148.81.111.11.12' is not an IPv4 address" in problem.reason
    third = events[2]
    assert (third.line, third.value, third.malware_name) == (4, "35.197.11.12", "virut")
    assert third.destination_ip is None
    assert third.destination_port == 80


def test_ipv6_sinkhole_http(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/event6_sinkhole_http.csv")
    first = events[0]
    assert first.indicator_type is IndicatorType.IPV6
    assert first.destination_ip == "2001:470:1:332::fe"
    assert first.destination_fqdn == "devps.net"
    assert first.tags == ("3ve",)
    assert first.time_source == datetime(2022, 3, 2, 9, 14, 19, tzinfo=UTC)


def test_sinkhole_dns_names_the_queried_domain(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/event4_sinkhole_dns.csv")
    first = events[0]
    assert first.destination_fqdn == "YolkIsh.COM"
    assert first.count == 1
    assert first.protocol_transport == "udp"
    assert first.extra["query_type"] == "A"


def test_sinkhole_http_falls_back_to_the_family_column(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/event4_sinkhole_http.csv")
    first = events[0]
    assert first.malware_name == "andromeda"
    assert first.tags == ("avalanche-andromeda",)
    assert first.destination_fqdn == "differentia.ru"


def test_brute_force_and_darknet(shared_data: Path) -> None:
    brute, _ = _sample(shared_data, f"{CURRENT}/event4_honeypot_brute_force.csv")
    assert (brute[0].destination_ip, brute[0].destination_port) == ("162.250.1.2", 22)
    assert brute[0].malware_name is None
    assert brute[0].extra["client_version"] == "b'SSH-2.0-Go'"
    darknet, _ = _sample(shared_data, f"{CURRENT}/event4_honeypot_darknet.csv")
    assert darknet[0].malware_name == "mirai"
    assert darknet[0].destination_port == 23
    assert darknet[0].source_asn == 9829


def test_blocklist_network_row(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/blocklist.csv")
    assert events[2].indicator_type is IndicatorType.CIDR4
    assert events[2].value == "198.123.245.0/24"
    assert events[0].extra["reason"] == "Malicious Host AA"


def test_compromised_website_url_from_host_and_path(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/compromised_website.csv")
    assert [event.value for event in events] == [
        "http://example.com/header.php",
        "http://example.com/",
        "66.249.0.0",  # no http_host: the reverse DNS name is not the website
    ]
    assert events[0].indicator_type is IndicatorType.URL
    assert events[0].source_port == 80
    assert events[0].destination_fqdn is None
    assert events[0].extra["ip"] == "203.0.113.1"
    assert events[2].extra["cc_url"] == "https://lolfree.pw/ads.txt"


def test_url_reports_keep_hashes_and_hosts(shared_data: Path) -> None:
    malware, _ = _sample(shared_data, f"{CURRENT}/malware_url.csv")
    assert malware[0].extra["sha256"].startswith("12013662c71da69d")
    assert malware[0].extra["ip"] == "41.86.0.0"
    assert malware[0].tags == ("CVE-2016-10372",)
    phish, _ = _sample(shared_data, f"{CURRENT}/phish_url.csv")
    assert phish[0].indicator_type is IndicatorType.URL
    assert phish[0].extra["source"] == "openphish.com"


def test_exchange_webshell_is_a_compromise(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{CURRENT}/scan_exchange.csv")
    webshell = events[1]
    assert webshell.tags == ("exchange", "webshell")
    assert (webshell.classification_taxonomy, webshell.classification_identifier) == (
        "intrusions",
        "exchange-server-webshell",
    )


def test_legacy_botnet_drone(shared_data: Path) -> None:
    events, _ = _sample(shared_data, f"{LEGACY}/botnet_drone.csv")
    first = events[0]
    assert first.malware_name == "dorkbot"
    assert (first.destination_ip, first.destination_port) == ("74.208.164.166", 80)
    assert first.source_asn is None  # the report writes 0 for 'unknown'
    assert first.source_port == 3218
    assert first.count == 1
    assert first.protocol_transport == "tcp"
    assert first.time_source == datetime(2011, 4, 23, 0, 0, 5, tzinfo=UTC)


def test_legacy_microsoft_sinkhole_and_brute_force(shared_data: Path) -> None:
    sinkhole, _ = _sample(shared_data, f"{LEGACY}/microsoft_sinkhole.csv")
    assert sinkhole[0].malware_name == "b68-zeroaccess-1-64bit"
    assert (sinkhole[0].destination_ip, sinkhole[0].destination_port) == ("168.63.184.224", 16470)
    brute, _ = _sample(shared_data, f"{LEGACY}/drone_brute_force.csv")
    assert (brute[0].destination_ip, brute[0].destination_port) == ("198.51.100.196", 22)
    assert brute[0].extra["username"] == "alex"


@pytest.mark.parametrize(
    ("file_name", "report"),
    [
        ("2023-10-01-event4_sinkhole-vietnam-geo.csv", "event4_sinkhole"),
        ("2019-01-01-scan_rdp-test-geo.csv", "scan_rdp"),
        ("event4_sinkhole.csv", "event4_sinkhole"),
        ("scan_ssl_poodle.csv", "scan_ssl_poodle"),
        ("2026-10-01-new_report-vietnam-geo.csv", "new_report"),
        ("report.csv", None),
        ("danh-sach-botnet-2026-10.csv", None),
    ],
)
def test_report_from_file_name(file_name: str, report: str | None) -> None:
    assert report_from_file_name(file_name) == report


UNNAMED = sorted(
    relative
    for relative in SAMPLES
    if not Path(relative).stem.startswith("scan_") and "device_id" not in relative
)


@pytest.mark.parametrize("relative", UNNAMED)
def test_report_recognised_by_its_columns_when_the_name_says_nothing(
    shared_data: Path, tmp_path: Path, relative: str
) -> None:
    copy = tmp_path / "download.csv"
    shutil.copy(shared_data / relative, copy)
    named, _ = _sample(shared_data, relative)
    unnamed, _ = _parse(copy)
    assert [e.classification_identifier for e in unnamed] == [
        e.classification_identifier for e in named
    ]
    assert [e.value for e in unnamed] == [e.value for e in named]


def test_report_from_columns_of_current_and_legacy_headers() -> None:
    assert report_from_columns({"timestamp", "src_ip", "infection", "dst_ip"}) == "event4_sinkhole"
    assert report_from_columns({"timestamp", "ip", "infection", "cc_ip"}) == "botnet_drone"
    assert report_from_columns({"timestamp", "ip", "port", "tag"}) is None


def test_unknown_report_gets_the_generic_mapping(tmp_path: Path) -> None:
    path = tmp_path / "2026-10-01-event4_honeypot_newthing-vietnam-geo.csv"
    path.write_text(
        '"timestamp","src_ip","src_asn","src_geo","src_region","novel"\n'
        '"2026-10-01 07:00:00","203.0.113.7",45899,"VN","SON LAM","yes"\n',
        encoding="utf-8",
    )
    [event] = _parse(path)[0]
    assert (event.classification_taxonomy, event.classification_type) == (
        "other",
        "undetermined",
    )
    assert event.classification_identifier == "event4_honeypot_newthing"
    assert (event.value, event.source_asn, event.source_geolocation_region) == (
        "203.0.113.7",
        45899,
        "SON LAM",
    )
    assert event.time_source == datetime(2026, 10, 1, 7, tzinfo=UTC)
    assert event.extra == {"novel": "yes"}


def test_unnamed_scan_still_gives_its_hosts(shared_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "export.csv"
    shutil.copy(shared_data / CURRENT / "scan_rdp.csv", copy)
    events, problems = _parse(copy)
    assert not problems
    assert [e.value for e in events] == ["198.123.245.178", "198.123.245.233"]
    assert {e.classification_identifier for e in events} == {"unknown"}
    assert events[0].source_port == 5678


def test_bad_timestamp_and_missing_ip_are_row_problems(tmp_path: Path) -> None:
    path = tmp_path / "2026-10-01-event4_sinkhole-vietnam-geo.csv"
    path.write_text(
        '"timestamp","protocol","src_ip","src_port","src_asn","src_geo","infection","dst_ip"\n'
        '"yesterday","tcp","203.0.113.7",1234,45899,"VN","mirai","198.51.100.1"\n'
        '"2026-10-01 00:00:00","tcp","",1234,45899,"VN","mirai","198.51.100.1"\n'
        '"2026-10-01 00:00:00","tcp","203.0.113.8","x",45899,"VN","mirai","198.51.100.1"\n',
        encoding="utf-8",
    )
    events, problems = _parse(path)
    assert [(p.row, p.column) for p in problems] == [
        (2, "timestamp"),
        (3, "src_ip"),
        (4, "src_port"),
    ]
    assert "'yesterday' is not a date" in problems[0].reason
    [event] = events
    assert (event.line, event.value, event.source_port) == (4, "203.0.113.8", None)


def test_not_a_shadowserver_report(tmp_path: Path) -> None:
    path = tmp_path / "event4_sinkhole.csv"
    path.write_text("name,comment\nalice,hello\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(FORMAT.parse(FeedDocument.from_path(path)))
    assert "not a Shadowserver report" in str(caught.value)
    empty = tmp_path / "scan_rdp.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        list(FORMAT.parse(FeedDocument.from_path(empty)))


def test_sniff_scores(shared_data: Path, tmp_path: Path) -> None:
    sample = shared_data / CURRENT / "event4_sinkhole.csv"
    document = FeedDocument.from_path(sample)
    assert FORMAT.sniff(document, document.head()) == 0.95
    renamed = FeedDocument(sample, "upload.csv")
    assert FORMAT.sniff(renamed, renamed.head()) == 0.85
    other = tmp_path / "list.csv"
    other.write_text("ip,comment\n203.0.113.1,x\n", encoding="utf-8")
    assert FORMAT.sniff(FeedDocument.from_path(other), other.read_bytes()) == 0.0

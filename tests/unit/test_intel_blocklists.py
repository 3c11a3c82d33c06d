"""Blocklist feed parsers against the real samples: plain lists, DataPlane, Bambenek, abuse.ch
(Feodo Tracker, URLhaus, ThreatFox), Spamhaus (DROP family, CERT), DShield and Team Cymru."""

from __future__ import annotations

import codecs
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, detect_format, format_named
from garrison.intel.types import IndicatorType

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "intel"


def parse(
    format_name: str, path: Path, name: str | None = None
) -> tuple[list[IntelEvent], list[RowProblem]]:
    document = FeedDocument(path, name or path.name)
    items = list(format_named(format_name).parse(document))
    events = [item for item in items if isinstance(item, IntelEvent)]
    problems = [item for item in items if isinstance(item, RowProblem)]
    assert len(events) + len(problems) == len(items)
    return events, problems


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# --- plain lists -------------------------------------------------------------------------


def test_plain_blocklistde_ips(shared_data: Path) -> None:
    events, problems = parse("plain", shared_data / "feeds/blocklistde/imap.txt")
    assert problems == []
    assert [e.value for e in events] == [
        "192.0.2.4",
        "192.0.2.45",
        "198.51.100.34",
        "198.51.100.80",
        "203.0.113.34",
        "203.0.113.254",
    ]
    assert {e.indicator_type for e in events} == {IndicatorType.IPV4}
    assert [e.line for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[5].raw == "203.0.113.254"
    assert events[0].feed_name == "plain"
    assert events[0].classification_type is None and events[0].time_source is None


def test_plain_openphish_broken_urls_are_row_problems(shared_data: Path) -> None:
    events, problems = parse("plain", shared_data / "feeds/openphish/feed.txt")
    assert events == []
    assert [(p.file, p.row) for p in problems] == [("feed.txt", 1), ("feed.txt", 2)]
    assert "invalid label" in problems[0].reason


def test_plain_comments_trailing_fields_bom_and_mixed_types(tmp_path: Path) -> None:
    text = (
        "# in-house list\n"
        "; another comment style\n"
        "// and another\n"
        "\n"
        "192.0.2.10   # seen scanning\n"
        "198.51.100.0/24;blocked 2024-05-01\n"
        "evil.example.com,phishing\n"
        "hxxp://bad[.]example[.]net/login;jsessionid=1,2\n"
        "2001:db8::bad\tmanual\n"
        "44d88612fea8a8f36de82e1278abb02f\n"
        "not_an_indicator\n"
        "   AS64496  \n"
    )
    path = write(tmp_path, "mixed.txt", codecs.BOM_UTF8 + text.encode())
    events, problems = parse("plain", path)
    assert [(e.line, e.indicator_type, e.value) for e in events] == [
        (5, IndicatorType.IPV4, "192.0.2.10"),
        (6, IndicatorType.CIDR4, "198.51.100.0/24"),
        (7, IndicatorType.DOMAIN, "evil.example.com"),
        (8, IndicatorType.URL, "hxxp://bad[.]example[.]net/login;jsessionid=1,2"),
        (9, IndicatorType.IPV6, "2001:db8::bad"),
        (10, IndicatorType.MD5, "44d88612fea8a8f36de82e1278abb02f"),
        (12, IndicatorType.ASN, "AS64496"),
    ]
    assert events[0].raw == "192.0.2.10   # seen scanning"
    assert events[1].raw == "198.51.100.0/24;blocked 2024-05-01"
    assert len(problems) == 1
    assert (problems[0].file, problems[0].row) == ("mixed.txt", 11)
    assert "not_an_indicator" in problems[0].reason


def test_plain_reads_utf16_and_names_an_undecodable_line_past_the_head(tmp_path: Path) -> None:
    wide = write(
        tmp_path, "wide.txt", "# danh sách\r\n192.0.2.1\r\nbộ-y-tế.vn\r\n".encode("utf-16")
    )
    events, problems = parse("plain", wide)
    assert problems == []
    assert [(e.line, e.value) for e in events] == [(2, "192.0.2.1"), (3, "bộ-y-tế.vn")]

    lines = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(8000)]
    body = ("\n".join(lines) + "\n").encode() + b"bad\xff\xfevalue\n192.0.2.99\n"
    events, problems = parse("plain", write(tmp_path, "long.txt", body))
    assert len(events) == 8001
    assert events[-1].value == "192.0.2.99" and events[-1].line == 8002
    assert [(p.row, p.reason) for p in problems] == [(8001, "the line is not valid utf-8 text")]


def test_plain_binary_file_is_rejected_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(InputError) as caught:
        list(format_named("plain").parse(FeedDocument.from_path(path)))
    assert caught.value.problems[0].file == "image.txt"


def test_plain_streams_in_bounded_memory(tmp_path: Path) -> None:
    """20,000 events held at once would take well over 10 MB; streaming stays far below."""
    path = tmp_path / "big.txt"
    with path.open("w") as stream:
        for i in range(20_000):
            stream.write(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}\n")
    tracemalloc.start()
    try:
        total = sum(1 for _ in format_named("plain").parse(FeedDocument.from_path(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 20_000
    assert peak < 2 * 1024 * 1024


def test_plain_sniff_is_a_fallback(shared_data: Path, tmp_path: Path) -> None:
    plain = format_named("plain")
    imap = FeedDocument.from_path(shared_data / "feeds/blocklistde/imap.txt")
    assert plain.sniff(imap, imap.head()) == 0.6
    table = FeedDocument.from_path(write(tmp_path, "t.csv", "ip,name\n192.0.2.1,a\n"))
    assert plain.sniff(table, table.head()) == 0.2


# --- DataPlane ---------------------------------------------------------------------------


def test_dataplane_sshclient(shared_data: Path) -> None:
    events, problems = parse("dataplane", shared_data / "feeds/dataplane/sshclient.txt")
    assert [(e.line, e.value) for e in events] == [(66, "5.157.7.82"), (67, "104.241.232.238")]
    first, second = events
    assert first.source_asn is None and first.source_as_name is None  # 'NA'
    assert second.source_asn == 394472
    assert second.source_as_name == "SWOI-ASN - SWOI, US"
    assert second.time_source == utc(2016, 12, 5, 1, 49, 19)
    assert (second.classification_taxonomy, second.classification_type) == (
        "information-gathering",
        "scanner",
    )
    assert second.feed_name == "dataplane sshclient"
    assert second.extra == {"category": "sshclient", "protocol_application": "ssh"}
    assert [(p.row, p.file) for p in problems] == [(68, "sshclient.txt")]
    assert "5 fields" in problems[0].reason


def test_dataplane_telnetlogin(shared_data: Path) -> None:
    events, problems = parse("dataplane", shared_data / "feeds/dataplane/telnetlogin.txt")
    assert problems == []
    [event] = events
    assert (event.value, event.source_asn, event.source_as_name) == ("24.220.77.46", 1, "LVLT-1")
    assert event.classification_type == "brute-force"
    assert event.last_seen == utc(2021, 8, 31, 23, 50, 46)


def test_dataplane_bad_time_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path, "dp.txt", "1  |  X  |  192.0.2.1  |  yesterday  |  sshpwauth\n")
    events, problems = parse("dataplane", path)
    assert events == []
    assert (problems[0].row, problems[0].column) == (1, "lastseen")


# --- Bambenek ----------------------------------------------------------------------------


def test_bambenek_ip_and_domain_master_lists(shared_data: Path) -> None:
    [ip], problems = parse("bambenek", shared_data / "feeds/bambenek/c2-ipmasterlist.txt")
    assert problems == []
    assert (ip.indicator_type, ip.value, ip.line) == (IndicatorType.IPV4, "213.247.47.190", 17)
    assert (ip.classification_taxonomy, ip.classification_type) == ("malicious-code", "c2-server")
    assert ip.malware_name == "bebloh"
    assert ip.extra["malware_aliases"] == ["shiotob", "urlzone", "bebloh"]
    assert ip.extra["reference"] == "http://osint.bambenekconsulting.com/manual/bebloh.txt"
    assert ip.time_source == utc(2016, 11, 12, 18, 2)
    assert ip.description == "IP used by shiotob/urlzone/bebloh C&C"

    [domain], _ = parse("bambenek", shared_data / "feeds/bambenek/c2-dommasterlist.txt")
    assert (domain.indicator_type, domain.value) == (IndicatorType.DOMAIN, "sfkh21okrrnlu.com")
    assert domain.malware_name == "bebloh"
    assert domain.time_source == utc(2016, 11, 12, 15, 2)


def test_bambenek_dga_row_and_bad_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dga-feed.txt",
        "## Feed Provided By: John Bambenek of Bambenek Consulting\n"
        "xkqrcdwvhq.com,Domain used by Cryptolocker - Flashback DGA for 13 Apr 2017,"
        "2017-04-13,http://osint.bambenekconsulting.com/manual/cl.txt\n"
        "192.0.2.5,IP used by locky C&C\n"
        "192.0.2.6,IP used by locky C&C,13/04/2017 noon,http://x.example/locky.txt\n",
    )
    [event], problems = parse("bambenek", path)
    assert event.malware_name == "cryptolocker"
    assert event.classification_identifier == "dga"
    assert event.extra["malware_aliases"] == ["cryptolocker", "flashback"]
    assert [(p.row, p.column) for p in problems] == [(3, None), (4, "time")]


# --- abuse.ch Feodo Tracker --------------------------------------------------------------


def test_feodo_legacy_csv(shared_data: Path) -> None:
    path = shared_data / "feeds/abusech_feodotracker/feodoips.txt"
    events, problems = parse("feodotracker", path)
    assert problems == []
    assert [(e.line, e.value, e.destination_port) for e in events] == [
        (10, "10.213.75.205", 443),
        (11, "192.16.238.101", 443),
    ]
    first = events[0]
    assert (first.classification_taxonomy, first.classification_type) == (
        "malicious-code",
        "c2-server",
    )
    assert first.malware_name == "dridex"
    assert first.time_source == utc(2021, 1, 17, 7, 30, 5)
    assert first.last_seen == utc(2021, 2, 10)
    assert first.extra == {"c2_status": "online"}
    assert first.raw == '"2021-01-17 07:30:05","10.213.75.205","443","online","2021-02-10","Dridex"'


def test_feodo_json_edition() -> None:
    events, problems = parse("feodotracker", FIXTURES / "feodotracker/ipblocklist.json")
    assert problems == []
    assert [e.value for e in events] == ["192.0.2.17", "198.51.100.201", "203.0.113.9"]
    second = events[1]
    assert second.line == 14
    assert (second.source_asn, second.source_as_name) == (64511, "EXAMPLE-CLOUD")
    assert second.source_geolocation_cc == "VN"
    assert second.destination_port == 8080
    assert second.malware_name == "emotet"
    assert second.extra == {"c2_status": "offline", "hostname": "vps-201.example.net"}
    assert second.time_source == utc(2022, 6, 4, 21, 24, 53)
    assert json.loads(second.raw)["ip_address"] == "198.51.100.201"


def test_feodo_plain_text_edition() -> None:
    events, problems = parse("feodotracker", FIXTURES / "feodotracker/ipblocklist.txt")
    assert problems == []
    assert [(e.line, e.value) for e in events] == [
        (10, "192.0.2.17"),
        (11, "198.51.100.201"),
        (12, "203.0.113.9"),
    ]
    assert {e.classification_type for e in events} == {"c2-server"}
    assert events[0].malware_name is None and events[0].destination_port is None


def test_feodo_old_header_bad_rows_and_truncated_json(tmp_path: Path) -> None:
    old = write(
        tmp_path,
        "feodo-2019.csv",
        "# Feodo Tracker\n"
        "# Firstseen,DstIP,DstPort,LastOnline,Malware\n"
        "2019-05-27 05:40:10,192.0.2.77,447,2019-06-01,TrickBot\n"
        "2019-05-27 05:40:10,192.0.2.78,http,2019-06-01,TrickBot\n"
        "2019-05-27 05:40:10,192.0.2.79\n",
    )
    [event], problems = parse("feodotracker", old)
    assert (event.value, event.destination_port, event.malware_name) == (
        "192.0.2.77",
        447,
        "trickbot",
    )
    assert [(p.row, p.column) for p in problems] == [(4, "dst_port"), (5, None)]

    bad = write(tmp_path, "ipblocklist.json", '[{"ip_address": "192.0.2.1", "port": "x"}, 5]')
    events, problems = parse("feodotracker", bad)
    assert events == []
    assert [(p.row, p.column) for p in problems] == [(1, "port"), (1, None)]

    cut = write(tmp_path, "cut.json", '[\n {"ip_address": "192.0.2.1", "port": 443},\n {"ip_a')
    with pytest.raises(InputError) as caught:
        list(format_named("feodotracker").parse(FeedDocument.from_path(cut)))
    assert (caught.value.problems[0].file, caught.value.problems[0].row) == ("cut.json", 3)

    entry = '  {"ip_address": "192.0.2.1", "port": 443},\n'
    broken = "[\n" + entry * 3 + '  {"ip_address": 192.0.2.2},\n' + entry * 5000 + "  {}\n]\n"
    with pytest.raises(InputError) as caught:
        list(
            format_named("feodotracker").parse(
                FeedDocument.from_path(write(tmp_path, "b.json", broken))
            )
        )
    assert caught.value.problems[0].row == 5
    assert "Expecting" in caught.value.problems[0].reason


# --- abuse.ch URLhaus --------------------------------------------------------------------


def test_urlhaus_csv_recent() -> None:
    events, problems = parse("urlhaus", FIXTURES / "urlhaus/csv_recent.txt")
    assert problems == []
    assert len(events) == 10
    first = events[0]
    assert (first.line, first.indicator_type, first.value) == (
        10,
        IndicatorType.URL,
        "http://192.0.2.165:54143/i",
    )
    assert (first.classification_taxonomy, first.classification_type) == (
        "malicious-code",
        "malware-distribution",
    )
    assert first.tags == ("32-bit", "elf", "mips", "Mozi")
    assert first.malware_name == "mozi"
    assert first.time_source == utc(2024, 5, 13, 8, 54, 6)
    assert first.extra == {
        "id": "2856335",
        "url_status": "online",
        "threat": "malware_download",
        "urlhaus_link": "https://urlhaus.abuse.ch/url/2856335/",
        "reporter": "geenensp",
    }
    by_id = {e.extra["id"]: e for e in events}
    assert by_id["2856331"].last_seen is None  # offline: last_online is empty
    assert by_id["2856331"].malware_name == "redlinestealer"
    assert by_id["2856330"].value == "http://files.example.org/doc/scan_2024,05.js"
    assert by_id["2856330"].malware_name is None  # only a file type
    assert by_id["2856329"].tags == ()  # "None"
    assert by_id["2856327"].malware_name is None  # two families: unsure
    assert by_id["2856326"].malware_name == "gafgyt"  # 'dropped-by-Mirai' is not the family


def test_urlhaus_bad_row_and_text_edition(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "urlhaus.txt",
        "# abuse.ch URLhaus Database Dump (CSV - online URLs only)\n"
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
        '"1","2024-05-13 08:54:06","http://192.0.2.1/i","online"\n'
        '"2","13 May","http://192.0.2.2/i","online","","malware_download","","x","r"\n'
        "http://192.0.2.3/bins/x86\n",
    )
    [event], problems = parse("urlhaus", path)
    assert (event.line, event.value, event.time_source) == (5, "http://192.0.2.3/bins/x86", None)
    assert [(p.row, p.column) for p in problems] == [(3, None), (4, "dateadded")]
    assert "expected 9 fields" in problems[0].reason


# --- abuse.ch ThreatFox ------------------------------------------------------------------


def test_threatfox_csv() -> None:
    events, problems = parse("threatfox", FIXTURES / "threatfox/recent.csv")
    assert problems == []
    assert [(e.indicator_type, e.value) for e in events] == [
        (IndicatorType.URL, "http://192.0.2.132/lend/setup.exe"),
        (IndicatorType.IPV4, "198.51.100.36"),
        (IndicatorType.DOMAIN, "panel.example-c2.net"),
        (IndicatorType.SHA256, "3f5d2a4c0b7e9f18d2c6a1b0e4f7d3c5a9b8e2f1d0c3b6a5e4d7f8c9b0a1e2d3"),
        (IndicatorType.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
        (IndicatorType.URL, "https://shop.example.com/js/jquery.min.js"),
    ]
    url, c2, domain, sample, unknown, skimmer = events
    assert url.classification_type == "malware-distribution"
    assert (url.malware_name, url.confidence) == ("smokeloader", 100)
    assert (c2.destination_port, c2.classification_type, c2.malware_name) == (
        443,
        "c2-server",
        "cobalt strike",
    )
    assert c2.last_seen == utc(2024, 5, 13, 9, 12, 40)
    assert c2.tags == ("c2", "CobaltStrike")
    assert c2.extra["fk_malware"] == "win.cobalt_strike"
    assert c2.extra["ioc_id"] == "1272515"
    assert domain.extra["reference"].startswith("https://bazaar.abuse.ch/sample/")
    assert (sample.classification_taxonomy, sample.classification_type) == (
        "malicious-code",
        "malware",
    )
    assert sample.confidence == 50
    assert unknown.malware_name is None and unknown.tags == ()
    assert skimmer.classification_type is None
    assert skimmer.extra["threat_type"] == "cc_skimming"
    assert url.time_source == utc(2024, 5, 13, 8, 45, 6)


def test_threatfox_json_export() -> None:
    events, problems = parse("threatfox", FIXTURES / "threatfox/recent.json")
    assert problems == []
    assert [(e.line, e.extra["ioc_id"], e.value) for e in events] == [
        (2, "1272515", "198.51.100.36"),
        (19, "1272514", "panel.example-c2.net"),
        (36, "1272513", "3f5d2a4c0b7e9f18d2c6a1b0e4f7d3c5a9b8e2f1d0c3b6a5e4d7f8c9b0a1e2d3"),
    ]
    assert events[0].destination_port == 443
    assert events[0].confidence == 75
    assert events[1].last_seen is None
    assert events[2].malware_name == "agent tesla"


def test_threatfox_api_answer_older_header_and_bad_rows(tmp_path: Path) -> None:
    answer = {
        "query_status": "ok",
        "data": [
            {
                "id": "41",
                "ioc": "[2001:db8::5]:8443",
                "threat_type": "botnet_cc",
                "ioc_type": "ip:port",
                "malware": "win.qakbot",
                "malware_printable": "QakBot",
                "confidence_level": 100,
                "first_seen": "2024-05-10 10:00:00 UTC",
                "last_seen": None,
                "tags": ["qakbot", "c2"],
            }
        ],
    }
    [event], problems = parse("threatfox", write(tmp_path, "answer.json", json.dumps(answer)))
    assert problems == []
    assert (event.indicator_type, event.value, event.destination_port) == (
        IndicatorType.IPV6,
        "2001:db8::5",
        8443,
    )
    assert event.time_source == utc(2024, 5, 10, 10)
    assert event.tags == ("qakbot", "c2") and event.extra["ioc_id"] == "41"

    header = (
        '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware",'
        '"malware_alias","malware_printable","last_seen_utc","confidence_level","reference",'
        '"tags","anonymous","reporter"\n'
    )
    row = '"2024-05-13 08:00:00", "{id}", "{value}", "{kind}", "botnet_cc", "win.x", "None", "X", "", "{conf}", "None", "None", "0", "r"\n'  # noqa: E501
    text = (
        "# ThreatFox IOCs: recent additions - CSV format\n"
        + header
        + row.format(id=1, value="192.0.2.9:80", kind="ip:port", conf=75)
        + row.format(id=2, value="a@b.example", kind="envelope_from", conf=75)
        + row.format(id=3, value="192.0.2.9:99999", kind="ip:port", conf=75)
        + row.format(id=4, value="x.example", kind="domain", conf=200)
    )
    events, problems = parse("threatfox", write(tmp_path, "old.csv", text))
    assert [(e.value, e.destination_port, e.confidence) for e in events] == [("192.0.2.9", 80, 75)]
    assert [(p.row, p.column) for p in problems] == [
        (4, "ioc_type"),
        (5, "ioc_value"),
        (6, "confidence_level"),
    ]


# --- Spamhaus DROP family ----------------------------------------------------------------


def test_spamhaus_drop_text(shared_data: Path) -> None:
    events, problems = parse("spamhaus-drop", shared_data / "feeds/spamhaus_drop/drop.txt")
    assert problems == []
    assert [(e.line, e.indicator_type, e.value, e.extra) for e in events] == [
        (5, IndicatorType.CIDR4, "1.4.0.0/17", {"sblid": "SBL256893"}),
        (6, IndicatorType.CIDR6, "2a06:e480::/29", {"sblid": "SBL301771"}),
    ]
    assert {(e.classification_taxonomy, e.classification_type) for e in events} == {
        ("other", "blacklist")
    }
    assert events[0].time_source == utc(2015, 9, 14, 4, 39, 22)  # Last-Modified
    assert events[0].feed_name == "spamhaus drop"


def test_spamhaus_drop_json_lines() -> None:
    events, problems = parse("spamhaus-drop", FIXTURES / "spamhaus_drop/drop_v4.json")
    assert problems == []
    assert [e.value for e in events] == ["1.10.16.0/20", "1.19.0.0/16", "2.56.192.0/22"]
    assert events[2].extra == {"sblid": "SBL459831", "rir": "ripencc"}
    assert {e.time_source for e in events} == {utc(2024, 5, 13, 8)}  # the metadata line
    v6, _ = parse("spamhaus-drop", FIXTURES / "spamhaus_drop/drop_v6.json")
    assert [(e.indicator_type, e.value) for e in v6] == [
        (IndicatorType.CIDR6, "2a06:e480::/29"),
        (IndicatorType.CIDR6, "2001:db8:bad::/48"),
    ]


def test_spamhaus_asn_drop_json_and_text() -> None:
    events, problems = parse("spamhaus-drop", FIXTURES / "spamhaus_drop/asndrop.json")
    assert problems == []
    first = events[0]
    assert (first.indicator_type, first.value, first.source_asn) == (
        IndicatorType.ASN,
        "AS64496",
        64496,
    )
    assert (first.source_as_name, first.source_geolocation_cc) == ("EXAMPLE-BULLETPROOF-AS", "NL")
    assert first.extra == {"domain": "example.net", "rir": "ripencc"}
    assert first.feed_name == "spamhaus asn-drop"

    text, problems = parse("spamhaus-drop", FIXTURES / "spamhaus_drop/asndrop.txt")
    assert problems == []
    assert [(e.line, e.value, e.source_geolocation_cc, e.source_as_name) for e in text] == [
        (5, "AS64496", "NL", "EXAMPLE-BULLETPROOF-AS"),
        (6, "AS64511", "US", "EXAMPLE-HIJACKED"),
    ]
    assert text[0].time_source == utc(2023, 7, 11, 10, 13, 16)


def test_spamhaus_drop_bad_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "drop_v4.json",
        '{"cidr":"192.0.2.0/24","sblid":"SBL1"}\n{"cidr": \n{"sblid":"SBL2"}\n[1]\n',
    )
    [event], problems = parse("spamhaus-drop", path)
    assert event.value == "192.0.2.0/24" and event.time_source is None
    assert [p.row for p in problems] == [2, 3, 4]


# --- Spamhaus CERT -----------------------------------------------------------------------


def test_spamhaus_cert(shared_data: Path) -> None:
    events, problems = parse("spamhaus-cert", shared_data / "feeds/spamhaus_cert/cert.txt")
    assert problems == []
    assert len(events) == 19
    by_line = {e.line: e for e in events}
    patcher = by_line[3]
    assert (patcher.value, patcher.source_asn, patcher.source_geolocation_cc) == (
        "109.90.233.19",
        6830,
        "AT",
    )
    assert (patcher.classification_type, patcher.malware_name) == ("infected-system", "patcher")
    assert patcher.time_source == datetime.fromtimestamp(1441008351, UTC)
    assert (patcher.destination_fqdn, patcher.destination_ip) == (
        "dxxt.sinkhole.dk",
        "212.227.20.19",
    )
    assert (patcher.destination_port, patcher.source_port, patcher.protocol_transport) == (
        80,
        1036,
        "tcp",
    )
    assert by_line[5].malware_name == "mirai"  # iotmirai
    assert by_line[5].destination_port is None  # '?'
    assert (by_line[7].classification_type, by_line[7].malware_name) == ("vulnerable-system", None)
    assert by_line[8].classification_type == "brute-force"
    assert by_line[10].classification_type == "scanner"
    assert by_line[12].malware_name is None  # 'auto': not attributed
    spam = by_line[13]
    assert (spam.classification_taxonomy, spam.classification_type) == ("abusive-content", "spam")
    assert spam.malware_name == "darkmailer2"
    assert spam.extra["url"] == "http://example.com/"
    assert spam.extra["spam_ip"] == "192.168.46.8"
    assert by_line[16].destination_ip == "192.168.255.154"
    assert by_line[16].extra["domain"] == "192.168.255.154:8080"


def test_spamhaus_cert_bad_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cert.txt",
        "; ip, asn, country, lastseen, botname, domain, remote_ip, remote_port, local_port, "
        "protocol\n192.0.2.1,AS64496,VN,last week,conficker,,,80,,tcp\n"
        "192.0.2.2,AS64496,NA,1441008351,conficker,,,80,,tcp,a field added later\n"
        "192.0.2.3,AS64496,VN,1441008351,conficker\n",
    )
    [event], problems = parse("spamhaus-cert", path)
    assert event.value == "192.0.2.2"
    assert event.source_geolocation_cc == "NA"  # Namibia, not 'not available'
    assert [(p.row, p.column) for p in problems] == [(2, "lastseen"), (4, None)]


# --- DShield -----------------------------------------------------------------------------


def test_dshield_block_list(shared_data: Path) -> None:
    events, problems = parse("dshield", shared_data / "feeds/dshield/block.txt")
    assert problems == []
    assert [(e.line, e.indicator_type, e.value, e.count) for e in events] == [
        (32, IndicatorType.CIDR4, "43.229.53.0/24", 788),
        (33, IndicatorType.CIDR4, "194.63.140.0/24", 585),
    ]
    first = events[0]
    assert (first.classification_taxonomy, first.classification_type) == (
        "information-gathering",
        "scanner",
    )
    assert first.source_geolocation_cc == "JP"
    assert first.extra == {
        "end": "43.229.53.255",
        "network_name": "Japan Inet",
        "abuse_contact": "admin@v6nic.net",
    }
    assert first.time_source == utc(2015, 12, 15, 15, 33, 38)
    assert events[1].source_geolocation_cc is None


def test_dshield_suspicious_domains(shared_data: Path) -> None:
    path = shared_data / "feeds/dshield/suspiciousdomains_High.txt"
    events, problems = parse("dshield", path)
    assert problems == []
    assert [(e.line, e.indicator_type, e.value) for e in events] == [
        (18, IndicatorType.DOMAIN, "example.com"),
        (19, IndicatorType.DOMAIN, "example.org"),
    ]
    assert events[0].extra == {"sensitivity": "high"}
    assert events[0].time_source == utc(2015, 12, 22, 4, 10, 10)
    assert events[0].feed_name == "dshield suspicious domains"


def test_dshield_bad_block_row(tmp_path: Path) -> None:
    path = write(tmp_path, "block.txt", "# DShield.org\n192.0.2.0\t192.0.2.255\tx\t5\n")
    events, problems = parse("dshield", path)
    assert events == []
    assert [(p.row, p.column) for p in problems] == [(2, "Netblock")]


# --- Team Cymru CAP ----------------------------------------------------------------------


def test_cymru_cap(shared_data: Path) -> None:
    events, problems = parse("cymru-cap", shared_data / "feeds/cymru/infected_20171031.txt")
    assert problems == []
    assert len(events) == 9
    assert [e.classification_type for e in events[:5]] == [
        "brute-force",
        "vulnerable-system",
        "phishing",
        "vulnerable-system",
        "spam",
    ]
    bot = events[5]
    assert (bot.malware_name, bot.source_port, bot.destination_ip) == (
        "conficker",
        1337,
        "172.16.0.22",
    )
    assert bot.source_asn == 64496 and bot.source_as_name == "Example AS Name"
    assert bot.time_source == utc(2017, 10, 31, 10, 0, 5)
    assert (events[7].malware_name, events[7].description) == ("mirai", "Mirai Bot")
    assert events[8].source_asn is None  # AS 0
    assert events[8].description == "Some Botnet"
    assert events[0].description == "ssh"


# --- detection ---------------------------------------------------------------------------

SAMPLES = [
    ("feeds/blocklistde/imap.txt", "plain"),
    ("feeds/openphish/feed.txt", "plain"),
    ("feeds/dataplane/sshclient.txt", "dataplane"),
    ("feeds/dataplane/telnetlogin.txt", "dataplane"),
    ("feeds/bambenek/c2-ipmasterlist.txt", "bambenek"),
    ("feeds/bambenek/c2-dommasterlist.txt", "bambenek"),
    ("feeds/abusech_feodotracker/feodoips.txt", "feodotracker"),
    ("feeds/spamhaus_drop/drop.txt", "spamhaus-drop"),
    ("feeds/spamhaus_cert/cert.txt", "spamhaus-cert"),
    ("feeds/dshield/block.txt", "dshield"),
    ("feeds/dshield/suspiciousdomains_High.txt", "dshield"),
    ("feeds/cymru/infected_20171031.txt", "cymru-cap"),
]
FIXTURE_SAMPLES = [
    ("feodotracker/ipblocklist.json", "feodotracker"),
    ("feodotracker/ipblocklist.txt", "feodotracker"),
    ("urlhaus/csv_recent.txt", "urlhaus"),
    ("threatfox/recent.csv", "threatfox"),
    ("threatfox/recent.json", "threatfox"),
    ("spamhaus_drop/drop_v4.json", "spamhaus-drop"),
    ("spamhaus_drop/drop_v6.json", "spamhaus-drop"),
    ("spamhaus_drop/asndrop.json", "spamhaus-drop"),
    ("spamhaus_drop/asndrop.txt", "spamhaus-drop"),
]


@pytest.mark.parametrize(("relative", "expected"), SAMPLES)
def test_detect_format_on_shared_samples(shared_data: Path, relative: str, expected: str) -> None:
    document = FeedDocument.from_path(shared_data / relative)
    assert detect_format(document).name == expected


@pytest.mark.parametrize(("relative", "expected"), FIXTURE_SAMPLES)
def test_detect_format_on_recorded_fixtures(relative: str, expected: str) -> None:
    document = FeedDocument.from_path(FIXTURES / relative)
    assert detect_format(document).name == expected


def test_file_name_alone_is_only_a_weak_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "feodo_urlhaus_threatfox.txt", "whatever, this is\nnot a feed at all\n")
    document = FeedDocument.from_path(path)
    for name in ("feodotracker", "urlhaus", "threatfox"):
        assert format_named(name).sniff(document, document.head()) < 0.6


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"',
            "feodotracker",
        ),
        ("# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter", "urlhaus"),
        ('# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type"', "threatfox"),
    ],
)
def test_detect_abusech_exports_by_their_columns_without_the_banner(
    tmp_path: Path, header: str, expected: str
) -> None:
    document = FeedDocument.from_path(write(tmp_path, "export.csv", header + "\n"))
    assert detect_format(document).name == expected

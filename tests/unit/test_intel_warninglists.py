"""MISP warninglists: the shared lists load and match what they list (and nothing beside it),
malformed lists are reported without taking the others down, user lists add and override."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from garrison.core.errors import InputError
from garrison.intel.normalise import normalise
from garrison.intel.types import IndicatorType
from garrison.intel.warninglists import (
    MatchType,
    Warninglist,
    WarninglistHit,
    WarninglistIndex,
    load_warninglists,
    read_warninglist,
)

T = IndicatorType
RFC1918 = "List of RFC 1918 CIDR blocks"
RFC5735 = "List of RFC 5735 CIDR blocks"
MULTICAST = "List of RFC 5771 multicast CIDR blocks"
PUBLIC_DNS = "List of known IPv4 public DNS resolvers"
CLOUDFLARE = "List of known Cloudflare IP ranges"
AKAMAI = "List of known Akamai IP ranges"
SINKHOLES = "List of known sinkholes"
SHORTENERS = "List of known URL Shorteners domains"
EMPTY_HASHES = "List of known hashes for empty files"
CONTACTS = "Common contact e-mail addresses"
CONTACTS_REGEX = r"/^(security|noc|soc|abuse)\@.*\..*$/i"
ANALYSIS = "List of known domains used by automated malware analysis services & security vendors"


@pytest.fixture(scope="module")
def shared_lists(shared_data: Path) -> Path:
    return shared_data / "warninglists"


@pytest.fixture(scope="module")
def index(shared_lists: Path) -> WarninglistIndex:
    return WarninglistIndex.load([shared_lists])


def matched(index: WarninglistIndex, kind: IndicatorType, value: str) -> set[tuple[str, str]]:
    return {(hit.name, hit.entry) for hit in index.hits(kind, value)}


def write_list(folder: Path, name: str, document: Any) -> Path:
    path = folder / f"{name}.json"
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def a_list(name: str, kind: str, entries: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "description": f"test list {name}",
        "type": kind,
        "list": entries,
        **extra,
    }


# --- The shared lists --------------------------------------------------------------------------


def test_every_shared_list_loads_with_its_metadata(shared_lists: Path) -> None:
    loaded = load_warninglists([shared_lists])
    assert loaded.problems == ()
    by_name = {wl.name: wl for wl in loaded.lists}
    assert len(by_name) == 11
    expected = {
        RFC1918: (MatchType.CIDR, 5, 3),
        RFC5735: (MatchType.CIDR, 5, 15),
        MULTICAST: (MatchType.CIDR, 4, 16),
        PUBLIC_DNS: (MatchType.CIDR, 20240615, 62745),
        CLOUDFLARE: (MatchType.CIDR, 20260811, 22),
        AKAMAI: (MatchType.CIDR, 20240422, 268),
        SINKHOLES: (MatchType.CIDR, 2, 107),
        SHORTENERS: (MatchType.HOSTNAME, 27, 255),
        EMPTY_HASHES: (MatchType.STRING, 3, 6),
        ANALYSIS: (MatchType.SUBSTRING, 5, 26),
        CONTACTS: (MatchType.REGEX, 20200226, 1),
    }
    assert {
        name: (wl.type, wl.version, len(wl.entries)) for name, wl in by_name.items()
    } == expected
    rfc1918 = by_name[RFC1918]
    assert rfc1918.entries == ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    assert rfc1918.category == "false-positive"
    assert rfc1918.source.endswith("rfc1918/list.json")
    assert "domain|ip" in rfc1918.matching_attributes
    assert rfc1918.indicator_types == {T.IPV4, T.IPV6, T.CIDR4, T.CIDR6, T.DOMAIN}
    # 'domain|ip' brings the address types in: MISP tests both parts of such a value
    assert by_name[SHORTENERS].indicator_types == {
        T.DOMAIN,
        T.URL,
        T.IPV4,
        T.IPV6,
        T.CIDR4,
        T.CIDR6,
    }
    assert by_name[CONTACTS].indicator_types == {T.EMAIL}
    assert by_name[EMPTY_HASHES].indicator_types == {T.MD5, T.SHA1, T.SHA256, T.FILENAME}


def test_the_index_compiles_every_shared_entry(index: WarninglistIndex) -> None:
    assert index.problems == ()
    assert len(index.lists) == 11
    with pytest.raises(TypeError):
        index.lists["mine"] = index.lists[RFC1918]  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8.8.8.8", {(PUBLIC_DNS, "8.8.8.8")}),
        ("8.8.4.4", {(PUBLIC_DNS, "8.8.4.4")}),
        ("10.1.2.3", {(RFC1918, "10.0.0.0/8"), (RFC5735, "10.0.0.0/8")}),
        ("172.31.255.255", {(RFC1918, "172.16.0.0/12"), (RFC5735, "172.16.0.0/12")}),
        ("192.168.255.255", {(RFC1918, "192.168.0.0/16"), (RFC5735, "192.168.0.0/16")}),
        ("224.0.0.251", {(RFC5735, "224.0.0.0/4"), (MULTICAST, "224.0.0.0/8")}),
        ("104.244.12.0", {(SINKHOLES, "104.244.12.0/22")}),
        ("104.244.15.255", {(SINKHOLES, "104.244.12.0/22")}),
        # just outside: the neighbours of a listed address and of listed ranges
        ("8.8.8.7", set()),
        ("8.8.8.9", set()),
        ("172.32.0.0", set()),
        ("11.0.0.0", set()),
        ("9.255.255.255", set()),
        ("104.244.11.255", set()),
        ("104.244.16.0", set()),
    ],
)
def test_ipv4_addresses(
    index: WarninglistIndex, value: str, expected: set[tuple[str, str]]
) -> None:
    assert matched(index, T.IPV4, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2606:4700::1111", {(CLOUDFLARE, "2606:4700::/32")}),
        ("2001:218:3004:ffff::1", {(AKAMAI, "2001:218:3004::/48")}),
        ("2606:4701::", set()),
        ("2001:218:3005::", set()),
        ("::1", set()),
    ],
)
def test_ipv6_addresses(
    index: WarninglistIndex, value: str, expected: set[tuple[str, str]]
) -> None:
    assert matched(index, T.IPV6, value) == expected


def test_a_cidr_hits_every_listed_network_it_overlaps(index: WarninglistIndex) -> None:
    # inside a listed network
    assert matched(index, T.CIDR4, "192.168.1.0/24") == {
        (RFC1918, "192.168.0.0/16"),
        (RFC5735, "192.168.0.0/16"),
    }
    # containing listed networks and addresses: each one is named
    assert matched(index, T.CIDR4, "104.244.0.0/16") == {
        (PUBLIC_DNS, "104.244.143.18"),
        (PUBLIC_DNS, "104.244.72.75"),
        (SINKHOLES, "104.244.12.0/22"),
    }
    assert matched(index, T.CIDR4, "10.0.0.0/7") == {
        (RFC1918, "10.0.0.0/8"),
        (RFC5735, "10.0.0.0/8"),
    }
    assert matched(index, T.CIDR6, "2606::/16") == {
        (AKAMAI, "2606:6c00:120::/44"),
        (AKAMAI, "2606:6c00:2000::/48"),
        (CLOUDFLARE, "2606:4700::/32"),
    }
    assert matched(index, T.CIDR4, "104.244.16.0/20") == set()


def test_a_hit_names_the_list_version_category_and_entry(index: WarninglistIndex) -> None:
    assert index.hits(T.IPV4, "10.1.2.3") == (
        WarninglistHit(RFC1918, 5, "false-positive", "10.0.0.0/8"),
        WarninglistHit(RFC5735, 5, "false-positive", "10.0.0.0/8"),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bit.ly", {(SHORTENERS, "bit.ly")}),
        ("a.b.bit.ly", {(SHORTENERS, "bit.ly")}),
        ("goo.gl", {(SHORTENERS, "goo.gl")}),
        ("tinyurl.com", {(SHORTENERS, "tinyurl.com")}),
        ("notbit.ly", set()),
        ("bit.ly.evil.vn", set()),
        ("ly", set()),
        # substring list: anywhere in the name, even as a prefix of another domain
        ("www.virustotal.com", {(ANALYSIS, "virustotal.com")}),
        ("hybrid-analysis.com.evil.vn", {(ANALYSIS, "hybrid-analysis.com")}),
        ("virustotal.co", set()),
    ],
)
def test_domains(index: WarninglistIndex, value: str, expected: set[tuple[str, str]]) -> None:
    assert matched(index, T.DOMAIN, value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://bit.ly/3xYzAbc", {(SHORTENERS, "bit.ly")}),
        ("http://t.co/x?y=1", {(SHORTENERS, "t.co")}),
        ("https://www.virustotal.com/gui/file/abc", {(ANALYSIS, "virustotal.com")}),
        # the host of a URL is checked against the address lists too
        ("http://8.8.8.8/dns-query", {(PUBLIC_DNS, "8.8.8.8")}),
        ("http://[2606:4700::6810:84e5]/x", {(CLOUDFLARE, "2606:4700::/32")}),
        (
            "http://192.168.1.1:8080/admin",
            {(RFC1918, "192.168.0.0/16"), (RFC5735, "192.168.0.0/16")},
        ),
        ("http://evil.vn/bit.ly", set()),
        ("http://example.vn/", set()),
    ],
)
def test_urls(index: WarninglistIndex, value: str, expected: set[tuple[str, str]]) -> None:
    assert matched(index, T.URL, value) == expected


def test_hashes_of_empty_content(index: WarninglistIndex) -> None:
    assert matched(index, T.MD5, "d41d8cd98f00b204e9800998ecf8427e") == {
        (EMPTY_HASHES, "d41d8cd98f00b204e9800998ecf8427e")
    }
    assert matched(index, T.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709") == {
        (EMPTY_HASHES, "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }
    sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert matched(index, T.SHA256, sha256) == {(EMPTY_HASHES, sha256)}
    assert matched(index, T.MD5, "D41D8CD98F00B204E9800998ECF8427E") != set()
    assert matched(index, T.MD5, "0cc175b9c0f1b6a831c399e269772661") == set()  # md5("a")


@pytest.mark.parametrize(
    ("value", "hit"),
    [
        ("abuse@example.com", True),
        ("noc@vnpt.vn", True),
        ("security@csirt.gov.vn", True),
        ("soc@a.b", True),
        ("abuse@localhost", False),  # the regex wants a dot after the @
        ("abusers@example.com", False),
        ("info@example.com", False),
        ("security-team@example.com", False),
    ],
)
def test_common_contact_emails_regex(index: WarninglistIndex, value: str, hit: bool) -> None:
    expected = {(CONTACTS, CONTACTS_REGEX)} if hit else set()
    assert matched(index, T.EMAIL, value) == expected


def test_lists_apply_only_to_their_matching_attributes(index: WarninglistIndex) -> None:
    assert matched(index, T.EMAIL, "someone@bit.ly") == set()  # shorteners: domain, url
    assert matched(index, T.EMAIL, "x@virustotal.com") == set()
    assert matched(index, T.DOMAIN, "abuse@example.com") == set()  # contacts: e-mail only
    assert matched(index, T.FILENAME, "8.8.8.8") == set()


def test_values_that_are_not_of_the_type_hit_nothing(index: WarninglistIndex) -> None:
    for kind in IndicatorType:
        for value in ("", "not an address", "http://[::1", "1.2.3.4/33", "999.1.1.1"):
            assert isinstance(index.hits(kind, value), tuple)
    assert index.hits(T.IPV4, "999.1.1.1") == ()
    assert index.hits(T.URL, "http://[::1") == ()


def test_check_addresses_answers_like_hits(index: WarninglistIndex) -> None:
    values = [
        "8.8.8.8",
        "10.1.2.3",
        "8.8.8.9",
        "2606:4700::1111",
        "192.168.1.0/24",
        "not an address",
        "",
        "01.2.3.4",
        " 8.8.4.4",
        "224.0.0.251",
    ]
    results = index.check_addresses(values)
    assert len(results) == len(values)
    assert results[0] == index.hits(T.IPV4, "8.8.8.8")
    assert {hit.name for hit in results[1]} == {RFC1918, RFC5735}
    assert results[2] == ()
    assert results[3] == index.hits(T.IPV6, "2606:4700::1111")
    assert results[4] == index.hits(T.CIDR4, "192.168.1.0/24")
    assert results[5] == results[6] == results[7] == ()
    assert results[8] == index.hits(T.IPV4, "8.8.4.4") != ()
    assert {hit.name for hit in results[9]} == {RFC5735, MULTICAST}
    # the all-valid fast path and the mixed path agree
    assert index.check_addresses(["8.8.8.8", "10.1.2.3"]) == results[:2]
    assert index.check_addresses([]) == []


# --- Malformed lists ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "column", "reason"),
    [
        ({"name": "x", "version": 1, "description": "d", "type": "cidr"}, "list", "missing"),
        (
            {"name": "x", "version": "1", "description": "d", "type": "cidr", "list": []},
            "version",
            "integer",
        ),
        (
            {"name": "x", "version": True, "description": "d", "type": "cidr", "list": []},
            "version",
            "integer",
        ),
        (
            {"name": "x", "version": 1, "description": "d", "type": "cidrs", "list": []},
            "type",
            "not a warninglist type",
        ),
        (
            {"name": "x", "version": 1, "description": "d", "type": "cidr", "list": "10.0.0.0/8"},
            "list",
            "array of strings",
        ),
        (
            {"name": "x", "version": 1, "description": "d", "type": "cidr", "list": ["a", 5]},
            "list",
            "item 2 is int",
        ),
        (
            {"name": " ", "version": 1, "description": "d", "type": "string", "list": []},
            "name",
            "empty",
        ),
        (
            {"name": 5, "version": 1, "description": "d", "type": "string", "list": []},
            "name",
            "string",
        ),
        (
            a_list("x", "string", ["a"], matching_attributes="ip-src"),
            "matching_attributes",
            "array",
        ),
    ],
)
def test_a_malformed_list_names_the_file_and_field(
    tmp_path: Path, document: dict[str, Any], column: str, reason: str
) -> None:
    path = write_list(tmp_path, "broken", document)
    with pytest.raises(InputError) as raised:
        read_warninglist(path)
    problems = raised.value.problems
    assert [(p.file, p.column) for p in problems] == [(str(path), column)]
    assert reason in problems[0].reason
    assert str(path) in str(raised.value)


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write_list(tmp_path, "broken", '{\n  "name": "x",\n  "list": [1,,]\n}')
    with pytest.raises(InputError) as raised:
        read_warninglist(path)
    (problem,) = raised.value.problems
    assert problem.file == str(path)
    assert problem.row == 3
    assert "not valid JSON" in problem.reason


def test_a_document_that_is_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="JSON object, not list"):
        read_warninglist(write_list(tmp_path, "broken", ["10.0.0.0/8"]))
    with pytest.raises(InputError, match="nested too deeply"):
        read_warninglist(write_list(tmp_path, "deep", "[" * 100_000 + "]" * 100_000))


def test_a_broken_file_is_reported_and_the_others_still_load(tmp_path: Path) -> None:
    write_list(tmp_path, "good", a_list("Good", "string", ["a"]))
    write_list(tmp_path, "bad", '{"name": "Bad"')
    (tmp_path / "not-utf8.json").write_bytes(b'{"name": "\xff"}')
    loaded = load_warninglists([tmp_path, tmp_path / "missing.json"])
    assert [wl.name for wl in loaded.lists] == ["Good"]
    files = {Path(p.file).name for p in loaded.problems}
    assert files == {"bad.json", "not-utf8.json", "missing.json"}
    index = WarninglistIndex.load([tmp_path])
    assert index.hits(T.DOMAIN, "a") != ()
    assert len(index.problems) == 2


def test_a_folder_without_lists_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text("{}")
    loaded = load_warninglists([tmp_path])
    assert loaded.lists == ()
    assert [p.reason for p in loaded.problems] == ["folder holds no warninglist (*.json)"]


def test_a_bad_entry_is_a_problem_for_that_entry_only(tmp_path: Path) -> None:
    path = write_list(
        tmp_path,
        "mixed",
        a_list(
            "Mixed networks",
            "cidr",
            ["10.0.0.300/8", "203.113.0.0/24", "", "2001:db8::/129", "198.51.100.7"],
        ),
    )
    index = WarninglistIndex.load([path])
    assert [(p.file, p.row, p.column) for p in index.problems] == [
        (str(path), 1, "list"),
        (str(path), 3, "list"),
        (str(path), 4, "list"),
    ]
    assert "'10.0.0.300/8'" in index.problems[0].reason
    assert "not an IPv4 or IPv6 address or network" in index.problems[0].reason
    assert matched(index, T.IPV4, "203.113.0.9") == {("Mixed networks", "203.113.0.0/24")}
    assert matched(index, T.IPV4, "198.51.100.7") == {("Mixed networks", "198.51.100.7")}
    assert matched(index, T.IPV4, "10.0.0.1") == set()


# --- Regex lists -------------------------------------------------------------------------------


def test_regex_entries_pcre_delimited_bare_and_broken(tmp_path: Path) -> None:
    entries = [
        r"^admin@",  # bare
        r"#\.gov\.vn$#i",  # another delimiter, a modifier
        r"/^(?<user>postmaster)@/",  # PCRE named group
        r"/^root@/U",  # an ungreedy modifier Python has not
        r"/(unclosed/",  # does not compile
        r"~^hostmaster@~x",
    ]
    path = write_list(
        tmp_path, "regex", a_list("Mail roles", "regex", entries, matching_attributes=["email-src"])
    )
    index = WarninglistIndex.load([path])
    assert [(p.row, p.column) for p in index.problems] == [(4, "list"), (5, "list")]
    assert "unsupported PCRE modifier 'U'" in index.problems[0].reason
    assert "does not compile" in index.problems[1].reason

    def entries_hit(value: str) -> set[str]:
        return {hit.entry for hit in index.hits(T.EMAIL, value)}

    assert entries_hit("admin@example.com") == {r"^admin@"}
    assert entries_hit("someone@SOCT.GOV.VN") == {r"#\.gov\.vn$#i"}
    assert entries_hit("postmaster@example.com") == {r"/^(?<user>postmaster)@/"}
    assert entries_hit("hostmaster@example.com") == {r"~^hostmaster@~x"}
    assert entries_hit("root@example.com") == set()
    assert entries_hit("user@example.com") == set()
    assert index.hits(T.DOMAIN, "admin@example.com") == ()


# --- User lists --------------------------------------------------------------------------------


def test_user_lists_add_to_and_override_the_shared_ones(shared_lists: Path, tmp_path: Path) -> None:
    write_list(tmp_path, "rfc1918", a_list(RFC1918, "cidr", ["10.0.0.0/8"], version=6))
    write_list(
        tmp_path,
        "gov",
        a_list(
            "Vietnamese government domains",
            "hostname",
            ["*.gov.vn", ".edu.vn", "Bộ-Y-Tế.vn"],
            matching_attributes=["domain", "hostname", "url"],
            category="known",
        ),
    )
    index = WarninglistIndex.load([shared_lists, tmp_path])
    assert index.problems == ()
    assert len(index.lists) == 12
    assert index.lists[RFC1918].version == 6
    assert index.lists[RFC1918].source.endswith("rfc1918.json")
    # the user's rfc1918 no longer lists 192.168.0.0/16; rfc5735 still does
    assert matched(index, T.IPV4, "192.168.1.1") == {(RFC5735, "192.168.0.0/16")}
    assert index.hits(T.IPV4, "10.9.9.9")[0] == WarninglistHit(
        RFC1918, 6, "false-positive", "10.0.0.0/8"
    )
    assert index.hits(T.DOMAIN, "portal.hanoi.gov.vn") == (
        WarninglistHit("Vietnamese government domains", 1, "known", "*.gov.vn"),
    )
    assert matched(index, T.DOMAIN, "gov.vn") == {("Vietnamese government domains", "*.gov.vn")}
    assert matched(index, T.URL, "https://hust.edu.vn/tuyen-sinh") == {
        ("Vietnamese government domains", ".edu.vn")
    }
    punycode = normalise(T.DOMAIN, "www.bộ-y-tế.vn").value
    assert matched(index, T.DOMAIN, punycode) == {("Vietnamese government domains", "Bộ-Y-Tế.vn")}
    assert matched(index, T.DOMAIN, "gov.vn.example.com") == set()


def test_a_list_without_matching_attributes_applies_to_every_type(tmp_path: Path) -> None:
    path = write_list(tmp_path, "any", a_list("Anything", "string", ["Example"]))
    index = WarninglistIndex.load([path])
    assert index.hits(T.DOMAIN, "example")[0].entry == "Example"
    assert index.hits(T.BRANDNAME, "EXAMPLE") != ()
    assert index.hits(T.FILENAME, "example") == ()  # file names keep their case
    assert index.hits(T.FILENAME, "Example") != ()


def test_string_and_substring_lists_of_addresses(tmp_path: Path) -> None:
    path = write_list(
        tmp_path,
        "addresses",
        a_list("Strings of addresses", "string", ["192.0.2.1", "2001:DB8::1"]),
    )
    write_list(
        tmp_path,
        "prefixes",
        a_list(
            "Address prefixes",
            "substring",
            ["198.51.100.", "virustotal.com"],
            matching_attributes=["ip-dst", "domain"],
        ),
    )
    index = WarninglistIndex.load([path, tmp_path / "prefixes.json"])
    values = ["192.0.2.1", "198.51.100.25", "203.0.113.5", "2001:db8::1"]
    results = index.check_addresses(values)
    assert [{hit.entry for hit in hits} for hits in results] == [
        {"192.0.2.1"},
        {"198.51.100."},
        set(),
        {"2001:DB8::1"},
    ]
    assert results == [index.hits(T.IPV4, v) for v in values[:3]] + [index.hits(T.IPV6, values[3])]
    assert matched(index, T.DOMAIN, "www.virustotal.com") == {
        ("Address prefixes", "virustotal.com")
    }


def test_warninglists_build_from_objects_too() -> None:
    lists = [
        Warninglist("A", 1, "d", MatchType.CIDR, ("10.0.0.0/8",)),
        Warninglist("A", 2, "d", MatchType.CIDR, ("11.0.0.0/8",)),
    ]
    index = WarninglistIndex(lists)
    assert index.hits(T.IPV4, "10.0.0.1") == ()
    assert index.hits(T.IPV4, "11.0.0.1") == (
        WarninglistHit("A", 2, "false-positive", "11.0.0.0/8"),
    )
    assert "1 lists" in repr(index)

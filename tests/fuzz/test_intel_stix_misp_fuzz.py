"""Property tests: STIX bundles, STIX patterns, MISP events and feeds fail only cleanly.

Whatever is done to the shared samples (values replaced, keys dropped, bytes cut or
flipped) and whatever pattern is written, the parsers raise nothing but InputError and
yield only IntelEvent and RowProblem.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.core.errors import InputError, RowProblem
from garrison.intel.event import IntelEvent
from garrison.intel.formats import FeedDocument, FeedFormat, format_named
from garrison.intel.formats.stix2_bundle import InvalidPattern, PatternTerms, read_pattern
from garrison.intel.types import IndicatorType

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STIX_SAMPLES = sorted((SHARED / "stix").rglob("*.json"))
MISP_SAMPLES = [
    *sorted((SHARED / "misp" / "events").glob("*.json")),
    SHARED / "feeds" / "misp" / "misp_event.json",
]
SAMPLE_TEXT = {path: path.read_text(encoding="utf-8") for path in STIX_SAMPLES + MISP_SAMPLES}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "bundle",
            "indicator",
            "ipv4-addr",
            "relationship",
            "sighting",
            "2.1",
            "2.0",
            "stix",
            "[ipv4-addr:value = '198.51.100.1']",
            "2024-03-01T08:00:00Z",
            "2022-101-27T13:49:54.326Z",
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "ip-dst|port",
            "198.51.100.1|99999",
            "domain|ip",
            "tlp:amber+strict",
            'misp-galaxy:malpedia="Emotet"',
            "1700000000",
            "0",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the document a value sits, to pick mutation targets from."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(paths(value, (*prefix, index)))
    return found


def mutate(document: Any, data: st.DataObject) -> Any:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        targets = paths(document)
        target = targets[data.draw(st.integers(0, len(targets) - 1), label="target")]
        if not target:
            document = data.draw(json_values, label="whole document")
            continue
        parent = document
        for key in target[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]), label="action")
        if action == "replace":
            parent[target[-1]] = data.draw(json_values, label="value")
        elif action == "delete":
            del parent[target[-1]]
        elif isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[target[-1]])))
    return document


def check(feed_format: FeedFormat, document: FeedDocument) -> None:
    try:
        items = list(feed_format.parse(document))
    except InputError as exc:
        assert exc.problems
        assert all(isinstance(problem, RowProblem) for problem in exc.problems)
        return
    for item in items:
        assert isinstance(item, IntelEvent | RowProblem)
        if isinstance(item, IntelEvent):
            assert isinstance(item.indicator_type, IndicatorType)
            assert isinstance(item.value, str) and item.value
            assert all(
                moment is None or moment.utcoffset() is not None
                for moment in (item.time_source, item.last_seen, item.expires_at)
            )


def written(tmp_path: Path, name: str, content: bytes) -> FeedDocument:
    path = tmp_path / name
    path.write_bytes(content)
    return FeedDocument.from_path(path)


@pytest.mark.parametrize("format_name", ["stix2", "misp-event"])
@FUZZ
@given(data=st.data())
def test_mutated_samples(tmp_path: Path, format_name: str, data: st.DataObject) -> None:
    samples = STIX_SAMPLES if format_name == "stix2" else MISP_SAMPLES
    sample = data.draw(st.sampled_from(samples), label="sample")
    document = mutate(json.loads(SAMPLE_TEXT[sample]), data)
    content = json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")
    check(format_named(format_name), written(tmp_path, sample.name, content))


@pytest.mark.parametrize("format_name", ["stix2", "misp-event"])
@FUZZ
@given(data=st.data())
def test_damaged_bytes(tmp_path: Path, format_name: str, data: st.DataObject) -> None:
    samples = STIX_SAMPLES if format_name == "stix2" else MISP_SAMPLES
    sample = data.draw(st.sampled_from(samples), label="sample")
    content = bytearray(SAMPLE_TEXT[sample].encode("utf-8"))
    cut = data.draw(st.integers(0, len(content)), label="cut")
    damaged = content[:cut]
    for _ in range(data.draw(st.integers(0, 3), label="flips")):
        if damaged:
            at = data.draw(st.integers(0, len(damaged) - 1), label="at")
            damaged[at] = data.draw(st.integers(0, 255), label="byte")
    check(format_named(format_name), written(tmp_path, sample.name, bytes(damaged)))


@FUZZ
@given(data=st.data())
def test_mutated_feed_folders(tmp_path: Path, data: st.DataObject) -> None:
    folder = tmp_path / "feed"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    event = data.draw(st.sampled_from(MISP_SAMPLES), label="event")
    uuid = "57c4445b-c548-4654-af0b-4be3950d210f"
    manifest: Any = {uuid: {"info": "fuzzed", "Tag": [{"name": "tlp:white"}]}}
    if data.draw(st.booleans(), label="mutate manifest"):
        manifest = mutate(manifest, data)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if data.draw(st.booleans(), label="event file present"):
        fuzzed = mutate(json.loads(SAMPLE_TEXT[event]), data)
        (folder / f"{uuid}.json").write_text(json.dumps(fuzzed))
    check(format_named("misp-feed"), FeedDocument.from_path(folder / "manifest.json"))


object_paths = st.sampled_from(
    [
        "ipv4-addr:value",
        "ipv6-addr:value",
        "domain-name:value",
        "url:value",
        "email-addr:value",
        "file:name",
        "file:hashes.MD5",
        "file:hashes.'SHA-1'",
        "file:hashes.'SHA-256'",
        "file:hashes.'SHA-512'",
        "autonomous-system:number",
        "network-traffic:dst_ref.value",
        "x509-certificate:issuer",
        "file:extensions.'windows-pebinary-ext'.sections[*].entropy",
        "process:name",
    ]
)
operators = st.sampled_from(
    ["=", "!=", "ISSUBSET", "ISSUPERSET", "MATCHES", "LIKE", "IN", ">", "<=", "NOT ="]
)
literals = st.one_of(
    st.text(max_size=24).map(
        lambda text: "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    ),
    st.integers(-5, 2**33).map(str),
    st.sampled_from(
        [
            "'198.51.100.0/24'",
            "'2001:db8::/32'",
            "'001dd76872d80801692ff942308c64e6'",
            "t'2024-03-01T08:00:00Z'",
            "h'ff00'",
            "b'AAEC'",
            "true",
            "('198.51.100.1', '198.51.100.2')",
        ]
    ),
)


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def hex_digits(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789abcdefABCDEF", min_size=size, max_size=size)


well_formed = st.one_of(
    st.ip_addresses(v=4).map(lambda address: f"ipv4-addr:value = '{address}'"),
    st.ip_addresses(v=6).map(lambda address: f"ipv6-addr:value = '{address}'"),
    st.builds(
        lambda address, prefix: f"ipv4-addr:value ISSUBSET '{address}/{prefix}'",
        st.ip_addresses(v=4),
        st.integers(0, 32),
    ),
    st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,8}){1,3}", fullmatch=True).map(
        lambda name: f"domain-name:value = '{name}'"
    ),
    st.text(max_size=40).map(lambda text: f"url:value = {quoted('http://' + text)}"),
    st.text(max_size=20).map(lambda text: f"email-addr:value = {quoted(text + '@x.example')}"),
    st.text(max_size=20).map(lambda text: f"file:name = {quoted(text)}"),
    hex_digits(32).map(lambda digest: f"file:hashes.MD5 = '{digest}'"),
    hex_digits(40).map(lambda digest: f"file:hashes.'SHA-1' = '{digest}'"),
    hex_digits(64).map(lambda digest: f"file:hashes.'SHA-256' = '{digest}'"),
    st.integers(0, 2**33).map(lambda number: f"autonomous-system:number = {number}"),
)
"""Comparisons Garrison supports, with values of the right shape (and some empty ones)."""
comparisons = st.one_of(
    well_formed,
    well_formed,
    st.builds(lambda path, op, value: f"{path} {op} {value}", object_paths, operators, literals),
)
observations = st.lists(comparisons, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" AND ", " OR "]).map(lambda join: "[" + join.join(parts) + "]")
)
qualifiers = st.sampled_from(
    [
        "",
        " WITHIN 300 SECONDS",
        " REPEATS 3 TIMES",
        " START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'",
    ]
)
patterns = st.builds(
    lambda parts, joins, qualifier: (
        "".join(part + (joins[i] if i < len(parts) - 1 else "") for i, part in enumerate(parts))
        + qualifier
    ),
    st.lists(observations, min_size=1, max_size=3),
    st.lists(st.sampled_from([" AND ", " OR ", " FOLLOWEDBY "]), min_size=2, max_size=2),
    qualifiers,
)


@FUZZ
@given(pattern=st.one_of(patterns, st.text(max_size=60)))
def test_patterns(tmp_path: Path, pattern: str) -> None:
    try:
        terms = read_pattern(pattern)
    except InvalidPattern as exc:
        assert str(exc)
    else:
        assert isinstance(terms, PatternTerms)
        assert all(group for group in terms.groups)
        assert all(
            reason.startswith(("unsupported: ", "empty value: ")) for reason in terms.unsupported
        )
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5f000000-0000-4000-8000-000000000001",
        "created": "2024-03-01T08:00:00Z",
        "modified": "2024-03-01T08:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-03-01T08:00:00Z",
    }
    bundle = {"type": "bundle", "id": "bundle--5f000000-0000-4000-8000-000000000002"}
    bundle["objects"] = [indicator]  # type: ignore[assignment]
    content = json.dumps(bundle).encode("utf-8", "surrogatepass")
    check(format_named("stix2"), written(tmp_path, "pattern.json", content))


misp_types = st.sampled_from(
    ["ip-src", "ip-dst", "ip-dst|port", "ip-src|port", "domain|ip", "hostname|port", "url",
     "filename|sha256", "malware-sample", "AS", "phone-number", "email-src", "md5", "link",
     "text", "mutex", "regkey|value", "yara"]
)  # fmt: skip


@FUZZ
@given(
    attributes=st.lists(
        st.fixed_dictionaries(
            {
                "type": misp_types,
                "value": st.one_of(st.text(max_size=40), json_values),
                "category": st.sampled_from(["Network activity", "Payload delivery", "Other"]),
                "to_ids": json_values,
            },
            optional={
                "uuid": st.uuids().map(str),
                "timestamp": json_values,
                "first_seen": json_values,
                "deleted": json_values,
                "Tag": st.lists(st.fixed_dictionaries({"name": json_values}), max_size=3),
                "Sighting": st.lists(
                    st.fixed_dictionaries({"type": json_values, "date_sighting": json_values}),
                    max_size=3,
                ),
            },
        ),
        max_size=6,
    ),
    tags=st.lists(
        st.sampled_from(["tlp:red", "tlp:unclear", 'rsit:fraud="phishing"', "ecsirt:", "x"]),
        max_size=3,
    ),
)
def test_misp_attributes(tmp_path: Path, attributes: list[Any], tags: list[str]) -> None:
    event = {"Event": {"info": "fuzz", "Attribute": attributes, "Tag": [{"name": t} for t in tags]}}
    content = json.dumps(event).encode("utf-8", "surrogatepass")
    check(format_named("misp-event"), written(tmp_path, "event.json", content))

"""Property tests: any stored indicators export in every format, and the outputs parse back.

Records are built the way the store holds them: values of each type made canonical by
`garrison.intel.normalise.normalise`; the other fields are arbitrary (text with quotes,
backslashes, separators, control characters and Vietnamese). Every format must write them
without error and account for each one (written or skipped); CSV, STIX and RPZ outputs must
parse back to the same values.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
import zipfile
from datetime import UTC, datetime

import dns.rdatatype
import dns.zone
import stix2
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from stix2.pattern_visitor import create_pattern_object
from stix2patterns.validator import run_validator

from garrison.intel.exports import (
    ExportedIndicator,
    ExportOptions,
    ExportSummary,
    export_named,
    registered_exports,
)
from garrison.intel.exports.csv_table import split_list, unprotect
from garrison.intel.exports.rpz import rpz_ip_name
from garrison.intel.normalise import InvalidIndicator, normalise
from garrison.intel.types import IndicatorType, Tlp

T = IndicatorType
OPTIONS = ExportOptions(generated_at=datetime(2024, 5, 17, 8, 30, tzinfo=UTC))
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

ascii_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
unicode_label = st.text(
    alphabet="abcdđeêghiklmnoôơpqrstuưvxyàáạảãâầấậẩẫăằắặẳẵèéẹẻẽ", min_size=1, max_size=10
)
domains = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(st.one_of(ascii_label, unicode_label), min_size=1, max_size=3),
    st.sampled_from(["vn", "com", "com.vn", "gov.vn", "việtnam", "example"]),
)
path_text = st.text(
    alphabet=string.ascii_letters + string.digits + "'\"\\;=+-@%/?&#.~!$()*,:[]{}|^`ễư",
    max_size=20,
)
RAW_VALUES = {
    T.IPV4: st.ip_addresses(v=4).map(str),
    T.CIDR4: st.builds("{}/{}".format, st.ip_addresses(v=4), st.integers(0, 32)),
    T.IPV6: st.ip_addresses(v=6).map(str),
    T.CIDR6: st.builds("{}/{}".format, st.ip_addresses(v=6), st.integers(0, 128)),
    T.DOMAIN: domains,
    T.URL: st.builds(
        "{}://{}{}/{}".format,
        st.sampled_from(["http", "https", "ftp", "hxxp"]),
        st.one_of(domains, st.ip_addresses(v=4).map(str), st.just("[2001:db8::1]")),
        st.sampled_from(["", ":8080", ":443"]),
        path_text,
    ),
    T.EMAIL: st.builds(
        "{}@{}".format,
        st.text(
            alphabet=string.ascii_letters + string.digits + ".'_+-\\\"!#$%&*=?^`{|}~",
            min_size=1,
            max_size=20,
        ),
        domains,
    ),
    T.MD5: st.binary(min_size=16, max_size=16).map(bytes.hex),
    T.SHA1: st.binary(min_size=20, max_size=20).map(bytes.hex),
    T.SHA256: st.binary(min_size=32, max_size=32).map(bytes.hex),
    T.FILENAME: st.text(min_size=1, max_size=30),
    T.PHONE: st.from_regex(r"\+84(3[2-9]|9[0-9]|8[1-9]|7[06-9])[0-9]{7}", fullmatch=True),
    T.ASN: st.integers(1, 2**32 - 1).map("AS{}".format),
    T.BRANDNAME: st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ._&-]{0,10}", fullmatch=True),
}
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
free_text = st.text(min_size=1, max_size=15)


@st.composite
def stored_indicators(draw: st.DrawFn) -> ExportedIndicator:
    kind = draw(st.sampled_from(list(T)))
    try:
        key = normalise(kind, draw(RAW_VALUES[kind]))
    except InvalidIndicator:
        reject()
    first_seen = draw(moments)
    return ExportedIndicator(
        type=key.type,
        value=key.value,
        first_seen=first_seen,
        last_seen=draw(st.one_of(st.just(first_seen), moments)),
        tlp=draw(st.sampled_from(list(Tlp))),
        confidence=draw(st.none() | st.integers(0, 100)),
        tags=tuple(draw(st.lists(free_text, max_size=3))),
        malware=tuple(draw(st.lists(free_text.map(str.lower), max_size=2))),
        sources=tuple(draw(st.lists(free_text, max_size=2))),
        classification_type=draw(
            st.none()
            | st.sampled_from(["c2-server", "infected-system", "phishing", "scanner", "spam"])
        ),
        expires_at=draw(st.none() | moments),
        description=draw(st.none() | st.text(max_size=60)),
        stable_id=str(draw(st.uuids())),
    )


indicator_lists = st.lists(stored_indicators(), max_size=8)


def export(name: str, records: list[ExportedIndicator]) -> tuple[bytes, ExportSummary]:
    stream = io.BytesIO()
    summary = export_named(name).write(records, stream, options=OPTIONS)
    assert summary.written + summary.skipped_total == len(records)
    return stream.getvalue(), summary


LINE_SHAPES = {
    "ipset": re.compile(
        r"^(create \S+ hash:net family inet6? maxelem \d+ -exist|flush \S+|add \S+ [0-9a-f.:/]+ "
        r"-exist|swap \S+ \S+|destroy \S+)$"
    ),
    "nftables": re.compile(
        r"^(#.*|table inet garrison \{|\tset blocklist_v[46] \{|\t\t(type ipv[46]_addr|flags "
        r"interval|auto-merge)|\t?\}|flush set inet garrison blocklist_v[46]|add element inet "
        r"garrison blocklist_v[46] \{ [0-9a-f.:/]+(, [0-9a-f.:/]+)* \})$"
    ),
    "fortigate": re.compile(
        r'^(config firewall (address6?|addrgrp6?)|end|    next|    edit "garrison(6|-blocklist6?)?'
        r'-\d+"|        set (type (ipmask|fqdn|ipprefix)|subnet [0-9.]+ [0-9.]+|ip6 [0-9a-f:/]+'
        r'|fqdn "[a-z0-9._-]+"|comment "([^"\\?\x00-\x1f]|\\["\\])*")|        (set|append)'
        r' member "garrison6?-\d+"( "garrison6?-\d+")*)$'
    ),
}


@FUZZ
@given(indicator_lists)
def test_every_format_writes_and_accounts_for_each_indicator(
    records: list[ExportedIndicator],
) -> None:
    for name in registered_exports():
        data, summary = export(name, records)
        assert summary.written <= sum(export_named(name).accepts(r.type) for r in records)
        if name in LINE_SHAPES:
            for line in data.decode("utf-8").splitlines():
                assert LINE_SHAPES[name].match(line), f"{name}: {line!r}"
        if name == "plain":
            assert len(data.decode("utf-8").splitlines()) == summary.written
        if name == "misp-feed":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                manifest = json.loads(archive.read("manifest.json"))
                (event_uuid,) = manifest
                event = json.loads(archive.read(f"{event_uuid}.json"))["Event"]
                hashes = archive.read("hashes.csv").decode("ascii").splitlines()
            assert len(event["Attribute"]) == len(hashes) == summary.written


@FUZZ
@given(indicator_lists)
def test_csv_reads_back_to_the_same_values(records: list[ExportedIndicator]) -> None:
    data, _ = export("csv", records)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        cells = {key: unprotect(value) for key, value in row.items()}
        assert cells["type"] == record.type.value
        assert cells["value"] == record.value
        assert split_list(cells["tags"]) == record.tags
        assert split_list(cells["malware"]) == record.malware
        assert split_list(cells["sources"]) == record.sources
        assert cells["description"] == (record.description or "")
        assert datetime.fromisoformat(cells["first_seen"]) == record.first_seen.replace(
            microsecond=0
        )


@FUZZ
@given(indicator_lists)
def test_stix_bundle_parses_back(records: list[ExportedIndicator]) -> None:
    data, summary = export("stix2", records)
    bundle = stix2.parse(data.decode("utf-8"), version="2.1", allow_custom=False)
    indicators = [o for o in bundle.get("objects", []) if o.type == "indicator"]
    assert len(indicators) == summary.written
    written = [r for r in records if r.type not in (T.PHONE, T.BRANDNAME)]
    by_name = {r.value: r for r in written}
    for stix in indicators:
        assert run_validator(stix.pattern) == []
        record = by_name[stix.name]
        value = create_pattern_object(stix.pattern, version="2.1").operand.rhs.value
        if record.type is T.ASN:
            assert f"AS{value}" == record.value
        else:
            assert re.sub(r"\\(.)", r"\1", value) == record.value


@FUZZ
@given(indicator_lists)
def test_rpz_zone_parses_back(records: list[ExportedIndicator]) -> None:
    data, summary = export("rpz", records)
    zone = dns.zone.from_text(data.decode("utf-8"), origin="rpz.garrison.invalid.")
    owners = {name.to_text() for name in zone.nodes}
    for record in records:
        if record.type is T.DOMAIN and not record.value.endswith(".rpz-ip"):
            expected = record.value
        elif record.type.is_network and not record.value.endswith("/0"):
            expected = rpz_ip_name(record.value)
        else:
            continue
        if expected in owners:
            cname = zone.get_rdataset(expected, dns.rdatatype.CNAME)
            assert cname is not None and next(iter(cname)).target.to_text() == "."
        else:
            assert any(reason.startswith(f"{record.type}:") for reason in summary.skipped)

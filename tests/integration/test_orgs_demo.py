"""The demo province: a plausible, public, consistent registry, loaded once, alike per seed."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections import Counter
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.core.settings import load_settings
from garrison.orgs.addresses import address_key, parse_network
from garrison.orgs.demo import COORDINATOR_NAME, DemoSummary, load_demo_province
from garrison.orgs.models import Asset, Component, Network, Organisation

pytestmark = pytest.mark.db

DOCUMENTATION_NETWORKS = [
    ipaddress.ip_network(cidr)
    for cidr in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
E164_VIETNAMESE_MOBILE = re.compile(r"\+84[35789]\d{8}")


def _open_sqlite(directory: Path) -> Database:
    """A throw-away, migrated SQLite database; the URL is explicit so no environment leaks in."""
    url = f"sqlite:///{directory / 'garrison.sqlite3'}"
    return Database.open(load_settings(data_dir=directory, database_url=url))


@pytest.fixture
def summary(database: Database) -> DemoSummary:
    with database.session() as session:
        return load_demo_province(session)


def _organisations(database: Database) -> list[Organisation]:
    """Every organisation with all it owns, loaded while the session is open."""
    assets = selectinload(Organisation.assets)
    with database.session() as session:
        query = (
            select(Organisation)
            .order_by(Organisation.id)
            .options(
                selectinload(Organisation.contacts),
                selectinload(Organisation.networks),
                selectinload(Organisation.domains),
                assets.selectinload(Asset.addresses),
                assets.selectinload(Asset.components),
            )
        )
        return list(session.scalars(query).unique())


def _audit_counts(session: Session) -> Counter[tuple[str, str]]:
    rows = session.execute(
        select(AuditEvent.entity, AuditEvent.action, func.count()).group_by(
            AuditEvent.entity, AuditEvent.action
        )
    )
    return Counter({(entity, action): count for entity, action, count in rows})


def _fingerprint(database: Database) -> str:
    """A digest of the province: networks, and assets with their addresses and software."""
    lines = []
    for org in _organisations(database):
        lines += [f"net {org.short_name} {network.cidr}" for network in org.networks]
        for asset in org.assets:
            addresses = ",".join(address.address for address in asset.addresses)
            software = ",".join(component.ref for component in asset.components)
            lines.append(f"asset {org.short_name} {asset.name} {addresses} {software}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def test_counts_match_a_province(summary: DemoSummary) -> None:
    assert 35 <= summary.organisations <= 45
    assert summary.by_kind["telecom"] == 3
    assert summary.by_kind["coordinator"] == 1
    assert summary.by_kind["department"] >= 15 and summary.by_kind["district"] >= 8
    assert sum(summary.by_kind.values()) == summary.organisations
    assert summary.assets >= 280
    assert summary.organisations <= summary.contacts <= 3 * summary.organisations
    assert summary.components > summary.assets


def test_short_names_are_unique_ascii_codes(database: Database, summary: DemoSummary) -> None:
    short_names = [org.short_name for org in _organisations(database)]
    assert all(name and name.isascii() and name == name.upper() for name in short_names)
    assert len(set(short_names)) == len(short_names) == summary.organisations


def test_names_are_vietnamese_with_diacritics(database: Database, summary: DemoSummary) -> None:
    orgs = _organisations(database)
    names = {org.name for org in orgs}
    assert {COORDINATOR_NAME, "Sở Tài nguyên và Môi trường tỉnh Sơn Lâm"} <= names
    assert any(name.startswith("Ủy ban nhân dân huyện ") for name in names)
    people = [contact.name for org in orgs for contact in org.contacts]
    texts = [*names, *people, *(asset.name for org in orgs for asset in org.assets)]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)
    assert sum(not name.isascii() for name in names) >= 0.9 * len(names)
    assert sum(not person.isascii() for person in people) >= 0.8 * len(people)


def test_networks_are_public_and_stored_consistently(
    database: Database, summary: DemoSummary
) -> None:
    networks = [network for org in _organisations(database) for network in org.networks]
    assert len(networks) == summary.networks
    assert len({network.cidr for network in networks}) == len(networks)
    for network in networks:
        parsed = ipaddress.ip_network(network.cidr)
        assert parsed.is_global and not parsed.is_private, network.cidr
        assert not parsed.is_reserved and not parsed.is_multicast, network.cidr
        documentation = [doc for doc in DOCUMENTATION_NETWORKS if doc.version == parsed.version]
        assert not any(parsed.overlaps(doc) for doc in documentation), network.cidr
        expected = parse_network(network.cidr)
        assert not expected.had_host_bits
        assert (network.version, network.prefix_length) == (parsed.version, parsed.prefixlen)
        assert (network.first_key, network.last_key) == (expected.first_key, expected.last_key)


def _within(inner: Network, outer: Network) -> bool:
    """Containment by the stored keys, the way range look-ups compare them."""
    return outer.first_key <= inner.first_key and inner.last_key <= outer.last_key


def test_member_ranges_nest_in_operator_blocks_and_never_in_each_other(
    database: Database, summary: DemoSummary
) -> None:
    orgs = _organisations(database)
    operators = [net for org in orgs if org.kind_code == "telecom" for net in org.networks]
    members = [
        net for org in orgs if org.kind_code in ("department", "district") for net in org.networks
    ]
    assert members
    for member in members:
        assert any(_within(member, block) for block in operators), member.cidr
        lengths = range(27, 30) if member.version == 4 else range(48, 57)
        assert member.prefix_length in lengths, member.cidr
    for first, second in combinations(members, 2):
        apart = first.last_key < second.first_key or second.last_key < first.first_key
        assert apart, (first.cidr, second.cidr)


def test_asset_addresses_lie_in_their_own_organisations_networks(
    database: Database, summary: DemoSummary
) -> None:
    for org in _organisations(database):
        owned = [ipaddress.ip_network(network.cidr) for network in org.networks]
        for asset in org.assets:
            assert asset.addresses, asset.name
            for stored in asset.addresses:
                address = ipaddress.ip_address(stored.address)
                assert stored.key == address_key(address)
                assert any(address in network for network in owned), (org.short_name, address)


def test_assets_are_plausible(database: Database, summary: DemoSummary) -> None:
    assets = [asset for org in _organisations(database) for asset in org.assets]
    assert len(assets) == summary.assets
    levels = Counter(asset.security_level for asset in assets if asset.security_level)
    assert set(levels) <= {1, 2, 3, 4, 5}
    assert levels[4] >= 1 and levels[5] <= 2
    assert levels[1] + levels[2] + levels[3] > 5 * (levels[4] + levels[5])
    for asset in assets:
        assert asset.operating_system and asset.hostnames and asset.kind
        if asset.security_level:
            assert asset.level_approved_on is not None
            assert date(2019, 1, 1) <= asset.level_approved_on <= date(2024, 12, 31)
        else:
            assert asset.level_approved_on is None
        if asset.kind in ("web server", "mail server"):
            assert asset.internet_facing, asset.name


def test_server_software_is_named_by_cpe_purl_or_vendor_product_version(
    database: Database, summary: DemoSummary
) -> None:
    assets = [asset for org in _organisations(database) for asset in org.assets]
    for asset in assets:
        if asset.kind != "workstation":
            assert 1 <= len(asset.components) <= 6, asset.name
        for component in asset.components:
            assert component.ref == _expected_ref(component)
    refs = {c.ref for asset in assets for c in asset.components}
    assert any(ref.startswith("cpe:2.3:") and len(ref.split(":")) == 13 for ref in refs)
    assert any(ref.startswith("pkg:") for ref in refs)
    assert any(not ref.startswith(("cpe:", "pkg:")) for ref in refs)


def _expected_ref(component: Component) -> str:
    if component.cpe:
        return component.cpe
    if component.purl:
        return component.purl
    return f"{component.vendor}/{component.product}/{component.version}"


def test_contacts_reach_each_organisation(database: Database, summary: DemoSummary) -> None:
    for org in _organisations(database):
        domains = {domain.name for domain in org.domains}
        assert 1 <= len(org.contacts) <= 3, org.short_name
        assert "Đầu mối ứng cứu sự cố" in {contact.role for contact in org.contacts}
        for contact in org.contacts:
            assert contact.email and contact.email.split("@")[1] in domains
            assert contact.phones and all(
                E164_VIETNAMESE_MOBILE.fullmatch(phone) for phone in contact.phones
            )
            assert contact.language in ("vi", "en")


def test_domains_are_stored_in_ascii_with_idn_in_punycode(
    database: Database, summary: DemoSummary
) -> None:
    owners = {
        domain.name: org.short_name for org in _organisations(database) for domain in org.domains
    }
    assert len(owners) == summary.domains
    assert owners["sonlam.gov.vn"] == owners["skhcn.sonlam.gov.vn"]
    assert all(name.isascii() and name == name.lower() for name in owners)
    idn = [name for name in owners if any(label.startswith("xn--") for label in name.split("."))]
    assert idn and all(not name.encode().decode("idna").isascii() for name in idn)


def test_loading_twice_changes_nothing(database: Database, summary: DemoSummary) -> None:
    with database.session() as session:
        events_before = session.scalar(select(func.count()).select_from(AuditEvent))
        assert load_demo_province(session) == summary
        assert load_demo_province(session, seed=7) == summary
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_every_create_leaves_an_audit_event(database: Database, summary: DemoSummary) -> None:
    with database.session() as session:
        counts = _audit_counts(session)
    assert counts[("organisations", "create")] == summary.organisations
    assert counts[("contacts", "create")] == summary.contacts
    assert counts[("networks", "create")] == summary.networks
    assert counts[("domains", "create")] == summary.domains
    assert counts[("assets", "create")] == summary.assets
    assert counts[("components", "create")] == summary.components
    assert {action for _entity, action in counts} == {"create"}


def _load_elsewhere(directory: Path, seed: int) -> tuple[DemoSummary, str]:
    """Load the province into a second, separate database and fingerprint it."""
    other = _open_sqlite(directory)
    try:
        with other.session() as session:
            loaded = load_demo_province(session, seed=seed)
        return loaded, _fingerprint(other)
    finally:
        other.dispose()


def test_same_seed_gives_the_same_province(
    database: Database, summary: DemoSummary, tmp_path: Path
) -> None:
    twin_summary, twin = _load_elsewhere(tmp_path / "twin", 2024)
    other_summary, other = _load_elsewhere(tmp_path / "other", 7)
    assert twin_summary == summary
    assert twin == _fingerprint(database)
    assert other != twin
    assert other_summary.assets >= 280 and other_summary.by_kind == summary.by_kind


def test_operators_own_large_blocks(database: Database, summary: DemoSummary) -> None:
    with database.session() as session:
        rows = session.execute(
            select(Network.version, Network.prefix_length)
            .join(Organisation)
            .where(Organisation.kind_code == "telecom")
        )
        prefixes = [(version, prefix) for version, prefix in rows]
    assert {version for version, _prefix in prefixes} == {4, 6}
    assert all(prefix <= 19 if version == 4 else prefix <= 32 for version, prefix in prefixes)

"""A fictional province, tỉnh Sơn Lâm, loaded into the registry for demos, screenshots and tests.

Every name, person, phone number and address range here is invented. The address ranges are
public slices of the kind Vietnamese operators hold (never private or documentation blocks), so
that attribution, matching and notices behave as they would on real data. Operators own large
blocks and members own small ranges inside them: the overlap is intended, the most specific
network wins. The same seed always gives the same province.
"""

from __future__ import annotations

import ipaddress
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from garrison.orgs.addresses import IPAddress, IPNetwork, address_key, parse_network
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)

PROVINCE_DOMAIN = "sonlam.gov.vn"
COORDINATOR_NAME = "Sở Khoa học và Công nghệ tỉnh Sơn Lâm"


@dataclass(frozen=True)
class DemoSummary:
    """What the registry holds after loading: counts of each table, organisations by kind."""

    organisations: int
    contacts: int
    networks: int
    domains: int
    assets: int
    components: int
    by_kind: dict[str, int]


# --- Organisations --------------------------------------------------------------------------

# (short name, kind, parent short name, name); parents come before their children.
_ORGANISATIONS: tuple[tuple[str, str, str | None, str], ...] = (
    ("SKHCN", "coordinator", None, COORDINATOR_NAME),
    ("TTCNTT", "other", "SKHCN", "Trung tâm Công nghệ thông tin và Truyền thông tỉnh Sơn Lâm"),
    ("VPUBND", "department", None, "Văn phòng Ủy ban nhân dân tỉnh Sơn Lâm"),
    ("STC", "department", None, "Sở Tài chính tỉnh Sơn Lâm"),
    ("SYT", "department", None, "Sở Y tế tỉnh Sơn Lâm"),
    ("SGDDT", "department", None, "Sở Giáo dục và Đào tạo tỉnh Sơn Lâm"),
    ("CAT", "department", None, "Công an tỉnh Sơn Lâm"),
    ("STNMT", "department", None, "Sở Tài nguyên và Môi trường tỉnh Sơn Lâm"),
    ("SNNPTNT", "department", None, "Sở Nông nghiệp và Phát triển nông thôn tỉnh Sơn Lâm"),
    ("SXD", "department", None, "Sở Xây dựng tỉnh Sơn Lâm"),
    ("SGTVT", "department", None, "Sở Giao thông vận tải tỉnh Sơn Lâm"),
    ("SKHDT", "department", None, "Sở Kế hoạch và Đầu tư tỉnh Sơn Lâm"),
    ("SCT", "department", None, "Sở Công Thương tỉnh Sơn Lâm"),
    ("STP", "department", None, "Sở Tư pháp tỉnh Sơn Lâm"),
    ("SNV", "department", None, "Sở Nội vụ tỉnh Sơn Lâm"),
    ("SLDTBXH", "department", None, "Sở Lao động - Thương binh và Xã hội tỉnh Sơn Lâm"),
    ("SVHTTDL", "department", None, "Sở Văn hóa, Thể thao và Du lịch tỉnh Sơn Lâm"),
    ("SNGV", "department", None, "Sở Ngoại vụ tỉnh Sơn Lâm"),
    ("TTRA", "department", None, "Thanh tra tỉnh Sơn Lâm"),
    ("BDT", "department", None, "Ban Dân tộc tỉnh Sơn Lâm"),
    ("BQLKCN", "department", None, "Ban Quản lý các khu công nghiệp tỉnh Sơn Lâm"),
    ("BHXH", "department", None, "Bảo hiểm xã hội tỉnh Sơn Lâm"),
    ("BVDK", "other", "SYT", "Bệnh viện Đa khoa tỉnh Sơn Lâm"),
    ("CDC", "other", "SYT", "Trung tâm Kiểm soát bệnh tật tỉnh Sơn Lâm"),
    ("THPTCSL", "other", "SGDDT", "Trường Trung học phổ thông chuyên Sơn Lâm"),
    ("TTHCC", "other", "VPUBND", "Trung tâm Phục vụ hành chính công tỉnh Sơn Lâm"),
    ("TPSONLAM", "district", None, "Ủy ban nhân dân thành phố Sơn Lâm"),
    ("TXPHULAM", "district", None, "Ủy ban nhân dân thị xã Phú Lâm"),
    ("YENKHE", "district", None, "Ủy ban nhân dân huyện Yên Khê"),
    ("DONGTHUONG", "district", None, "Ủy ban nhân dân huyện Đồng Thượng"),
    ("MUONGLAM", "district", None, "Ủy ban nhân dân huyện Mường Lâm"),
    ("TANKHE", "district", None, "Ủy ban nhân dân huyện Tân Khê"),
    ("QUYNHSON", "district", None, "Ủy ban nhân dân huyện Quỳnh Sơn"),
    ("THACHLAM", "district", None, "Ủy ban nhân dân huyện Thạch Lâm"),
    ("DUCPHONG", "district", None, "Ủy ban nhân dân huyện Đức Phong"),
    ("ANLAC", "district", None, "Ủy ban nhân dân huyện An Lạc"),
    ("VIETTEL", "telecom", None, "Viettel Sơn Lâm"),
    ("VNPT", "telecom", None, "VNPT Sơn Lâm"),
    ("MOBIFONE", "telecom", None, "MobiFone Sơn Lâm"),
    ("PCSL", "enterprise", None, "Công ty Điện lực Sơn Lâm"),
    ("CNSL", "enterprise", None, "Công ty Cổ phần Cấp nước Sơn Lâm"),
)


def _idn(name: str) -> str:
    """Domains are stored as the DNS carries them: internationalised names in punycode."""
    return name.encode("idna").decode("ascii")


# Everyone else is on <short name>.sonlam.gov.vn.
_PRIMARY_DOMAINS = {
    "THPTCSL": "thptchuyen.sonlam.edu.vn",
    "VIETTEL": "sonlam.viettel.vn",
    "VNPT": "sonlam.vnpt.vn",
    "MOBIFONE": "sonlam.mobifone.vn",
    "PCSL": "pcsonlam.vn",
    "CNSL": "capnuocsonlam.vn",
}
_EXTRA_DOMAINS = {
    "SKHCN": (PROVINCE_DOMAIN, _idn("sơnlâm.vn")),
    "SYT": (_idn("sởytếsơnlâm.vn"),),
}


def _primary_domain(code: str) -> str:
    return _PRIMARY_DOMAINS.get(code, f"{code.lower()}.{PROVINCE_DOMAIN}")


# --- Address space --------------------------------------------------------------------------

# Operator -> (IPv4 blocks, IPv6 block, name in descriptions). Public ranges of the kind these
# operators hold; which slice goes to which operator here is invented.
_OPERATOR_BLOCKS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "VIETTEL": (("171.232.0.0/14", "27.72.0.0/16"), "2402:800::/32", "Viettel"),
    "VNPT": (("14.176.0.0/16", "113.176.0.0/16", "123.20.0.0/16"), "2001:ee0::/32", "VNPT"),
    "MOBIFONE": (("116.104.0.0/16", "203.113.160.0/19"), "2401:d800::/32", "MobiFone"),
}
# Government lines mostly run over VNPT (the specialised data network), then Viettel.
_OPERATOR_WEIGHTS = {"VIETTEL": 35, "VNPT": 50, "MOBIFONE": 15}
# The provincial data centre has its own APNIC assignment rather than an operator's slice.
_DATA_CENTRE = ("TTCNTT", ("103.147.124.0/24", "2405:4800:5a1::/48"))


class _AddressPool:
    """Hands out sub-ranges of one operator's blocks that never overlap each other.

    Members nest inside the operator's range, but not inside one another, so every address has
    exactly one most specific owner.
    """

    def __init__(self, blocks: Sequence[IPNetwork]) -> None:
        self.blocks = tuple(blocks)
        self.taken: list[IPNetwork] = []

    def take(self, rng: random.Random, version: int, prefix: int) -> IPNetwork:
        """A random free, aligned /prefix inside one of the pool's blocks of that version."""
        blocks = [block for block in self.blocks if block.version == version]
        while True:
            block = rng.choice(blocks)
            slot = rng.randrange(2 ** (prefix - block.prefixlen))
            start = block.network_address + slot * 2 ** (block.max_prefixlen - prefix)
            subnet = ipaddress.ip_network(f"{start}/{prefix}")
            if not any(_overlap(subnet, other) for other in self.taken):
                self.taken.append(subnet)
                return subnet


def _overlap(first: IPNetwork, second: IPNetwork) -> bool:
    return first.version == second.version and first.overlaps(second)


def _operator_pools() -> dict[str, _AddressPool]:
    return {
        code: _AddressPool([ipaddress.ip_network(cidr) for cidr in (*v4, v6)])
        for code, (v4, v6, _name) in _OPERATOR_BLOCKS.items()
    }


@dataclass(frozen=True)
class _Addressing:
    """Where an organisation's assets may take their addresses from."""

    v4_hosts: list[IPAddress]
    v6: IPNetwork | None

    def v6_address(self, index: int) -> IPAddress | None:
        return None if self.v6 is None else self.v6.network_address + 0x10 + index


def _usable_hosts(networks: Sequence[IPNetwork]) -> list[IPAddress]:
    """Host addresses, leaving out each network's first host: the gateway."""
    return [
        network.network_address + offset
        for network in networks
        for offset in range(2, network.num_addresses - 1)
    ]


def _smallest_prefix_for(hosts: int) -> int:
    """The longest IPv4 prefix (at most /29) that leaves `hosts` addresses beside the gateway."""
    prefix = 29
    while 2 ** (32 - prefix) - 3 < hosts:
        prefix -= 1
    return prefix


def _network(org: Organisation, subnet: IPNetwork, description: str) -> None:
    parsed = parse_network(str(subnet))
    org.networks.append(
        Network(
            cidr=parsed.cidr,
            version=parsed.network.version,
            prefix_length=parsed.network.prefixlen,
            first_key=parsed.first_key,
            last_key=parsed.last_key,
            description=description,
        )
    )


def _operator_networks(
    rng: random.Random, org: Organisation, code: str, pool: _AddressPool, hosts_needed: int
) -> _Addressing:
    """The operator's own blocks; its infrastructure sits in a reserved slice no member gets."""
    v4_blocks, v6_block, name = _OPERATOR_BLOCKS[code]
    for cidr in (*v4_blocks, v6_block):
        _network(org, ipaddress.ip_network(cidr), f"Khối địa chỉ {name} quản lý tại Sơn Lâm")
    infrastructure = pool.take(rng, 4, _smallest_prefix_for(hosts_needed))
    return _Addressing(_usable_hosts([infrastructure]), pool.take(rng, 6, 48))


def _member_networks(
    rng: random.Random, org: Organisation, pools: dict[str, _AddressPool], hosts_needed: int
) -> _Addressing:
    """A main line from one operator, sometimes a backup /29 from another, often an IPv6 prefix."""
    operators = list(_OPERATOR_WEIGHTS)
    main = rng.choices(operators, weights=list(_OPERATOR_WEIGHTS.values()))[0]
    main_name = _OPERATOR_BLOCKS[main][2]
    subnets = [pools[main].take(rng, 4, _smallest_prefix_for(hosts_needed))]
    _network(org, subnets[0], f"Kênh Internet {main_name}")
    if rng.random() < 0.35:
        backup = rng.choice([operator for operator in operators if operator != main])
        subnets.append(pools[backup].take(rng, 4, 29))
        _network(org, subnets[1], f"Kênh Internet dự phòng {_OPERATOR_BLOCKS[backup][2]}")
    v6: IPNetwork | None = None
    if rng.random() < 0.7:
        v6 = pools[main].take(rng, 6, rng.choice((48, 56)))
        _network(org, v6, f"Dải IPv6 {main_name}")
    return _Addressing(_usable_hosts(subnets), v6)


def _own_networks(org: Organisation, cidrs: Sequence[str]) -> _Addressing:
    subnets = [ipaddress.ip_network(cidr) for cidr in cidrs]
    for subnet in subnets:
        _network(org, subnet, "Trung tâm dữ liệu tỉnh")
    v4 = [subnet for subnet in subnets if subnet.version == 4]
    v6 = next((subnet for subnet in subnets if subnet.version == 6), None)
    return _Addressing(_usable_hosts(v4), v6)


# --- Contacts -------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    """Name pools read best as one line of words each, not as a column of quoted strings."""
    return tuple(text.split())


_SURNAMES = _words(
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Lương Trịnh Đào"
)
# (middle names, given names) for men, then for women.
_FORENAMES = (
    (
        _words("Văn Đức Minh Quang Hữu Công Thành Xuân"),
        _words("An Bình Cường Dũng Hải Hùng Khánh Long Nam Phong Quân Sơn Thắng Trung Tuấn Việt"),
    ),
    (
        _words("Thị Thu Ngọc Thanh Thùy Hồng Mỹ Phương"),
        _words("Anh Chi Dung Hà Hạnh Hương Lan Linh Mai Nga Nhung Thảo Trang Vân Yến Huyền Giang"),
    ),
)
_ROLES = ("Đầu mối ứng cứu sự cố", "Lãnh đạo phụ trách", "Cán bộ kỹ thuật")
# Mobile prefixes after the 2018 change (Viettel, VinaPhone, MobiFone), without the trunk 0.
_MOBILE_PREFIXES = _words(
    "86 96 97 98 32 33 34 35 36 37 38 39 88 91 94 81 82 83 84 85 90 93 70 76 77 78 79"
)


def _ascii_fold(text: str) -> str:
    """Vietnamese without diacritics, as people write it in e-mail addresses."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _person_name(rng: random.Random) -> str:
    middles, givens = rng.choice(_FORENAMES)
    return f"{rng.choice(_SURNAMES)} {rng.choice(middles)} {rng.choice(givens)}"


def _mailbox(name: str) -> str:
    """Given name plus initials of the others, the usual pattern: Nguyễn Văn An -> annv."""
    *others, given = _ascii_fold(name).lower().split()
    return given + "".join(part[0] for part in others)


def _mobile(rng: random.Random) -> str:
    return f"+84{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"


def _add_contacts(rng: random.Random, org: Organisation, domain: str) -> None:
    """One to three people; the incident contact point always comes first."""
    names: set[str] = set()
    mailboxes: set[str] = set()
    for role in _ROLES[: rng.randint(1, 3)]:
        name = _person_name(rng)
        while name in names:
            name = _person_name(rng)
        names.add(name)
        mailbox = _mailbox(name)
        while mailbox in mailboxes:
            mailbox += str(rng.randrange(10))
        mailboxes.add(mailbox)
        org.contacts.append(
            Contact(
                name=name,
                role=role,
                email=f"{mailbox}@{domain}",
                phones=[_mobile(rng) for _ in range(rng.randint(1, 2))],
                language="en" if rng.random() < 0.1 else "vi",
            )
        )


# --- Software -------------------------------------------------------------------------------

# Key -> (identity, versions). Identity is "cpe:<part>:<vendor>:<product>", a purl without its
# version, or "<vendor>/<product>" for local products that have neither. A version may carry a
# CPE update after a colon.
_SOFTWARE: dict[str, tuple[str, tuple[str, ...]]] = {
    "apache": ("cpe:a:apache:http_server", ("2.4.41", "2.4.49", "2.4.57", "2.4.58")),
    "nginx": ("cpe:a:f5:nginx", ("1.18.0", "1.20.1", "1.24.0")),
    "openssl": ("cpe:a:openssl:openssl", ("1.0.2k", "1.1.1k", "3.0.2", "3.0.13")),
    "openssh": ("cpe:a:openbsd:openssh", ("7.4", "8.2", "8.9", "9.6")),
    "php": ("cpe:a:php:php", ("7.4.33", "8.1.27", "8.2.15")),
    "mysql": ("cpe:a:oracle:mysql", ("5.7.44", "8.0.35")),
    "mariadb": ("cpe:a:mariadb:mariadb", ("10.3.39", "10.6.16")),
    "postgresql": ("cpe:a:postgresql:postgresql", ("10.23", "12.17", "15.5")),
    "mssql": ("cpe:a:microsoft:sql_server", ("2016", "2019")),
    "iis": ("cpe:a:microsoft:internet_information_services", ("10.0",)),
    "dotnet": ("cpe:a:microsoft:.net_framework", ("4.7.2", "4.8")),
    "exchange": (
        "cpe:a:microsoft:exchange_server",
        ("2016:cumulative_update_23", "2019:cumulative_update_13", "2019:cumulative_update_14"),
    ),
    "zimbra": ("cpe:a:synacor:zimbra_collaboration_suite", ("8.8.15", "9.0.0")),
    "postfix": ("cpe:a:postfix:postfix", ("3.4.13", "3.7.9")),
    "dovecot": ("cpe:a:dovecot:dovecot", ("2.3.16", "2.3.21")),
    "tomcat": ("cpe:a:apache:tomcat", ("8.5.78", "9.0.83")),
    "wordpress": ("cpe:a:wordpress:wordpress", ("5.8.3", "6.4.2")),
    "bind": ("cpe:a:isc:bind", ("9.11.4", "9.16.23", "9.18.19")),
    "samba": ("cpe:a:samba:samba", ("4.15.13", "4.17.12")),
    "fortios": ("cpe:o:fortinet:fortios", ("6.4.9", "7.0.12", "7.2.5")),
    "panos": ("cpe:o:paloaltonetworks:pan-os", ("10.1.9", "10.2.3")),
    "iosxe": ("cpe:o:cisco:ios_xe", ("16.12.4", "17.3.1")),
    "routeros": ("cpe:o:mikrotik:routeros", ("6.48.6", "7.12")),
    "esxi": ("cpe:o:vmware:esxi", ("6.7", "7.0", "8.0")),
    "django": ("pkg:pypi/django", ("3.2.12", "4.2.7")),
    "log4j": ("pkg:maven/org.apache.logging.log4j/log4j-core", ("2.14.1", "2.17.1")),
    "spring": ("pkg:maven/org.springframework/spring-webmvc", ("5.3.17", "5.3.31")),
    "lodash": ("pkg:npm/lodash", ("4.17.20", "4.17.21")),
    "express": ("pkg:npm/express", ("4.17.1", "4.18.2")),
    "newtonsoft": ("pkg:nuget/Newtonsoft.Json", ("12.0.3", "13.0.3")),
    "ioffice": ("VNPT/iOffice", ("4.5", "5.0")),
    "voffice": ("Viettel/vOffice", ("3.2", "4.0")),
    "misa": ("MISA/Mimosa.NET", ("2022", "2023")),
}
# Server operating systems are components too: advisories name them by CPE.
_OPERATING_SYSTEMS = {
    "Ubuntu 22.04": "cpe:o:canonical:ubuntu_linux:22.04",
    "Ubuntu 20.04": "cpe:o:canonical:ubuntu_linux:20.04",
    "Debian 11": "cpe:o:debian:debian_linux:11.0",
    "CentOS 7": "cpe:o:centos:centos:7.0",
    "RHEL 8": "cpe:o:redhat:enterprise_linux:8.0",
    "Windows Server 2016": "cpe:o:microsoft:windows_server_2016:-",
    "Windows Server 2019": "cpe:o:microsoft:windows_server_2019:-",
    "Windows Server 2022": "cpe:o:microsoft:windows_server_2022:-",
}


def _component(identity: str, version: str) -> Component:
    """A Component whose ref is its CPE, else its purl, else vendor/product/version."""
    if identity.startswith("cpe:"):
        part, vendor, product = identity.removeprefix("cpe:").split(":")
        number, _, update = version.partition(":")
        cpe = f"cpe:2.3:{part}:{vendor}:{product}:{number}:{update or '*'}:*:*:*:*:*:*"
        shown = None if number == "-" else number
        return Component(ref=cpe, cpe=cpe, vendor=vendor, product=product, version=shown)
    if identity.startswith("pkg:"):
        namespace, _, name = identity.partition("/")[2].rpartition("/")
        purl = f"{identity}@{version}"
        return Component(
            ref=purl, purl=purl, vendor=namespace or None, product=name, version=version
        )
    vendor, product = identity.split("/")
    ref = f"{vendor}/{product}/{version}"
    return Component(ref=ref, vendor=vendor, product=product, version=version)


def _components(
    rng: random.Random, operating_system: str, software: Sequence[str]
) -> list[Component]:
    """The operating system (when it has a CPE) and the stack's software, versions drawn."""
    components = []
    if operating_system in _OPERATING_SYSTEMS:
        identity, version = _OPERATING_SYSTEMS[operating_system].rsplit(":", 1)
        components.append(_component(identity, version))
    for key in software:
        identity, versions = _SOFTWARE[key]
        components.append(_component(identity, rng.choice(versions)))
    return components


# --- Assets ---------------------------------------------------------------------------------

_LINUX = ("Ubuntu 22.04", "Ubuntu 20.04", "Debian 11", "CentOS 7", "RHEL 8")
_WINDOWS = ("Windows Server 2016", "Windows Server 2019", "Windows Server 2022")
# (operating systems to choose from, software keys): what goes together on one machine.
_Stack = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class _AssetTemplate:
    """One kind of asset; those that fill an organisation up repeat, numbered (Máy trạm 01, 02…)."""

    name: str
    kind: str
    host_label: str
    levels: tuple[int, ...]  # security levels to draw from; empty when not a leveled system
    internet_facing: bool
    stacks: tuple[_Stack, ...]


_TEMPLATES = {
    "portal": _AssetTemplate("Cổng thông tin điện tử", "web server", "portal", (2, 2, 3), True, (
        (_LINUX, ("apache", "php", "mysql", "wordpress", "openssl")),
        (_LINUX, ("nginx", "django", "postgresql", "openssl")),
        (_LINUX, ("nginx", "tomcat", "spring", "log4j")),
        (_WINDOWS, ("iis", "dotnet", "mssql")),
    )),
    "mail": _AssetTemplate("Hệ thống thư điện tử", "mail server", "mail", (2, 3), True, (
        (_LINUX, ("zimbra", "openssl", "openssh")),
        (_LINUX, ("postfix", "dovecot", "openssl")),
        (_WINDOWS, ("exchange", "iis")),
    )),
    "documents": _AssetTemplate(
        "Hệ thống quản lý văn bản và điều hành", "document management system", "vanban", (2, 3),
        True, (
            (_LINUX, ("ioffice", "tomcat", "postgresql", "openssh")),
            (_LINUX, ("nginx", "express", "lodash", "mariadb")),
            (_WINDOWS, ("voffice", "iis", "mssql")),
        )),
    "firewall": _AssetTemplate("Tường lửa", "firewall", "fw", (), True, (
        (("FortiOS",), ("fortios",)),
        (("PAN-OS",), ("panos",)),
    )),
    "router": _AssetTemplate("Bộ định tuyến biên", "router", "gw", (), True, (
        (("Cisco IOS XE",), ("iosxe",)),
        (("RouterOS",), ("routeros",)),
    )),
    "dns": _AssetTemplate("Máy chủ DNS", "DNS server", "ns", (), True, (
        (_LINUX, ("bind", "openssh")),
    )),
    "directory": _AssetTemplate("Máy chủ quản lý miền", "domain controller", "dc", (), False, (
        (_WINDOWS, ()),
    )),
    "accounting": _AssetTemplate("Phần mềm kế toán", "application server", "ketoan", (2,), False, (
        (_WINDOWS, ("misa", "mssql")),
    )),
    "application": _AssetTemplate("Máy chủ ứng dụng", "application server", "app", (1, 2), False, (
        (_LINUX, ("tomcat", "log4j", "openssh")),
        (_LINUX, ("nginx", "django", "openssl")),
        (_WINDOWS, ("iis", "dotnet", "newtonsoft")),
    )),
    "database": _AssetTemplate("Máy chủ cơ sở dữ liệu", "database", "db", (), False, (
        (_LINUX, ("postgresql", "openssh")),
        (_LINUX, ("mysql", "openssh")),
        (_LINUX, ("mariadb",)),
        (_WINDOWS, ("mssql",)),
    )),
    "files": _AssetTemplate("Máy chủ lưu trữ tệp", "file server", "files", (1,), False, (
        (_LINUX, ("samba", "openssh")),
        (_WINDOWS, ()),
    )),
    "hypervisor": _AssetTemplate("Máy chủ ảo hóa", "hypervisor", "esx", (), False, (
        (("VMware ESXi",), ("esxi",)),
    )),
    "workstation": _AssetTemplate("Máy trạm", "workstation", "pc", (), False, (
        (("Windows 10", "Windows 10", "Windows 11"), ()),
    )),
}  # fmt: skip

# Every organisation has a website and a firewall; the rest is drawn with these chances.
_CORE = ("portal", "firewall")
_OPTIONAL = {
    "mail": 0.4,
    "documents": 0.5,
    "router": 0.6,
    "dns": 0.3,
    "directory": 0.4,
    "accounting": 0.3,
}
# Numbered templates fill each organisation up to its size, weighted.
_FILL = {"workstation": 6, "database": 2, "application": 2, "files": 1, "hypervisor": 1}
# Assets per organisation before one more is drawn at random; the data centre is bigger.
_BASE_ASSETS = {
    "coordinator": 8,
    "department": 7,
    "district": 7,
    "telecom": 5,
    "enterprise": 6,
    "other": 6,
}
_EXTRA_ASSETS = {"TTCNTT": 12}

# The province's key information systems: (owner, template, host label, name, security level).
_KEY_SYSTEMS: tuple[tuple[str, str, str, str, int], ...] = (
    ("TTCNTT", "portal", "dichvucong", "Cổng dịch vụ công tỉnh Sơn Lâm", 4),
    ("TTCNTT", "application", "motcua", "Hệ thống thông tin giải quyết thủ tục hành chính", 4),
    ("TTCNTT", "application", "lgsp", "Nền tảng tích hợp, chia sẻ dữ liệu tỉnh (LGSP)", 4),
    ("TTCNTT", "documents", "qlvb", "Hệ thống quản lý văn bản và điều hành tỉnh", 3),
    ("TTCNTT", "mail", "mail", "Hệ thống thư điện tử công vụ tỉnh", 3),
    ("SKHCN", "application", "soc", "Hệ thống giám sát an toàn thông tin tỉnh (SOC)", 3),
    ("CAT", "database", "nghiepvu", "Hệ thống thông tin nghiệp vụ Công an tỉnh", 5),
    ("STC", "accounting", "ngansach", "Hệ thống quản lý ngân sách và tài sản công", 3),
    ("SYT", "application", "ytecoso", "Hệ thống thông tin y tế cơ sở", 3),
    ("BVDK", "application", "his", "Hệ thống thông tin bệnh viện (HIS)", 3),
    ("BVDK", "files", "pacs", "Hệ thống lưu trữ và truyền hình ảnh (PACS)", 2),
    ("STNMT", "database", "datdai", "Cơ sở dữ liệu đất đai tỉnh", 3),
    ("SGDDT", "application", "csdl", "Cơ sở dữ liệu ngành giáo dục", 2),
    ("BHXH", "application", "giamdinh", "Hệ thống giám định bảo hiểm y tế", 3),
    ("VPUBND", "application", "hop", "Hệ thống phòng họp trực tuyến", 2),
    ("TTHCC", "portal", "motcua", "Cổng một cửa điện tử", 3),
    ("SKHDT", "database", "dkkd", "Cơ sở dữ liệu đăng ký doanh nghiệp", 2),
)


@dataclass(frozen=True)
class _PlannedAsset:
    template: _AssetTemplate
    name: str
    host_label: str
    level: int | None


def _key_systems(code: str) -> Iterator[_PlannedAsset]:
    for owner, key, label, name, level in _KEY_SYSTEMS:
        if owner == code:
            yield _PlannedAsset(_TEMPLATES[key], name, label, level)


def _generic_asset(
    rng: random.Random, template: _AssetTemplate, number: int | None = None
) -> _PlannedAsset:
    """An asset named after its template (numbered when the template repeats), level drawn."""
    suffix = f"{number:02d}" if number else ""
    level = rng.choice(template.levels) if template.levels else None
    name = f"{template.name} {suffix}" if suffix else template.name
    return _PlannedAsset(template, name, template.host_label + suffix, level)


def _plan_assets(rng: random.Random, code: str, kind: str) -> list[_PlannedAsset]:
    """Key systems, the core, drawn options, then numbered machines up to the org's size.

    A key system stands in for the generic template it is built on (the province's mail system
    is the data centre's mail server), so host names stay unique.
    """
    plan = list(_key_systems(code))
    used = {planned.template for planned in plan}
    drawn = [key for key, chance in _OPTIONAL.items() if rng.random() < chance]
    for key in (*_CORE, *drawn):
        if _TEMPLATES[key] not in used:
            plan.append(_generic_asset(rng, _TEMPLATES[key]))
    size = _BASE_ASSETS[kind] + _EXTRA_ASSETS.get(code, 0) + rng.randint(0, 1)
    numbers: Counter[str] = Counter()
    while len(plan) < size:
        key = rng.choices(list(_FILL), weights=list(_FILL.values()))[0]
        numbers[key] += 1
        plan.append(_generic_asset(rng, _TEMPLATES[key], numbers[key]))
    return plan


def _approval_date(rng: random.Random) -> date:
    """Levels were approved after Decree 85/2016 took hold: some day in 2019–2024."""
    first, last = date(2019, 1, 1), date(2024, 12, 31)
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _add_assets(
    rng: random.Random,
    org: Organisation,
    plan: Sequence[_PlannedAsset],
    domain: str,
    addressing: _Addressing,
) -> None:
    """Each asset gets one IPv4 address; the internet-facing ones an IPv6 address too."""
    v4_addresses = rng.sample(addressing.v4_hosts, len(plan))
    for index, (planned, v4) in enumerate(zip(plan, v4_addresses, strict=True)):
        operating_systems, software = rng.choice(planned.template.stacks)
        operating_system = rng.choice(operating_systems)
        v6 = addressing.v6_address(index) if planned.template.internet_facing else None
        asset = Asset(
            name=planned.name,
            kind=planned.template.kind,
            hostnames=[f"{planned.host_label}.{domain}"],
            operating_system=operating_system,
            security_level=planned.level,
            level_approved_on=_approval_date(rng) if planned.level else None,
            internet_facing=planned.template.internet_facing,
        )
        for address in (v4, v6):
            if address is not None:
                asset.addresses.append(AssetAddress(address=str(address), key=address_key(address)))
        asset.components.extend(_components(rng, operating_system, software))
        org.assets.append(asset)


# --- Loading --------------------------------------------------------------------------------


def _add_domains(org: Organisation, code: str) -> None:
    for name in (_primary_domain(code), *_EXTRA_DOMAINS.get(code, ())):
        org.domains.append(Domain(name=name))


def _addressing(
    rng: random.Random,
    org: Organisation,
    code: str,
    kind: str,
    pools: dict[str, _AddressPool],
    hosts_needed: int,
) -> _Addressing:
    """Operators announce their blocks, the data centre its own, everyone else rents a slice."""
    if kind == "telecom":
        return _operator_networks(rng, org, code, pools[code], hosts_needed)
    if code == _DATA_CENTRE[0]:
        return _own_networks(org, _DATA_CENTRE[1])
    return _member_networks(rng, org, pools, hosts_needed)


def _build_province(rng: random.Random) -> list[Organisation]:
    """All organisations with everything they own, in table order so the seed fixes the data."""
    pools = _operator_pools()
    by_code: dict[str, Organisation] = {}
    for code, kind, parent, name in _ORGANISATIONS:
        org = Organisation(name=name, short_name=code, kind_code=kind)
        org.parent = by_code[parent] if parent else None
        domain = _primary_domain(code)
        _add_domains(org, code)
        _add_contacts(rng, org, domain)
        plan = _plan_assets(rng, code, kind)
        _add_assets(rng, org, plan, domain, _addressing(rng, org, code, kind, pools, len(plan)))
        by_code[code] = org
    return list(by_code.values())


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _summarise(session: Session) -> DemoSummary:
    """Counts of what the registry holds now, whoever put it there."""
    by_kind = session.execute(
        select(Organisation.kind_code, func.count()).group_by(Organisation.kind_code)
    ).all()
    return DemoSummary(
        organisations=_count(session, Organisation),
        contacts=_count(session, Contact),
        networks=_count(session, Network),
        domains=_count(session, Domain),
        assets=_count(session, Asset),
        components=_count(session, Component),
        by_kind=dict(sorted(by_kind)),
    )


def load_demo_province(session: Session, *, seed: int = 2024) -> DemoSummary:
    """Load tỉnh Sơn Lâm once; when its coordinator is already there, only report the counts.

    Rows go through the ORM so the audit hook records every create, as for any other change.
    """
    exists = select(Organisation.id).where(Organisation.name == COORDINATOR_NAME)
    if session.scalar(exists) is None:
        session.add_all(_build_province(random.Random(seed)))
        session.flush()
    return _summarise(session)

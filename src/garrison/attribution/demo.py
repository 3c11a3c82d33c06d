"""The demo province's monthly botnet lists: two consecutive months, with recurrences.

Generated from the demo registry itself, so that attribution has owners to find: hosts in
member organisations' networks, customers in the operators' blocks, addresses outside the
province, a private address and a public resolver (both to be excluded). The second month
repeats part of the first (systems that were not cleaned, or were reinfected).
"""

from __future__ import annotations

import csv
import ipaddress
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.core.db import Database
from garrison.intel.formats import FeedDocument
from garrison.intel.importing import ImportRequest, import_document
from garrison.intel.models import ImportRun, Source
from garrison.intel.sources import SourceSpec, add_source
from garrison.intel.store import WarninglistChecker
from garrison.orgs.models import Network

DEMO_SOURCE = "NCSC - danh sách IP botnet hằng tháng"
FAMILIES = ("Mirai", "Conficker/Downadup", "Sality", "Gamarue", "Necurs", "Ramnit", "Gafgyt")
OPERATORS = (("VNPT", 45899), ("Viettel", 7552), ("FPT Telecom", 18403), ("MobiFone", 131429))
OUTSIDE_PROVINCE = ("113.160.0.0/16", "27.64.0.0/16", "171.224.0.0/16")
HEADER = (
    "STT",
    "Địa chỉ IP",
    "Thời điểm ghi nhận",
    "Tên botnet",
    "Số lần",
    "ISP",
    "ASN",
    "Tỉnh/Thành phố",
    "Cổng C2",
)


@dataclass(frozen=True)
class DemoRow:
    address: str
    family: str
    operator: tuple[str, int]


def _host(rng: random.Random, cidr: str) -> str:
    network = ipaddress.ip_network(cidr)
    usable = max(network.num_addresses - 2, 1)
    return str(network.network_address + 1 + rng.randrange(usable))


def _first_month(rng: random.Random, networks: list[str]) -> list[DemoRow]:
    rows = [
        DemoRow(_host(rng, cidr), rng.choice(FAMILIES), rng.choice(OPERATORS))
        for cidr in rng.sample(networks, min(45, len(networks)))
    ]
    rows += [
        DemoRow(
            _host(rng, rng.choice(OUTSIDE_PROVINCE)), rng.choice(FAMILIES), rng.choice(OPERATORS)
        )
        for _ in range(12)
    ]
    rows.append(DemoRow("192.168.10.25", "Mirai", OPERATORS[0]))
    rows.append(DemoRow("8.8.8.8", "Necurs", ("Google", 15169)))
    return rows


def _second_month(rng: random.Random, first: list[DemoRow], networks: list[str]) -> list[DemoRow]:
    recurring = rng.sample(first[:45], min(18, len(first)))
    fresh = [
        DemoRow(_host(rng, cidr), rng.choice(FAMILIES), rng.choice(OPERATORS))
        for cidr in rng.sample(networks, min(20, len(networks)))
    ]
    return recurring + fresh


def write_botnet_list(path: Path, month: datetime, rows: list[DemoRow], rng: random.Random) -> None:
    """The national list's layout: a title block, then one row per infected address."""
    with path.open("w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(["CỤC AN TOÀN THÔNG TIN"])
        writer.writerow(
            [f"DANH SÁCH ĐỊA CHỈ IP NHIỄM MÃ ĐỘC BOTNET THÁNG {month:%m/%Y} - TỈNH SƠN LÂM"]
        )
        writer.writerow([])
        writer.writerow(HEADER)
        for number, row in enumerate(rows, 1):
            seen = month + timedelta(days=rng.randrange(27), minutes=rng.randrange(1440))
            writer.writerow(
                [
                    number,
                    row.address,
                    f"{seen:%d/%m/%Y %H:%M:%S}",
                    row.family,
                    rng.randint(1, 60),
                    row.operator[0],
                    f"AS{row.operator[1]}",
                    "Sơn Lâm",
                    f"{_host(rng, '185.220.100.0/22')}:{rng.choice((23, 80, 443, 8080))}",
                ]
            )


def demo_lists(session: Session, folder: Path, seed: int = 2026) -> list[Path]:
    """Two monthly lists (September and October 2026) written into `folder`."""
    rng = random.Random(seed)
    networks = list(
        session.scalars(select(Network.cidr).where(Network.version == 4).order_by(Network.id))
    )
    first = _first_month(rng, networks)
    second = _second_month(rng, first, networks)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for month, rows in ((datetime(2026, 9, 1), first), (datetime(2026, 10, 1), second)):
        path = folder / f"danh-sach-ip-botnet-{month:%Y-%m}.csv"
        write_botnet_list(path, month, rows, rng)
        paths.append(path)
    return paths


def load_demo_botnet_lists(
    database: Database, folder: Path, warninglists: WarninglistChecker | None = None
) -> list[ImportRun]:
    """Import the two demo months once; does nothing when the demo source already exists."""
    with database.session() as session:
        if session.scalars(select(Source.id).where(Source.name == DEMO_SOURCE)).first():
            return []
        add_source(
            session,
            SourceSpec(
                DEMO_SOURCE,
                "botnet-list",
                default_tlp="amber",
                reliability="B",
                default_confidence=80,
                default_expiry_days=90,
                default_classification_type="infected-system",
                description="Danh sách IP nhiễm mã độc botnet Cục An toàn thông tin gửi hằng tháng",
            ),
        )
        paths = demo_lists(session, folder)
    return [
        import_document(
            database, ImportRequest(DEMO_SOURCE, FeedDocument.from_path(path)), warninglists
        )
        for path in paths
    ]

"""Attribution of an imported botnet list over the demo province, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import ipaddress
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from garrison.attribution.attribute import AttributionScope, attribute
from garrison.attribution.demo import load_demo_botnet_lists
from garrison.cli.main import app
from garrison.core.db import Database
from garrison.intel.formats import FeedDocument
from garrison.intel.importing import ImportRequest, import_document
from garrison.intel.sources import SourceSpec, add_source
from garrison.intel.warninglists import WarninglistIndex
from garrison.orgs.models import Asset, AssetAddress, Domain, Network, Organisation

pytestmark = pytest.mark.db
HEADER = ["STT", "Địa chỉ IP", "Thời điểm ghi nhận", "Tên botnet", "Số lần", "ISP", "ASN"]


def _host_in(cidr: str, offset: int) -> str:
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + min(offset, network.num_addresses - 1))


def _botnet_list(province: Database, path: Path) -> dict[str, object]:
    """A list naming: hosts of two organisations' networks, an asset, an unknown VNPT
    customer, a private address and a public resolver; the expected owners alongside."""
    with province.session() as session:
        syt = session.scalars(select(Organisation).where(Organisation.short_name == "SYT")).one()
        stc = session.scalars(select(Organisation).where(Organisation.short_name == "STC")).one()
        syt_net = session.scalars(
            select(Network.cidr).where(Network.organisation_id == syt.id, Network.version == 4)
        ).first()
        stc_net = session.scalars(
            select(Network.cidr).where(Network.organisation_id == stc.id, Network.version == 4)
        ).first()
        asset_address, asset_id, asset_org = session.execute(
            select(AssetAddress.address, Asset.id, Asset.organisation_id)
            .join(Asset)
            .where(AssetAddress.address.not_like("%:%"))
            .order_by(AssetAddress.id)
        ).first()  # type: ignore[misc]
        domain = session.scalars(select(Domain).order_by(Domain.id)).first()
        assert syt_net and stc_net and domain
    rows = [
        [_host_in(syt_net, 5), "05/10/2026 08:15:00", "Mirai", 12, "VNPT", "AS45899"],
        [_host_in(syt_net, 6), "06/10/2026 09:00:00", "Gamarue", 3, "VNPT", "AS45899"],
        [
            _host_in(stc_net, 2),
            "07/10/2026 10:30:00",
            "Conficker/Downadup",
            40,
            "Viettel",
            "AS7552",
        ],
        [asset_address, "08/10/2026 11:00:00", "Sality", 1, "FPT", "AS18403"],
        ["14.160.1.2", "09/10/2026 12:00:00", "Mirai", 2, "VNPT", "AS45899"],
        ["192.168.1.20", "09/10/2026 12:00:00", "Mirai", 2, "", ""],
        ["8.8.8.8", "09/10/2026 12:00:00", "Mirai", 2, "Google", "AS15169"],
        ["100.127.3.4", "09/10/2026 12:00:00", "Mirai", 1, "", ""],  # carrier-grade NAT
    ]
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows([number, *row] for number, row in enumerate(rows, 1))
    return {"syt": syt.id, "stc": stc.id, "asset": (asset_id, asset_org)}


@pytest.fixture
def imported(
    province: Database, tmp_path: Path, shared_data: Path
) -> tuple[int, dict[str, object]]:
    expected = _botnet_list(province, tmp_path / "botnet-10-2026.csv")
    with province.session() as session:
        add_source(session, SourceSpec("ncsc-botnet", "botnet-list"))
    run = import_document(
        province,
        ImportRequest("ncsc-botnet", FeedDocument.from_path(tmp_path / "botnet-10-2026.csv")),
        WarninglistIndex.load([shared_data / "warninglists"]),
    )
    assert run.status == "succeeded", run.error
    return run.id, expected


def test_each_row_reaches_its_owner(
    province: Database, imported: tuple[int, dict[str, object]]
) -> None:
    run_id, expected = imported
    with province.session() as session:
        result = attribute(session, AttributionScope(run_id=run_id))
    owners = {org: sorted(i.value for i in items) for org, items in result.by_organisation.items()}
    asset_id, asset_org = expected["asset"]  # type: ignore[misc]
    assert len(owners[expected["syt"]]) == 2  # type: ignore[index]
    assert len(owners[expected["stc"]]) == 1  # type: ignore[index]
    asset_items = [i for i in result.by_organisation[asset_org] if i.owner and i.owner.asset_id]
    assert [i.owner.asset_id for i in asset_items if i.owner] == [asset_id]
    mirai = next(i for i in result.by_organisation[expected["syt"]] if "mirai" in i.malware)  # type: ignore[index]
    assert mirai.count == 12 and mirai.operator == "AS45899 VNPT"
    assert {k: [i.value for i in v] for k, v in result.unattributed.items()} == {
        "AS45899 VNPT": ["14.160.1.2"]
    }
    assert result.excluded == {
        "warninglist: List of RFC 1918 CIDR blocks": 1,
        "private or reserved address range": 1,
        "warninglist: List of known IPv4 public DNS resolvers": 1,
    }


def test_scope_by_source_and_since(
    province: Database, imported: tuple[int, dict[str, object]]
) -> None:
    with province.session() as session:
        by_source = attribute(session, AttributionScope(source_name="ncsc-botnet"))
        assert by_source.attributed_count == 4
        from datetime import UTC, datetime

        later = attribute(session, AttributionScope(since=datetime(2026, 10, 8, tzinfo=UTC)))
        assert later.attributed_count == 1 and later.unattributed_count == 1


def test_cli_summary(
    province_url: str, imported: tuple[int, dict[str, object]], tmp_path: Path
) -> None:
    run_id, _expected = imported
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            province_url,
            "--data-dir",
            str(tmp_path),
            "attribute",
            str(run_id),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"unattributed": 1' in result.output and '"excluded": 3' in result.output
    missing = CliRunner().invoke(
        app, ["--database-url", province_url, "--data-dir", str(tmp_path), "attribute", "999"]
    )
    assert (
        missing.exit_code == 1
        and "no import run 999" in str(missing.exception or "") + missing.output
    )


def test_demo_lists_recur_over_two_months(province: Database, tmp_path: Path) -> None:
    runs = load_demo_botnet_lists(province, tmp_path / "demo")
    assert [run.status for run in runs] == ["succeeded", "succeeded"]
    assert runs[0].new_count == 59 and runs[0].invalid_count == 0
    assert runs[1].updated_count == 18  # the systems still (or again) infected a month later
    assert load_demo_botnet_lists(province, tmp_path / "demo") == []
    with province.session() as session:
        october = attribute(session, AttributionScope(run_id=runs[1].id))
    assert october.attributed_count + october.unattributed_count == 38
    assert october.excluded == {}

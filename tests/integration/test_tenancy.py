"""Members see and change only their organisation and its children; the coordinator sees all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from garrison.auth.accounts import create_user, grant_membership, principal_for
from garrison.auth.models import User
from garrison.auth.principal import PermissionDenied, Principal
from garrison.auth.roles import Permission, Role
from garrison.auth.tenancy import bind_principal
from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.orgs.models import Asset, AssetAddress, Component, Contact, Network, Organisation
from garrison.orgs.queries import list_assets, list_organisations


def _principal(database: Database, username: str, organisation: str, role: Role) -> Principal:
    with database.session() as session:
        user = create_user(session, username, "correct horse battery")
        grant_membership(session, user, organisation, role)
        return principal_for(session, user)


def _health_department(database: Database) -> tuple[int, set[int]]:
    with database.session() as session:
        parent = session.scalar(select(Organisation).where(Organisation.short_name == "SYT"))
        assert parent is not None
        children = set(
            session.scalars(select(Organisation.id).where(Organisation.parent_id == parent.id))
        )
        return parent.id, children


def test_member_sees_own_organisation_and_children_only(province: Database) -> None:
    member = _principal(province, "nhanvien.syt", "SYT", Role.MEMBER_STAFF)
    own, children = _health_department(province)
    assert children, "the demo's health department has child units"
    with province.sessions() as session:
        bind_principal(session, member)
        visible = {o.id for o in list_organisations(session)}
        assert visible == {own, *children}
        assets = list_assets(session)
        assert assets and {a.organisation for a in assets} <= {
            session.get_one(Organisation, i).name for i in visible
        }
        owners = set(session.scalars(select(Network.organisation_id)))
        assert owners <= visible
        counted = session.scalar(select(func.count()).select_from(Asset))
        assert counted == len(assets)
        component_assets = set(session.scalars(select(Component.asset_id)))
        assert component_assets <= {a.id for a in assets}
        addresses = set(session.scalars(select(AssetAddress.asset_id)))
        assert addresses <= {a.id for a in assets}


def test_member_reach_covers_every_level_below_and_follows_changes(database: Database) -> None:
    """Reach is walked in the database on each sign-in/request, so a new unit counts at once."""
    with database.session() as session:
        top = Organisation(name="Sở thử", kind_code="department")
        middle = Organisation(name="Phòng thử", kind_code="other", parent=top)
        bottom = Organisation(name="Tổ thử", kind_code="other", parent=middle)
        aside = Organisation(name="Đơn vị khác", kind_code="other")
        session.add_all([top, middle, bottom, aside])
        session.flush()
        ids = top.id, middle.id, bottom.id
    member = _principal(database, "thanhvien", str(ids[0]), Role.MEMBER_STAFF)
    assert member.visible_organisations == set(ids)
    with database.session() as session:
        newest = Organisation(name="Nhóm mới", kind_code="other", parent_id=ids[2])
        session.add(newest)
        session.flush()
        newest_id = newest.id
        user = session.scalars(select(User).where(User.username == "thanhvien")).one()
        assert principal_for(session, user).visible_organisations == {*ids, newest_id}
    coordinator = _principal(database, "dieuphoi", str(ids[1]), Role.COORDINATOR_ANALYST)
    assert coordinator.sees_everything and coordinator.may(Permission.READ, newest_id)


def test_member_cannot_read_another_organisations_row_by_id(province: Database) -> None:
    member = _principal(province, "nhanvien.syt", "SYT", Role.MEMBER_STAFF)
    with province.session() as session:
        other = session.scalar(
            select(Asset).join(Asset.organisation).where(Organisation.short_name == "STC")
        )
        assert other is not None
        other_id = other.id
    with province.sessions() as session:
        bind_principal(session, member)
        assert session.get(Asset, other_id) is None
        assert session.scalar(select(Asset).where(Asset.id == other_id)) is None


def test_member_cannot_change_or_move_rows_outside(province: Database) -> None:
    member = _principal(province, "quanly.syt", "SYT", Role.MEMBER_MANAGER)
    with province.session() as session:
        own = session.scalar(
            select(Asset).join(Asset.organisation).where(Organisation.short_name == "SYT")
        )
        finance = session.scalar(select(Organisation).where(Organisation.short_name == "STC"))
        assert own is not None and finance is not None
        own_id, finance_id = own.id, finance.id
    with pytest.raises(PermissionDenied), province.sessions() as session, session.begin():
        bind_principal(session, member)
        asset = session.get_one(Asset, own_id)
        asset.organisation_id = finance_id
    with pytest.raises(PermissionDenied), province.sessions() as session, session.begin():
        bind_principal(session, member)
        session.add(Contact(organisation_id=finance_id, name="Kẻ lạ", phones=[]))
    with province.sessions() as session, session.begin():
        bind_principal(session, member)
        result = session.execute(
            update(Asset).values(notes="bulk").execution_options(synchronize_session=False)
        )
        changed = result.rowcount  # type: ignore[attr-defined]
    with province.session() as session:
        touched = set(session.scalars(select(Asset.organisation_id).where(Asset.notes == "bulk")))
    assert changed > 0 and touched <= member.visible_organisations


def test_member_edit_is_audited_as_the_user(province: Database) -> None:
    member = _principal(province, "quanly.syt", "SYT", Role.MEMBER_MANAGER)
    with province.sessions() as session, session.begin():
        bind_principal(session, member)
        asset = session.scalars(select(Asset)).first()
        assert asset is not None
        asset.operating_system = "Ubuntu 24.04"
        asset_id = asset.id
    with province.session() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "assets", AuditEvent.entity_id == str(asset_id))
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.actor == "user:quanly.syt"
    assert event.after == {"operating_system": "Ubuntu 24.04"}


def test_staff_cannot_edit_contacts_and_operator_cannot_edit_assets(province: Database) -> None:
    staff = _principal(province, "nhanvien.syt", "SYT", Role.MEMBER_STAFF)
    with pytest.raises(PermissionDenied), province.sessions() as session, session.begin():
        bind_principal(session, staff)
        contact = session.scalars(select(Contact)).first()
        assert contact is not None
        contact.role = "changed"
    with province.session() as session:
        telecom = session.scalar(
            select(Organisation.short_name).where(Organisation.kind_code == "telecom")
        )
    assert telecom is not None
    operator = _principal(province, "nhamang.2", telecom, Role.TELECOM_OPERATOR)
    with pytest.raises(PermissionDenied), province.sessions() as session, session.begin():
        bind_principal(session, operator)
        asset = session.scalars(select(Asset)).first()
        assert asset is not None
        asset.notes = "x"


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.COORDINATOR_ANALYST, Role.DUTY_OFFICER])
def test_coordinator_roles_see_everything(province: Database, role: Role) -> None:
    with province.session() as session:
        coordinator = session.scalar(
            select(Organisation.short_name).where(Organisation.kind_code == "coordinator")
        )
        total = session.scalar(select(func.count()).select_from(Organisation))
    assert coordinator is not None
    principal = _principal(province, f"u-{role.value}".replace("_", "-"), coordinator, role)
    with province.sessions() as session:
        bind_principal(session, principal)
        assert len(list_organisations(session)) == total


def test_relationship_loads_stay_inside_the_tenancy(province: Database) -> None:
    """A child unit's member sees its own assets but not its parent organisation's row."""
    member = _principal(province, "nhanvien.bvdk", "BVDK", Role.MEMBER_STAFF)
    with province.sessions() as session:
        bind_principal(session, member)
        hospital = session.scalar(select(Organisation).where(Organisation.short_name == "BVDK"))
        assert hospital is not None and hospital.parent_id is not None
        assert hospital.parent is None
        assert hospital.assets
        assert all(a.organisation_id == hospital.id for a in hospital.assets)
        for asset in hospital.assets:
            assert all(c.asset_id == asset.id for c in asset.components)

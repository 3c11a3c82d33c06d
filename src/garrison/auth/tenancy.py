"""The one tenancy mechanism: a session acting for a member sees and changes only its rows.

Every ORM statement run in a session bound to a principal gets loader criteria restricting
organisation-owned tables to the organisations the principal may see; flushes are checked so
a member can neither create nor move rows into another organisation. Pages and endpoints do
not filter by hand: they open a tenant session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, false, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from garrison.attribution.models import Notice, NoticeItem
from garrison.auth.principal import PermissionDenied, Principal
from garrison.auth.roles import Permission
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.intel.types import Tlp
from garrison.notify.models import OutboxAttachment, OutboxMessage
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)

PRINCIPAL_KEY = "garrison.principal"
MEMBER_TLP = (Tlp.CLEAR.value, Tlp.GREEN.value)
"""Indicators a member reads everywhere; AMBER and above reach it only through its notices."""
COORDINATOR_ONLY: tuple[type, ...] = (Source, ImportRun, OutboxMessage, OutboxAttachment)

# Which permission changing a row of each organisation-owned table requires.
EDIT_PERMISSION: dict[type, Permission] = {
    Organisation: Permission.EDIT_REGISTRY,
    Network: Permission.EDIT_REGISTRY,
    Domain: Permission.EDIT_REGISTRY,
    Contact: Permission.EDIT_CONTACTS,
    Asset: Permission.EDIT_ASSETS,
    AssetAddress: Permission.EDIT_ASSETS,
    Component: Permission.EDIT_ASSETS,
}


def bind_principal(session: Session, principal: Principal) -> Session:
    session.info[PRINCIPAL_KEY] = principal
    session.info["actor"] = principal.actor
    return session


def principal_of(session: Session) -> Principal | None:
    found = session.info.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def _tenant_criteria(visible: tuple[int, ...]) -> list[Any]:
    owned_assets = select(Asset.id).where(Asset.organisation_id.in_(visible))
    return [
        with_loader_criteria(Organisation, Organisation.id.in_(visible), include_aliases=True),
        with_loader_criteria(Network, Network.organisation_id.in_(visible), include_aliases=True),
        with_loader_criteria(Domain, Domain.organisation_id.in_(visible), include_aliases=True),
        with_loader_criteria(Contact, Contact.organisation_id.in_(visible), include_aliases=True),
        with_loader_criteria(Asset, Asset.organisation_id.in_(visible), include_aliases=True),
        with_loader_criteria(
            AssetAddress, AssetAddress.asset_id.in_(owned_assets), include_aliases=True
        ),
        with_loader_criteria(Component, Component.asset_id.in_(owned_assets), include_aliases=True),
        with_loader_criteria(Notice, Notice.organisation_id.in_(visible), include_aliases=True),
        with_loader_criteria(
            NoticeItem,
            NoticeItem.notice_id.in_(select(Notice.id).where(Notice.organisation_id.in_(visible))),
            include_aliases=True,
        ),
        with_loader_criteria(Indicator, Indicator.tlp.in_(MEMBER_TLP), include_aliases=True),
        with_loader_criteria(
            Sighting,
            Sighting.indicator_id.in_(select(Indicator.id).where(Indicator.tlp.in_(MEMBER_TLP))),
            include_aliases=True,
        ),
        *(with_loader_criteria(model, false(), include_aliases=True) for model in COORDINATOR_ONLY),
    ]


@event.listens_for(Session, "do_orm_execute")
def _restrict_to_tenant(state: ORMExecuteState) -> None:
    principal = principal_of(state.session)
    if principal is None or principal.sees_everything:
        return
    if state.is_relationship_load or state.is_column_load:
        return  # the criteria of the statement that loaded the parent already propagate here
    if state.is_select or state.is_update or state.is_delete:
        visible = tuple(sorted(principal.visible_organisations)) or (-1,)
        state.statement = state.statement.options(*_tenant_criteria(visible))


def _owner_of(session: Session, obj: object) -> int | None:
    if isinstance(obj, Organisation):
        return obj.parent_id if obj.id is None else obj.id
    if isinstance(obj, Network | Domain | Contact | Asset):
        return obj.organisation_id
    if isinstance(obj, AssetAddress | Component):
        asset = obj.asset if obj.asset is not None else session.get(Asset, obj.asset_id)
        return asset.organisation_id if asset is not None else None
    return None


@event.listens_for(Session, "before_flush")
def _check_tenant_writes(session: Session, _context: Any, _instances: Any) -> None:
    principal = principal_of(session)
    if principal is None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Source | ImportRun | Indicator | Sighting):
            if not principal.sees_everything:
                raise PermissionDenied(f"{principal.username} may not change threat intelligence")
            principal.require(Permission.MANAGE_INTEL, None)
            continue
        permission = EDIT_PERMISSION.get(type(obj))
        if permission is None:
            continue
        owner = _owner_of(session, obj)
        if owner is None and not principal.sees_everything:
            raise PermissionDenied(f"{principal.username} may not create top-level organisations")
        principal.require(permission, owner)
        for previous_owner in _previous_owners(obj):
            principal.require(permission, previous_owner)


def _previous_owners(obj: object) -> list[int]:
    """Owners a changed row is being moved away from: moving needs rights on both sides."""
    key = "parent_id" if isinstance(obj, Organisation) else "organisation_id"
    state = inspect(obj)
    if key not in state.attrs:
        return []
    return [owner for owner in state.attrs[key].history.deleted if owner is not None]

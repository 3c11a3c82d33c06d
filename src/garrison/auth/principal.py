"""Who is acting, and which organisations that lets them see and change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.auth.roles import COORDINATOR_ROLES, ROLE_PERMISSIONS, Permission, Role
from garrison.core.errors import GarrisonError
from garrison.orgs.models import Organisation


class PermissionDenied(GarrisonError):
    """The acting user may not do this; the message says what was refused."""


@dataclass(frozen=True)
class Grant:
    """One membership, expanded to every organisation it reaches (its own and descendants)."""

    role: Role
    organisation_id: int
    reach: frozenset[int]


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    grants: tuple[Grant, ...]
    scopes: frozenset[str] | None = None  # API token scopes; None for a browser session

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @property
    def sees_everything(self) -> bool:
        return any(grant.role in COORDINATOR_ROLES for grant in self.grants)

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(grant.role for grant in self.grants)

    @property
    def visible_organisations(self) -> frozenset[int]:
        """Ids of organisations this principal may read (meaningless if it sees everything)."""
        return frozenset().union(*(grant.reach for grant in self.grants))

    def _token_allows(self, permission: Permission) -> bool:
        if self.scopes is None:
            return True
        return "write" in self.scopes or permission == Permission.READ

    def may(self, permission: Permission, organisation_id: int | None = None) -> bool:
        """May this principal do `permission`, anywhere or on one organisation's rows?"""
        if not self._token_allows(permission):
            return False
        for grant in self.grants:
            if permission not in ROLE_PERMISSIONS[grant.role]:
                continue
            if grant.role in COORDINATOR_ROLES or organisation_id is None:
                return True
            if organisation_id in grant.reach:
                return True
        return False

    def require(self, permission: Permission, organisation_id: int | None = None) -> None:
        if not self.may(permission, organisation_id):
            where = f" on organisation {organisation_id}" if organisation_id else ""
            raise PermissionDenied(f"{self.username} may not {permission.value}{where}")


def descendants(parent_of: dict[int, int | None], roots: Iterable[int]) -> frozenset[int]:
    """Every organisation at or below `roots` in the parent tree."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    reached: set[int] = set()
    pending = list(roots)
    while pending:
        current = pending.pop()
        if current in reached:
            continue
        reached.add(current)
        pending.extend(children.get(current, ()))
    return frozenset(reached)


def build_principal(
    session: Session,
    user_id: int,
    username: str,
    memberships: Iterable[tuple[int, str]],
    scopes: frozenset[str] | None = None,
) -> Principal:
    """Expand (organisation id, role) memberships over the organisation tree."""
    parent_of: dict[int, int | None] = {
        org_id: parent
        for org_id, parent in session.execute(select(Organisation.id, Organisation.parent_id))
    }
    grants = tuple(
        Grant(Role(role), org_id, descendants(parent_of, [org_id])) for org_id, role in memberships
    )
    return Principal(user_id, username, grants, scopes)

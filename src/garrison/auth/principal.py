"""Who is acting, and which organisations that lets them see and change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select
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


def _reach_statement() -> Select[int, int]:
    """(root, organisation) for every organisation at or below each of the `roots`."""
    organisations = Organisation.__table__
    start = select(organisations.c.id.label("root"), organisations.c.id.label("id")).where(
        organisations.c.id.in_(bindparam("roots", expanding=True))
    )
    tree = start.cte("reach", recursive=True)
    child = organisations.alias("child")
    tree = tree.union(select(tree.c.root, child.c.id).join(child, child.c.parent_id == tree.c.id))
    return select(tree.c.root, tree.c.id)


_REACH = _reach_statement()  # built once: building it costs more than running it


def reach_of(session: Session, roots: Iterable[int]) -> dict[int, frozenset[int]]:
    """Each root organisation with every organisation at or below it, walked in the database
    by one recursive query (this runs on every request: the tree is not loaded)."""
    wanted = sorted(set(roots))
    if not wanted:
        return {}
    found: dict[int, set[int]] = {root: set() for root in wanted}
    for root, org_id in session.execute(_REACH, {"roots": wanted}):
        found[root].add(org_id)
    return {root: frozenset(ids) for root, ids in found.items()}


def build_principal(
    session: Session,
    user_id: int,
    username: str,
    memberships: Iterable[tuple[int, str]],
    scopes: frozenset[str] | None = None,
) -> Principal:
    """Expand (organisation id, role) memberships over the organisation tree. Coordinator-side
    roles see everything, so their reach is not computed (it stays their own organisation)."""
    granted = [(org_id, Role(role)) for org_id, role in memberships]
    reach = reach_of(session, [org for org, role in granted if role not in COORDINATOR_ROLES])
    grants = tuple(
        Grant(role, org_id, reach.get(org_id, frozenset({org_id}))) for org_id, role in granted
    )
    return Principal(user_id, username, grants, scopes)

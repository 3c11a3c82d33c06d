"""The authorisation matrix: every route of the app × every role × own/other organisation.

Each route has a rule below saying which permission it needs and which organisation its
request touches; the test signs in as each role, sends every route's request against a fresh
object of the role's own organisation and of another one, and compares allow/deny with what
the role's permissions say. A route without a rule fails the test, so a new endpoint cannot
ship without deciding who may use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from garrison.auth.accounts import create_user, grant_membership
from garrison.auth.models import Membership
from garrison.auth.roles import COORDINATOR_ROLES, ROLE_PERMISSIONS, Permission, Role
from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.settings import Settings
from garrison.intel.models import ImportRun, Indicator, Sighting, Source
from garrison.notify.models import OutboxMessage
from garrison.orgs.addresses import address_key, parse_address, parse_network
from garrison.orgs.models import (
    Asset,
    AssetAddress,
    Component,
    Contact,
    Domain,
    Network,
    Organisation,
)
from garrison.web.app import create_app

from web_client import sign_in

Side = Literal["own", "other"]
DENIED = {401, 403, 404}
_serial = itertools.count(1)

# One demo account per role, and the organisation it belongs to ("own"); coordinator-side
# roles are tested against SYT as "own" and STC as "other".
ACCOUNTS: dict[Role, tuple[str, str]] = {
    Role.ADMINISTRATOR: ("quantri", "SYT"),
    Role.COORDINATOR_ANALYST: ("phantich", "SYT"),
    Role.DUTY_OFFICER: ("truc.ban", "SYT"),
    Role.MEMBER_MANAGER: ("syt", "SYT"),
    Role.MEMBER_STAFF: ("stc", "STC"),
    Role.TELECOM_OPERATOR: ("nhamang", "telecom"),
}


class World:
    """Fresh rows to aim requests at, made outside any tenancy (as the system)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def org_id(self, reference: str) -> int:
        with self.database.session() as session:
            column = Organisation.kind_code if reference == "telecom" else Organisation.short_name
            found = session.scalars(
                select(Organisation.id).where(column == reference).order_by(Organisation.id)
            ).first()
        assert found is not None
        return found

    def _add(self, row: Any) -> int:
        with self.database.session() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def child_organisation(self, org: int) -> int:
        return self._add(
            Organisation(name=f"Đơn vị thử {next(_serial)}", kind_code="other", parent_id=org)
        )

    def network(self, org: int) -> int:
        parsed = parse_network(f"116.{next(_serial) % 250}.{next(_serial) % 250}.0/28")
        return self._add(
            Network(
                cidr=parsed.cidr,
                version=4,
                prefix_length=28,
                first_key=parsed.first_key,
                last_key=parsed.last_key,
                organisation_id=org,
            )
        )

    def domain(self, org: int) -> int:
        return self._add(Domain(name=f"thu{next(_serial)}.sonlam.gov.vn", organisation_id=org))

    def contact(self, org: int) -> int:
        return self._add(Contact(organisation_id=org, name=f"Người thử {next(_serial)}", phones=[]))

    def asset(self, org: int) -> int:
        with self.database.session() as session:
            asset = Asset(organisation_id=org, name=f"may-thu-{next(_serial)}", hostnames=[])
            address = parse_address(f"171.244.{next(_serial) % 250}.{next(_serial) % 250}")
            asset.addresses.append(AssetAddress(address=str(address), key=address_key(address)))
            session.add(asset)
            session.flush()
            return asset.id

    def component(self, org: int) -> int:
        asset = self.asset(org)
        return self._add(
            Component(asset_id=asset, ref=f"nginx/{next(_serial)}", product="nginx", version="1.24")
        )

    def user(self, org: int) -> int:
        with self.database.session() as session:
            user = create_user(session, f"thu{next(_serial)}", "mat-khau-dai-du")
            grant_membership(session, user, str(org), Role.MEMBER_STAFF)
            return user.id

    def source(self) -> int:
        return self._add(Source(name=unique("Nguồn thử "), format="plain", default_tlp="amber"))

    def run(self) -> int:
        return self._add(
            ImportRun(source_id=self.source(), status="succeeded", started_at=utc_now())
        )

    def indicator(self, tlp: str = "green") -> int:
        """An indicator seen by one source; members read it only when it is CLEAR or GREEN."""
        with self.database.session() as session:
            run = session.get_one(ImportRun, self.run())
            now = utc_now()
            indicator = Indicator(
                type="domain",
                value=f"{unique('c2-')}.example.net",
                first_seen=now,
                last_seen=now,
                tlp=tlp,
                source_ids=[run.source_id],
            )
            indicator.sightings.append(
                Sighting(source_id=run.source_id, import_run_id=run.id, observed_key="", raw="x")
            )
            session.add(indicator)
            session.flush()
            return indicator.id

    def outbox_message(self, status: str) -> int:
        """An e-mail in the outbox: held (no address) or failed (refused by the server)."""
        return self._add(
            OutboxMessage(
                channel="email",
                idempotency_key=unique("thu-thu-"),
                status=status,
                recipients=[] if status == "held" else ["khongco@sonlam.gov.vn"],
                subject="Cảnh báo IP nhiễm mã độc",
                text_body="Kính gửi đơn vị",
                last_error="no e-mail address" if status == "held" else "550 5.1.1 User unknown",
            )
        )

    def membership(self, org: int) -> tuple[int, int]:
        user = self.user(org)
        with self.database.session() as session:
            membership = session.scalar(select(Membership.id).where(Membership.user_id == user))
        assert membership is not None
        return user, membership


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


@dataclass(frozen=True)
class Rule:
    """Who may use a route: `None` means anyone; `scoped` routes touch one organisation."""

    permission: Permission | None
    call: Callable[[World, int], Call]
    scoped: bool = True
    expect_signed_out: bool = False  # public pages that only make sense signed out


def fixed(path: str, **kwargs: Any) -> Callable[[World, int], Call]:
    return lambda _world, _org: Call(path, **kwargs)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


CSV_ONE_ORGANISATION = "Tên đơn vị,Loại đơn vị\nĐơn vị nhập thử,other\n"


def feed_line() -> bytes:
    """A one-line plain feed, a fresh address each time."""
    return f"203.0.113.{next(_serial) % 250}\n".encode()


RULES: dict[tuple[str, str], Rule] = {
    # Public
    ("GET", "/login"): Rule(None, fixed("/login"), scoped=False),
    ("POST", "/login"): Rule(
        None, fixed("/login", data={"username": "x", "password": "y"}), scoped=False
    ),
    ("POST", "/logout"): Rule(None, fixed("/logout"), scoped=False, expect_signed_out=True),
    ("GET", "/language/{language}"): Rule(None, fixed("/language/en"), scoped=False),
    ("GET", "/api/docs"): Rule(None, fixed("/api/docs"), scoped=False),
    ("GET", "/api/openapi.json"): Rule(None, fixed("/api/openapi.json"), scoped=False),
    # Pages
    ("GET", "/"): Rule(Permission.READ, fixed("/"), scoped=False),
    ("GET", "/organisations"): Rule(Permission.READ, fixed("/organisations"), scoped=False),
    ("GET", "/organisations.{export_format}"): Rule(
        Permission.READ, fixed("/organisations.csv"), scoped=False
    ),
    ("GET", "/organisations/choices"): Rule(
        Permission.READ, fixed("/organisations/choices?organisation=S"), scoped=False
    ),
    ("GET", "/organisations/{organisation_id}"): Rule(
        Permission.READ, lambda w, org: Call(f"/organisations/{org}")
    ),
    ("GET", "/assets"): Rule(Permission.READ, fixed("/assets"), scoped=False),
    ("GET", "/assets.{export_format}"): Rule(Permission.READ, fixed("/assets.xlsx"), scoped=False),
    ("GET", "/users"): Rule(Permission.MANAGE_USERS, fixed("/users"), scoped=False),
    ("GET", "/users.{export_format}"): Rule(
        Permission.MANAGE_USERS, fixed("/users.csv"), scoped=False
    ),
    ("POST", "/users"): Rule(
        Permission.MANAGE_USERS,
        lambda w, org: Call(
            "/users",
            data={
                "username": unique("moi"),
                "display_name": "Người mới",
                "password": "mat-khau-dai-du",
                "organisation": org,
                "role": "member_staff",
            },
        ),
        scoped=False,
    ),
    ("GET", "/users/{user_id}"): Rule(
        Permission.MANAGE_USERS, lambda w, org: Call(f"/users/{w.user(org)}"), scoped=False
    ),
    ("POST", "/users/{user_id}/memberships"): Rule(
        Permission.MANAGE_USERS,
        lambda w, org: Call(
            f"/users/{w.user(org)}/memberships",
            data={"organisation": org, "role": "member_manager"},
        ),
        scoped=False,
    ),
    ("POST", "/users/{user_id}/memberships/{membership_id}/revoke"): Rule(
        Permission.MANAGE_USERS,
        lambda w, org: Call("/users/{}/memberships/{}/revoke".format(*w.membership(org))),
        scoped=False,
    ),
    ("POST", "/users/{user_id}/password"): Rule(
        Permission.MANAGE_USERS,
        lambda w, org: Call(
            f"/users/{w.user(org)}/password", data={"password": "mot-mat-khau-moi"}
        ),
        scoped=False,
    ),
    ("POST", "/users/{user_id}/{change}"): Rule(
        Permission.MANAGE_USERS,
        lambda w, org: Call(f"/users/{w.user(org)}/deactivate"),
        scoped=False,
    ),
    ("GET", "/audit"): Rule(Permission.VIEW_AUDIT, fixed("/audit"), scoped=False),
    ("GET", "/audit.{export_format}"): Rule(
        Permission.VIEW_AUDIT, fixed("/audit.csv"), scoped=False
    ),
    ("GET", "/import"): Rule(Permission.IMPORT_REGISTRY, fixed("/import"), scoped=False),
    ("POST", "/import"): Rule(
        Permission.IMPORT_REGISTRY,
        lambda w, org: Call(
            "/import",
            files={
                "file": (
                    "don-vi.csv",
                    CSV_ONE_ORGANISATION.replace("thử", unique("thử ")).encode(),
                    "text/csv",
                )
            },
        ),
        scoped=False,
    ),
    # Threat intelligence: indicators for every reader, sources and runs for coordinator staff
    ("GET", "/indicators"): Rule(Permission.READ, fixed("/indicators"), scoped=False),
    ("GET", "/indicators.{export_format}"): Rule(
        Permission.READ, fixed("/indicators.csv"), scoped=False
    ),
    ("GET", "/indicators/{indicator_id}"): Rule(
        Permission.READ, lambda w, org: Call(f"/indicators/{w.indicator()}"), scoped=False
    ),
    ("GET", "/sources"): Rule(Permission.VIEW_INTEL_SOURCES, fixed("/sources"), scoped=False),
    ("POST", "/sources"): Rule(
        Permission.MANAGE_INTEL,
        lambda w, org: Call("/sources", data={"name": unique("Nguồn mới "), "format": "plain"}),
        scoped=False,
    ),
    ("GET", "/sources/{source_id}"): Rule(
        Permission.VIEW_INTEL_SOURCES, lambda w, org: Call(f"/sources/{w.source()}"), scoped=False
    ),
    ("POST", "/sources/{source_id}/import"): Rule(
        Permission.MANAGE_INTEL,
        lambda w, org: Call(
            f"/sources/{w.source()}/import",
            data={"format": "plain"},
            files={"file": ("list.txt", feed_line(), "text/plain")},
        ),
        scoped=False,
    ),
    ("GET", "/intel-runs/{run_id}"): Rule(
        Permission.VIEW_INTEL_SOURCES, lambda w, org: Call(f"/intel-runs/{w.run()}"), scoped=False
    ),
    ("GET", "/api/v1/indicators"): Rule(Permission.READ, fixed("/api/v1/indicators"), scoped=False),
    ("GET", "/api/v1/indicators/{indicator_id}"): Rule(
        Permission.READ, lambda w, org: Call(f"/api/v1/indicators/{w.indicator()}"), scoped=False
    ),
    ("GET", "/api/v1/intel/sources"): Rule(
        Permission.VIEW_INTEL_SOURCES, fixed("/api/v1/intel/sources"), scoped=False
    ),
    ("POST", "/api/v1/intel/sources"): Rule(
        Permission.MANAGE_INTEL,
        lambda w, org: Call("/api/v1/intel/sources", json={"name": unique("Nguồn API ")}),
        scoped=False,
    ),
    ("GET", "/api/v1/intel/sources/{source_id}/runs"): Rule(
        Permission.VIEW_INTEL_SOURCES,
        lambda w, org: Call(f"/api/v1/intel/sources/{w.source()}/runs"),
        scoped=False,
    ),
    ("POST", "/api/v1/intel/sources/{source_id}/imports"): Rule(
        Permission.MANAGE_INTEL,
        lambda w, org: Call(
            f"/api/v1/intel/sources/{w.source()}/imports?format=plain",
            files={"file": ("list.txt", feed_line(), "text/plain")},
        ),
        scoped=False,
    ),
    ("GET", "/api/v1/intel/runs/{run_id}"): Rule(
        Permission.VIEW_INTEL_SOURCES,
        lambda w, org: Call(f"/api/v1/intel/runs/{w.run()}"),
        scoped=False,
    ),
    # The outbox: coordinator staff read it, administrators and analysts put messages right
    ("GET", "/outbox"): Rule(Permission.VIEW_OUTBOX, fixed("/outbox"), scoped=False),
    ("POST", "/outbox/{message_id}/retry"): Rule(
        Permission.MANAGE_OUTBOX,
        lambda w, org: Call(f"/outbox/{w.outbox_message('failed')}/retry"),
        scoped=False,
    ),
    ("POST", "/outbox/{message_id}/release"): Rule(
        Permission.MANAGE_OUTBOX,
        lambda w, org: Call(
            f"/outbox/{w.outbox_message('held')}/release", data={"to": "syt@sonlam.gov.vn"}
        ),
        scoped=False,
    ),
    # API: organisations
    ("GET", "/api/v1/organisations"): Rule(
        Permission.READ, fixed("/api/v1/organisations"), scoped=False
    ),
    ("POST", "/api/v1/organisations"): Rule(
        Permission.EDIT_REGISTRY,
        lambda w, org: Call(
            "/api/v1/organisations",
            json={"name": unique("Đơn vị API "), "kind_code": "other", "parent_id": org},
        ),
    ),
    ("GET", "/api/v1/organisations/{organisation_id}"): Rule(
        Permission.READ, lambda w, org: Call(f"/api/v1/organisations/{org}")
    ),
    ("PATCH", "/api/v1/organisations/{organisation_id}"): Rule(
        Permission.EDIT_REGISTRY,
        lambda w, org: Call(
            f"/api/v1/organisations/{w.child_organisation(org)}", json={"notes": "ghi chú"}
        ),
    ),
    ("DELETE", "/api/v1/organisations/{organisation_id}"): Rule(
        Permission.EDIT_REGISTRY,
        lambda w, org: Call(f"/api/v1/organisations/{w.child_organisation(org)}"),
    ),
}


def _crud_rules(
    resource: str,
    make: str,
    edit: Permission,
    body: Callable[[int], dict[str, Any]],
    patch: dict[str, Any],
) -> None:
    """The five routes of one organisation-owned API resource."""
    base = f"/api/v1/{resource}"
    item = f"{base}/{{{resource[:-1]}_id}}"

    def fresh(world: World, org: int) -> int:
        maker: Callable[[int], int] = getattr(world, make)
        return maker(org)

    RULES[("GET", base)] = Rule(Permission.READ, fixed(base), scoped=False)
    RULES[("POST", base)] = Rule(edit, lambda w, org: Call(base, json=body(org)))
    RULES[("GET", item)] = Rule(Permission.READ, lambda w, org: Call(f"{base}/{fresh(w, org)}"))
    RULES[("PATCH", item)] = Rule(edit, lambda w, org: Call(f"{base}/{fresh(w, org)}", json=patch))
    RULES[("DELETE", item)] = Rule(edit, lambda w, org: Call(f"{base}/{fresh(w, org)}"))


_crud_rules(
    "networks",
    "network",
    Permission.EDIT_REGISTRY,
    lambda org: {
        "organisation_id": org,
        "cidr": f"103.{next(_serial) % 250}.{next(_serial) % 250}.0/29",
    },
    {"description": "mô tả"},
)
_crud_rules(
    "domains",
    "domain",
    Permission.EDIT_REGISTRY,
    lambda org: {"organisation_id": org, "name": f"{unique('api')}.sonlam.gov.vn"},
    {"name": "doi-ten.sonlam.gov.vn"},
)
_crud_rules(
    "contacts",
    "contact",
    Permission.EDIT_CONTACTS,
    lambda org: {"organisation_id": org, "name": unique("Đầu mối ")},
    {"role": "Đầu mối ứng cứu sự cố"},
)
_crud_rules(
    "assets",
    "asset",
    Permission.EDIT_ASSETS,
    lambda org: {"organisation_id": org, "name": unique("may-api-")},
    {"operating_system": "Ubuntu 24.04"},
)
RULES[("PATCH", "/api/v1/domains/{domain_id}")] = Rule(
    Permission.EDIT_REGISTRY,
    lambda w, org: Call(
        f"/api/v1/domains/{w.domain(org)}", json={"name": unique("doi") + ".gov.vn"}
    ),
)
RULES.update(
    {
        ("GET", "/api/v1/assets/{asset_id}/components"): Rule(
            Permission.READ, lambda w, org: Call(f"/api/v1/assets/{w.asset(org)}/components")
        ),
        ("POST", "/api/v1/assets/{asset_id}/components"): Rule(
            Permission.EDIT_ASSETS,
            lambda w, org: Call(
                f"/api/v1/assets/{w.asset(org)}/components",
                json={"vendor": "f5", "product": "nginx", "version": "1.25.3"},
            ),
        ),
        ("GET", "/api/v1/components/{component_id}"): Rule(
            Permission.READ, lambda w, org: Call(f"/api/v1/components/{w.component(org)}")
        ),
        ("PATCH", "/api/v1/components/{component_id}"): Rule(
            Permission.EDIT_ASSETS,
            lambda w, org: Call(
                f"/api/v1/components/{w.component(org)}", json={"version": "1.26.0"}
            ),
        ),
        ("DELETE", "/api/v1/components/{component_id}"): Rule(
            Permission.EDIT_ASSETS, lambda w, org: Call(f"/api/v1/components/{w.component(org)}")
        ),
        # API: users (administrators)
        ("GET", "/api/v1/users"): Rule(
            Permission.MANAGE_USERS, fixed("/api/v1/users"), scoped=False
        ),
        ("POST", "/api/v1/users"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(
                "/api/v1/users", json={"username": unique("api-"), "password": "mat-khau-dai-du"}
            ),
            scoped=False,
        ),
        ("GET", "/api/v1/users/{user_id}"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(f"/api/v1/users/{w.user(org)}"),
            scoped=False,
        ),
        ("PATCH", "/api/v1/users/{user_id}"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(f"/api/v1/users/{w.user(org)}", json={"display_name": "Tên mới"}),
            scoped=False,
        ),
        ("POST", "/api/v1/users/{user_id}/password"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(
                f"/api/v1/users/{w.user(org)}/password", json={"password": "mot-mat-khau-moi"}
            ),
            scoped=False,
        ),
        ("GET", "/api/v1/users/{user_id}/memberships"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(f"/api/v1/users/{w.user(org)}/memberships"),
            scoped=False,
        ),
        ("PUT", "/api/v1/users/{user_id}/memberships/{organisation_id}"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(
                f"/api/v1/users/{w.user(org)}/memberships/{org}", json={"role": "member_manager"}
            ),
            scoped=False,
        ),
        ("DELETE", "/api/v1/users/{user_id}/memberships/{organisation_id}"): Rule(
            Permission.MANAGE_USERS,
            lambda w, org: Call(f"/api/v1/users/{w.user(org)}/memberships/{org}"),
            scoped=False,
        ),
    }
)


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, static files and HEAD aside."""
    for route in iter_route_contexts(app.router.routes):
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield method, route.path


def expected(role: Role, rule: Rule, side: Side) -> bool:
    if rule.permission is None:
        return True
    if rule.permission not in ROLE_PERMISSIONS[role]:
        return False
    return not rule.scoped or side == "own" or role in COORDINATOR_ROLES


@dataclass
class Verdicts:
    mismatches: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)


def test_every_route_has_a_rule(database: Database, web_settings: Settings) -> None:
    routes = set(app_routes(create_app(database, web_settings)))
    assert routes - RULES.keys() == set(), "routes without an authorisation rule"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@pytest.mark.parametrize("role", list(Role))
def test_authorisation_matrix(role: Role, province: Database, web_settings: Settings) -> None:
    username, own_reference = ACCOUNTS[role]
    world = World(province)
    other_reference = "STC" if own_reference != "STC" else "SYT"
    sides: dict[Side, int] = {
        "own": world.org_id(own_reference),
        "other": world.org_id(other_reference),
    }
    verdicts = Verdicts()
    with TestClient(create_app(province, web_settings), base_url="http://127.0.0.1") as client:
        csrf = sign_in(client, username)
        for (method, path), rule in sorted(RULES.items(), key=lambda item: item[0][1]):
            if rule.expect_signed_out:
                continue
            for side in ("own", "other") if rule.scoped else ("own",):
                call = rule.call(world, sides[side])
                response = client.request(
                    method,
                    call.path,
                    json=call.json,
                    data=call.data,
                    files=call.files,
                    headers={"X-CSRF-Token": csrf},
                    follow_redirects=False,
                )
                where = f"{method} {path} [{side}] → {response.status_code}"
                if response.status_code >= 500:
                    verdicts.server_errors.append(where)
                redirected_to_login = response.headers.get("location", "").startswith("/login")
                allowed = response.status_code not in DENIED and not redirected_to_login
                if rule.permission is None:
                    # Public routes answer 401 to a wrong password; only 403 is a refusal.
                    allowed = response.status_code != 403
                if allowed != expected(role, rule, side):
                    verdicts.mismatches.append(
                        f"{where}: {'allowed' if allowed else 'denied'}, expected "
                        f"{'allowed' if expected(role, rule, side) else 'denied'}"
                    )
    assert verdicts.server_errors == []
    assert verdicts.mismatches == []


def test_signed_out_visitors_reach_only_public_routes(
    province: Database, web_settings: Settings
) -> None:
    world = World(province)
    org = world.org_id("SYT")
    leaks = []
    with TestClient(create_app(province, web_settings), base_url="http://127.0.0.1") as client:
        for (method, path), rule in RULES.items():
            call = rule.call(world, org)
            response = client.request(
                method,
                call.path,
                json=call.json,
                data=call.data,
                files=call.files,
                follow_redirects=False,
            )
            denied = response.status_code in DENIED or response.headers.get(
                "location", ""
            ).startswith("/login")
            if rule.permission is not None and not denied:
                leaks.append(f"{method} {path} → {response.status_code}")
    assert leaks == []

"""Roles and what each may do. Coordinator-side roles see every organisation; member roles
see their own organisation and its children."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    COORDINATOR_ANALYST = "coordinator_analyst"
    DUTY_OFFICER = "duty_officer"
    MEMBER_MANAGER = "member_manager"
    MEMBER_STAFF = "member_staff"
    TELECOM_OPERATOR = "telecom_operator"


class Permission(StrEnum):
    READ = "read"
    EDIT_ASSETS = "edit_assets"  # assets and their components
    EDIT_CONTACTS = "edit_contacts"
    EDIT_REGISTRY = "edit_registry"  # organisations, networks, domains
    IMPORT_REGISTRY = "import_registry"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    VIEW_INTEL_SOURCES = "view_intel_sources"  # sources, import runs and their raw rows
    MANAGE_INTEL = "manage_intel"  # add sources, import and pull feeds
    VIEW_OUTBOX = "view_outbox"  # outgoing e-mails and webhook calls, their errors
    MANAGE_OUTBOX = "manage_outbox"  # retry failed messages, release held ones


COORDINATOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.COORDINATOR_ANALYST, Role.DUTY_OFFICER})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.COORDINATOR_ANALYST: frozenset(
        {
            Permission.READ,
            Permission.EDIT_ASSETS,
            Permission.EDIT_CONTACTS,
            Permission.EDIT_REGISTRY,
            Permission.IMPORT_REGISTRY,
            Permission.VIEW_AUDIT,
            Permission.VIEW_INTEL_SOURCES,
            Permission.MANAGE_INTEL,
            Permission.VIEW_OUTBOX,
            Permission.MANAGE_OUTBOX,
        }
    ),
    Role.DUTY_OFFICER: frozenset(
        {
            Permission.READ,
            Permission.VIEW_AUDIT,
            Permission.VIEW_INTEL_SOURCES,
            Permission.VIEW_OUTBOX,
        }
    ),
    Role.MEMBER_MANAGER: frozenset(
        {
            Permission.READ,
            Permission.EDIT_ASSETS,
            Permission.EDIT_CONTACTS,
        }
    ),
    Role.MEMBER_STAFF: frozenset({Permission.READ, Permission.EDIT_ASSETS}),
    Role.TELECOM_OPERATOR: frozenset({Permission.READ}),
}

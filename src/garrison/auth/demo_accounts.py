"""Sign-in accounts for the demo province: one per kind of user, all with one password."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.auth.accounts import create_user, grant_membership
from garrison.auth.models import User
from garrison.auth.roles import Role
from garrison.orgs.models import Organisation

DEMO_PASSWORD = "garrison-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    organisation_kind: str
    short_name: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("quantri", "Quản trị hệ thống", Role.ADMINISTRATOR, "coordinator"),
    DemoAccount("phantich", "Chuyên viên phân tích", Role.COORDINATOR_ANALYST, "coordinator"),
    DemoAccount("truc.ban", "Cán bộ trực ban", Role.DUTY_OFFICER, "coordinator"),
    DemoAccount("syt", "Cán bộ Sở Y tế", Role.MEMBER_MANAGER, "department", "SYT"),
    DemoAccount("stc", "Nhân viên Sở Tài chính", Role.MEMBER_STAFF, "department", "STC"),
    DemoAccount("nhamang", "Doanh nghiệp viễn thông", Role.TELECOM_OPERATOR, "telecom"),
)


def create_demo_accounts(session: Session) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; returns those now available."""
    available = []
    for account in DEMO_ACCOUNTS:
        query = select(Organisation).where(Organisation.kind_code == account.organisation_kind)
        if account.short_name:
            query = query.where(Organisation.short_name == account.short_name)
        organisation = session.scalars(query.order_by(Organisation.id)).first()
        if organisation is None:
            continue
        if session.scalar(select(User.id).where(User.username == account.username)) is None:
            user = create_user(
                session, account.username, DEMO_PASSWORD, display_name=account.display_name
            )
            grant_membership(session, user, str(organisation.id), account.role)
        available.append(account)
    return available

"""`garrison users`: accounts, memberships, password resets and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from garrison.auth.accounts import create_user, find_user, grant_membership, reset_password
from garrison.auth.models import User
from garrison.auth.roles import Role
from garrison.auth.tokens import issue_token, revoke_token
from garrison.cli.runtime import console, open_database, print_json, print_table

app = typer.Typer(help="User accounts, roles and API tokens.", no_args_is_help=True)

ROLES = ", ".join(role.value for role in Role)


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Log-in name (lower case).")],
    organisation: Annotated[str, typer.Option("--org", help="Organisation name or short name.")],
    role: Annotated[Role, typer.Option(help=f"One of: {ROLES}.")],
    password: Annotated[
        str | None,
        typer.Option(help="Password; asked for when omitted.", envvar="GARRISON_NEW_PASSWORD"),
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    language: Annotated[str, typer.Option(help="vi or en.")] = "vi",
) -> None:
    """Create a user with a role in one organisation (or add a role to an existing user)."""
    with open_database() as database, database.session() as session:
        existing = session.scalar(select(User).where(User.username == username.lower()))
        user = existing or create_user(
            session,
            username,
            _password(password),
            display_name=display_name,
            email=email,
            language=language,
        )
        grant_membership(session, user, organisation, role)
    console.print(
        f"{'updated' if existing else 'created'} {user.username}: {role.value} in {organisation}"
    )


@dataclass(frozen=True)
class UserListing:
    username: str
    display_name: str
    email: str | None
    active: bool
    last_login_at: datetime | None
    roles: list[str]


@app.command("list")
def list_(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List users with their roles."""
    with open_database() as database, database.session() as session:
        users = session.scalars(
            select(User).options(selectinload(User.memberships)).order_by(User.username)
        ).all()
        rows = [
            UserListing(
                u.username,
                u.display_name,
                u.email,
                u.is_active,
                u.last_login_at,
                [
                    f"{m.role}@{m.organisation.short_name or m.organisation.name}"
                    for m in u.memberships
                ],
            )
            for u in users
        ]
    if json_output:
        print_json(rows)
        return
    print_table(
        f"{len(rows)} user(s)",
        ["user", "name", "e-mail", "active", "roles"],
        [
            [r.username, r.display_name, r.email, "yes" if r.active else "no", ", ".join(r.roles)]
            for r in rows
        ],
    )


@app.command("reset-password")
def reset(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str | None, typer.Option(envvar="GARRISON_NEW_PASSWORD")] = None,
) -> None:
    """Set a new password (the user must change it at next sign-in)."""
    with open_database() as database, database.session() as session:
        reset_password(session, find_user(session, username), _password(password))
    console.print(f"password of {username} reset")


@app.command("token")
def token(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    scope: Annotated[list[str] | None, typer.Option(help="read and/or write.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
    revoke: Annotated[str | None, typer.Option(help="Revoke the token with this prefix.")] = None,
) -> None:
    """Issue an API token (printed once) or revoke one."""
    with open_database() as database, database.session() as session:
        if revoke:
            revoked = revoke_token(session, revoke)
            console.print(f"revoked {revoked.name} ({revoked.prefix})")
            return
        issued = issue_token(
            session,
            find_user(session, username),
            name,
            set(scope or ["read"]),
            timedelta(days=days) if days else None,
        )
    console.print(
        f"token {issued.token.prefix} for {username} "
        f"({', '.join(issued.token.scopes)}); store it now, it is not shown again:"
    )
    typer.echo(issued.secret)

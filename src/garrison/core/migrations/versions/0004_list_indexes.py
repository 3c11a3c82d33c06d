"""list indexes: organisations and assets by name without case

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:30:00.000000

The organisation list and the asset list (ordered by owner or by name) sort by lower(name);
with these indexes a page is read in order instead of sorting every row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_organisations_name_folded",
        "organisations",
        [sa.func.lower(sa.text("name")), "name"],
        unique=False,
    )
    op.create_index(
        "ix_assets_name_folded", "assets", [sa.func.lower(sa.text("name"))], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_assets_name_folded", table_name="assets")
    op.drop_index("ix_organisations_name_folded", table_name="organisations")

"""intel

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:14:45.735238
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from garrison.core.model import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intel_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("first_key", sa.String(length=33), nullable=True),
        sa.Column("last_key", sa.String(length=33), nullable=True),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("tlp", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("malware", sa.JSON(), nullable=False),
        sa.Column("classification_type", sa.String(length=60), nullable=True),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("warninglists", sa.JSON(), nullable=False),
        sa.Column("source_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')",
            name=op.f("ck_intel_indicators_tlp"),
        ),
        sa.CheckConstraint(
            "type IN ('ipv4', 'ipv6', 'cidr4', 'cidr6', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256', 'filename', 'phone', 'asn', 'brandname')",  # noqa: E501
            name=op.f("ck_intel_indicators_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_indicators")),
        sa.UniqueConstraint("type", "value", name=op.f("uq_intel_indicators_type_value")),
        sa.UniqueConstraint("uuid", name=op.f("uq_intel_indicators_uuid")),
    )
    with op.batch_alter_table("intel_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_first_key"), ["first_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_first_seen"), ["first_seen"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_indicators_last_seen"), ["last_seen"], unique=False
        )

    op.create_table(
        "intel_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("pull_interval_minutes", sa.Integer(), nullable=True),
        sa.Column("default_tlp", sa.String(length=20), nullable=False),
        sa.Column("reliability", sa.String(length=1), nullable=False),
        sa.Column("default_confidence", sa.Integer(), nullable=False),
        sa.Column("default_expiry_days", sa.Integer(), nullable=True),
        sa.Column("default_classification_type", sa.String(length=60), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("auth_header", sa.String(length=100), nullable=True),
        sa.Column("auth_secret", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("bookmark", sa.String(length=100), nullable=True),
        sa.Column("last_pulled_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "default_tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')",
            name=op.f("ck_intel_sources_default_tlp"),
        ),
        sa.CheckConstraint(
            "reliability IN ('A', 'B', 'C', 'D', 'E', 'F')",
            name=op.f("ck_intel_sources_reliability"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_intel_sources_name")),
    )
    op.create_table(
        "intel_import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=40), nullable=True),
        sa.Column("started_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=80), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("unchanged_count", sa.Integer(), nullable=False),
        sa.Column("invalid_count", sa.Integer(), nullable=False),
        sa.Column("excluded_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["intel_sources.id"],
            name=op.f("fk_intel_import_runs_source_id_intel_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_import_runs")),
    )
    with op.batch_alter_table("intel_import_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_import_runs_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "intel_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=False),
        sa.Column("observed_key", sa.String(length=40), nullable=False),
        sa.Column("observed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", UtcDateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("malware_name", sa.String(length=120), nullable=True),
        sa.Column("classification_taxonomy", sa.String(length=60), nullable=True),
        sa.Column("classification_type", sa.String(length=60), nullable=True),
        sa.Column("classification_identifier", sa.String(length=200), nullable=True),
        sa.Column("source_asn", sa.Integer(), nullable=True),
        sa.Column("source_as_name", sa.String(length=300), nullable=True),
        sa.Column("region", sa.String(length=120), nullable=True),
        sa.Column("destination_ip", sa.String(length=45), nullable=True),
        sa.Column("destination_port", sa.Integer(), nullable=True),
        sa.Column("destination_fqdn", sa.String(length=300), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["intel_import_runs.id"],
            name=op.f("fk_intel_sightings_import_run_id_intel_import_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["intel_indicators.id"],
            name=op.f("fk_intel_sightings_indicator_id_intel_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["intel_sources.id"],
            name=op.f("fk_intel_sightings_source_id_intel_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intel_sightings")),
        sa.UniqueConstraint(
            "indicator_id",
            "source_id",
            "observed_key",
            name=op.f("uq_intel_sightings_indicator_id_source_id_observed_key"),
        ),
    )
    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_sightings_import_run_id"), ["import_run_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intel_sightings_source_id"), ["source_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("intel_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_sightings_source_id"))
        batch_op.drop_index(batch_op.f("ix_intel_sightings_import_run_id"))

    op.drop_table("intel_sightings")
    with op.batch_alter_table("intel_import_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_import_runs_source_id"))

    op.drop_table("intel_import_runs")
    op.drop_table("intel_sources")
    with op.batch_alter_table("intel_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_indicators_last_seen"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_first_seen"))
        batch_op.drop_index(batch_op.f("ix_intel_indicators_first_key"))

    op.drop_table("intel_indicators")

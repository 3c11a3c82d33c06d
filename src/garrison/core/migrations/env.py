"""Alembic environment: the engine comes from Garrison, never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from garrison.schema import metadata

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through garrison.core.db.migrate()")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

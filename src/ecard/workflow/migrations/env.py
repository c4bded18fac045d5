"""Alembic environment: runs on the connection :class:`ecard.workflow.store.Store` hands over."""

from __future__ import annotations

from alembic import context

from ecard.workflow.store import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()

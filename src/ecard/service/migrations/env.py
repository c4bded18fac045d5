"""Alembic environment: runs on the connection :class:`ecard.service.accounts.AccountStore`
hands over, with the service's own version table. Importing it outside a migration run does
nothing (the test collector imports every module)."""

from __future__ import annotations

from alembic import context

from ecard.service.accounts import VERSION_TABLE, AccountsBase

if hasattr(context, "config"):  # only inside ``alembic upgrade``
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=AccountsBase.metadata,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()

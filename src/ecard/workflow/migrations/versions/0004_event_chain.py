"""The event log as a hash chain: ``events.prev_digest`` and ``events.digest``, and the
``event_chain`` head row; the events already there are linked in id order.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ecard.workflow.eventlog import FIELDS, GENESIS, fields_digest

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the digest columns and the head, and link the existing events."""
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("prev_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("digest", sa.String(64), nullable=True))
    chain = op.create_table(
        "event_chain",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("prev_digest", sa.String),
        sa.column("digest", sa.String),
        *(sa.column(name) for name in FIELDS),
    )
    digest, count = GENESIS, 0
    columns = [events.c.id, *(events.c[name] for name in FIELDS)]
    for event_id, *fields in bind.execute(sa.select(*columns).order_by(events.c.id)).all():
        prev, digest = digest, fields_digest(digest, fields)
        bind.execute(
            sa.update(events).where(events.c.id == event_id).values(prev_digest=prev, digest=digest)
        )
        count += 1
    op.bulk_insert(chain, [{"id": 1, "digest": digest, "count": count}])


def downgrade() -> None:
    """Remove them."""
    op.drop_table("event_chain")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("digest")
        batch.drop_column("prev_digest")

"""Encrypted ID photos and review deadlines: a ``photos`` table (AES-GCM blobs), the time of
each application's decision (photo retention counts from it) and an index for the queue of
applications waiting for review.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``applications.decided_at``, its index on (state, region) and ``photos``."""
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("decided_at", sa.Integer(), nullable=True))
    op.create_index("ix_applications_state_region", "applications", ["state", "region"])
    op.create_table(
        "photos",
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id"), primary_key=True
        ),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Remove them."""
    op.drop_table("photos")
    op.drop_index("ix_applications_state_region", "applications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("decided_at")

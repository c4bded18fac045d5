"""Pending applicant registrations: a registration becomes an account only with the code sent
to its number, so the answer to registering never tells whether a number is registered; with
when the number's last code went out and how many went out that day (the per-number limits).

Revision ID: s0002
Revises: s0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0002"
down_revision = "s0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``svc_registrations``."""
    op.create_table(
        "svc_registrations",
        sa.Column("login", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("code_hash", sa.String(100), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
    )
    op.create_index("ix_svc_registrations_expires_at", "svc_registrations", ["expires_at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("svc_registrations")

"""The first workflow schema: applications, codes, cards, events, revocation lists.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer(), nullable=False)


def upgrade() -> None:
    """Create the five tables."""
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("document_type", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False, index=True),
        sa.Column("relation", sa.String(8), nullable=False),
        sa.Column("applicant", sa.String(64), nullable=False, index=True),
        sa.Column("consents", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.Integer(), nullable=False),
        sa.Column("phone_verified", sa.Boolean(), nullable=False),
        sa.Column("liveness", sa.String(128), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("card_number", sa.String(9), nullable=True),
        _version(),
    )
    op.create_table(
        "codes",
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id"), primary_key=True
        ),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("sent_today", sa.Integer(), nullable=False),
        _version(),
    )
    op.create_table(
        "cards",
        sa.Column("card_number", sa.String(9), primary_key=True),
        sa.Column(
            "application_id", sa.String(32), sa.ForeignKey("applications.id"), nullable=False
        ),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_since", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(16), nullable=True),
        sa.Column("cti", sa.String(64), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("replaced_by", sa.String(9), nullable=True),
        sa.Column("pin_hash", sa.String(200), nullable=True),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        _version(),
    )
    op.create_index("ix_cards_subject_region", "cards", ["subject", "region"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("application_id", sa.String(32), nullable=True, index=True),
        sa.Column("card_number", sa.String(9), nullable=True),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("before", sa.String(16), nullable=True),
        sa.Column("after", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_table(
        "revocation_lists",
        sa.Column("sequence", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("revocation_lists", "events", "cards", "codes", "applications"):
        op.drop_table(table)

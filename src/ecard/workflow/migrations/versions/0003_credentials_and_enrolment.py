"""Credentials and device enrolment: a ``credentials`` table holding every credential of a
card (kid, cti, profile, device-key thumbprint, issued/revoked/superseded), the open
enrolment challenges (``enrolment_nonces``, hashed) and each card's issue time.

Existing cards' credentials (``cards.kid``/``cards.cti``) are copied into ``credentials`` as
bearer credentials of the ``full`` profile, listed if the card was listed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``cards.issued_at``, ``credentials`` (filled from the cards) and
    ``enrolment_nonces``."""
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("issued_at", sa.Integer(), nullable=True))
    credentials = op.create_table(
        "credentials",
        sa.Column("cti", sa.String(64), primary_key=True),
        sa.Column("kid", sa.String(16), nullable=False),
        sa.Column("card_number", sa.String(9), sa.ForeignKey("cards.card_number"), nullable=False),
        sa.Column("profile", sa.String(8), nullable=False),
        sa.Column("device_key", sa.String(64), nullable=True, unique=True),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.Integer(), nullable=True),
    )
    op.create_index("ix_credentials_card_number", "credentials", ["card_number"])
    op.create_table(
        "enrolment_nonces",
        sa.Column(
            "card_number", sa.String(9), sa.ForeignKey("cards.card_number"), primary_key=True
        ),
        sa.Column("profile", sa.String(8), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    cards = sa.table(
        "cards",
        sa.column("card_number", sa.String),
        sa.column("kid", sa.String),
        sa.column("cti", sa.String),
        sa.column("listed", sa.Boolean),
        sa.column("state_since", sa.Integer),
    )
    rows = (
        op.get_bind()
        .execute(
            sa.select(
                cards.c.card_number, cards.c.kid, cards.c.cti, cards.c.listed, cards.c.state_since
            ).where(cards.c.kid.is_not(None), cards.c.cti.is_not(None))
        )
        .all()
    )
    if rows:
        op.bulk_insert(
            credentials,
            [
                {
                    "cti": cti,
                    "kid": kid,
                    "card_number": number,
                    "profile": "full",
                    "device_key": None,
                    "issued_at": since,
                    "revoked_at": since if listed else None,
                    "superseded_at": None,
                }
                for number, kid, cti, listed, since in rows
            ],
        )


def downgrade() -> None:
    """Remove them (the cards keep their own kid/cti)."""
    op.drop_table("enrolment_nonces")
    op.drop_index("ix_credentials_card_number", "credentials")
    op.drop_table("credentials")
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("issued_at")

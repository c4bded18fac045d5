"""The service's first schema: accounts, sessions, the applicant's applications, sign-in events.

Revision ID: s0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four ``svc_*`` tables."""
    op.create_table(
        "svc_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.UniqueConstraint("kind", "login", name="uq_svc_accounts_kind_login"),
    )
    op.create_table(
        "svc_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("realm", sa.String(10), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("svc_accounts.id"), nullable=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.Integer(), nullable=False, index=True),
    )
    op.create_table(
        "svc_applicant_applications",
        sa.Column("application_id", sa.String(32), primary_key=True),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("svc_accounts.id"), nullable=False, index=True
        ),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.Integer(), nullable=True),
    )
    op.create_table(
        "svc_auth_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("realm", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop them."""
    for table in ("svc_auth_events", "svc_applicant_applications", "svc_sessions", "svc_accounts"):
        op.drop_table(table)

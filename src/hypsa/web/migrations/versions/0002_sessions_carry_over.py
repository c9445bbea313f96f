"""Server-side sessions, case-insensitive user names, reviews carried over re-analysis.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``web_sessions``, ``users.password_changed_at``, ``reviews.carried_from`` and the
    unique index on ``lower(username)``."""
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("password_changed_at", sa.DateTime, nullable=True))
    with op.batch_alter_table("reviews") as b:
        b.add_column(sa.Column("carried_from", sa.Integer, nullable=True))
    op.create_index("ux_users_username_lower", "users", [sa.text("lower(username)")],
                    unique=True)
    op.create_index("ix_audit_log_action", "audit_log", ["action"])


def downgrade() -> None:
    """Drop what :func:`upgrade` added."""
    op.drop_index("ix_audit_log_action", "audit_log")
    op.drop_index("ux_users_username_lower", "users")
    with op.batch_alter_table("reviews") as b:
        b.drop_column("carried_from")
    with op.batch_alter_table("users") as b:
        b.drop_column("password_changed_at")
    op.drop_index("ix_web_sessions_user_id", "web_sessions")
    op.drop_table("web_sessions")

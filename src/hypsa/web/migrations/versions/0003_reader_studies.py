"""Reader studies: studies, their readers and recordings, the readers' scores and marks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``studies``, ``study_readers``, ``study_recordings``, ``study_scores`` and
    ``study_marks``."""
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("locked_at", sa.DateTime, nullable=True),
        sa.Column("unblinded_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "study_readers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.UniqueConstraint("study_id", "user_id", name="ux_study_readers"),
    )
    op.create_index("ix_study_readers_user_id", "study_readers", ["user_id"])
    op.create_table(
        "study_recordings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("studies.id"), nullable=False),
        sa.Column("recording_id", sa.Integer, sa.ForeignKey("recordings.id"), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.UniqueConstraint("study_id", "recording_id", name="ux_study_recordings"),
    )
    op.create_index("ix_study_recordings_recording_id", "study_recordings", ["recording_id"])
    op.create_table(
        "study_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("study_recordings.id"), nullable=False),
        sa.Column("reader_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("grade", sa.Integer, nullable=True),
        sa.Column("hypsarrhythmia", sa.Boolean, nullable=True),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("item_id", "reader_id", name="ux_study_scores"),
    )
    op.create_table(
        "study_marks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("study_recordings.id"), nullable=False),
        sa.Column("reader_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("onset", sa.Float, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_study_marks_item_reader", "study_marks", ["item_id", "reader_id"])


def downgrade() -> None:
    """Drop the study tables."""
    op.drop_index("ix_study_marks_item_reader", "study_marks")
    op.drop_table("study_marks")
    op.drop_table("study_scores")
    op.drop_index("ix_study_recordings_recording_id", "study_recordings")
    op.drop_table("study_recordings")
    op.drop_index("ix_study_readers_user_id", "study_readers")
    op.drop_table("study_readers")
    op.drop_table("studies")

"""Videos of recordings (video-EEG): one per recording, with its placement on the EEG.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``recording_videos``."""
    op.create_table(
        "recording_videos",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("recording_id", sa.Integer, sa.ForeignKey("recordings.id"), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False, unique=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("codec", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("offset_s", sa.Float, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("anonymized", sa.Boolean, nullable=False),
        sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("uploaded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_recording_videos_recording_id", "recording_videos", ["recording_id"],
                    unique=True)


def downgrade() -> None:
    """Drop ``recording_videos``."""
    op.drop_index("ix_recording_videos_recording_id", table_name="recording_videos")
    op.drop_table("recording_videos")

"""Database: SQLAlchemy 2 models, engine, sessions and the Alembic migrations.

The schema is created and upgraded by Alembic (scripts in ``hypsa/web/migrations``), run
programmatically by :func:`migrate` when the server or the worker starts. SQLite (default) runs
in WAL mode with a busy timeout so the server and the worker process share it safely;
PostgreSQL is used when ``HYPSA_DATABASE_URL`` names it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base", "User", "Patient", "RecordingRow", "RecordingVideo", "AnalysisRow", "Job",
    "Treatment", "DiaryEntry",
    "Review", "AuditLog", "WebSession", "make_engine", "make_sessionmaker", "migrate", "utcnow",
]

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    """Timezone-aware current UTC time (stored naive-UTC for portability)."""
    return datetime.now(UTC).replace(tzinfo=None)


class JSONText(TypeDecorator):
    """JSON stored as text (portable across SQLite and PostgreSQL)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


class Base(DeclarativeBase):
    """Declarative base of the hypsa web tables."""


class User(Base):
    """An account: ``reviewer`` or ``admin``."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="reviewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class WebSession(Base):
    """A server-side login session; the cookie carries only a random token whose SHA-256 is
    :attr:`id`. Deleting the row ends the session at once (logout, deactivation, password
    change)."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")


class Patient(Base):
    """A patient, known only by a pseudonymous code."""

    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class RecordingRow(Base):
    """An uploaded EEG file (stored under a server-generated name)."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), nullable=True,
                                                   index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    format: Mapped[str] = mapped_column(String(16), default="")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    n_channels: Mapped[int] = mapped_column(Integer, default=0)
    recorded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    anonymized: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecordingVideo(Base):
    """The video of a recording (video-EEG), stored under a server-generated name.

    ``offset_s`` places the clip's first frame on the recording (s from its start), found at
    upload from the clocks or the given offset (``method``: ``given offset``, ``clock times``
    or ``assumed``); ``statement`` says so in one sentence. ``anonymized``: stored without its
    container metadata and sound (:func:`hypsa.web.video.strip_metadata`). One video per
    recording: a new one replaces it.
    """

    __tablename__ = "recording_videos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), unique=True,
                                              index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(16), default="")
    codec: Mapped[str] = mapped_column(String(32), default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    offset_s: Mapped[float] = mapped_column(Float, default=0.0)
    method: Mapped[str] = mapped_column(String(16), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    anonymized: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AnalysisRow(Base):
    """The result of analysing one recording (summary and detected events as JSON)."""

    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    summary: Mapped[Any] = mapped_column(JSONText)
    events: Mapped[Any] = mapped_column(JSONText)
    out_dir: Mapped[str] = mapped_column(String(255))
    report_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    based_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_spasms: Mapped[int] = mapped_column(Integer, default=0)


class Job(Base):
    """A persisted analysis job: ``queued`` -> ``running`` -> ``done`` | ``failed``."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="analyze")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Treatment(Base):
    """A treatment event of a patient: start, stop or change of a drug."""

    __tablename__ = "treatments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    event: Mapped[str] = mapped_column(String(16))
    drug: Mapped[str] = mapped_column(String(64))
    dose: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DiaryEntry(Base):
    """One caregiver diary row: a witnessed cluster (or ``spasms=0`` to mark a covered day)."""

    __tablename__ = "diary_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    time: Mapped[str] = mapped_column(String(8), default="")
    spasms: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Review(Base):
    """A reviewer's decision: ``confirm`` / ``reject`` an event, ``add`` one, or ``grade``.

    ``event_key`` names the event: ``d<i>`` for the i-th detected spasm, ``a<review id>`` for
    one a reviewer added. The latest decision on a key wins.

    When a recording is analysed again, each decision is copied onto the new analysis
    (``carried_from`` names the original row; reviewer and time are kept). A decision that
    cannot be carried becomes an ``uncarried`` row for the reviewer to settle (``resolve``).
    """

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    onset: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    carried_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


class AuditLog(Base):
    """One access to patient data, or one security-relevant action."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64), default="")
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


# --------------------------------------------------------------------------------- engine
def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, a busy timeout and foreign keys.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL.

    Returns
    -------
    Engine
    """
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                            pool_pre_ping=True, pool_size=20, max_overflow=40)

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Any:
    """The Alembic configuration, built in code (no ``alembic.ini``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False)
                        .replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (``alembic upgrade head``), idempotently."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

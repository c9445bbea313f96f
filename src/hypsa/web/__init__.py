"""``hypsa serve``: a small clinic web application around hypsa.

Upload EEG files, analyse them in a persisted job queue run by a separate worker process, review
the detected spasms and the hypsarrhythmia grade in the browser, follow patients over visits and
treatments. See ``docs/web.md``.

Modules
-------
settings
    Configuration from environment variables (data folder, database URL, limits).
db
    SQLAlchemy 2 models, engine and the Alembic migrations run on start.
security
    Password hashing, sessions, CSRF tokens, roles, audit log.
jobs
    Upload storage, the job queue and the worker loop.
app
    The FastAPI application (:func:`create_app`).
"""

from __future__ import annotations

__all__ = ["create_app", "Settings"]


def __getattr__(name: str):  # lazy: importing hypsa.web must not import FastAPI eagerly
    if name == "create_app":
        from hypsa.web.app import create_app

        return create_app
    if name == "Settings":
        from hypsa.web.settings import Settings

        return Settings
    raise AttributeError(name)

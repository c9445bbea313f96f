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
    Password hashing and policy, server-side sessions, login limits, CSRF tokens, roles, audit.
jobs
    Upload storage, the job queue and the worker loop.
app
    The FastAPI application (:func:`create_app`): middleware, error pages, the routers.
deps
    What the routers share: database session, current user, CSRF check, rendering.
auth, recordings, patients, admin
    The routers: log in/out and own password; dashboard, upload, review, report, export and
    re-analysis; patients, treatments, diary, response; accounts and the audit log.
review
    The reviewed state of a recording, and the carrying of reviews onto a new analysis.
accounts
    ``hypsa users``: accounts from the command line.
server
    ``hypsa serve``: uvicorn and the worker child, stopped together by SIGTERM/SIGINT.
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

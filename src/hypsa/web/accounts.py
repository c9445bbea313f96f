"""Account management outside the browser (``hypsa users``): list, add, reset a password,
activate, deactivate. Every change is audited as done from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from hypsa.errors import ParameterError
from hypsa.web.db import User, make_engine, make_sessionmaker, migrate
from hypsa.web.security import audit, create_user, end_sessions, find_user, set_password
from hypsa.web.settings import Settings

__all__ = ["list_users", "add_user", "reset_password", "set_active"]


@contextmanager
def _db(settings: Settings) -> Iterator[Session]:
    settings.prepare()
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with make_sessionmaker(engine)() as db, db.begin():
            yield db
    finally:
        engine.dispose()


def _get(db: Session, username: str) -> User:
    u = find_user(db, username)
    if u is None:
        raise ParameterError(f"no user {username!r}")
    return u


def list_users(settings: Settings) -> list[dict]:
    """Every account: ``username, role, active, created_at, password_changed_at``."""
    with _db(settings) as db:
        return [{"username": u.username, "role": u.role, "active": u.active,
                 "created_at": u.created_at, "password_changed_at": u.password_changed_at}
                for u in db.scalars(select(User).order_by(User.username))]


def add_user(settings: Settings, username: str, password: str, role: str = "reviewer") -> None:
    """Create an account.

    Raises
    ------
    ParameterError
        Bad name, taken name (any case), unknown role, or a password against the policy.
    """
    with _db(settings) as db:
        u = create_user(db, username, password, role)
        audit(db, None, "user.create", target=f"user:{u.id}", ip="cli",
              detail=f"{u.username} ({u.role}) from the command line")


def reset_password(settings: Settings, username: str, password: str) -> int:
    """Give an account a new password; its sessions end. How many sessions ended.

    Raises
    ------
    ParameterError
        No such user, or a password against the policy.
    """
    with _db(settings) as db:
        u = _get(db, username)
        n = set_password(db, u, password)
        audit(db, None, "user.password_reset", target=f"user:{u.id}", ip="cli",
              detail=f"{u.username}; {n} session(s) ended; from the command line")
        return n


def set_active(settings: Settings, username: str, active: bool) -> int:
    """Activate or deactivate an account (deactivation ends its sessions); sessions ended.

    Raises
    ------
    ParameterError
        No such user.
    """
    with _db(settings) as db:
        u = _get(db, username)
        u.active = active
        n = 0 if active else end_sessions(db, u.id)
        audit(db, None, "user.active" if active else "user.deactivate", target=f"user:{u.id}",
              ip="cli", detail=f"{u.username} from the command line")
        return n

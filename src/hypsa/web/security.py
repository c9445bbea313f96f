"""Accounts, password hashing, CSRF tokens, roles and the audit log."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hypsa.errors import ParameterError
from hypsa.web.db import AuditLog, User

__all__ = [
    "ROLES", "hash_password", "verify_password", "create_user", "authenticate", "new_csrf_token",
    "csrf_ok", "audit", "USERNAME_RE", "MIN_PASSWORD",
]

#: Roles, weakest first: a reviewer reads, uploads and reviews; an admin also manages accounts
#: and reads the audit log.
ROLES = ("reviewer", "admin")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# a fixed hash to verify against when the user does not exist (same timing either way)
_DUMMY = _hasher.hash("hypsa-no-such-user")


def hash_password(password: str) -> str:
    """Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored Argon2 hash."""
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_user(db: Session, username: str, password: str, role: str = "reviewer") -> User:
    """Create an account.

    Raises
    ------
    ParameterError
        Bad user name, short password, unknown role or a name already taken.
    """
    if not USERNAME_RE.match(username or ""):
        raise ParameterError("user name must be 2-64 characters: letters, digits, _ . @ -")
    if len(password or "") < MIN_PASSWORD:
        raise ParameterError(f"password must have at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise ParameterError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise ParameterError(f"user {username!r} exists already")
    u = User(username=username, password_hash=hash_password(password), role=role, active=True)
    db.add(u)
    db.flush()
    return u


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None (constant-ish time)."""
    u = db.scalar(select(User).where(User.username == username))
    if u is None or not u.active:
        verify_password(_DUMMY, password or "")
        return None
    if not verify_password(u.password_hash, password or ""):
        return None
    if _hasher.check_needs_rehash(u.password_hash):
        u.password_hash = hash_password(password)
    return u


def new_csrf_token() -> str:
    """A random CSRF token (kept in the signed session, echoed by forms and fetch calls)."""
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: str | None, sent: str | None) -> bool:
    """Constant-time comparison of the session's token with the one the request sent."""
    if not session_token or not sent:
        return False
    return hmac.compare_digest(str(session_token), str(sent))


def audit(db: Session, user: User | None, action: str, *, target: str = "",
          patient_id: int | None = None, ip: str = "", detail: Any = "") -> None:
    """Append one row to the audit log (committed with the caller's transaction)."""
    db.add(AuditLog(user_id=user.id if user else None, username=user.username if user else "",
                    action=action, target=target, patient_id=patient_id, ip=ip[:64],
                    detail=str(detail)[:2000]))

"""Accounts, password hashing, CSRF tokens, roles and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import defaultdict, deque
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hypsa.errors import ParameterError
from hypsa.web.db import AuditLog, User, WebSession, utcnow

__all__ = [
    "ROLES", "hash_password", "verify_password", "create_user", "authenticate", "new_csrf_token",
    "csrf_ok", "audit", "USERNAME_RE", "MIN_PASSWORD", "check_password", "find_user",
    "set_password", "open_session", "session_user", "end_sessions", "LoginLimiter",
]

#: Roles, weakest first: a reviewer reads, uploads and reviews; an admin also manages accounts
#: and reads the audit log.
ROLES = ("reviewer", "admin")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 10

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


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # the 30,000 most common passwords of the zxcvbn project (leaked-password frequency list)
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str, username: str = "") -> None:
    """Check ``password`` against the policy.

    At least :data:`MIN_PASSWORD` characters, at most 1024, not one of the 30,000 most
    common passwords (the list shipped by the ``zxcvbn`` package) nor one of them followed by
    digits or signs, not digits only, not containing the user name, and at least three
    different characters.

    Raises
    ------
    ParameterError
        Naming the rule the password breaks.
    """
    pw = password or ""
    if len(pw) < MIN_PASSWORD:
        raise ParameterError(f"password must have at least {MIN_PASSWORD} characters")
    if len(pw) > 1024:
        raise ParameterError("password must have at most 1024 characters")
    low = pw.lower()
    common = _common_passwords()
    # a common password as is, or with digits and signs stuck on at the end ("dragon2024!")
    stem = re.sub(r"[\d\W_]+$", "", low.strip())
    if low in common or low.strip() in common or (len(stem) >= 4 and stem in common):
        raise ParameterError("password is one of the most common passwords: choose another")
    if pw.isdigit():
        raise ParameterError("password must not be digits only")
    if username and username.lower() in low:
        raise ParameterError("password must not contain the user name")
    if len(set(pw)) < 3:
        raise ParameterError("password needs at least three different characters")


def find_user(db: Session, username: str) -> User | None:
    """The account named ``username``, ignoring case."""
    return db.scalar(select(User).where(func.lower(User.username) == (username or "").lower()))


def create_user(db: Session, username: str, password: str, role: str = "reviewer") -> User:
    """Create an account.

    Raises
    ------
    ParameterError
        Bad user name, a password against the policy (:func:`check_password`), unknown role,
        or a name already taken (ignoring case).
    """
    if not USERNAME_RE.match(username or ""):
        raise ParameterError("user name must be 2-64 characters: letters, digits, _ . @ -")
    check_password(password, username)
    if role not in ROLES:
        raise ParameterError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if find_user(db, username) is not None:
        raise ParameterError(f"user {username!r} exists already (names ignore case)")
    u = User(username=username, password_hash=hash_password(password), role=role, active=True,
             password_changed_at=utcnow())
    db.add(u)
    db.flush()
    return u


def set_password(db: Session, user: User, password: str, *, keep: str | None = None) -> int:
    """Give ``user`` a new password and end every session but ``keep``; sessions ended.

    Raises
    ------
    ParameterError
        The password breaks the policy.
    """
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    return end_sessions(db, user.id, keep=keep)


def _sid_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Session, user: User, max_age_s: float, ip: str = "") -> str:
    """Start a server-side session; the random token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(WebSession(id=_sid_hash(token), user_id=user.id, created_at=now,
                      expires_at=now + timedelta(seconds=max_age_s), ip=ip[:64]))
    # expired rows of anyone go at each login
    db.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


def session_user(db: Session, token: Any) -> tuple[User, str] | None:
    """The active user of a live session token and the session id, else None."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    sid = _sid_hash(token)
    ws = db.get(WebSession, sid)
    if ws is None or ws.expires_at < utcnow():
        return None
    u = db.get(User, ws.user_id)
    if u is None or not u.active:
        return None
    return u, sid


def end_sessions(db: Session, user_id: int, *, token: str | None = None,
                 keep: str | None = None) -> int:
    """End one session (``token``) or every session of ``user_id`` except ``keep``; how many."""
    q = delete(WebSession).where(WebSession.user_id == user_id)
    if token is not None:
        q = q.where(WebSession.id == _sid_hash(token))
    elif keep is not None:
        q = q.where(WebSession.id != _sid_hash(keep))
    return int(db.execute(q).rowcount or 0)


class LoginLimiter:
    """Failed logins counted per account and per client address over a sliding window.

    An account with ``per_account`` failures in ``window_s`` is refused (from any address)
    until the window passes; so is an address with ``per_address`` failures (any account).
    Counting per account means a guesser cannot lock out other people sharing an address
    (a clinic behind one proxy), and counting per address stops one client trying many
    accounts.
    """

    def __init__(self, per_account: int = 10, per_address: int = 30,
                 window_s: float = 300.0) -> None:
        self.per_account, self.per_address, self.window_s = per_account, per_address, window_s
        self._fails: dict[str, deque] = defaultdict(deque)

    def _recent(self, key: str) -> int:
        q = self._fails.get(key)
        if not q:
            return 0
        now = time.monotonic()
        while q and now - q[0] > self.window_s:
            q.popleft()
        return len(q)

    def blocked(self, username: str, ip: str) -> str | None:
        """Why a login is refused now, or None."""
        if self._recent("u:" + (username or "").lower()) >= self.per_account:
            return "Too many failed attempts for this account: wait five minutes."
        if self._recent("a:" + ip) >= self.per_address:
            return "Too many failed attempts from this address: wait five minutes."
        return None

    def failed(self, username: str, ip: str) -> None:
        """Count one failure for the account and the address."""
        now = time.monotonic()
        self._fails["u:" + (username or "").lower()].append(now)
        self._fails["a:" + ip].append(now)
        if len(self._fails) > 100_000:  # bounded memory under a flood of names
            self._fails.clear()

    def succeeded(self, username: str) -> None:
        """A good login clears the account's count."""
        self._fails.pop("u:" + (username or "").lower(), None)


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with this name (any case) and password, else None (constant-ish time)."""
    u = find_user(db, username)
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

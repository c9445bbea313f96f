"""What every router of the web app shares: the database session, the logged-in user, the CSRF
check, page rendering and a few parsers.

Everything reads the application's state (``request.app.state``: ``settings``,
``db_factory``, ``templates``, ``limiter``) set by :func:`hypsa.web.app.create_app`, so a
router module needs no reference to the app object.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hypsa.web.db import User
from hypsa.web.security import csrf_ok, new_csrf_token, session_user

__all__ = [
    "LoginRequired", "get_db", "current_user", "admin_user", "csrf", "token", "render",
    "client_ip", "parse_date", "fmt_time", "clean_message", "MAX_ID", "finite",
]

#: Largest id accepted in a path or form (ids are 32-bit integers in every backend).
MAX_ID = 2**31 - 1


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


def get_db(request: Request) -> Any:
    """A database session for one request."""
    with request.app.state.db_factory() as db:
        yield db


def current_user(request: Request, db: Session = Depends(get_db)) -> User:
    """The user of the request's live server-side session.

    Raises
    ------
    LoginRequired
        No session, an ended or expired one, or a deactivated account.
    """
    found = session_user(db, request.session.get("sid"))
    if found is None:
        request.session.clear()
        raise LoginRequired()
    db.commit()  # end the read transaction: the connection goes back to the pool
    request.state.user = found[0]
    return found[0]


def admin_user(user: User = Depends(current_user)) -> User:
    """The current user if an admin (403 otherwise)."""
    if user.role != "admin":
        raise HTTPException(403, "this needs the admin role")
    return user


async def csrf(request: Request) -> None:
    """Every state-changing request echoes the session's CSRF token (header or form field)."""
    sent = request.headers.get("x-csrf-token")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form(max_files=request.app.state.settings.max_files,
                                      max_fields=50)
            v = form.get("csrf_token")
            sent = v if isinstance(v, str) else None
    if not csrf_ok(request.session.get("csrf"), sent):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page")


def token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    t = request.session.get("csrf")
    if not t:
        t = new_csrf_token()
        request.session["csrf"] = t
    return t


def render(request: Request, name: str, user: User | None = None, status: int = 200,
           **ctx: Any) -> HTMLResponse:
    """A page from ``templates/``, with the user and the CSRF token."""
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": user, "csrf_token": token(request), **ctx}, status_code=status)


def client_ip(request: Request) -> str:
    """The client's address (the real client's behind a trusted proxy)."""
    return request.client.host if request.client else ""


def fmt_time(s: float | None) -> str:
    """Seconds as ``h:mm:ss`` or ``m:ss``."""
    if s is None:
        return "—"
    s = float(s)
    if not math.isfinite(s):
        return "—"
    h, rem = divmod(int(round(s)), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def parse_date(v: str | None, what: str) -> date | None:
    """A ``YYYY-MM-DD`` date, None when empty; 400 otherwise (years 1900-2200)."""
    if v is None or not str(v).strip():
        return None
    try:
        d = date.fromisoformat(str(v).strip())
    except ValueError:
        raise HTTPException(400, f"{what}: {str(v)[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not 1900 <= d.year <= 2200:
        raise HTTPException(400, f"{what}: {d} is out of range")
    return d


def finite(v: Any, what: str, lo: float, hi: float) -> float:
    """``v`` as a finite float in ``[lo, hi]``; 400 otherwise."""
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise HTTPException(400, f"{what} must be a number") from None
    if not math.isfinite(f) or not lo <= f <= hi:
        raise HTTPException(400, f"{what} must be a finite number from {lo:g} to {hi:g}")
    return f


def clean_message(request: Request | None, msg: str) -> str:
    """One line, without the server's folders (data folder, temporary files, any absolute
    path but its last component)."""
    from hypsa.web.jobs import scrub_paths

    d = request.app.state.settings.data_dir if request is not None else None
    return scrub_paths(msg, d)

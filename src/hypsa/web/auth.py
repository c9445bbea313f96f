"""Routes: health check, log in, log out, the user's own password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hypsa import __version__
from hypsa.errors import ParameterError
from hypsa.web.db import User
from hypsa.web.deps import client_ip, csrf, current_user, get_db, render
from hypsa.web.security import (
    MIN_PASSWORD,
    audit,
    authenticate,
    end_sessions,
    new_csrf_token,
    open_session,
    set_password,
    verify_password,
)

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict:
    """Liveness check (no login)."""
    return {"ok": True, "version": __version__}


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The login form."""
    return render(request, "login.html")


@router.post("/login", dependencies=[Depends(csrf)])
async def login(request: Request, db: Session = Depends(get_db)) -> Response:
    """Check the password (limits per account and per address) and open a session."""
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    ip = client_ip(request)
    limiter = request.app.state.limiter
    why = limiter.blocked(username, ip)
    if why:
        audit(db, None, "login.blocked", ip=ip, detail=username)
        db.commit()
        return render(request, "login.html", status=429, error=why)
    u = await run_in_threadpool(authenticate, db, username, password)
    if u is None:
        limiter.failed(username, ip)
        audit(db, None, "login.failed", ip=ip, detail=username)
        db.commit()
        return render(request, "login.html", status=401, error="Wrong user name or password.")
    limiter.succeeded(username)
    settings = request.app.state.settings
    sid = open_session(db, u, settings.session_max_age_s, ip)
    request.session.clear()
    request.session.update(sid=sid, csrf=new_csrf_token())
    audit(db, u, "login", ip=ip)
    db.commit()
    return RedirectResponse("/", status_code=303)


@router.post("/logout", dependencies=[Depends(csrf)])
def logout(request: Request, user: User = Depends(current_user),
           db: Session = Depends(get_db)) -> Response:
    """End this session at once (the cookie is useless afterwards)."""
    end_sessions(db, user.id, token=str(request.session.get("sid")))
    audit(db, user, "logout", ip=client_ip(request))
    db.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    """The password-change form."""
    return render(request, "account.html", user, min_password=MIN_PASSWORD,
                  done=request.query_params.get("done") == "1")


@router.post("/account/password", dependencies=[Depends(csrf)])
async def change_password(request: Request, user: User = Depends(current_user),
                          db: Session = Depends(get_db)) -> Response:
    """Change one's own password: the current one is needed; other sessions end."""
    form = await request.form()
    current = str(form.get("current") or "")[:1024]
    new = str(form.get("new") or "")[:2048]
    again = str(form.get("again") or "")[:2048]
    ip = client_ip(request)
    error = ""
    if not await run_in_threadpool(verify_password, user.password_hash, current):
        error = "The current password is wrong."
    elif new != again:
        error = "The new password and its repetition differ."
    else:
        try:
            u = db.get(User, user.id)
            n = await run_in_threadpool(set_password, db, u, new,
                                        keep=str(request.session.get("sid")))
        except ParameterError as exc:
            error = f"The new {exc}."
    if error:
        db.rollback()
        audit(db, user, "password.change.failed", target=f"user:{user.id}", ip=ip)
        db.commit()
        return render(request, "account.html", user, status=400, error=error,
                      min_password=MIN_PASSWORD)
    audit(db, user, "password.change", target=f"user:{user.id}", ip=ip,
          detail=f"{n} other session(s) ended")
    db.commit()
    return RedirectResponse("/account?done=1", status_code=303)

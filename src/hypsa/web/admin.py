"""Routes for admins: accounts (create, deactivate, reset a password) and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hypsa.errors import ParameterError
from hypsa.web.db import AuditLog, User
from hypsa.web.deps import MAX_ID, admin_user, client_ip, csrf, get_db, parse_date, render
from hypsa.web.security import ROLES, audit, create_user, end_sessions, set_password

__all__ = ["router"]

router = APIRouter()
AUDIT_ROWS = 500


def _users_page(request: Request, db: Session, user: User, status: int = 200,
                error: str = "") -> HTMLResponse:
    us = db.scalars(select(User).order_by(User.username)).all()
    return render(request, "users.html", user, status=status, users=us, roles=ROLES,
                  error=error or request.query_params.get("error", "")[:300],
                  done=request.query_params.get("done", "")[:100])


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: User = Depends(admin_user),
               db: Session = Depends(get_db)) -> HTMLResponse:
    """Every account."""
    return _users_page(request, db, user)


@router.post("/admin/users", dependencies=[Depends(csrf)])
async def users_create(request: Request, user: User = Depends(admin_user),
                       db: Session = Depends(get_db)) -> Response:
    """Create an account (password policy applies)."""
    form = await request.form()
    try:
        u = await run_in_threadpool(create_user, db, str(form.get("username") or "")[:64],
                                    str(form.get("password") or "")[:2048],
                                    str(form.get("role") or ""))
    except ParameterError as exc:
        db.rollback()
        return _users_page(request, db, user, 400, str(exc))
    audit(db, user, "user.create", target=f"user:{u.id}", ip=client_ip(request),
          detail=f"{u.username} ({u.role})")
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)


def _target(db: Session, uid: int) -> User:
    u = db.get(User, uid)
    if u is None:
        raise HTTPException(404, "no such user")
    return u


@router.post("/admin/users/{uid}/active", dependencies=[Depends(csrf)])
async def users_active(request: Request, uid: int = Path(ge=1, le=MAX_ID),
                       user: User = Depends(admin_user),
                       db: Session = Depends(get_db)) -> Response:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    form = await request.form()
    u = _target(db, uid)
    if u.id == user.id:
        raise HTTPException(400, "you cannot deactivate yourself")
    u.active = str(form.get("active")) == "1"
    n = 0 if u.active else end_sessions(db, u.id)
    audit(db, user, "user.active" if u.active else "user.deactivate",
          target=f"user:{u.id}", ip=client_ip(request),
          detail="" if u.active else f"{n} session(s) ended")
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{uid}/password", dependencies=[Depends(csrf)])
async def users_reset(request: Request, uid: int = Path(ge=1, le=MAX_ID),
                      user: User = Depends(admin_user),
                      db: Session = Depends(get_db)) -> Response:
    """Set a new password for an account (told to its owner out of band); its sessions end."""
    form = await request.form()
    u = _target(db, uid)
    try:
        n = await run_in_threadpool(set_password, db, u,
                                    str(form.get("password") or "")[:2048])
    except ParameterError as exc:
        db.rollback()
        return _users_page(request, db, user, 400, f"{u.username}: {exc}")
    audit(db, user, "user.password_reset", target=f"user:{u.id}", ip=client_ip(request),
          detail=f"{u.username}; {n} session(s) ended")
    db.commit()
    return RedirectResponse(f"/admin/users?done=password+of+{u.username}+reset",
                            status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, user_name: str = "", action: str = "", since: str = "",
               until: str = "", user: User = Depends(admin_user),
               db: Session = Depends(get_db)) -> HTMLResponse:
    """The audit log, newest first, filtered by user, action (prefix) and date (UTC)."""
    q = select(AuditLog)
    user_name, action = user_name.strip()[:64], action.strip()[:64]
    if user_name:
        q = q.where(AuditLog.username == user_name)
    if action:
        q = q.where(AuditLog.action.startswith(action, autoescape=True))
    d0, d1 = parse_date(since, "since"), parse_date(until, "until")
    if d0:
        q = q.where(AuditLog.at >= datetime.combine(d0, datetime.min.time()))
    if d1:
        q = q.where(AuditLog.at < datetime.combine(d1, datetime.min.time()) + timedelta(days=1))
    rows = db.scalars(q.order_by(AuditLog.id.desc()).limit(AUDIT_ROWS)).all()
    actions = sorted(a for a in db.scalars(select(AuditLog.action).distinct()))
    names = sorted(n for n in db.scalars(select(AuditLog.username).distinct()) if n)
    return render(request, "audit.html", user, rows=rows, actions=actions, names=names,
                  f={"user_name": user_name, "action": action, "since": since[:10],
                     "until": until[:10]}, limit=AUDIT_ROWS)

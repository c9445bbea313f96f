"""The FastAPI application of ``hypsa serve``.

Pages (server-rendered Jinja templates, a little vanilla JavaScript) and JSON endpoints for the
upload queue, the review page's EEG viewer and reviews. Every state-changing request needs the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); every read or
write of patient data is written to the audit log.
"""

from __future__ import annotations

import csv
import io
import math
import time
import uuid
from collections import defaultdict, deque
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from hypsa import DISCLAIMER, __version__
from hypsa.errors import HypsaError, ParameterError
from hypsa.web import review as RV
from hypsa.web.db import (
    AnalysisRow,
    AuditLog,
    DiaryEntry,
    Job,
    Patient,
    RecordingRow,
    Review,
    Treatment,
    User,
    make_engine,
    make_sessionmaker,
    migrate,
)
from hypsa.web.jobs import UploadRejected, accept_file, checked_suffix, display_name, enqueue
from hypsa.web.security import (
    ROLES,
    audit,
    authenticate,
    create_user,
    csrf_ok,
    new_csrf_token,
)
from hypsa.web.settings import ALLOWED_SUFFIXES, Settings

__all__ = ["create_app", "ensure_admin"]

HERE = Path(__file__).parent
SMALL_BODY = 2 * 1024 * 1024  # every request but an upload
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
CODE_RE = r"^[A-Za-z0-9_.-]{1,64}$"
MONTAGES = ("referential", "average", "double_banana")


# ------------------------------------------------------------------------------ errors
class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


class BodyTooLarge(Exception):
    """The request body passed its size limit while streaming."""


class _LimitBody:
    """ASGI middleware: refuse request bodies over the limit (Content-Length or streamed)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app, self.settings = app, settings

    def limit(self, path: str) -> int:
        if path.startswith("/api/uploads"):
            return self.settings.max_upload_bytes + 1024 * 1024
        return SMALL_BODY

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope.get("path", ""))
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    n = -1
                if n < 0 or n > limit:
                    resp = JSONResponse({"detail": f"request body over the limit of "
                                         f"{limit // (1024 * 1024)} MiB"}, status_code=413)
                    await resp(scope, receive, send)
                    return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return msg

        await self.app(scope, counted, send)


class _SecurityHeaders:
    """ASGI middleware: conservative security headers on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_h(msg: dict) -> None:
            if msg["type"] == "http.response.start":
                h = [(k, v) for k, v in msg.get("headers", [])
                     if k.lower() != b"content-security-policy"]
                if path.endswith("/report"):  # the self-contained report: no scripts at all
                    csp = (b"default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                           b"sandbox")
                else:
                    csp = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           b"script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                           b"base-uri 'none'")
                h += [(b"content-security-policy", csp),
                      (b"x-content-type-options", b"nosniff"),
                      (b"x-frame-options", b"DENY"),
                      (b"referrer-policy", b"no-referrer"),
                      (b"cache-control", b"no-store")]
                msg = {**msg, "headers": h}
            await send(msg)

        await self.app(scope, receive, send_h)


# ------------------------------------------------------------------------------ helpers
def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def ensure_admin(settings: Settings, username: str, password: str) -> bool:
    """Create an admin account if no user of that name exists; whether one was created.

    Raises
    ------
    ParameterError
        Bad user name or a password that is too short.
    """
    settings.prepare()
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    try:
        with factory() as db, db.begin():
            if db.scalar(select(User).where(User.username == username)) is not None:
                return False
            u = create_user(db, username, password, "admin")
            audit(db, u, "user.create", target=f"user:{u.id}", detail="first admin")
            return True
    finally:
        engine.dispose()


def _fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    s = float(s)
    h, rem = divmod(int(round(s)), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _parse_date(v: str | None, what: str) -> date | None:
    if v is None or not str(v).strip():
        return None
    try:
        return date.fromisoformat(str(v).strip())
    except ValueError:
        raise HTTPException(400, f"{what}: {v!r} is not a date (YYYY-MM-DD)") from None


# ------------------------------------------------------------------------------ the app
def create_app(settings: Settings | None = None, *, migrate_db: bool = True) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :class:`Settings` from the environment.
    migrate_db : bool
        Run the Alembic migrations now (the data folder is created in any case).

    Returns
    -------
    FastAPI
    """
    settings = settings or Settings()
    settings.prepare()
    engine = make_engine(settings.database_url)
    if migrate_db:
        migrate(engine)
    factory = make_sessionmaker(engine)
    app = FastAPI(title="hypsa", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.db_factory = factory
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(version=__version__, disclaimer=DISCLAIMER,
                                 fmt_time=_fmt_time)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie="hypsa_session", max_age=settings.session_max_age_s,
                       same_site="strict", https_only=settings.cookie_secure)
    app.add_middleware(_LimitBody, settings=settings)
    app.add_middleware(_SecurityHeaders)
    failures: dict[str, deque] = defaultdict(deque)

    # --------------------------------------------------------------- dependencies
    def get_db() -> Any:
        with factory() as db:
            yield db

    def current_user(request: Request, db: Session = Depends(get_db)) -> User:
        uid = request.session.get("uid")
        u = db.get(User, uid) if isinstance(uid, int) else None
        if u is None or not u.active or request.session.get("pw") != u.password_hash[-16:]:
            request.session.clear()
            raise LoginRequired()
        db.commit()  # end the read transaction: the connection goes back to the pool
        return u

    def admin_user(user: User = Depends(current_user)) -> User:
        if user.role != "admin":
            raise HTTPException(403, "this needs the admin role")
        return user

    async def csrf(request: Request) -> None:
        sent = request.headers.get("x-csrf-token")
        if not sent:
            ctype = request.headers.get("content-type", "")
            if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form(max_files=settings.max_files, max_fields=50)
                v = form.get("csrf_token")
                sent = v if isinstance(v, str) else None
        if not csrf_ok(request.session.get("csrf"), sent):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page")

    def token(request: Request) -> str:
        t = request.session.get("csrf")
        if not t:
            t = new_csrf_token()
            request.session["csrf"] = t
        return t

    def render(request: Request, name: str, user: User | None = None, status: int = 200,
               **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"user": user,
                                                          "csrf_token": token(request),
                                                          **ctx}, status_code=status)

    # --------------------------------------------------------------- error handlers
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return JSONResponse({"detail": "request body over the size limit"}, status_code=413)

    # --------------------------------------------------------------- login
    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "version": __version__}

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return render(request, "login.html")

    @app.post("/login", dependencies=[Depends(csrf)])
    async def login(request: Request, db: Session = Depends(get_db)) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:1024]
        ip = _ip(request)
        q = failures[ip]
        now = time.monotonic()
        while q and now - q[0] > 300:
            q.popleft()
        if len(q) >= 10:
            return render(request, "login.html", status=429,
                          error="Too many failed attempts: wait five minutes.")
        u = await run_in_threadpool(authenticate, db, username, password)
        if u is None:
            q.append(now)
            audit(db, None, "login.failed", ip=ip, detail=username)
            db.commit()
            return render(request, "login.html", status=401,
                          error="Wrong user name or password.")
        request.session.clear()
        request.session.update(uid=u.id, pw=u.password_hash[-16:], csrf=new_csrf_token())
        audit(db, u, "login", ip=ip)
        db.commit()
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", dependencies=[Depends(csrf)])
    def logout(request: Request, user: User = Depends(current_user),
               db: Session = Depends(get_db)) -> Response:
        audit(db, user, "logout", ip=_ip(request))
        db.commit()
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --------------------------------------------------------------- dashboard & upload
    def _recording_rows(db: Session, where: Any = None) -> list[dict]:
        q = select(RecordingRow).order_by(RecordingRow.id.desc())
        if where is not None:
            q = q.where(where)
        recs = db.scalars(q.limit(500)).all()
        if not recs:
            return []
        ids = [r.id for r in recs]
        jobs: dict[int, Job] = {}
        for j in db.scalars(select(Job).where(Job.recording_id.in_(ids)).order_by(Job.id)):
            jobs[j.recording_id] = j
        ans: dict[int, AnalysisRow] = {}
        for a in db.scalars(select(AnalysisRow).where(AnalysisRow.recording_id.in_(ids))
                            .order_by(AnalysisRow.id)):
            ans[a.recording_id] = a
        revs: dict[int, list[Review]] = defaultdict(list)
        for r in db.scalars(select(Review).where(Review.recording_id.in_(ids))):
            revs[r.recording_id].append(r)
        pats = {p.id: p.code for p in db.scalars(select(Patient))}
        out = []
        for r in recs:
            j, a = jobs.get(r.id), ans.get(r.id)
            rs = RV.reviewed_summary(a, revs[r.id]) if a is not None else None
            out.append({"id": r.id, "name": r.display_name, "patient": pats.get(r.patient_id),
                        "recorded_on": r.recorded_on.isoformat() if r.recorded_on else "",
                        "duration_s": r.duration_s,
                        "job": _job_json(j) if j else None,
                        "grade": rs["grade"]["grade"] if rs else None,
                        "grade_overruled": rs["grade"]["overruled"] if rs else False,
                        "spasms": rs["count"] if rs else None,
                        "reviewed": rs["reviewed"] if rs else False})
        return out

    def _job_json(j: Job) -> dict:
        return {"id": j.id, "recording_id": j.recording_id, "status": j.status,
                "progress": round(float(j.progress or 0.0), 3), "error": j.error,
                "attempts": j.attempts}

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, user: User = Depends(current_user),
              db: Session = Depends(get_db)) -> HTMLResponse:
        rows = _recording_rows(db)
        audit(db, user, "recordings.list", ip=_ip(request), detail=f"{len(rows)} rows")
        db.commit()
        return render(request, "index.html", user, recordings=rows,
                      accepted=", ".join(ALLOWED_SUFFIXES),
                      max_mb=settings.max_upload_mb)

    @app.get("/api/recordings")
    def api_recordings(request: Request, user: User = Depends(current_user),
                       db: Session = Depends(get_db)) -> dict:
        rows = _recording_rows(db)
        audit(db, user, "recordings.list", ip=_ip(request), detail=f"{len(rows)} rows (api)")
        db.commit()
        return {"recordings": rows}

    @app.get("/api/jobs")
    def api_jobs(request: Request, ids: str = "", user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> dict:
        q = select(Job).order_by(Job.id.desc()).limit(500)
        if ids:
            try:
                wanted = [int(x) for x in ids.split(",") if x.strip()][:500]
            except ValueError:
                raise HTTPException(400, "ids must be comma-separated integers") from None
            q = select(Job).where(Job.id.in_(wanted))
        jobs = [_job_json(j) for j in db.scalars(q)]
        counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        return {"jobs": jobs, "counts": counts}

    def _patient_for(db: Session, code: str | None, user: User) -> Patient | None:
        import re

        code = (code or "").strip()
        if not code:
            return None
        if not re.match(CODE_RE, code):
            raise HTTPException(400, "patient code: 1-64 letters, digits, _ . - (a "
                                     "pseudonym, never a name)")
        p = db.scalar(select(Patient).where(Patient.code == code))
        if p is None:
            try:
                with db.begin_nested():
                    p = Patient(code=code, created_by=user.id)
                    db.add(p)
            except IntegrityError:  # created meanwhile by a concurrent request
                p = db.scalar(select(Patient).where(Patient.code == code))
        return p

    @app.post("/api/uploads", dependencies=[Depends(csrf)])
    async def upload(request: Request, user: User = Depends(current_user)) -> JSONResponse:
        form = await request.form(max_files=settings.max_files, max_fields=50)
        files = [f for f in form.getlist("files") if not isinstance(f, str)]
        if not files:
            raise HTTPException(400, "no file in the upload (field 'files')")
        code = str(form.get("patient_code") or "")
        recorded_on = _parse_date(str(form.get("recorded_on") or ""), "recorded_on")
        pid = await run_in_threadpool(_patient_id, code, user)
        results = []
        for f in files:
            name = display_name(f.filename)
            staged = settings.tmp_dir / f"upload-{uuid.uuid4().hex}.part"
            error = None
            try:
                staged = staged.with_suffix(checked_suffix(name))
                size = 0
                with open(staged, "wb") as out:
                    while chunk := await f.read(1024 * 1024):
                        size += len(chunk)
                        if size > settings.max_upload_bytes:
                            raise UploadRejected(f"{name}: larger than the limit of "
                                                 f"{settings.max_upload_mb:g} MiB")
                        out.write(chunk)
                if size == 0:
                    raise UploadRejected(f"{name}: empty file")
            except UploadRejected as exc:
                staged.unlink(missing_ok=True)
                error = " ".join(str(exc).split())
            finally:
                await f.close()
            # database and file checks off the event loop (SQLite waits must not block it)
            results.append(await run_in_threadpool(_store, staged, name, error, pid,
                                                   recorded_on, user, _ip(request)))
        status = 200 if any(r["ok"] for r in results) else 400
        return JSONResponse({"files": results}, status_code=status)

    def _patient_id(code: str, user: User) -> int | None:
        with factory() as db:
            p = _patient_for(db, code, user)
            db.commit()
            return p.id if p else None

    def _store(staged: Path, name: str, error: str | None, pid: int | None,
               recorded_on: date | None, user: User, ip: str) -> dict:
        res: dict[str, Any] = {"name": name, "ok": False}
        info = None
        if error is None:
            try:
                info = accept_file(settings, staged, name)
            except UploadRejected as exc:
                error = " ".join(str(exc).split())
        with factory() as db:
            if info is None:
                res["error"] = error
                audit(db, user, "upload.rejected", patient_id=pid, ip=ip, detail=error)
                db.commit()
                return res
            rec = RecordingRow(patient_id=pid, display_name=name, recorded_on=recorded_on,
                               uploaded_by=user.id, **info)
            db.add(rec)
            db.flush()
            job = enqueue(db, rec.id)
            audit(db, user, "upload", target=f"recording:{rec.id}", patient_id=pid, ip=ip,
                  detail=name)
            db.commit()
            res.update(ok=True, recording_id=rec.id, job_id=job.id)
        return res

    # --------------------------------------------------------------- one recording
    def _load(db: Session, rid: int) -> tuple[RecordingRow, AnalysisRow | None, list[Review],
                                               Job | None]:
        rec = db.get(RecordingRow, rid)
        if rec is None:
            raise HTTPException(404, "no such recording")
        an = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id == rid)
                       .order_by(AnalysisRow.id.desc()).limit(1))
        revs = list(db.scalars(select(Review).where(Review.recording_id == rid)))
        job = db.scalar(select(Job).where(Job.recording_id == rid).order_by(Job.id.desc())
                        .limit(1))
        return rec, an, revs, job

    def _names(db: Session) -> dict[int, str]:
        return {u.id: u.username for u in db.scalars(select(User))}

    def _recording_json(db: Session, rec: RecordingRow, an: AnalysisRow | None,
                        revs: list[Review], job: Job | None) -> dict:
        names = _names(db)
        pat = db.get(Patient, rec.patient_id) if rec.patient_id else None
        d: dict[str, Any] = {
            "id": rec.id, "name": rec.display_name, "patient": pat.code if pat else None,
            "patient_id": rec.patient_id, "duration_s": rec.duration_s,
            "recorded_on": rec.recorded_on.isoformat() if rec.recorded_on else None,
            "anonymized": rec.anonymized, "job": _job_json(job) if job else None,
            "analysis": None}
        if an is not None:
            rs = RV.reviewed_summary(an, revs, names)
            d["analysis"] = {
                "id": an.id, "detected_grade": an.based_score, "probability": an.probability,
                "detected_count": an.n_spasms, "summary": an.summary,
                "reviewed": rs, "events": RV.effective_events(an, revs, names),
                "history": [{"kind": r.kind, "event_key": r.event_key, "grade": r.grade,
                             "onset": r.onset, "comment": r.comment,
                             "reviewer": names.get(r.reviewer_id, ""),
                             "at": r.created_at.isoformat(timespec="seconds")}
                            for r in sorted(revs, key=lambda r: r.id)],
            }
        return d

    @app.get("/recordings/{rid}", response_class=HTMLResponse)
    def recording_page(rid: int, request: Request, user: User = Depends(current_user),
                       db: Session = Depends(get_db)) -> HTMLResponse:
        rec, an, revs, job = _load(db, rid)
        d = _recording_json(db, rec, an, revs, job)
        audit(db, user, "recording.view", target=f"recording:{rid}",
              patient_id=rec.patient_id, ip=_ip(request))
        db.commit()
        return render(request, "recording.html", user, rec=d, montages=MONTAGES)

    @app.get("/api/recordings/{rid}")
    def api_recording(rid: int, request: Request, user: User = Depends(current_user),
                      db: Session = Depends(get_db)) -> dict:
        rec, an, revs, job = _load(db, rid)
        audit(db, user, "recording.read", target=f"recording:{rid}",
              patient_id=rec.patient_id, ip=_ip(request))
        db.commit()
        return _recording_json(db, rec, an, revs, job)

    def _analysis_file(an: AnalysisRow | None, name: str | None) -> Path:
        if an is None or not name:
            raise HTTPException(404, "not analysed yet")
        base = (settings.data_dir / an.out_dir).resolve()
        p = (base / name).resolve()
        if base not in p.parents or not p.is_file():
            raise HTTPException(404, "file missing")
        return p

    @app.get("/recordings/{rid}/report")
    def report(rid: int, request: Request, user: User = Depends(current_user),
               db: Session = Depends(get_db)) -> FileResponse:
        rec, an, _, _ = _load(db, rid)
        p = _analysis_file(an, an.report_name if an else None)
        audit(db, user, "report.view", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=_ip(request))
        db.commit()
        return FileResponse(p, media_type="text/html; charset=utf-8")

    @app.get("/recordings/{rid}/timeline.png")
    def timeline(rid: int, request: Request, user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> FileResponse:
        rec, an, _, _ = _load(db, rid)
        p = _analysis_file(an, "timeline.png")
        audit(db, user, "timeline.view", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=_ip(request))
        db.commit()
        return FileResponse(p, media_type="image/png")

    @app.get("/api/recordings/{rid}/window")
    async def window(rid: int, request: Request, start: float = 0.0, duration: float = 10.0,
                     montage: str = "referential", max_points: int = 1200,
                     user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
        rec, an, revs, _ = _load(db, rid)
        if montage not in MONTAGES:
            raise HTTPException(400, f"montage must be one of {', '.join(MONTAGES)}")
        if not (math.isfinite(start) and math.isfinite(duration)) or duration <= 0:
            raise HTTPException(400, "start and duration must be finite, duration > 0")
        duration = min(duration, 60.0)
        max_points = int(min(max(max_points, 100), 4000))
        audit(db, user, "eeg.window", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=_ip(request), detail=f"{start:.1f}+{duration:.1f}s {montage}")
        db.commit()
        path = settings.recordings_dir / rec.stored_name
        out = await run_in_threadpool(_window_data, path, start, duration, montage, max_points)
        if an is not None:
            ev = RV.effective_events(an, revs)
            out["events"] = [e for e in ev if e["onset"] + e["duration"] >= out["start"]
                             and e["onset"] <= out["start"] + out["duration"]]
        else:
            out["events"] = []
        return out

    @app.post("/api/recordings/{rid}/reviews", dependencies=[Depends(csrf)])
    async def add_review(rid: int, request: Request, user: User = Depends(current_user),
                         db: Session = Depends(get_db)) -> dict:
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "expected a JSON body") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "expected a JSON object")
        rec, an, revs, job = _load(db, rid)
        if an is None:
            raise HTTPException(409, "the recording has not been analysed yet")
        kind = body.get("kind")
        comment = str(body.get("comment") or "")[:2000]
        r = Review(recording_id=rid, analysis_id=an.id, kind=str(kind), reviewer_id=user.id,
                   comment=comment)
        if kind in ("confirm", "reject"):
            key = str(body.get("event_key") or "")
            if key not in {e["key"] for e in RV.effective_events(an, revs)}:
                raise HTTPException(400, f"no event {key!r} in this recording")
            r.event_key = key
        elif kind == "add":
            try:
                onset = float(body.get("onset"))
                dur = float(body.get("duration", 1.0))
            except (TypeError, ValueError):
                raise HTTPException(400, "onset and duration must be numbers (s)") from None
            if not (math.isfinite(onset) and math.isfinite(dur)) or dur <= 0 or dur > 60 \
                    or onset < 0 or onset > rec.duration_s:
                raise HTTPException(400, "onset must lie in the recording, duration in "
                                         "(0, 60] s")
            r.onset, r.duration = round(onset, 3), round(dur, 3)
        elif kind == "grade":
            g = body.get("grade")
            if not isinstance(g, int) or isinstance(g, bool) or not 0 <= g <= 5:
                raise HTTPException(400, "grade must be an integer BASED grade 0-5")
            if not comment.strip():
                raise HTTPException(400, "overruling the grade needs a comment")
            r.grade = g
        else:
            raise HTTPException(400, "kind must be confirm, reject, add or grade")
        db.add(r)
        db.flush()
        audit(db, user, f"review.{kind}", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=_ip(request), detail=r.event_key or r.onset or r.grade)
        db.commit()
        revs.append(r)
        return _recording_json(db, rec, an, revs, job)

    @app.get("/recordings/{rid}/export.edf")
    async def export(rid: int, request: Request, user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> Response:
        from hypsa.export import export_annotations

        rec, an, revs, _ = _load(db, rid)
        if an is None:
            raise HTTPException(409, "the recording has not been analysed yet")
        gap = float(((an.summary or {}).get("spasms") or {}).get("cluster_gap_s") or 60.0)
        df = RV.counted_frame(RV.effective_events(an, revs), gap)
        src = settings.recordings_dir / rec.stored_name
        suf = ".bdf" if rec.stored_name.endswith(".bdf") else ".edf"
        out = settings.tmp_dir / f"export-{rid}-{time.monotonic_ns()}{suf}"
        try:
            await run_in_threadpool(export_annotations, src, df, out)
            data = out.read_bytes()
        except HypsaError as exc:
            raise HTTPException(422, " ".join(str(exc).split())) from None
        finally:
            out.unlink(missing_ok=True)
        audit(db, user, "export.annotations", target=f"recording:{rid}",
              patient_id=rec.patient_id, ip=_ip(request), detail=f"{len(df)} events")
        db.commit()
        stem = Path(rec.display_name).stem
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80] or "recording"
        return Response(data, media_type="application/octet-stream", headers={
            "content-disposition": f'attachment; filename="{safe}.reviewed{suf}"'})

    @app.post("/api/recordings/{rid}/reanalyze", dependencies=[Depends(csrf)])
    def reanalyze(rid: int, request: Request, user: User = Depends(current_user),
                  db: Session = Depends(get_db)) -> dict:
        rec, _, _, job = _load(db, rid)
        if job is not None and job.status in ("queued", "running"):
            raise HTTPException(409, "a job for this recording is already queued or running")
        j = enqueue(db, rid)
        audit(db, user, "job.requeue", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=_ip(request))
        db.commit()
        return _job_json(j)

    # --------------------------------------------------------------- patients
    @app.get("/patients", response_class=HTMLResponse)
    def patients(request: Request, user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> HTMLResponse:
        rows = []
        counts = dict(db.execute(select(RecordingRow.patient_id, func.count())
                                 .group_by(RecordingRow.patient_id)).all())
        for p in db.scalars(select(Patient).order_by(Patient.code)):
            rows.append({"id": p.id, "code": p.code, "recordings": counts.get(p.id, 0)})
        audit(db, user, "patients.list", ip=_ip(request))
        db.commit()
        return render(request, "patients.html", user, patients=rows)

    @app.post("/patients", dependencies=[Depends(csrf)])
    async def new_patient(request: Request, user: User = Depends(current_user),
                          db: Session = Depends(get_db)) -> Response:
        form = await request.form()
        p = _patient_for(db, str(form.get("code") or ""), user)
        if p is None:
            raise HTTPException(400, "patient code is empty")
        audit(db, user, "patient.create", target=f"patient:{p.id}", patient_id=p.id,
              ip=_ip(request))
        db.commit()
        return RedirectResponse(f"/patients/{p.id}", status_code=303)

    def _patient_doc(db: Session, p: Patient, definition: str) -> dict:
        from hypsa import response as R

        names = _names(db)
        recs = db.scalars(select(RecordingRow).where(RecordingRow.patient_id == p.id)
                          .order_by(RecordingRow.recorded_on, RecordingRow.id)).all()
        visits_rows, visits = [], []
        for rec in recs:
            _, an, revs, job = _load(db, rec.id)
            when = rec.recorded_on or rec.uploaded_at.date()
            row = {"id": rec.id, "name": rec.display_name, "date": when.isoformat(),
                   "status": job.status if job else "—", "grade": None, "spasms": None,
                   "per_24h": None, "hours": rec.duration_s / 3600, "reviewed": False}
            if an is not None:
                rs = RV.reviewed_summary(an, revs, names)
                row.update(grade=rs["grade"]["grade"], spasms=rs["count"],
                           per_24h=rs["per_24h"], reviewed=rs["reviewed"],
                           overruled=rs["grade"]["overruled"])
                visits.append(R.Visit(date=when, label=rec.display_name,
                                      recording=rec.display_name, spasms=rs["count"],
                                      per_24h=rs["per_24h"], grade=rs["grade"]["grade"],
                                      hours=rec.duration_s / 3600))
            visits_rows.append(row)
        trs = db.scalars(select(Treatment).where(Treatment.patient_id == p.id)
                         .order_by(Treatment.date, Treatment.id)).all()
        dia = db.scalars(select(DiaryEntry).where(DiaryEntry.patient_id == p.id)
                         .order_by(DiaryEntry.date, DiaryEntry.id)).all()
        resp: dict[str, Any] | None = None
        note = ""
        tlist = [R.Treatment(date=t.date, event=t.event, drug=t.drug, dose=t.dose) for t in trs]
        if not visits:
            note = "No analysed recording yet."
        elif not any(t.event == "start" for t in tlist):
            note = "Add a treatment start to judge the response."
        else:
            import pandas as pd

            ddf = pd.DataFrame([{"date": d.date, "spasms": d.spasms} for d in dia]) \
                if dia else None
            try:
                resp = R.evaluate(definition, visits, tlist, ddf)
            except HypsaError as exc:
                note = " ".join(str(exc).split())
        return {"patient": {"id": p.id, "code": p.code}, "visits": visits_rows,
                "treatments": [{"date": t.date.isoformat(), "event": t.event, "drug": t.drug,
                                "dose": t.dose} for t in trs],
                "diary": [{"date": d.date.isoformat(), "time": d.time, "spasms": d.spasms,
                           "note": d.note} for d in dia],
                "response": resp, "note": note, "definition": definition,
                "definitions": list(R.DEFINITIONS)}

    def _get_patient(db: Session, pid: int) -> Patient:
        p = db.get(Patient, pid)
        if p is None:
            raise HTTPException(404, "no such patient")
        return p

    def _audited_patient_doc(db: Session, user: User, request: Request, pid: int,
                             definition: str, action: str) -> dict:
        """The patient's visits and response under ``definition``, the access audited."""
        from hypsa.response import DEFINITIONS

        if definition not in DEFINITIONS:
            raise HTTPException(400, f"definition must be one of {', '.join(DEFINITIONS)}")
        doc = _patient_doc(db, _get_patient(db, pid), definition)
        audit(db, user, action, target=f"patient:{pid}", patient_id=pid, ip=_ip(request))
        db.commit()
        return doc

    @app.get("/patients/{pid}", response_class=HTMLResponse)
    def patient_page(pid: int, request: Request, definition: str = "west-delphi",
                     user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> HTMLResponse:
        doc = _audited_patient_doc(db, user, request, pid, definition, "patient.view")
        return render(request, "patient.html", user, doc=doc,
                      error=request.query_params.get("error", "")[:300])

    @app.get("/api/patients/{pid}")
    def api_patient(pid: int, request: Request, definition: str = "west-delphi",
                    user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
        return _audited_patient_doc(db, user, request, pid, definition, "patient.read")

    @app.post("/patients/{pid}/treatments", dependencies=[Depends(csrf)])
    async def add_treatment(pid: int, request: Request, user: User = Depends(current_user),
                            db: Session = Depends(get_db)) -> Response:
        p = _get_patient(db, pid)
        form = await request.form()
        d = _parse_date(str(form.get("date") or ""), "date")
        ev = str(form.get("event") or "")
        drug = str(form.get("drug") or "").strip()[:64]
        if d is None or ev not in ("start", "stop", "change") or not drug:
            raise HTTPException(400, "treatment needs a date, an event (start, stop, change) "
                                     "and a drug")
        db.add(Treatment(patient_id=p.id, date=d, event=ev, drug=drug,
                         dose=str(form.get("dose") or "").strip()[:64], created_by=user.id))
        audit(db, user, "treatment.add", target=f"patient:{pid}", patient_id=pid,
              ip=_ip(request), detail=f"{d} {ev} {drug}")
        db.commit()
        return RedirectResponse(f"/patients/{pid}", status_code=303)

    def _diary_row(p: Patient, user: User, d: Any, t: Any, n: Any, note: Any,
                   where: str) -> DiaryEntry:
        dd = _parse_date(str(d or ""), f"{where}date")
        if dd is None:
            raise HTTPException(400, f"{where}date is missing")
        try:
            k = int(float(str(n)))
        except ValueError:
            raise HTTPException(400, f"{where}spasms {n!r} is not a number") from None
        if k < 0 or k > 10000:
            raise HTTPException(400, f"{where}spasms must be 0-10000")
        return DiaryEntry(patient_id=p.id, date=dd, time=str(t or "")[:8], spasms=k,
                          note=str(note or "")[:255], created_by=user.id)

    @app.post("/patients/{pid}/diary", dependencies=[Depends(csrf)])
    async def add_diary(pid: int, request: Request, user: User = Depends(current_user),
                        db: Session = Depends(get_db)) -> Response:
        p = _get_patient(db, pid)
        form = await request.form()
        db.add(_diary_row(p, user, form.get("date"), form.get("time"), form.get("spasms"),
                          form.get("note"), ""))
        audit(db, user, "diary.add", target=f"patient:{pid}", patient_id=pid, ip=_ip(request))
        db.commit()
        return RedirectResponse(f"/patients/{pid}", status_code=303)

    @app.post("/patients/{pid}/diary.csv", dependencies=[Depends(csrf)])
    async def import_diary(pid: int, request: Request, user: User = Depends(current_user),
                           db: Session = Depends(get_db)) -> Response:
        p = _get_patient(db, pid)
        form = await request.form(max_files=1)
        f = form.get("file")
        if f is None or isinstance(f, str):
            raise HTTPException(400, "no CSV file (field 'file')")
        raw = await f.read(SMALL_BODY + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HTTPException(400, "diary CSV must be UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(text))
        cols = {c.strip().lower() for c in (reader.fieldnames or [])}
        if not {"date", "spasms"} <= cols:
            raise HTTPException(400, "diary CSV needs the columns date, spasms (and "
                                     "optionally time, note)")
        rows = []
        for i, r in enumerate(reader, start=2):
            r = {(k or "").strip().lower(): v for k, v in r.items()}
            rows.append(_diary_row(p, user, r.get("date"), r.get("time"), r.get("spasms"),
                                   r.get("note"), f"row {i}: "))
        if not rows:
            raise HTTPException(400, "diary CSV has no rows")
        db.add_all(rows)
        audit(db, user, "diary.import", target=f"patient:{pid}", patient_id=pid,
              ip=_ip(request), detail=f"{len(rows)} rows")
        db.commit()
        return RedirectResponse(f"/patients/{pid}", status_code=303)

    # --------------------------------------------------------------- admin
    @app.get("/admin/users", response_class=HTMLResponse)
    def users_page(request: Request, user: User = Depends(admin_user),
                   db: Session = Depends(get_db)) -> HTMLResponse:
        us = db.scalars(select(User).order_by(User.username)).all()
        return render(request, "users.html", user, users=us, roles=ROLES,
                      error=request.query_params.get("error", "")[:300])

    @app.post("/admin/users", dependencies=[Depends(csrf)])
    async def users_create(request: Request, user: User = Depends(admin_user),
                           db: Session = Depends(get_db)) -> Response:
        form = await request.form()
        try:
            u = create_user(db, str(form.get("username") or ""),
                            str(form.get("password") or ""), str(form.get("role") or ""))
        except ParameterError as exc:
            db.rollback()
            us = db.scalars(select(User).order_by(User.username)).all()
            return render(request, "users.html", user, status=400, users=us, roles=ROLES,
                          error=str(exc))
        audit(db, user, "user.create", target=f"user:{u.id}", ip=_ip(request),
              detail=f"{u.username} ({u.role})")
        db.commit()
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{uid}/active", dependencies=[Depends(csrf)])
    async def users_active(uid: int, request: Request, user: User = Depends(admin_user),
                           db: Session = Depends(get_db)) -> Response:
        form = await request.form()
        u = db.get(User, uid)
        if u is None:
            raise HTTPException(404, "no such user")
        if u.id == user.id:
            raise HTTPException(400, "you cannot deactivate yourself")
        u.active = str(form.get("active")) == "1"
        audit(db, user, "user.active" if u.active else "user.deactivate",
              target=f"user:{u.id}", ip=_ip(request))
        db.commit()
        return RedirectResponse("/admin/users", status_code=303)

    @app.get("/admin/audit", response_class=HTMLResponse)
    def audit_page(request: Request, user: User = Depends(admin_user),
                   db: Session = Depends(get_db)) -> HTMLResponse:
        rows = db.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(500)).all()
        return render(request, "audit.html", user, rows=rows)

    return app


def _window_data(path: Path, start: float, duration: float, montage: str,
                 max_points: int) -> dict:
    """A window of EEG for the viewer: montage applied, block-averaged to ``max_points``."""
    from hypsa.channels import DOUBLE_BANANA, STANDARD_19, average_reference, bipolar
    from hypsa.io import read

    rec = read(path)
    names = [n for n in STANDARD_19 if n in rec.eeg_names] or list(rec.eeg_names)
    total = float(rec.duration_s)
    duration = min(duration, total)
    start = min(max(0.0, start), max(0.0, total - duration))
    x = rec.get_data(picks=names, start_s=start, stop_s=start + duration).astype(float)
    fs = float(rec.sfreq)
    x = x - np.median(x, axis=1, keepdims=True)
    if montage == "average":
        x = average_reference(x)
    elif montage == "double_banana":
        x, names = bipolar(x, names, DOUBLE_BANANA)
    n = x.shape[1]
    k = max(1, math.ceil(n / max_points))
    m = n // k
    if k > 1 and m > 0:
        x = x[:, : m * k].reshape(x.shape[0], m, k).mean(axis=2)
    x = np.nan_to_num(x)
    return {"start": round(start, 3), "duration": round(duration, 3),
            "total": round(total, 3), "sfreq": fs / k, "montage": montage,
            "channels": list(names), "data": np.round(x, 1).tolist()}


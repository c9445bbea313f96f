"""The FastAPI application of ``hypsa serve``: middleware, error pages and the routers.

Pages (server-rendered Jinja templates, a little vanilla JavaScript) and JSON endpoints for the
upload queue, the review page's EEG viewer and reviews. Every state-changing request needs the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); every action on
patient data is written to the audit log.

The routes live in one module per concern, each exposing an ``APIRouter`` named ``router``:
:mod:`hypsa.web.auth` (log in/out, own password), :mod:`hypsa.web.recordings` (dashboard,
upload, review, report, export), :mod:`hypsa.web.patients` (visits, treatments, diary,
response) and :mod:`hypsa.web.admin` (accounts, audit log). Another module joins by adding its
dotted name to :data:`ROUTERS`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from hypsa import DISCLAIMER, __version__
from hypsa.web.db import make_engine, make_sessionmaker, migrate
from hypsa.web.deps import LoginRequired, clean_message, fmt_time, token
from hypsa.web.security import LoginLimiter, audit, create_user, find_user
from hypsa.web.settings import Settings

__all__ = ["create_app", "ensure_admin", "ROUTERS"]

#: Modules whose ``router`` is included, in this order.
ROUTERS: list[str] = [
    "hypsa.web.auth",
    "hypsa.web.recordings",
    "hypsa.web.patients",
    "hypsa.web.admin",
    "hypsa.web.studies",
    "hypsa.web.video",
]

HERE = Path(__file__).parent
SMALL_BODY = 2 * 1024 * 1024  # every request but an upload
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


# ------------------------------------------------------------------------------ errors
class BodyTooLarge(Exception):
    """The request body passed its size limit while streaming."""


class _LimitBody:
    """ASGI middleware: refuse request bodies over the limit (Content-Length or streamed)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app, self.settings = app, settings

    def limit(self, path: str) -> int:
        if path.startswith("/api/uploads") or (path.startswith("/api/recordings/")
                                               and path.endswith("/video")):
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
def ensure_admin(settings: Settings, username: str, password: str) -> bool:
    """Create an admin account if no user of that name (any case) exists; whether one was
    created.

    Raises
    ------
    ParameterError
        Bad user name or a password against the policy.
    """
    settings.prepare()
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    try:
        with factory() as db, db.begin():
            if find_user(db, username) is not None:
                return False
            u = create_user(db, username, password, "admin")
            audit(db, u, "user.create", target=f"user:{u.id}", detail="first admin")
            return True
    finally:
        engine.dispose()


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


_TITLES = {400: "Bad request", 401: "Not logged in", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Cannot process",
           429: "Too many requests"}


def _error_response(request: Request, status: int, detail: str,
                    headers: dict | None = None) -> Response:
    detail = clean_message(request, detail)
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    user = getattr(request.state, "user", None)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"user": user, "csrf_token": token(request), "status": status,
                                "title": _TITLES.get(status, "Error"), "detail": detail},
        status_code=status, headers=headers)


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x not in ("path", "query", "body"))
        parts.append(f"{loc or 'request'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


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
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    from hypsa.verdict import SCORE_LABEL

    templates.env.globals.update(version=__version__, disclaimer=DISCLAIMER,
                                 fmt_time=fmt_time, score_label=SCORE_LABEL)
    app.state.settings = settings
    app.state.engine = engine
    app.state.db_factory = factory
    app.state.templates = templates
    app.state.limiter = LoginLimiter(settings.login_max_per_account,
                                     settings.login_max_per_address)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key,
                       session_cookie="hypsa_session", max_age=settings.session_max_age_s,
                       same_site="strict", https_only=settings.cookie_secure)
    app.add_middleware(_LimitBody, settings=settings)
    app.add_middleware(_SecurityHeaders)
    if settings.forwarded_allow_ips:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # outermost: every layer below sees the real client and scheme
        app.add_middleware(ProxyHeadersMiddleware,
                           trusted_hosts=settings.forwarded_allow_ips)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge) -> Response:
        return _error_response(request, 413, "request body over the size limit")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request, exc.status_code, str(exc.detail),
                               getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        return _error_response(request, 400, _validation_text(exc))

    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    return app

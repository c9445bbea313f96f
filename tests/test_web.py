"""API tests of ``hypsa serve`` (FastAPI TestClient) against SQLite, and PostgreSQL when
``HYPSA_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("sqlalchemy")

from fastapi.testclient import TestClient  # noqa: E402

from hypsa.web.app import create_app  # noqa: E402
from hypsa.web.db import AuditLog, Job, make_engine, make_sessionmaker  # noqa: E402
from hypsa.web.jobs import process_one, requeue_stale  # noqa: E402
from hypsa.web.security import create_user  # noqa: E402
from hypsa.web.settings import Settings  # noqa: E402

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("HYPSA_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def edf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short simulated hypsarrhythmic recording with spasms, written as EDF+."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("web-sim")
    sim = simulate(90, hypsarrhythmia="classic", n_clusters=2, seed=3)
    return sim.write_edf(d / "Doe^Jane_visit1.edf")


def _pg_schema_url(base: str) -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(base)
    with eng.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path):
    """Settings on a fresh data folder and database (each backend)."""
    schema = None
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("HYPSA_TEST_POSTGRES_URL not set")
        pytest.importorskip("psycopg")
        url, schema = _pg_schema_url(PG_URL)
    else:
        url = ""
    s = Settings(data_dir=tmp_path / "data", database_url=url, max_upload_mb=5,
                 heartbeat_s=0.2, job_stale_s=30)
    yield s
    if schema:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_URL)
        with eng.begin() as c:
            c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()


@pytest.fixture
def app(settings: Settings):
    a = create_app(settings)
    with a.state.db_factory() as db, db.begin():
        create_user(db, "admin", PASSWORD, "admin")
        create_user(db, "rev", PASSWORD, "reviewer")
    yield a
    a.state.engine.dispose()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF meta tag"
    return m.group(1)


def login(client: TestClient, user: str = "rev", password: str = PASSWORD) -> str:
    """Log in through the form; return the session's CSRF token."""
    tok = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": user, "password": password, "csrf_token": tok},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


def upload(client: TestClient, tok: str, path: Path, name: str | None = None,
           patient: str = "P-001", recorded_on: str = "2024-03-01"):
    with open(path, "rb") as f:
        return client.post("/api/uploads", headers={"X-CSRF-Token": tok},
                            files=[("files", (name or path.name, f, "application/octet-stream"))],
                            data={"patient_code": patient, "recorded_on": recorded_on})


@pytest.fixture
def analysed(app, settings, edf_file):
    """A logged-in reviewer client with one uploaded and analysed recording."""
    client = TestClient(app)
    tok = login(client)
    r = upload(client, tok, edf_file)
    assert r.status_code == 200, r.text
    rid = r.json()["files"][0]["recording_id"]
    assert process_one(settings, app.state.db_factory) == "done"
    return client, tok, rid


# ------------------------------------------------------------------------------ auth
def test_pages_need_login(app):
    c = TestClient(app)
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert c.get("/api/recordings").status_code == 401
    assert c.get("/healthz").json()["ok"] is True


def test_login_wrong_password_and_cookie_flags(app):
    c = TestClient(app)
    tok = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "rev", "password": "nope-nope", "csrf_token": tok})
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = c.post("/login", data={"username": "rev", "password": PASSWORD, "csrf_token": tok},
               follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "content-security-policy" in c.get("/").headers


def test_passwords_are_hashed(app):
    from sqlalchemy import select

    from hypsa.web.db import User

    with app.state.db_factory() as db:
        u = db.scalar(select(User).where(User.username == "rev"))
    assert u.password_hash.startswith("$argon2") and PASSWORD not in u.password_hash


def test_csrf_rejected(app, edf_file):
    c = TestClient(app)
    # login itself needs the token
    c.get("/login")
    r = c.post("/login", data={"username": "rev", "password": PASSWORD})
    assert r.status_code == 403
    tok = login(c)
    with open(edf_file, "rb") as f:
        r = c.post("/api/uploads", files=[("files", ("a.edf", f, "application/octet-stream"))])
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = c.post("/api/uploads", headers={"X-CSRF-Token": tok + "x"},
               files=[("files", ("a.edf", b"0", "application/octet-stream"))])
    assert r.status_code == 403
    assert c.post("/patients", data={"code": "P-9"}).status_code == 403
    assert c.post("/patients", data={"code": "P-9", "csrf_token": "wrong"}).status_code == 403
    assert c.post("/logout").status_code == 403


def all_routes(routes) -> list:
    """The routes of the app, included routers flattened."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out.extend(all_routes(inner.routes) if inner is not None else [r])
    return out


def test_every_state_changing_route_checks_csrf(app):
    c = TestClient(app)
    login(c, "admin")
    checked = 0
    for route in all_routes(app.routes):
        methods = getattr(route, "methods", set()) or set()
        if not methods & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        r = c.post(path, data={"x": "1"})
        assert r.status_code == 403, f"{route.path} accepted a request without CSRF token"
        checked += 1
    assert checked >= 10


def test_roles(app):
    c = TestClient(app)
    tok = login(c, "rev")
    assert c.get("/admin/users").status_code == 403
    assert c.get("/admin/audit").status_code == 403
    r = c.post("/admin/users", data={"username": "x1", "password": PASSWORD, "role": "admin",
                                     "csrf_token": tok})
    assert r.status_code == 403
    a = TestClient(app)
    tok = login(a, "admin")
    r = a.post("/admin/users", data={"username": "newrev", "password": PASSWORD,
                                     "role": "reviewer", "csrf_token": tok},
               follow_redirects=False)
    assert r.status_code == 303
    assert "newrev" in a.get("/admin/users").text
    r = a.post("/admin/users", data={"username": "short", "password": "abc",
                                     "role": "reviewer", "csrf_token": tok})
    assert r.status_code == 400 and "at least 10" in r.text
    login(TestClient(app), "newrev")


# ------------------------------------------------------------------------------ uploads
def test_upload_bad_files(app, settings, tmp_path, edf_file):
    c = TestClient(app)
    tok = login(c)
    junk = tmp_path / "junk.edf"
    junk.write_bytes(b"this is not an EDF file at all" * 20)
    r = upload(c, tok, junk)
    assert r.status_code == 400
    err = r.json()["files"][0]["error"]
    assert err.startswith("junk.edf: ") and "\n" not in err and str(tmp_path) not in err
    r = upload(c, tok, edf_file, name="evil.exe")
    assert r.status_code == 400 and "not an accepted EEG file type" in r.json()["files"][0]["error"]
    # path traversal in the client's name: only the base name is kept; stored name is random
    r = upload(c, tok, edf_file, name="../../../etc/passwd.edf")
    assert r.status_code == 200
    f = r.json()["files"][0]
    assert f["ok"] and f["name"] == "passwd.edf"
    stored = list(settings.recordings_dir.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.edf", stored[0].name)
    assert not (settings.data_dir.parent / "etc").exists()
    assert list(settings.tmp_dir.iterdir()) == []  # nothing staged is left behind
    # good and bad in one request: each gets its own row
    with open(edf_file, "rb") as f1, open(junk, "rb") as f2:
        r = c.post("/api/uploads", headers={"X-CSRF-Token": tok},
                   files=[("files", ("good.edf", f1, "application/octet-stream")),
                          ("files", ("bad.bdf", f2, "application/octet-stream"))])
    res = r.json()["files"]
    assert [x["ok"] for x in res] == [True, False]
    # the dashboard still works
    assert c.get("/").status_code == 200


def test_upload_size_limit(app, settings):
    c = TestClient(app)
    tok = login(c)
    big = b"0" * (settings.max_upload_bytes + 2 * 1024 * 1024)
    r = c.post("/api/uploads", headers={"X-CSRF-Token": tok},
               files=[("files", ("big.edf", big, "application/octet-stream"))])
    assert r.status_code == 413
    r = c.post("/patients", data={"code": "x" * (3 * 1024 * 1024), "csrf_token": tok})
    assert r.status_code == 413


def test_upload_deidentifies(app, settings, edf_file):
    from hypsa.io import read

    c = TestClient(app)
    tok = login(c)
    assert upload(c, tok, edf_file).json()["files"][0]["ok"]
    stored = next(settings.recordings_dir.iterdir())
    hdr = read(stored).header
    assert set(hdr.get("patient", "X X X X").replace(" ", "")) <= {"X"}


# ------------------------------------------------------------------------------ jobs
def test_job_processed_by_worker_function(app, settings, edf_file):
    c = TestClient(app)
    tok = login(c)
    r = upload(c, tok, edf_file)
    jid = r.json()["files"][0]["job_id"]
    assert c.get(f"/api/jobs?ids={jid}").json()["jobs"][0]["status"] == "queued"
    assert process_one(settings, app.state.db_factory) == "done"
    assert process_one(settings, app.state.db_factory) is None
    j = c.get(f"/api/jobs?ids={jid}").json()["jobs"][0]
    assert j["status"] == "done" and j["progress"] == 1.0
    rec = c.get("/api/recordings").json()["recordings"][0]
    assert rec["grade"] is not None and rec["spasms"] >= 1


def test_failing_job_gives_one_line(app, settings, edf_file):
    c = TestClient(app)
    tok = login(c)
    rid = upload(c, tok, edf_file).json()["files"][0]["recording_id"]
    # the stored file is damaged after acceptance (disk trouble): the job fails cleanly
    from hypsa.web.db import RecordingRow

    with app.state.db_factory() as db:
        stored = db.get(RecordingRow, rid).stored_name
    (settings.recordings_dir / stored).write_bytes(b"garbage")
    assert process_one(settings, app.state.db_factory) == "failed"
    j = c.get("/api/recordings").json()["recordings"][0]["job"]
    assert j["status"] == "failed" and j["error"].startswith("Doe^Jane_visit1.edf: ")
    assert "\n" not in j["error"] and str(settings.data_dir) not in j["error"]
    assert c.get(f"/recordings/{rid}").status_code == 200


def test_stale_running_job_is_requeued(app, settings, edf_file):
    from datetime import timedelta

    from hypsa.web.db import utcnow

    c = TestClient(app)
    tok = login(c)
    jid = upload(c, tok, edf_file).json()["files"][0]["job_id"]
    with app.state.db_factory() as db, db.begin():
        j = db.get(Job, jid)
        j.status, j.worker, j.heartbeat = "running", "dead:1", utcnow() - timedelta(hours=1)
    assert requeue_stale(app.state.db_factory, settings.job_stale_s) == 1
    assert process_one(settings, app.state.db_factory) == "done"


# ------------------------------------------------------------------------------ review
def test_review_changes_count_and_export(analysed, tmp_path):
    client, tok, rid = analysed
    d = client.get(f"/api/recordings/{rid}").json()
    a = d["analysis"]
    n0 = a["reviewed"]["count"]
    assert n0 == a["detected_count"] >= 1
    key = a["events"][0]["key"]
    r = client.post(f"/api/recordings/{rid}/reviews", json={"kind": "reject", "event_key": key},
                    headers={"X-CSRF-Token": tok})
    assert r.status_code == 200, r.text
    a = r.json()["analysis"]
    assert a["reviewed"]["count"] == n0 - 1
    ev = next(e for e in a["events"] if e["key"] == key)
    assert ev["status"] == "rejected" and ev["reviewer"] == "rev" and ev["reviewed_at"]
    r = client.post(f"/api/recordings/{rid}/reviews", headers={"X-CSRF-Token": tok},
                    json={"kind": "add", "onset": 5.0, "duration": 1.2, "comment": "missed"})
    assert r.json()["analysis"]["reviewed"]["count"] == n0
    r = client.post(f"/api/recordings/{rid}/reviews", headers={"X-CSRF-Token": tok},
                    json={"kind": "grade", "grade": 2})
    assert r.status_code == 400  # a comment is required
    r = client.post(f"/api/recordings/{rid}/reviews", headers={"X-CSRF-Token": tok},
                    json={"kind": "grade", "grade": 2, "comment": "sleep, not hypsarrhythmia"})
    g = r.json()["analysis"]["reviewed"]["grade"]
    assert g["grade"] == 2 and g["overruled"] and g["reviewer"] == "rev" and not g["present"]
    rows = client.get("/api/recordings").json()["recordings"]
    assert rows[0]["spasms"] == n0 and rows[0]["grade"] == 2 and rows[0]["reviewed"]
    # bad review requests
    for body in ({"kind": "reject", "event_key": "d999"}, {"kind": "add", "onset": -1},
                 {"kind": "grade", "grade": 9, "comment": "x"}, {"kind": "zap"}):
        r = client.post(f"/api/recordings/{rid}/reviews", json=body,
                        headers={"X-CSRF-Token": tok})
        assert r.status_code == 400, body
    # export: the reviewed events, not the detected ones
    r = client.get(f"/recordings/{rid}/export.edf")
    assert r.status_code == 200 and r.content[:8] == b"0       "
    out = tmp_path / "x.edf"
    out.write_bytes(r.content)
    from hypsa.io import read

    ann = read(out).annotations
    texts = [str(t) for t in ann["description"]] if len(ann) else []
    ours = [t for t in texts if re.fullmatch(r"hypsa spasm( conf=[\d.]+)? cluster=\d+", t)]
    assert len(ours) == n0
    assert any(abs(float(o) - 5.0) < 1e-3 for o in ann["onset"])


def test_review_page_viewer_and_report(analysed):
    client, tok, rid = analysed
    page = client.get(f"/recordings/{rid}")
    assert page.status_code == 200 and 'id="eeg"' in page.text and "BASED grade" in page.text
    for montage, n in (("referential", 19), ("average", 19), ("double_banana", 18)):
        w = client.get(f"/api/recordings/{rid}/window",
                       params={"start": 10, "duration": 10, "montage": montage}).json()
        assert len(w["channels"]) == n and len(w["data"]) == n
        assert 0 < len(w["data"][0]) <= 1200 and w["start"] == 10
    assert client.get(f"/api/recordings/{rid}/window", params={"montage": "x"}).status_code == 400
    r = client.get(f"/recordings/{rid}/report")
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert "sandbox" in r.headers["content-security-policy"]
    assert client.get(f"/recordings/{rid}/timeline.png").content[:4] == b"\x89PNG"
    assert client.get("/recordings/999").status_code == 404


def test_audit_log_records_patient_access(analysed, app):
    client, tok, rid = analysed
    client.get(f"/recordings/{rid}")
    client.get(f"/api/recordings/{rid}/window")
    client.get(f"/recordings/{rid}/export.edf")
    from sqlalchemy import select

    with app.state.db_factory() as db:
        acts = [a.action for a in db.scalars(select(AuditLog))]
    for a in ("login", "upload", "recording.view", "eeg.window", "export.annotations"):
        assert a in acts, a
    adm = TestClient(app)
    login(adm, "admin")
    assert "recording.view" in adm.get("/admin/audit").text


def test_patient_view_treatment_diary_response(analysed, tmp_path):
    client, tok, rid = analysed
    pid = client.get(f"/api/recordings/{rid}").json()["patient_id"]
    assert pid
    r = client.post(f"/patients/{pid}/treatments", follow_redirects=False,
                    data={"date": "2024-03-01", "event": "start", "drug": "ACTH", "dose": "",
                          "csrf_token": tok})
    assert r.status_code == 303
    r = client.post(f"/patients/{pid}/diary", follow_redirects=False,
                    data={"date": "2024-03-02", "time": "08:00", "spasms": "5",
                          "csrf_token": tok})
    assert r.status_code == 303
    csv_text = "date,time,spasms\n2024-03-03,07:00,2\n2024-03-20,,0\n"
    r = client.post(f"/patients/{pid}/diary.csv", follow_redirects=False,
                    data={"csrf_token": tok},
                    files={"file": ("diary.csv", csv_text.encode(), "text/csv")})
    assert r.status_code == 303, r.text
    r = client.post(f"/patients/{pid}/diary.csv", data={"csrf_token": tok},
                    files={"file": ("diary.csv", b"when,n\n1,2\n", "text/csv")})
    assert r.status_code == 400
    doc = client.get(f"/api/patients/{pid}").json()
    assert len(doc["visits"]) == 1 and len(doc["treatments"]) == 1 and len(doc["diary"]) == 3
    assert doc["response"] is not None and doc["response"]["outcome"]
    page = client.get(f"/patients/{pid}")
    assert page.status_code == 200 and "ACTH" in page.text
    assert client.get("/patients").status_code == 200


def test_migrations_idempotent_and_restart_keeps_data(settings, edf_file):
    a1 = create_app(settings)
    with a1.state.db_factory() as db, db.begin():
        create_user(db, "rev", PASSWORD)
    c = TestClient(a1)
    tok = login(c)
    upload(c, tok, edf_file)
    a1.state.engine.dispose()
    a2 = create_app(settings)  # a "restart": migrations run again, nothing lost
    c2 = TestClient(a2)
    login(c2)
    assert len(c2.get("/api/recordings").json()["recordings"]) == 1
    db_factory = make_sessionmaker(make_engine(settings.database_url))
    assert process_one(settings, db_factory) == "done"
    a2.state.engine.dispose()

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
from hypsa.web.jobs import claim, process_one, requeue_stale  # noqa: E402
from hypsa.web.security import create_user  # noqa: E402
from hypsa.web.settings import Settings  # noqa: E402

PASSWORD = "correct horse battery"
PG_URL = os.environ.get("HYPSA_TEST_POSTGRES_URL", "")


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with argon2-cffi's cheapest parameters (its profile for tests): the same
    algorithm and code paths, without the deliberate slowness of each hash."""
    from argon2 import PasswordHasher, profiles

    from hypsa.web import security

    h = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(security, "_hasher", h)
    monkeypatch.setattr(security, "_DUMMY", h.hash("hypsa-no-such-user"))


@pytest.fixture(scope="session")
def edf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short simulated hypsarrhythmic recording with spasms, written as EDF+."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("web-sim")
    sim = simulate(90, hypsarrhythmia="classic", n_clusters=2, seed=3, emg=True)
    p = sim.write_edf(d / "Doe^Jane_visit1.edf")
    # what a clinic's EDF carries in its recording field: admin code, technician, equipment
    raw = bytearray(p.read_bytes())
    raw[88:168] = b"Startdate 01-JAN-2024 EMU-4711 TechSmith NK-EEG1200".ljust(80)
    p.write_bytes(bytes(raw))
    return p


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


@pytest.fixture(scope="session")
def analysis_of_edf(tmp_path_factory: pytest.TempPathFactory, edf_file: Path) -> dict:
    """The worker's real analysis of ``edf_file`` (uploaded as the first recording), made once.

    Tests that are not about the worker replay it instead of analysing the same file again:
    the full analysis with its report takes seconds, and the suite must stay fast.
    """
    from hypsa.web.db import AnalysisRow

    s = Settings(data_dir=tmp_path_factory.mktemp("web-cache") / "data", max_upload_mb=5)
    a = create_app(s)
    with a.state.db_factory() as db, db.begin():
        create_user(db, "rev", PASSWORD, "reviewer")
    c = TestClient(a)
    rid = upload(c, login(c), edf_file).json()["files"][0]["recording_id"]
    assert process_one(s, a.state.db_factory) == "done"
    with a.state.db_factory() as db:
        an = db.query(AnalysisRow).filter_by(recording_id=rid).one()
        fields = {k: getattr(an, k) for k in ("summary", "events", "report_name",
                                               "based_score", "probability", "n_spasms")}
        out = s.data_dir / an.out_dir
    a.state.engine.dispose()
    return {"rid": rid, "fields": fields, "out": out}


def finish_like_worker(app, settings: Settings, rid: int, cache: dict) -> None:
    """Store the cached analysis for recording ``rid`` as the worker would (files and rows)."""
    import shutil

    from hypsa.web.db import AnalysisRow, utcnow

    assert rid == cache["rid"], "the cached analysis is of the first recording"
    with app.state.db_factory() as db, db.begin():
        job = db.query(Job).filter_by(recording_id=rid, status="queued").one()
        out = settings.analyses_dir / str(rid) / f"job{job.id}"
        shutil.copytree(cache["out"], out)
        db.add(AnalysisRow(recording_id=rid, out_dir=str(out.relative_to(settings.data_dir)),
                           **cache["fields"]))
        job.status, job.progress, job.attempts, job.finished_at = "done", 1.0, 1, utcnow()


@pytest.fixture
def analysed(app, settings, edf_file, analysis_of_edf):
    """A logged-in reviewer client with one uploaded and analysed recording."""
    client = TestClient(app)
    tok = login(client)
    r = upload(client, tok, edf_file)
    assert r.status_code == 200, r.text
    rid = r.json()["files"][0]["recording_id"]
    finish_like_worker(app, settings, rid, analysis_of_edf)
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
    field = stored.read_bytes()[88:168].decode("ascii")
    for secret in ("EMU-4711", "TechSmith", "NK-EEG1200"):
        assert secret not in field, field
    assert field.startswith("Startdate 01-JAN-2024")


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
    assert claim(app.state.db_factory, "w:2") == jid


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
    # one annotation at the start says the export reflects a review (by whom, when)
    import mne

    raw = mne.io.read_raw_edf(out, preload=False, verbose="error")
    mark = [(a["onset"], a["description"]) for a in raw.annotations
            if a["description"].startswith("hypsa reviewed by ")]
    assert len(mark) == 1 and mark[0][0] == 0.0
    assert re.fullmatch(r"hypsa reviewed by rev \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", mark[0][1])


def test_grading_cautions_stand_under_the_grade(analysed, app):
    """The grading's cautions (no NREM sleep, a narrow voltage margin, a focus whose field is
    seen only inverted, ...) are on the review page, as in the report."""
    import copy

    from hypsa.web.db import AnalysisRow

    client, tok, rid = analysed
    assert "Caution:" not in client.get(f"/recordings/{rid}").text  # this one has none
    caution = ("focus at P3: only 20% of its discharges have a field of their own polarity "
               "on a neighbouring electrode")
    with app.state.db_factory() as db, db.begin():
        an = db.query(AnalysisRow).filter_by(recording_id=rid).one()
        summary = copy.deepcopy(an.summary)
        summary["hypsarrhythmia"]["warnings"] = [caution, "no NREM <sleep> & more"]
        an.summary = summary
    page = client.get(f"/recordings/{rid}").text
    assert f"Caution: {caution}" in page
    assert "Caution: no NREM &lt;sleep&gt; &amp; more" in page  # escaped


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
    eng = make_engine(settings.database_url)
    assert claim(make_sessionmaker(eng), "w:1") is not None  # the queued job survived
    eng.dispose()
    a2.state.engine.dispose()


# ------------------------------------------------------------------------------ sessions, accounts
def _cookie_payload(client: TestClient) -> dict:
    import base64
    import json

    raw = client.cookies.get("hypsa_session")
    data = raw.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


def test_logout_and_account_changes_end_sessions_at_once(app):
    from sqlalchemy import select

    from hypsa.web.db import User

    c = TestClient(app)
    tok = login(c)
    payload = _cookie_payload(c)
    assert set(payload) == {"sid", "csrf"}  # nothing of the password hash in the cookie
    with app.state.db_factory() as db:
        h = db.scalar(select(User).where(User.username == "rev")).password_hash
    assert not any(h[i:i + 8] in c.cookies.get("hypsa_session") for i in range(0, len(h) - 8))
    stolen = dict(c.cookies)
    assert c.post("/logout", data={"csrf_token": tok}, follow_redirects=False).status_code == 303
    replay = TestClient(app, cookies=stolen)
    assert replay.get("/api/recordings").status_code == 401
    assert replay.get("/", follow_redirects=False).headers["location"] == "/login"
    # password change: the other session ends, this one goes on
    a, b = TestClient(app), TestClient(app)
    tok_a = login(a)
    login(b)
    new = "violet quarry 7 lantern"
    r = a.post("/account/password", follow_redirects=False,
               data={"current": "wrong one!!", "new": new, "again": new, "csrf_token": tok_a})
    assert r.status_code == 400 and "current password is wrong" in r.text
    r = a.post("/account/password", follow_redirects=False,
               data={"current": PASSWORD, "new": "password123", "again": "password123",
                     "csrf_token": tok_a})
    assert r.status_code == 400 and "common" in r.text
    r = a.post("/account/password", follow_redirects=False,
               data={"current": PASSWORD, "new": new, "again": new, "csrf_token": tok_a})
    assert r.status_code == 303
    assert a.get("/api/recordings").status_code == 200
    assert b.get("/api/recordings").status_code == 401
    login(TestClient(app), "rev", new)
    # admin reset and deactivation end the user's sessions
    adm = TestClient(app)
    tok_adm = login(adm, "admin")
    with app.state.db_factory() as db:
        rev_id = db.scalar(select(User).where(User.username == "rev")).id
    r = adm.post(f"/admin/users/{rev_id}/password", follow_redirects=False,
                 data={"password": "123456789012", "csrf_token": tok_adm})
    assert r.status_code == 400  # a common password
    reset = "granite owl 55 meadow"
    r = adm.post(f"/admin/users/{rev_id}/password", follow_redirects=False,
                 data={"password": reset, "csrf_token": tok_adm})
    assert r.status_code == 303
    assert a.get("/api/recordings").status_code == 401
    c2 = TestClient(app)
    login(c2, "rev", reset)
    r = adm.post(f"/admin/users/{rev_id}/active", data={"active": "0", "csrf_token": tok_adm},
                 follow_redirects=False)
    assert r.status_code == 303 and c2.get("/api/recordings").status_code == 401
    with app.state.db_factory() as db:
        acts = [x.action for x in db.scalars(select(AuditLog))]
    for act in ("logout", "password.change", "user.password_reset", "user.deactivate"):
        assert act in acts, act


def test_password_policy_and_case_insensitive_names(app):
    from hypsa.errors import ParameterError
    from hypsa.web.security import check_password

    for bad in ("short", "password123", "qwertyuiop", "aaaaaaaaaaaa", "rev-is-my-name!"):
        with pytest.raises(ParameterError):
            check_password(bad, "rev-is-my-name")
    check_password("violet quarry 7 lantern", "rev")
    with app.state.db_factory() as db, db.begin(), pytest.raises(ParameterError, match="case"):
        create_user(db, "REV", "violet quarry 7 lantern")
    login(TestClient(app), "REV")  # the name is matched regardless of case


def test_users_cli(settings, monkeypatch):
    from typer.testing import CliRunner

    from hypsa.cli import app as cli

    if settings.database_url.startswith("postgresql"):
        pytest.skip("the CLI reads its database from the data folder here")
    run = CliRunner()
    d = ["--data-dir", str(settings.data_dir)]
    monkeypatch.setenv("HYPSA_NEW_PASSWORD", "violet quarry 7 lantern")
    r = run.invoke(cli, ["users", "add", "Carol", "--role", "admin", *d])
    assert r.exit_code == 0, r.output
    r = run.invoke(cli, ["users", "add", "carol", *d])
    assert r.exit_code == 2 and "exists already" in r.output
    monkeypatch.setenv("HYPSA_NEW_PASSWORD", "letmein")
    r = run.invoke(cli, ["users", "passwd", "carol", *d])
    assert r.exit_code == 2 and "at least" in r.output and "Traceback" not in r.output
    monkeypatch.setenv("HYPSA_NEW_PASSWORD", "granite owl 55 meadow")
    assert run.invoke(cli, ["users", "passwd", "carol", *d]).exit_code == 0
    assert run.invoke(cli, ["users", "deactivate", "CAROL", *d]).exit_code == 0
    r = run.invoke(cli, ["users", "list", *d])
    assert r.exit_code == 0 and "Carol\tadmin\tinactive" in r.output
    assert run.invoke(cli, ["users", "deactivate", "nobody", *d]).exit_code == 2


def test_login_limits_per_account_and_address_behind_proxy(settings):
    from dataclasses import replace

    from sqlalchemy import select

    s = replace(settings, forwarded_allow_ips="*", login_max_per_address=14)
    app = create_app(s)
    with app.state.db_factory() as db, db.begin():
        create_user(db, "admin", PASSWORD, "admin")
        create_user(db, "rev", PASSWORD, "reviewer")
    try:
        def attempt(c: TestClient, user: str, pw: str, ip: str) -> int:
            tok = csrf_of(c.get("/login", headers={"x-forwarded-for": ip}).text)
            return c.post("/login", headers={"x-forwarded-for": ip}, follow_redirects=False,
                          data={"username": user, "password": pw, "csrf_token": tok}).status_code

        guesser = TestClient(app)
        for _ in range(10):
            assert attempt(guesser, "rev", "wrong password", "203.0.113.5") == 401
        assert attempt(guesser, "rev", PASSWORD, "198.51.100.7") == 429  # the account waits
        # another account is not locked out, from another address or from the same one
        assert attempt(TestClient(app), "admin", PASSWORD, "198.51.100.9") == 303
        assert attempt(TestClient(app), "admin", PASSWORD, "203.0.113.5") == 303
        # one address trying many accounts is stopped too
        for i in range(14):
            attempt(guesser, f"u{i}", "wrong password", "203.0.113.66")
        assert attempt(TestClient(app), "admin", PASSWORD, "203.0.113.66") == 429
        with app.state.db_factory() as db:
            ips = {a.ip for a in db.scalars(select(AuditLog).where(
                AuditLog.action == "login.failed"))}
        assert "203.0.113.5" in ips and "testclient" not in ips  # the client, not the proxy
    finally:
        app.state.engine.dispose()


# ------------------------------------------------------------------------------ small ones
def test_bad_numbers_are_400_and_html_errors(analysed):
    client, tok, rid = analysed
    for params in ({"start": "inf"}, {"start": "1e400"}, {"duration": "nan"},
                   {"max_points": str(10**30)}, {"start": "-5"}):
        r = client.get(f"/api/recordings/{rid}/window", params=params)
        assert r.status_code == 400, params
    assert client.get("/api/recordings/99999999999999999999").status_code == 400
    assert client.get(f"/api/jobs?ids={10**30}").status_code == 400
    for body in ({"kind": "add", "onset": "inf"}, {"kind": "add", "onset": 10**400},
                 {"kind": "grade", "grade": 10**30, "comment": "x"}):
        r = client.post(f"/api/recordings/{rid}/reviews", json=body,
                        headers={"X-CSRF-Token": tok})
        assert r.status_code == 400, body
    pid = client.get(f"/api/recordings/{rid}").json()["patient_id"]
    r = client.post(f"/patients/{pid}/diary", data={"date": "2024-03-02", "spasms": "1e400",
                                                    "csrf_token": tok})
    assert r.status_code == 400
    r = client.post(f"/patients/{pid}/diary", data={"date": "99999-01-01", "spasms": "1",
                                                    "csrf_token": tok})
    assert r.status_code == 400
    # HTML pages answer with an HTML page, the API with JSON
    r = client.get("/recordings/999")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no such recording" in r.text and 'id="error-page"' in r.text
    r = client.get("/api/recordings/999")
    assert r.status_code == 404 and r.json()["detail"] == "no such recording"
    r = client.get("/admin/users")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert client.get("/no/such/page").headers["content-type"].startswith("text/html")


def test_no_server_paths_in_messages(app, settings):
    from hypsa.web.deps import clean_message

    class Req:
        class app:  # noqa: N801 - a stand-in for request.app
            state = app.state

    msg = f"cannot read {settings.data_dir}/recordings/ab12.edf: bad header at /tmp/x/y.part"
    out = clean_message(Req(), msg)
    assert str(settings.data_dir) not in out and "/tmp" not in out and "ab12.edf" in out


def test_duplicate_added_event_refused(analysed):
    client, tok, rid = analysed
    a = client.get(f"/api/recordings/{rid}").json()["analysis"]
    h = {"X-CSRF-Token": tok}
    url = f"/api/recordings/{rid}/reviews"
    onset = a["events"][0]["onset"]
    r = client.post(url, json={"kind": "add", "onset": onset + 0.2}, headers=h)
    assert r.status_code == 409 and "already counted" in r.json()["detail"]
    free = 2.0 if all(abs(e["onset"] - 2.0) > 1 for e in a["events"]) else 88.0
    assert client.post(url, json={"kind": "add", "onset": free}, headers=h).status_code == 200
    r = client.post(url, json={"kind": "add", "onset": free + 0.1}, headers=h)
    assert r.status_code == 409
    a2 = client.get(f"/api/recordings/{rid}").json()["analysis"]
    assert a2["reviewed"]["count"] == a["reviewed"]["count"] + 1


def test_audit_has_actions_not_polling_and_filters(analysed, app):
    from sqlalchemy import func, select

    client, tok, rid = analysed
    with app.state.db_factory() as db:
        n0 = db.scalar(select(func.count()).select_from(AuditLog))
    for _ in range(5):
        client.get("/api/recordings")
        client.get("/api/jobs")
    with app.state.db_factory() as db:
        assert db.scalar(select(func.count()).select_from(AuditLog)) == n0
    adm = TestClient(app)
    login(adm, "admin")
    page = adm.get("/admin/audit", params={"action": "upload"}).text
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]*)</td><td>([^<]+)</td>", page)
    assert rows and all(act.startswith("upload") for _, act in rows)
    page = adm.get("/admin/audit", params={"user_name": "admin"}).text
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]*)</td><td>([^<]+)</td>", page)
    assert rows and {u for u, _ in rows} == {"admin"}
    assert "No entry matches" in adm.get("/admin/audit", params={"since": "2199-01-01"}).text
    assert adm.get("/admin/audit", params={"since": "yesterday"}).status_code == 400


# ------------------------------------------------------------------------------ patient data
def test_diary_and_treatments_edit_delete_and_idempotent_import(analysed, app):
    from sqlalchemy import select

    from hypsa.web.patients import MAX_IMPORT_ROWS

    client, tok, rid = analysed
    rec = client.get(f"/api/recordings/{rid}").json()
    pid = rec["patient_id"]
    csv_text = "date,time,spasms,note\n2024-03-03,07:00,2,\n2024-03-04,,0,quiet day\n"

    def imp(text: str):
        return client.post(f"/patients/{pid}/diary.csv", data={"csrf_token": tok},
                           files={"file": ("diary.csv", text.encode(), "text/csv")},
                           follow_redirects=False)

    r = imp(csv_text)
    assert r.status_code == 303 and "2+diary" in r.headers["location"].replace("%20", "+")
    r = imp(csv_text)  # the same file again adds nothing and says so
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "0 diary row(s) added, 2 already there skipped" in page
    diary = client.get(f"/api/patients/{pid}").json()["diary"]
    assert len(diary) == 2
    big = "date,spasms\n" + "".join(f"2024-01-{1 + i % 28:02d},{i}\n"
                                    for i in range(MAX_IMPORT_ROWS + 1))
    r = imp(big)
    assert r.status_code == 400 and f"more than {MAX_IMPORT_ROWS} rows" in r.text
    assert len(client.get(f"/api/patients/{pid}").json()["diary"]) == 2
    did = diary[0]["id"]
    r = client.post(f"/patients/{pid}/diary/{did}", follow_redirects=False,
                    data={"date": "2024-03-03", "time": "07:30", "spasms": "4", "note": "x",
                          "csrf_token": tok})
    assert r.status_code == 303, r.text
    d = next(x for x in client.get(f"/api/patients/{pid}").json()["diary"] if x["id"] == did)
    assert (d["time"], d["spasms"]) == ("07:30", 4)
    assert client.post(f"/patients/{pid}/diary/{did}/delete", data={"csrf_token": tok},
                       follow_redirects=False).status_code == 303
    assert [x["id"] for x in client.get(f"/api/patients/{pid}").json()["diary"]] != [did, did]
    assert len(client.get(f"/api/patients/{pid}").json()["diary"]) == 1
    client.post(f"/patients/{pid}/treatments", data={"date": "2024-03-01", "event": "start",
                                                     "drug": "ACTH", "csrf_token": tok})
    tid = client.get(f"/api/patients/{pid}").json()["treatments"][0]["id"]
    r = client.post(f"/patients/{pid}/treatments/{tid}", follow_redirects=False,
                    data={"date": "2024-03-02", "event": "start", "drug": "vigabatrin",
                          "dose": "50 mg/kg", "csrf_token": tok})
    assert r.status_code == 303
    t = client.get(f"/api/patients/{pid}").json()["treatments"][0]
    assert (t["date"], t["drug"]) == ("2024-03-02", "vigabatrin")
    assert "?edit=t" in client.get(f"/patients/{pid}").text
    # a row of another patient cannot be reached through this one
    other = client.post("/patients", data={"code": "P-OTHER", "csrf_token": tok},
                        follow_redirects=False).headers["location"].rsplit("/", 1)[1]
    r = client.post(f"/patients/{other}/treatments/{tid}/delete", data={"csrf_token": tok})
    assert r.status_code == 404
    assert client.post(f"/patients/{pid}/treatments/{tid}/delete", data={"csrf_token": tok},
                       follow_redirects=False).status_code == 303
    assert client.get(f"/api/patients/{pid}").json()["treatments"] == []
    with app.state.db_factory() as db:
        acts = {a.action: a.detail for a in db.scalars(select(AuditLog))}
    assert "2024-03-03 07:00 2 -> 2024-03-03 07:30 4 x" in acts["diary.edit"]
    for act in ("diary.delete", "treatment.edit", "treatment.delete", "diary.import"):
        assert act in acts, act


def test_visit_dated_by_recording_start_and_short_rates(app, settings, edf_file,
                                                       analysis_of_edf):
    c = TestClient(app)
    tok = login(c)
    r = upload(c, tok, edf_file, recorded_on="")
    rid = r.json()["files"][0]["recording_id"]
    finish_like_worker(app, settings, rid, analysis_of_edf)
    rec = c.get(f"/api/recordings/{rid}").json()
    assert rec["recorded_on"] == "2024-01-01"  # the file's start, not the upload day
    doc = c.get(f"/api/patients/{rec['patient_id']}").json()
    assert doc["visits"][0]["date"] == "2024-01-01"
    # 90 s of EEG: count, hours and a rate per hour with its interval, never per 24 h
    rate = rec["analysis"]["reviewed"]["rate"]
    assert rate["per_24h"] is None and rate["per_hour"] > 0
    lo, hi = rate["per_hour_ci95"]
    assert lo < rate["per_hour"] < hi
    assert doc["visits"][0]["per_24h"] is None
    for page in (c.get(f"/recordings/{rid}").text, c.get(f"/patients/{rec['patient_id']}").text,
                 c.get("/").text):
        assert "per 24 h" not in page
        assert not re.search(r"\d per 24", page)
    assert "per hour (95 % CI" in c.get(f"/recordings/{rid}").text


def test_viewer_window_has_emg_on_its_own(analysed):
    client, tok, rid = analysed
    w = client.get(f"/api/recordings/{rid}/window", params={"start": 0, "duration": 10}).json()
    assert [x["kind"] for x in w["extra"]] == ["emg"]
    emg = w["extra"][0]
    assert emg["name"] == "EMG" and "EMG" not in w["channels"]
    assert 0 < len(emg["data"]) <= 1200 and emg["sfreq"] > 0


# ------------------------------------------------------------------------------ re-analysis
def _rev(i, kind, analysis_id, **kw):
    from datetime import datetime
    from types import SimpleNamespace

    base = {"id": i, "kind": kind, "analysis_id": analysis_id, "event_key": None, "onset": None,
            "duration": None, "grade": None, "comment": "", "reviewer_id": 7,
            "created_at": datetime(2026, 1, 1, 10, i % 60, i // 60), "carried_from": None}
    return SimpleNamespace(**{**base, **kw})


def test_carry_over_matches_by_time_and_marks_the_rest():
    from types import SimpleNamespace

    from hypsa.web import review as RV

    def ev(*onsets):
        return [{"onset": o, "duration": 1.0, "confidence": 0.9, "cluster": 0} for o in onsets]

    old = SimpleNamespace(id=1, events=ev(10.0, 20.0, 30.0, 40.0), based_score=5,
                          probability=0.9, n_spasms=4, summary={})
    new = SimpleNamespace(id=2, events=ev(10.4, 29.0, 55.0, 70.2), based_score=5,
                          probability=0.9, n_spasms=4, summary={})
    revs = [_rev(1, "reject", 1, event_key="d0", comment="artefact"),
            _rev(2, "confirm", 1, event_key="d1"),      # 20 s: gone in the new analysis
            _rev(3, "reject", 1, event_key="d3"),       # 40 s: gone, nothing to do
            _rev(4, "confirm", 1, event_key="d2"),      # 30 s -> 29 s: 1 s, within tolerance
            _rev(5, "add", 1, onset=55.3, duration=1.0, comment="missed"),  # now detected
            _rev(6, "add", 1, onset=70.0, duration=1.0),  # new event 0.2 s away: confirmed
            _rev(7, "add", 1, onset=80.0, duration=2.0),  # stays added
            _rev(8, "grade", 1, grade=3, comment="no high amplitude")]
    # 70.0 and 70.2: the add at 70.0 takes d3 (70.2), so its own row is not added twice
    rows = RV.carry_over(old, revs, new)
    by = [(r["kind"], r.get("event_key"), r.get("onset")) for r in rows]
    assert ("grade", None, None) in by
    assert ("reject", "d0", None) in by and ("confirm", "d1", None) in by
    assert ("uncarried", "d1", 20.0) in by
    assert ("confirm", "d2", None) in by and ("confirm", "d3", None) in by
    assert ("add", None, 80.0) in by
    assert not any(k == "reject" and key == "d3" for k, key, _ in by)
    assert all(r["reviewer_id"] == 7 and r["carried_from"] for r in rows)
    g = next(r for r in rows if r["kind"] == "grade")
    assert g["grade"] == 3 and g["comment"] == "no high amplitude"
    # applied to the new analysis: same counted set, one decision put to the reviewer
    applied = [_rev(100 + i, r.pop("kind"), 2, **r) for i, r in enumerate(rows)]
    st = RV.reviewed_summary(new, applied)
    assert st["grade"]["grade"] == 3 and st["grade"]["carried"] and st["pending"] == 1
    assert st["grade"]["verdict"] == "absent" and st["grade"]["machine_verdict"] == "present"
    assert st["count"] == 4  # 29.0, 55.0, 70.2 confirmed + 80.0 added; 10.4 rejected


def test_reanalysis_keeps_reviews_and_report_is_reviewed(analysed, settings, app):
    client, tok, rid = analysed
    h = {"X-CSRF-Token": tok}
    url = f"/api/recordings/{rid}/reviews"
    a = client.get(f"/api/recordings/{rid}").json()["analysis"]
    first = a["events"][0]
    client.post(url, json={"kind": "reject", "event_key": first["key"], "comment": "EMG only"},
                headers=h)
    free = next(t for t in (2.0, 45.0, 88.0)
                if all(abs(e["onset"] - t) > 2 for e in a["events"]))
    client.post(url, json={"kind": "add", "onset": free, "duration": 1.5, "comment": "missed"},
                headers=h)
    client.post(url, json={"kind": "grade", "grade": 2, "comment": "no high amplitude"},
                headers=h)
    before = client.get(f"/api/recordings/{rid}").json()["analysis"]
    # the report is the reviewed one, with the machine's verdict beside
    rep = client.get(f"/recordings/{rid}/report").text
    assert 'id="review-state"' in rep and "Reviewed BASED grade <b>2</b>" in rep
    assert f"Machine's verdict: BASED {a['detected_grade']}" in rep
    assert "by rev at" in rep
    # the added event is listed, marked as added by the reviewer
    i = rep.index('id="reviewer-added"')
    table = rep[i:rep.index("</table>", i)]
    assert f"<td>{free:.1f}</td>" in table and "added by the reviewer rev at" in table
    assert "missed" in table
    # re-analysis needs confirmation, and is audited
    r = client.post(f"/api/recordings/{rid}/reanalyze", json={}, headers=h)
    assert r.status_code == 409 and "confirm" in r.json()["detail"]
    r = client.post(f"/api/recordings/{rid}/reanalyze", json={"confirm": True}, headers=h)
    assert r.status_code == 200
    assert process_one(settings, app.state.db_factory) == "done"
    after = client.get(f"/api/recordings/{rid}").json()["analysis"]
    assert after["id"] != before["id"]
    g = after["reviewed"]["grade"]
    assert (g["grade"], g["comment"], g["reviewer"], g["carried"]) == (
        2, "no high amplitude", "rev", True)
    assert g["reviewed_at"] == before["reviewed"]["grade"]["reviewed_at"]
    assert after["reviewed"]["count"] == before["reviewed"]["count"]
    rej = [e for e in after["events"] if e["status"] == "rejected"]
    assert len(rej) == 1 and abs(rej[0]["onset"] - first["onset"]) <= 1.0
    assert rej[0]["carried"] and rej[0]["comment"] == "EMG only"
    added = [e for e in after["events"] if e["source"] == "added"]
    assert len(added) == 1 and added[0]["onset"] == free and added[0]["carried"]
    assert after["pending"] == []
    from sqlalchemy import select

    with app.state.db_factory() as db:
        req = [x.detail for x in db.scalars(select(AuditLog).where(
            AuditLog.action == "job.requeue"))]
    assert req and "confirmed" in req[-1]


def test_uncarried_decisions_are_put_to_the_reviewer(analysed, app):
    """A decision the new analysis could not take (as :func:`carry_over` leaves it) is shown
    to the reviewer, who keeps the event or dismisses the decision."""
    from sqlalchemy import select

    from hypsa.web.db import AnalysisRow, Review, User

    client, tok, rid = analysed
    with app.state.db_factory() as db, db.begin():
        an = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id == rid))
        uid = db.scalar(select(User.id).where(User.username == "admin"))
        for onset in (3.0, 87.0):
            db.add(Review(recording_id=rid, analysis_id=an.id, kind="uncarried",
                          event_key="d9", onset=onset, duration=1.0, reviewer_id=uid,
                          carried_from=1, comment=f"confirmed {onset} s, no longer detected"))
    a = client.get(f"/api/recordings/{rid}").json()["analysis"]
    assert [p["onset"] for p in a["pending"]] == [3.0, 87.0] and a["reviewed"]["pending"] == 2
    assert "Decisions not carried" in client.get(f"/recordings/{rid}").text
    assert "2 to settle" in client.get("/").text
    n0 = a["reviewed"]["count"]
    url, h = f"/api/recordings/{rid}/reviews", {"X-CSRF-Token": tok}
    keep, drop = a["pending"][0]["key"], a["pending"][1]["key"]
    r = client.post(url, json={"kind": "resolve", "key": keep, "action": "add"}, headers=h)
    assert r.status_code == 200
    a = r.json()["analysis"]
    assert a["reviewed"]["count"] == n0 + 1 and [p["key"] for p in a["pending"]] == [drop]
    assert any(e["source"] == "added" and e["onset"] == 3.0 for e in a["events"])
    r = client.post(url, json={"kind": "resolve", "key": drop, "action": "dismiss"}, headers=h)
    a = r.json()["analysis"]
    assert a["pending"] == [] and a["reviewed"]["count"] == n0 + 1
    r = client.post(url, json={"kind": "resolve", "key": drop, "action": "dismiss"}, headers=h)
    assert r.status_code == 400

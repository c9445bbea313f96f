"""Video-EEG in the web app: upload with a video, the video route (auth, ranges), the worker
using its movement and frames, adding and removing a video, and the video kept in step with the
EEG cursor in a real browser (Chromium)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
pytest.importorskip("av")
pytest.importorskip("cv2")

from fastapi.testclient import TestClient  # noqa: E402

from hypsa.web.app import create_app  # noqa: E402
from hypsa.web.db import AuditLog, RecordingVideo  # noqa: E402
from hypsa.web.jobs import process_one  # noqa: E402
from hypsa.web.security import create_user  # noqa: E402
from hypsa.web.settings import Settings  # noqa: E402

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("HYPSA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with argon2-cffi's cheapest parameters (its profile for tests)."""
    from argon2 import PasswordHasher, profiles

    from hypsa.web import security

    h = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(security, "_hasher", h)
    monkeypatch.setattr(security, "_DUMMY", h.hash("hypsa-no-such-user"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> dict:
    """A 60-s simulated video (256x144, 15 fps) and its EEG on the same clock."""
    from hypsa.video.simulate import simulate_video

    d = tmp_path_factory.mktemp("web-video")
    s = simulate_video(d / "Doe_clip.mp4", 1.0, width=256, height=144, fps=15,
                       eeg=d / "infant.edf", seed=2)
    return {"edf": s.eeg, "clip": s.video}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", max_upload_mb=20, heartbeat_s=0.2)


@pytest.fixture
def app(settings: Settings):
    a = create_app(settings)
    with a.state.db_factory() as db, db.begin():
        create_user(db, "rev", PASSWORD, "reviewer")
    yield a
    a.state.engine.dispose()


def login(client: TestClient) -> str:
    tok = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "rev", "password": PASSWORD, "csrf_token": tok},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text).group(1)


def post_upload(client: TestClient, tok: str, edf: Path, clip: Path | None = None,
                offset: str = "", clip_name: str | None = None):
    files = [("files", (edf.name, edf.read_bytes(), "application/octet-stream"))]
    if clip is not None:
        files.append(("video", (clip_name or clip.name, clip.read_bytes(), "video/mp4")))
    return client.post("/api/uploads", headers={"X-CSRF-Token": tok}, files=files,
                       data={"patient_code": "P-7", "video_offset": offset})


def test_upload_with_video_analysis_and_video_route(app, settings, sim):
    c = TestClient(app)
    tok = login(c)
    r = post_upload(c, tok, sim["edf"], sim["clip"])
    assert r.status_code == 200, r.text
    f = r.json()["files"][0]
    assert f["ok"] and f["video"]["method"] == "clock times" and f["video"]["offset_s"] == 0
    rid = f["recording_id"]
    stored = list(settings.videos_dir.iterdir())
    assert len(stored) == 1 and "Doe" not in stored[0].name  # a server-generated name
    from hypsa.video.read import probe

    # de-identified: the picture copied as is, the clock and other metadata gone
    assert probe(sim["clip"]).creation_time is not None
    assert probe(stored[0]).creation_time is None
    assert abs(probe(stored[0]).duration_s - probe(sim["clip"]).duration_s) < 0.2
    assert process_one(settings) == "done"
    d = c.get(f"/api/recordings/{rid}").json()
    assert d["video"]["name"] == "Doe_clip.mp4" and d["video"]["url"] == f"/recordings/{rid}/video"
    clip = d["analysis"]["summary"]["video"]["clips"][0]
    assert clip["file"] == "Doe_clip.mp4" and clip["method"] == "clock times"
    assert str(settings.data_dir) not in str(d["analysis"]["summary"])
    # the clip's movement was measured over the whole recording and given to the detector
    vs = d["analysis"]["summary"]["video"]
    assert vs["covered_s"] > 55 and "movement" in vs["modality"]
    assert d["video"]["anonymized"] is True
    # the video: whole, and by byte ranges
    data = stored[0].read_bytes()
    full = c.get(f"/recordings/{rid}/video")
    assert full.status_code == 200 and full.content == data
    assert full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes"
    part = c.get(f"/recordings/{rid}/video", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == data[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(data)}"
    tail = c.get(f"/recordings/{rid}/video", headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert c.get(f"/recordings/{rid}/video",
                 headers={"Range": f"bytes={len(data) + 5}-"}).status_code == 416
    # the frames of each event for the review list, and in the report
    fr = c.get(f"/api/recordings/{rid}/video/frames").json()["events"]
    assert fr and all(len(v) == 3 and v[0][1].startswith("data:image/jpeg;base64,")
                      for v in fr.values())
    assert set(fr) <= {f"d{i}" for i in range(len(d["analysis"]["events"]))}
    rep = c.get(f"/recordings/{rid}/report").text
    assert 'class="vframe"' in rep and "Doe_clip.mp4" in rep
    key = next(iter(fr))  # once reviewed, the report of the reviewed state shows them too
    r = c.post(f"/api/recordings/{rid}/reviews", headers={"X-CSRF-Token": tok},
               json={"kind": "confirm", "event_key": key})
    assert r.status_code == 200, r.text
    rep = c.get(f"/recordings/{rid}/report").text
    assert 'id="review-state"' in rep and 'class="vframe"' in rep
    page = c.get(f"/recordings/{rid}").text
    assert f'src="/recordings/{rid}/video"' in page and "/static/video.js" in page
    with app.state.db_factory() as db:
        actions = {a.action for a in db.query(AuditLog)}
    assert {"upload", "video.view", "video.frames"} <= actions
    # no session: no video, no frames
    anon = TestClient(app)
    r = anon.get(f"/recordings/{rid}/video", follow_redirects=False)
    assert r.status_code in (303, 401) and r.content != data
    assert anon.get(f"/api/recordings/{rid}/video/frames").status_code == 401
    assert c.get("/recordings/999/video").status_code == 404


def test_add_replace_remove_and_rejections(app, settings, sim, tmp_path):
    c = TestClient(app)
    tok = login(c)
    # a video goes with one recording; a bad one is refused in one line, nothing kept
    two = c.post("/api/uploads", headers={"X-CSRF-Token": tok}, files=[
        ("files", ("a.edf", sim["edf"].read_bytes())),
        ("files", ("b.edf", sim["edf"].read_bytes())),
        ("video", ("c.mp4", sim["clip"].read_bytes()))])
    assert two.status_code == 400 and "one recording" in two.json()["detail"]
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(5000))
    r = post_upload(c, tok, sim["edf"], junk)
    assert r.status_code == 400
    err = r.json()["files"][0]["error"]
    assert "junk.mp4" in err and "\n" not in err and "recording was not kept" in err
    assert not list(settings.recordings_dir.iterdir()) and not list(settings.videos_dir.iterdir())
    txt = post_upload(c, tok, sim["edf"], sim["clip"], clip_name="notes.txt")
    assert txt.status_code == 400 and "not an accepted video" in txt.json()["detail"]
    far = post_upload(c, tok, sim["edf"], sim["clip"], offset="5000")
    assert far.status_code == 400 and "does not overlap" in far.json()["files"][0]["error"]
    # a recording without video, then a video added with an offset (the queued job uses it)
    r = post_upload(c, tok, sim["edf"])
    rid = r.json()["files"][0]["recording_id"]
    assert c.get(f"/api/recordings/{rid}").json()["video"] is None
    add = c.post(f"/api/recordings/{rid}/video", headers={"X-CSRF-Token": tok},
                 files=[("video", ("cam.mp4", sim["clip"].read_bytes()))],
                 data={"video_offset": "2.5"})
    assert add.status_code == 200, add.text
    v = add.json()["video"]
    assert v["offset_s"] == 2.5 and v["method"] == "given offset"
    assert add.json()["job_id"] == r.json()["files"][0]["job_id"]  # the queued job, not a new one
    no_csrf = c.post(f"/api/recordings/{rid}/video",
                     files=[("video", ("cam.mp4", sim["clip"].read_bytes()))])
    assert no_csrf.status_code in (400, 403)
    # replaced: one row, one file
    rep = c.post(f"/api/recordings/{rid}/video", headers={"X-CSRF-Token": tok},
                 files=[("video", ("cam2.mp4", sim["clip"].read_bytes()))])
    assert rep.status_code == 200 and rep.json()["video"]["method"] == "clock times"
    with app.state.db_factory() as db:
        assert db.query(RecordingVideo).count() == 1
    assert len(list(settings.videos_dir.iterdir())) == 1
    # removed
    gone = c.delete(f"/api/recordings/{rid}/video", headers={"X-CSRF-Token": tok})
    assert gone.status_code == 200
    assert not list(settings.videos_dir.iterdir())
    assert c.get(f"/recordings/{rid}/video").status_code == 404


def test_strip_metadata_keeps_picture_and_rotation(tmp_path):
    import av
    import numpy as np

    from hypsa.web.video import strip_metadata

    src, dst = tmp_path / "phone.mp4", tmp_path / "stored.mp4"
    with av.open(str(src), "w") as c:
        c.metadata.update({"creation_time": "2024-01-01T09:00:00Z", "title": "Jane Doe",
                           "location": "+48.8584+002.2945/"})
        s = c.add_stream("libx264", rate=15)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.set_display_rotation(90)
        for i in range(30):
            img = np.full((48, 64, 3), 8 * i, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    strip_metadata(src, dst)
    raw = dst.read_bytes()
    assert b"Jane" not in raw and b"48.8584" not in raw and b"2024-01-01" not in raw
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        fa = [f.to_ndarray(format="gray") for f in a.decode(video=0)]
        fb = list(b.decode(video=0))
        assert len(fa) == len(fb) == 30
        assert all(np.array_equal(x, y.to_ndarray(format="gray"))
                   for x, y in zip(fa, fb, strict=True))
        assert fb[0].rotation == 90


def test_migration_0004(tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from hypsa.web.db import alembic_config, make_engine, migrate

    eng = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(eng)
    assert "recording_videos" in set(inspect(eng).get_table_names())
    cfg = alembic_config(eng)
    script = ScriptDirectory.from_config(cfg)
    assert script.get_revision("0004").down_revision == "0003"
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert "recording_videos" not in set(inspect(eng).get_table_names())
    eng.dispose()


# ------------------------------------------------------------------------------ browser
@pytest.mark.slow
def test_browser_video_follows_eeg_cursor_and_back(tmp_path, sim):
    """Upload a recording with its video (offset 2 s) through the dashboard, then on the
    review page: paging the EEG seeks the video to the aligned time; seeking and playing the
    video move the EEG cursor and turn the page; each event shows its frames."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from webserver import PASSWORD as SERVER_PASSWORD
    from webserver import server

    off = 2.0
    with server(tmp_path / "data") as url, sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu",
                                               "--disable-dev-shm-usage",
                                               "--autoplay-policy=no-user-gesture-required"])
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip
            pytest.skip(f"Chromium does not start: {exc}")
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", SERVER_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#upload-form")
            page.set_input_files("#files", str(sim["edf"]))
            page.set_input_files("#video", str(sim["clip"]))
            page.fill("#video_offset", str(off))
            page.click("#upload-btn")
            ok = page.locator("#upload-log li.ok")
            ok.wait_for()
            assert "given offset" in ok.inner_text()
            row = page.locator('#recordings tr[data-status="done"]')
            row.wait_for(timeout=90_000)
            row.locator("td a").click()
            page.wait_for_selector("#events tbody tr[data-key]")
            page.wait_for_function("() => document.getElementById('video').readyState >= 1")
            cur = "parseFloat(document.getElementById('eeg').dataset.cursor)"
            vt = "document.getElementById('video').currentTime"
            start = "parseFloat(document.getElementById('eeg').dataset.start)"
            # EEG -> video: the first event's page, then the next page
            page.wait_for_function(f"() => Math.abs({vt} - ({cur} - {off})) < 0.1 && {cur} > {off}")
            page.click("#next-page")
            page.wait_for_function(f"() => Math.abs({cur} - {start}) < 0.01")
            page.wait_for_function(f"() => Math.abs({vt} - ({cur} - {off})) < 0.1")
            s_before = page.evaluate(f"() => {start}")
            # a click on the trace moves the cursor, and the video
            box = page.locator("#eeg").bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + 40)
            page.wait_for_function(f"() => {cur} > {s_before} + 5")
            page.wait_for_function(f"() => Math.abs({vt} - ({cur} - {off})) < 0.1")
            # video -> EEG: a seek far away turns the page to the aligned time
            page.evaluate("() => { document.getElementById('video').currentTime = 40; }")
            page.wait_for_function(f"() => Math.abs({cur} - {40 + off}) < 0.05")
            page.wait_for_function(f"() => {start} <= {40 + off} && {40 + off} <= {start} + 10")
            # playing moves the cursor along with the video
            page.evaluate("() => document.getElementById('video').play()")
            page.wait_for_function(f"() => {cur} > {40 + off + 1.0}", timeout=20_000)
            page.evaluate("() => document.getElementById('video').pause()")
            page.wait_for_function(f"() => Math.abs({vt} + {off} - {cur}) < 0.3")
            # the frames of each detected event in the review list
            assert page.locator("#events thead th.vframes").count() == 1
            assert page.locator("#events tbody tr[data-key] img.vframe").count() >= 3
            src = page.locator("#events tbody tr[data-key] img.vframe").first.get_attribute("src")
            assert src.startswith("data:image/jpeg;base64,")
            if os.environ.get("HYPSA_SCREENSHOTS"):
                shots = Path(os.environ["HYPSA_SCREENSHOTS"])
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / "web-review-video.png"), full_page=True)
        finally:
            browser.close()

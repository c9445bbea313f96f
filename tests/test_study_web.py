"""A two-reader blinded study in the web app, end to end in a browser (Playwright, headless
Chromium), with a real ``hypsa serve`` in a subprocess; and the study's migration chain."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("krippendorff")

from webserver import PASSWORD, server  # noqa: E402

CHROMIUM = os.environ.get("HYPSA_CHROMIUM", "/usr/bin/chromium")


def test_migration_chain(tmp_path):
    """0003 follows 0002 and creates the study tables; downgrade drops them."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    from hypsa.web.db import alembic_config, make_engine, migrate

    eng = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(eng)
    names = set(inspect(eng).get_table_names())
    assert {"studies", "study_readers", "study_recordings", "study_scores",
            "study_marks"} <= names
    cfg = alembic_config(eng)
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1
    assert script.get_revision("0003").down_revision == "0002"
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
    assert "studies" not in set(inspect(eng).get_table_names())
    eng.dispose()


@pytest.fixture(scope="module")
def edf_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four short simulated recordings (the study's)."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("study-sim")
    return [simulate(40, hypsarrhythmia="classic" if k % 2 == 0 else "none",
                     n_clusters=1, seed=10 + k).write_edf(d / f"visit{k}.edf")
            for k in range(4)]


def _make_readers(url: str) -> None:
    c = httpx.Client(base_url=url, timeout=60)
    tok = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 303, r.text
    tok = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)
    for name in ("reader1", "reader2"):
        r = c.post("/admin/users", data={"username": name, "password": PASSWORD,
                                         "role": "reviewer", "csrf_token": tok})
        assert r.status_code in (200, 303), r.text
    c.close()


# per reader and recording: (grade, hypsarrhythmia, spasm onsets)
SCORES = {
    "reader1": [(5, "yes", [5.0, 12.0]), (1, "no", []), (4, "yes", [8.0]), (2, "no", [])],
    "reader2": [(4, "yes", [5.3, 20.0]), (1, "no", []), (3, "no", [8.4]), (2, "no", [])],
}


@pytest.mark.slow
def test_two_reader_blinded_study(tmp_path, edf_files):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    expect = sync_api.expect
    with server(tmp_path / "data") as url, sync_api.sync_playwright() as pw:
        _make_readers(url)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu",
                                           "--disable-dev-shm-usage"])
        try:
            def login(name: str):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(60_000)
                page.goto(f"{url}/login")
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{url}/")
                return page

            owner = login("admin")
            owner.click("a[href='/studies']")
            owner.fill("#new-study input[name=name]", "Inter-rater pilot")
            owner.fill("#new-study input[name=readers]", "reader1, reader2")
            owner.click("#new-study button[type=submit]")
            expect(owner.locator("#study-status")).to_have_text("open")
            sid = int(re.search(r"/studies/(\d+)", owner.url).group(1))
            owner.set_input_files("#add-recordings input[type=file]",
                                  [str(p) for p in edf_files])
            owner.click("#add-recordings button[type=submit]")
            expect(owner.locator("#progress")).to_contain_text("0 / 4")

            readers = {}
            for name, rows in SCORES.items():
                page = login(name)
                readers[name] = page
                page.goto(f"{url}/studies/{sid}")
                links = page.locator("#to-read a")
                expect(links).to_have_count(4)
                for k, (grade, hyps, onsets) in enumerate(rows):
                    page.goto(f"{url}/studies/{sid}")
                    page.locator("#to-read a").nth(k).click()
                    expect(page.locator("#pos")).to_contain_text(" s of ")
                    # blinded: no machine output, no other reader's marks
                    body = page.content()
                    assert "confidence" not in body and "visit" not in body
                    for t in onsets:
                        page.fill("#mark-onset", str(t))
                        page.click("#mark-form button[type=submit]")
                        expect(page.locator("#marks")).to_contain_text(f"{t:.2f} s")
                    expect(page.locator("#marks tbody tr")).to_have_count(max(1, len(onsets)))
                    page.select_option("#grade", str(grade))
                    page.select_option("#hyps", hyps)
                    page.fill("#comment", f"{name} on R{k + 1}")
                    page.check("#done")
                    page.click("#score-form button[type=submit]")
                    expect(page.locator("#msg")).to_have_text("Saved.")
            # reader1 sees only their own marks, and neither the recording itself nor the
            # agreement while the study is open
            r1 = readers["reader1"]
            api = r1.request.get(f"{url}/api/studies/{sid}/items/1")
            assert api.ok and [m["onset"] for m in api.json()["marks"]] == [5.0, 12.0]
            assert r1.request.get(f"{url}/api/studies/{sid}/items/1/window").json()[
                "events"] == []
            for rid in range(1, 5):  # a fresh database: the study's four recordings
                assert r1.request.get(f"{url}/api/recordings/{rid}").status == 403
                assert owner.request.get(f"{url}/recordings/{rid}").status == 403
            assert r1.request.get(f"{url}/studies/{sid}/agreement").status == 403

            owner.goto(f"{url}/studies/{sid}")
            expect(owner.locator("#progress")).to_contain_text("4 / 4")
            owner.click("#lock")
            expect(owner.locator("#study-status")).to_have_text("locked")
            # locked: scores are frozen
            r2 = readers["reader2"]
            tok = r2.locator("meta[name=csrf-token]").get_attribute("content")
            frozen = r2.request.post(f"{url}/api/studies/{sid}/items/1/marks",
                                     data={"onset": 30.0}, headers={"X-CSRF-Token": tok})
            assert frozen.status == 409
            owner.goto(f"{url}/studies/{sid}")
            owner.click("#unblind")
            owner.wait_for_url(f"{url}/studies/{sid}/agreement")
            expect(owner.locator("#kappa")).to_contain_text("hypsarrhythmia kappa")
            expect(owner.locator("#kappa")).to_contain_text("reader vs reader")
            # kappa with its interval, and the event-level table
            row = owner.locator("#kappa tbody tr").filter(has_text="grade weighted kappa").first
            expect(row).to_contain_text(" to ")
            ev = owner.locator("#events tbody tr").first
            expect(ev).to_contain_text("reader1")
            expect(ev).to_contain_text("reader2")
            expect(owner.locator("#overall")).to_contain_text("Fleiss")
            # readers now see it too
            r1.goto(f"{url}/studies/{sid}/agreement")
            expect(r1.locator("#events")).to_contain_text("0.667")
            rep = r1.request.get(f"{url}/studies/{sid}/agreement/report")
            assert rep.ok and "Krippendorff" in rep.text()
        finally:
            browser.close()


def test_site_model_adopted_by_an_admin(tmp_path):
    """An accepted calibration is used only once an admin adopts it; the worker's analysis
    parameters then carry it, and removing it goes back to the shipped model."""
    from fastapi.testclient import TestClient

    from hypsa.study.calibrate import calibrate
    from hypsa.study.simulate import simulated_site
    from hypsa.web.app import create_app
    from hypsa.web.security import create_user
    from hypsa.web.settings import Settings
    from hypsa.web.studies import CANDIDATE_DIR, site_params

    s = Settings(data_dir=tmp_path / "data")
    app = create_app(s)
    with app.state.db_factory() as db, db.begin():
        create_user(db, "admin", PASSWORD, "admin")
        create_user(db, "rev", PASSWORD, "reviewer")
    c = TestClient(app)

    def login(name: str) -> str:
        c.cookies.clear()
        tok = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": tok},
                   follow_redirects=False)
        assert r.status_code == 303
        return re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)

    tok = login("rev")
    assert c.get("/admin/site-model").status_code == 403
    tok = login("admin")
    page = c.get("/admin/site-model")
    assert page.status_code == 200 and "the shipped model" in page.text
    assert c.post("/admin/site-model/adopt", headers={"X-CSRF-Token": tok}).status_code == 409
    m = calibrate(simulated_site(pos=(5.0, 4.0), neg=(1.0, 20.0)), shipped_threshold=0.8,
                  refit=False,
                  name="site model test")
    m.save(s.data_dir / CANDIDATE_DIR)
    assert site_params(s) is None  # a candidate is not used
    page = c.get("/admin/site-model")
    assert "accepted" in page.text and "Adopt this site model" in page.text
    r = c.post("/admin/site-model/adopt", headers={"X-CSRF-Token": tok}, follow_redirects=False)
    assert r.status_code == 303
    p = site_params(s)
    assert p.spasm_model.name == "site model test" and p.spasms.min_confidence == m.floor
    assert "site model test" in c.get("/admin/site-model").text
    c.post("/admin/site-model/remove", headers={"X-CSRF-Token": tok})
    assert site_params(s) is None
    app.state.engine.dispose()

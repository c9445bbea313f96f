"""End-to-end tests of ``hypsa serve``: a real uvicorn server and worker in subprocesses.

* browser: headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright for Python;
* restart: the worker is killed in the middle of a job and a new one completes it;
* load: 20 concurrent uploads over loopback, none lost.

Each test skips cleanly when what it needs (Playwright, Chromium) is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from webserver import PASSWORD, free_port, server  # noqa: E402

CHROMIUM = os.environ.get("HYPSA_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = os.environ.get("HYPSA_SCREENSHOTS", "")  # a folder: save page screenshots there


@pytest.fixture(scope="module")
def edf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 90-s simulated hypsarrhythmic recording with spasms and EMG (long enough to grade)."""
    from hypsa.simulate import simulate

    d = tmp_path_factory.mktemp("e2e-sim")
    return simulate(90, hypsarrhythmia="classic", n_clusters=2, seed=3, emg=True).write_edf(
        d / "infant_visit1.edf")


def http_login(url: str) -> tuple[httpx.Client, str]:
    import re

    c = httpx.Client(base_url=url, timeout=120)
    tok = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 303, r.text
    tok = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)
    return c, tok


# ------------------------------------------------------------------------------ browser
@pytest.mark.slow
def test_browser_upload_review_export(tmp_path, edf_file):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    shots = Path(SCREENSHOTS) if SCREENSHOTS else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    with server(tmp_path / "data") as url, sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu",
                                               "--disable-dev-shm-usage"])
        except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip
            pytest.skip(f"Chromium does not start: {exc}")
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900},
                                       accept_downloads=True).new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/")
            assert page.url.endswith("/login")
            if shots:
                page.screenshot(path=str(shots / "web-login.png"))
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#upload-form")
            page.set_input_files("#files", str(edf_file))
            page.fill("#patient_code", "P-017")
            page.fill("#recorded_on", "2024-03-01")
            page.click("#upload-btn")
            page.wait_for_selector("#upload-log li.ok")
            row = page.locator('#recordings tr[data-status="done"]')
            row.wait_for(timeout=60_000)
            grade = row.locator("td.grade").inner_text().strip()
            spasms = int(row.locator("td.spasms").inner_text().split()[0])
            assert grade.isdigit() and spasms >= 1
            if shots:
                page.screenshot(path=str(shots / "web-dashboard.png"), full_page=True)
            row_id = row.get_attribute("data-rec")
            row.locator("td a").click()
            page.wait_for_selector("#events tbody tr[data-key]")
            expect = sync_api.expect
            expect(page.locator("#pos")).to_contain_text(" s of ")
            assert int(page.inner_text("#spasm-count")) == spasms
            page.select_option("#montage", "double_banana")
            expect(page.locator("#pos")).to_contain_text("double banana")
            if shots:
                page.screenshot(path=str(shots / "web-review.png"), full_page=True)
            page.locator("#events tbody tr[data-key] button.reject").first.click()
            expect(page.locator("#spasm-count")).to_have_text(str(spasms - 1))
            assert "rejected" in page.locator("#events tbody tr[data-key]").first.get_attribute(
                "class")
            with page.expect_download() as dl:
                page.click("#export-link")
            out = tmp_path / "export.edf"
            dl.value.save_as(out)
            from hypsa.io import read

            texts = [str(t) for t in read(out).annotations["description"]]
            assert sum(t.startswith("hypsa spasm conf=") for t in texts) == spasms - 1
            page.goto(f"{url}/")
            page.wait_for_selector('#recordings tr[data-status="done"]')
            n = page.locator("#recordings tr td.spasms").first.inner_text().split()[0]
            assert int(n) == spasms - 1
            page.goto(f"{url}/patients")
            page.click("text=P-017")
            page.wait_for_selector("#visits")
            if shots:
                page.screenshot(path=str(shots / "web-patient.png"), full_page=True)
            # the EMG channel is drawn below the EEG, and can be hidden
            page.goto(f"{url}/recordings/{row_id}")
            page.wait_for_selector("#events tbody tr[data-key]")
            expect(page.locator("#show-emg")).to_be_checked()
            expect(page.locator("#eeg")).to_have_attribute("data-drawn-extra", "EMG")
            page.uncheck("#show-emg")
            expect(page.locator("#eeg")).to_have_attribute("data-drawn-extra", "")
            # overrule the grade, then analyse again: every decision survives
            page.select_option("#grade-value", "2")
            page.fill("#grade-comment", "no high amplitude")
            page.click("#grade-form button")
            expect(page.locator("#grade")).to_have_text("2")
            expect(page.locator("#present")).to_have_text("absent")
            machine = page.inner_text("#machine")
            assert machine.startswith("machine: BASED")
            rejected_at = page.locator("#events tbody tr.rejected a.jump").first.inner_text()
            page.on("dialog", lambda d: d.accept())
            page.click("#reanalyze")
            page.wait_for_selector("#rerun")
            page.wait_for_selector("#rerun", state="detached", timeout=90_000)
            page.wait_for_selector("#events tbody tr[data-key]")
            expect(page.locator("#grade")).to_have_text("2")
            expect(page.locator("#grade-note")).to_contain_text("by admin")
            expect(page.locator("#grade-note")).to_contain_text("no high amplitude")
            assert page.inner_text("#machine") == machine
            carried = page.locator("#events tbody tr.rejected")
            expect(carried).to_have_count(1)
            expect(carried.locator(".ev-status")).to_have_text("rejected (carried)")
            assert carried.locator("a.jump").inner_text() == rejected_at
            assert int(page.inner_text("#spasm-count")) == spasms - 1
            if shots:
                page.screenshot(path=str(shots / "web-review-carried.png"), full_page=True)
        finally:
            browser.close()


# ------------------------------------------------------------------------------ restart
@pytest.mark.slow
def test_worker_killed_mid_job_then_restarted(tmp_path, edf_file):
    """Upload with no worker, start one that holds the job, kill it, start another."""
    from hypsa.web.server import start_worker
    from hypsa.web.settings import Settings

    data = tmp_path / "data"
    with server(data, worker=False) as url:
        c, tok = http_login(url)
        with open(edf_file, "rb") as f:
            r = c.post("/api/uploads", headers={"X-CSRF-Token": tok},
                       files=[("files", (edf_file.name, f, "application/octet-stream"))])
        jid = r.json()["files"][0]["job_id"]
        settings = Settings(data_dir=data, job_stale_s=2, heartbeat_s=0.3)

        def status() -> dict:
            return c.get(f"/api/jobs?ids={jid}").json()["jobs"][0]

        # the first worker holds the job 30 s (testing knob) so it can be killed mid-job
        os.environ["HYPSA_TEST_JOB_DELAY_S"] = "30"
        try:
            w1 = start_worker(settings, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.environ.pop("HYPSA_TEST_JOB_DELAY_S", None)
        try:
            t_end = time.monotonic() + 60
            while status()["status"] != "running":
                assert time.monotonic() < t_end, "worker never claimed the job"
                time.sleep(0.2)
            time.sleep(0.5)
            w1.send_signal(signal.SIGKILL)
            w1.wait(timeout=10)
        finally:
            if w1.poll() is None:
                w1.kill()
        assert status()["status"] == "running"  # orphaned, heartbeat stops
        w2 = start_worker(settings, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t_end = time.monotonic() + 90
            while (st := status())["status"] != "done":
                assert st["status"] != "failed", st
                assert time.monotonic() < t_end, f"job not finished after restart: {st}"
                time.sleep(0.3)
            assert st["attempts"] == 2
        finally:
            w2.terminate()
            w2.wait(timeout=20)
        rec = c.get("/api/recordings").json()["recordings"][0]
        assert rec["grade"] is not None and rec["spasms"] >= 1


# ------------------------------------------------------------------------------ load
@pytest.mark.slow
def test_concurrent_uploads_none_lost(tmp_path, edf_file):
    n = 20
    data = tmp_path / "data"
    with server(data, worker=False) as url:
        c, tok = http_login(url)
        payload = edf_file.read_bytes()

        def one(i: int) -> dict:
            r = c.post("/api/uploads", headers={"X-CSRF-Token": tok},
                       files=[("files", (f"load_{i:02d}.edf", payload,
                                         "application/octet-stream"))],
                       data={"patient_code": f"L-{i % 4}"})
            assert r.status_code == 200, r.text
            return r.json()["files"][0]

        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=n) as ex:
            res = list(ex.map(one, range(n)))
        took = time.monotonic() - t0
        assert all(r["ok"] for r in res)
        assert len({r["recording_id"] for r in res}) == n
        assert len({r["job_id"] for r in res}) == n
        recs = c.get("/api/recordings").json()["recordings"]
        assert sorted(r["name"] for r in recs) == [f"load_{i:02d}.edf" for i in range(n)]
        jobs = c.get("/api/jobs").json()
        assert jobs["counts"] == {"queued": n}
        assert len(list((data / "recordings").iterdir())) == n
        assert list((data / "tmp").iterdir()) == []
        assert took < 110


def test_hypsa_worker_command_help():
    exe = shutil.which("hypsa") or str(Path(sys.executable).with_name("hypsa"))
    if not Path(exe).exists():
        pytest.skip("hypsa script not installed")
    out = subprocess.run([exe, "worker", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "worker" in out.stdout



# ------------------------------------------------------------------------------ signals
def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_stops_server_and_worker(tmp_path, sig):
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs /proc")
    procs: list = []
    with server(tmp_path / "data", procs=procs):
        proc = procs[0]
        t_end = time.monotonic() + 30
        while not (kids := _children(proc.pid)):
            assert time.monotonic() < t_end, "no worker child started"
            time.sleep(0.2)
        proc.send_signal(sig)  # the server process only, as systemd or docker stop do
        proc.wait(timeout=30)
        t_end = time.monotonic() + 10
        while any(_alive(k) for k in kids) and time.monotonic() < t_end:
            time.sleep(0.2)
        assert not any(_alive(k) for k in kids), "the worker outlived the server"


@pytest.mark.slow
def test_dead_worker_job_requeued_at_once(tmp_path, edf_file):
    """The server's worker is killed mid-job: its job goes back to the queue within seconds
    (not after the 30-s heartbeat staleness) and the restarted worker takes it."""
    procs: list = []
    with server(tmp_path / "data", procs=procs, HYPSA_TEST_JOB_DELAY_S="20") as url:
        c, tok = http_login(url)
        with open(edf_file, "rb") as f:
            r = c.post("/api/uploads", headers={"X-CSRF-Token": tok},
                       files=[("files", (edf_file.name, f, "application/octet-stream"))])
        jid = r.json()["files"][0]["job_id"]

        def job() -> dict:
            return c.get(f"/api/jobs?ids={jid}").json()["jobs"][0]

        t_end = time.monotonic() + 60
        while job()["status"] != "running":
            assert time.monotonic() < t_end, "the worker never claimed the job"
            time.sleep(0.2)
        kids = _children(procs[0].pid)
        assert len(kids) == 1
        os.kill(kids[0], signal.SIGKILL)
        t0 = time.monotonic()
        while job()["attempts"] < 2:
            assert time.monotonic() - t0 < 10, f"job not re-queued: {job()}"
            time.sleep(0.2)
        assert job()["status"] in ("queued", "running")
        while job()["status"] != "running":
            assert time.monotonic() - t0 < 60, f"job not taken again: {job()}"
            time.sleep(0.2)
        t_stop = time.monotonic()
    # stopped mid-job with SIGTERM (leaving the with-block): quickly, and the job is queued
    assert time.monotonic() - t_stop < 15
    from hypsa.web.db import make_engine, make_sessionmaker
    from hypsa.web.settings import Settings

    eng = make_engine(Settings(data_dir=tmp_path / "data").database_url)
    try:
        with make_sessionmaker(eng)() as db:
            from hypsa.web.db import Job

            assert db.get(Job, jid).status == "queued"
    finally:
        eng.dispose()


@pytest.mark.slow
def test_behind_proxy_secure_cookie_and_client_address(tmp_path):
    import re

    with server(tmp_path / "data", worker=False, args=("--forwarded-allow-ips", "127.0.0.1"),
                ) as url:
        # the cookie is Secure (the proxy speaks HTTPS to the browser): carried by hand here
        c = httpx.Client(base_url=url, timeout=60)
        via = {"x-forwarded-for": "198.51.100.23", "x-forwarded-proto": "https"}

        def cookie(r: httpx.Response) -> str:
            sc = r.headers["set-cookie"]
            assert "secure" in sc.lower(), sc
            return sc.split(";")[0]

        r = c.get("/login", headers=via)
        jar = cookie(r)
        tok = re.search(r'name="csrf-token" content="([^"]+)"', r.text).group(1)
        form = {"username": "admin", "password": "wrong password", "csrf_token": tok}
        r = c.post("/login", data=form, headers={**via, "cookie": jar})
        assert r.status_code == 401
        r = c.post("/login", data={**form, "password": PASSWORD},
                   headers={**via, "cookie": jar})
        assert r.status_code == 303
        jar = cookie(r)
        page = c.get("/admin/audit", params={"action": "login.failed"},
                     headers={**via, "cookie": jar}).text
        assert "198.51.100.23" in page and "127.0.0.1" not in page


def test_idle_connection_is_kept_past_uvicorns_default(tmp_path):
    """A client that pools connections reuses one after a few seconds idle; the server keeps it
    open (uvicorn's own default closes it after 5 s, and the reuse then meets a reset)."""
    import http.client
    from urllib.parse import urlsplit

    with server(tmp_path / "data", worker=False) as url:
        u = urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        assert r.status == 200 and "close" not in (r.getheader("connection") or "")
        time.sleep(6.5)
        conn.request("GET", "/healthz")  # the same socket: http.client does not reconnect
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        conn.close()


# ------------------------------------------------------------------------------ deployment recipes
DOCS = Path(__file__).resolve().parents[1] / "docs" / "web.md"


def _recipe(marker: str, lang: str) -> str:
    import re

    m = re.search(marker + r".*?```" + lang + r"\n(.*?)```", DOCS.read_text(), re.S)
    assert m, f"no {lang} block after {marker} in docs/web.md"
    return m.group(1)


def test_systemd_recipe_verifies(tmp_path):
    exe = shutil.which("systemd-analyze")
    hypsa = shutil.which("hypsa") or str(Path(sys.executable).with_name("hypsa"))
    if not exe or not Path(hypsa).exists():
        pytest.skip("needs systemd-analyze and the hypsa script")
    unit = (_recipe("systemd-recipe", "ini").replace("/opt/hypsa/venv/bin/hypsa", hypsa)
            .replace("User=hypsa", "User=root").replace("Group=hypsa", "Group=root")
            .replace("/var/lib/hypsa", str(tmp_path)))
    assert "KillMode=mixed" in unit and "--forwarded-allow-ips 127.0.0.1" in unit
    f = tmp_path / "hypsa.service"
    f.write_text(unit)
    out = subprocess.run([exe, "verify", str(f)], capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    assert out.returncode == 0 and "hypsa.service" not in text, text


@pytest.mark.slow
def test_nginx_recipe_in_front_of_hypsa(tmp_path):
    """The documented nginx site, with a self-signed certificate, in front of ``hypsa serve
    --forwarded-allow-ips 127.0.0.1``: HTTPS login works with a Secure cookie, and a client
    cannot forge its address in X-Forwarded-For."""
    import re

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    openssl = shutil.which("openssl")
    if not nginx or not openssl:
        pytest.skip("needs nginx and openssl")
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True, timeout=60)
    procs: list = []
    with server(tmp_path / "data", worker=False, args=("--forwarded-allow-ips", "127.0.0.1"),
                procs=procs) as url:
        port = url.rsplit(":", 1)[1]
        nport = free_port()
        site = (_recipe("nginx-recipe", "nginx")
                .replace("listen 443 ssl", f"listen 127.0.0.1:{nport} ssl")
                .replace("/etc/ssl/certs/eeg.example.org.pem", str(crt))
                .replace("/etc/ssl/private/eeg.example.org.key", str(key))
                .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}"))
        t = tmp_path / "ng"
        t.mkdir()
        conf = t / "nginx.conf"
        conf.write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\npid {t}/nginx.pid;\nerror_log {t}/error.log;\nevents {{}}\n"
            f"http {{\naccess_log off;\nclient_body_temp_path {t}/body;\n"
            f"proxy_temp_path {t}/proxy;\nfastcgi_temp_path {t}/fcgi;\n"
            f"uwsgi_temp_path {t}/uwsgi;\nscgi_temp_path {t}/scgi;\n{site}\n}}\n")
        ng = subprocess.Popen([nginx, "-c", str(conf), "-p", str(t)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"https://127.0.0.1:{nport}"
            c = httpx.Client(base_url=base, verify=False, timeout=60,
                             headers={"x-forwarded-for": "6.6.6.6"})
            t_end = time.monotonic() + 20
            while True:
                try:
                    r = c.get("/login")
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < t_end, (t / "error.log").read_text()
                    time.sleep(0.2)
            assert "secure" in r.headers["set-cookie"].lower()
            tok = re.search(r'name="csrf-token" content="([^"]+)"', r.text).group(1)
            form = {"username": "admin", "password": "wrong password", "csrf_token": tok}
            assert c.post("/login", data=form).status_code == 401
            r = c.post("/login", data={**form, "password": PASSWORD})
            assert r.status_code == 303
            page = c.get("/admin/audit", params={"action": "login.failed"}).text
            assert "6.6.6.6" not in page and "127.0.0.1" in page
        finally:
            ng.terminate()
            ng.wait(timeout=20)

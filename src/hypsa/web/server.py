"""Running the server: uvicorn in this process, the analysis worker in a child process."""

from __future__ import annotations

import ipaddress
import logging
import os
import subprocess
import sys
import threading
from typing import Any

from hypsa.web.settings import Settings

__all__ = ["is_loopback", "worker_env", "start_worker", "serve"]

log = logging.getLogger("hypsa.web")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a worker child process: the server's, with its data folder and DB."""
    env = dict(os.environ)
    env["HYPSA_DATA_DIR"] = str(settings.data_dir)
    env["HYPSA_DATABASE_URL"] = settings.database_url
    env["HYPSA_JOB_STALE_S"] = str(settings.job_stale_s)
    env["HYPSA_HEARTBEAT_S"] = str(settings.heartbeat_s)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def start_worker(settings: Settings, **popen: Any) -> subprocess.Popen:
    """Start ``python -m hypsa.web.jobs`` (one worker) as a child process."""
    return subprocess.Popen([sys.executable, "-m", "hypsa.web.jobs"], env=worker_env(settings),
                            **popen)


class _Supervisor(threading.Thread):
    """Restarts the worker child if it dies while the server runs."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True, name="worker-supervisor")
        self.settings = settings
        self.stop = threading.Event()
        self.proc: subprocess.Popen | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            self.proc = start_worker(self.settings)
            while not self.stop.is_set() and self.proc.poll() is None:
                self.stop.wait(1.0)
            if not self.stop.is_set():
                log.warning("worker exited with status %s; restarting", self.proc.returncode)
                self.stop.wait(2.0)

    def shutdown(self) -> None:
        self.stop.set()
        p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          with_worker: bool = True) -> None:
    """Run the web server (blocking) and, unless told not to, one worker child process.

    Parameters
    ----------
    settings : Settings
        Data folder, database and limits.
    host, port : str, int
        Where to listen.
    with_worker : bool
        Start (and keep alive) a worker child process.
    """
    import uvicorn

    from hypsa.web.app import create_app

    app = create_app(settings)  # migrates before the worker starts
    sup = _Supervisor(settings) if with_worker else None
    if sup is not None:
        sup.start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False,
                    server_header=False)
    finally:
        if sup is not None:
            sup.shutdown()
        app.state.engine.dispose()

"""Running the server: uvicorn in this process, the analysis worker in a child process.

SIGTERM and SIGINT stop both: uvicorn shuts down gracefully, then the worker child is
terminated (and killed if it does not stop in time) before the process exits with the
signal's usual status. On Linux the worker also dies with the server if the server is killed
outright (``PR_SET_PDEATHSIG``). A job left ``running`` by a worker that exited is re-queued
at once (:func:`hypsa.web.jobs.requeue_dead`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from hypsa.web.settings import Settings

__all__ = ["is_loopback", "worker_env", "start_worker", "serve"]

log = logging.getLogger("hypsa.web")
HANDLED = (signal.SIGINT, signal.SIGTERM)


#: Seconds an idle HTTP connection is kept open (nginx's and gunicorn's common 75 s).
KEEP_ALIVE_S = 75

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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_worker(settings: Settings, *, die_with_parent: bool = False,
                 **popen: Any) -> subprocess.Popen:
    """Start ``python -m hypsa.web.jobs`` (one worker) as a child process.

    Parameters
    ----------
    settings : Settings
        Data folder and database of the worker.
    die_with_parent : bool
        On Linux, have the child receive SIGTERM when the thread that started it ends.
    **popen
        Passed to :class:`subprocess.Popen`.
    """
    if die_with_parent and sys.platform.startswith("linux"):
        popen.setdefault("preexec_fn", _die_with_parent)
    return subprocess.Popen([sys.executable, "-m", "hypsa.web.jobs"], env=worker_env(settings),
                            **popen)


class _Supervisor(threading.Thread):
    """Keeps one worker child alive while the server runs; re-queues its jobs when it dies."""

    def __init__(self, settings: Settings, db_factory: Any = None) -> None:
        super().__init__(daemon=True, name="worker-supervisor")
        self.settings = settings
        self.db_factory = db_factory
        self.stop = threading.Event()
        self.proc: subprocess.Popen | None = None
        self.lock = threading.Lock()

    def _requeue(self, proc: subprocess.Popen) -> None:
        if self.db_factory is None:
            return
        import socket

        from hypsa.web.jobs import requeue_dead

        try:
            requeue_dead(self.db_factory, f"{socket.gethostname()[:40]}:{proc.pid}")
        except Exception:  # noqa: BLE001 - the next worker's sweep does it
            log.exception("could not re-queue the jobs of the dead worker")

    def run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                if self.stop.is_set():
                    return
                self.proc = start_worker(self.settings, die_with_parent=True)
            while not self.stop.is_set() and self.proc.poll() is None:
                self.stop.wait(0.5)
            if not self.stop.is_set():
                log.warning("worker exited with status %s; restarting", self.proc.returncode)
                self._requeue(self.proc)
                self.stop.wait(1.0)

    def shutdown(self, timeout: float = 20.0) -> None:
        """Stop the worker child: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        with self.lock:
            self.stop.set()
            p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        if p is not None:
            self._requeue(p)
        self.join(timeout=5)


def _server_class() -> type:
    import uvicorn

    class _Server(uvicorn.Server):
        """uvicorn's server, without re-raising the stop signal after its shutdown (the
        default SIGTERM action would end the process before the worker is stopped)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            old = {s: signal.signal(s, self.handle_exit) for s in HANDLED}
            try:
                yield
            finally:
                for s, h in old.items():
                    signal.signal(s, h)

    return _Server


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000,
          with_worker: bool = True) -> int:
    """Run the web server (blocking) and, unless told not to, one worker child process.

    Parameters
    ----------
    settings : Settings
        Data folder, database, limits, trusted proxies.
    host, port : str, int
        Where to listen.
    with_worker : bool
        Start (and keep alive) a worker child process.

    Returns
    -------
    int
        The stop signal's number (0 when the server stopped by itself).
    """
    import uvicorn

    from hypsa.web.app import create_app

    app = create_app(settings)  # migrates before the worker starts
    sup = _Supervisor(settings, app.state.db_factory) if with_worker else None
    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False,
                            # the app itself honours trusted proxy headers (create_app)
                            proxy_headers=False,
                            # an idle connection stays open 75 s (uvicorn's 5 s races the
                            # pools of clients and proxies that reuse it: connection resets)
                            timeout_keep_alive=KEEP_ALIVE_S)
    server = _server_class()(config)
    if sup is not None:
        sup.start()
    try:
        server.run()
    finally:
        if sup is not None:
            sup.shutdown()
        app.state.engine.dispose()
    sigs = getattr(server, "_captured_signals", [])
    return int(sigs[-1]) if sigs else 0

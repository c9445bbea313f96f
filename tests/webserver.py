"""``hypsa serve`` on a free loopback port, for the end-to-end web tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

#: The first admin's password in every test server.
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("HYPSA_") and k not in ("HYPSA_CHROMIUM",):
            del env[k]
    env.update(HYPSA_DATA_DIR=str(data_dir), MPLBACKEND="Agg", HYPSA_ADMIN_USER="admin",
               HYPSA_ADMIN_PASSWORD=PASSWORD, HYPSA_HEARTBEAT_S="0.3", **extra)
    return env


@contextlib.contextmanager
def server(data_dir: Path, *, worker: bool = True, args: tuple[str, ...] = (),
           procs: list | None = None, **extra: str) -> Iterator[str]:
    """``hypsa serve`` on a free loopback port; yields its base URL (``procs`` gets the
    process)."""
    port = free_port()
    cmd = [sys.executable, "-c", "from hypsa.cli import app; app()", "serve", "--host",
           "127.0.0.1", "--port", str(port), "--worker" if worker else "--no-worker", *args]
    log = open(data_dir.parent / f"server-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=base_env(data_dir, **extra), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if procs is not None:
        procs.append(proc)
    try:
        t_end = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.close()
                raise RuntimeError("server exited: " + (data_dir.parent /
                                                        f"server-{port}.log").read_text()[-2000:])
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > t_end:
                raise RuntimeError("server did not start in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()

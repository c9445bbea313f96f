"""Upload storage, the persisted job queue and the analysis worker.

A job row moves ``queued -> running -> done | failed``. A worker claims the oldest queued job
with a conditional ``UPDATE`` (safe with several workers, on SQLite and PostgreSQL), keeps a
heartbeat while it runs, and writes the analysis to the database and the data folder. A job
left ``running`` by a worker that died is put back in the queue: at once when the worker is
known dead (its process on this machine is gone: :func:`requeue_dead`), otherwise when its
heartbeat goes stale; so restarts lose nothing. The reviews of the previous analysis of a
recording are carried onto the new one (:func:`hypsa.web.review.carry_over`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import signal
import socket
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hypsa.errors import HypsaError, InputError
from hypsa.web.db import (
    AnalysisRow,
    Job,
    RecordingRow,
    RecordingVideo,
    Review,
    make_engine,
    make_sessionmaker,
    migrate,
    utcnow,
)
from hypsa.web.settings import ALLOWED_SUFFIXES, Settings

__all__ = [
    "UploadRejected", "scrub_paths", "display_name", "checked_suffix", "accept_file", "enqueue",
    "requeue_stale", "requeue_dead", "worker_alive", "carry_reviews", "claim", "run_job",
    "process_one", "run_worker", "main",
]

log = logging.getLogger("hypsa.web.worker")
EDF_LIKE = (".edf", ".bdf")


class UploadRejected(HypsaError):
    """An uploaded file was refused; ``str()`` is the one-line reason shown on its row."""


class WorkerStopped(BaseException):
    """Raised in a worker's main thread by SIGTERM/SIGINT while it runs a job: the job goes
    back to the queue and the worker exits at once (a service stop must not wait for an
    analysis)."""


_busy = threading.Event()  # set while this process runs a job (the stop signal interrupts it)


def scrub_paths(text: str, data_dir: Path | str | None = None) -> str:
    """``text`` on one line without the server's folders: the data folder and the temporary
    folder are removed, and any other absolute path keeps only its last component."""
    import tempfile

    out = " ".join(str(text).split())
    for d in (str(data_dir) if data_dir else "", tempfile.gettempdir()):
        if d:
            out = out.replace(d + "/", "").replace(d, "")
    return re.sub(r"(?<![\w.])/(?:[\w.@+^-]+/)+([\w.@+^-]+)", r"\1", out)


# ----------------------------------------------------------------------------- uploads
def display_name(name: str | None) -> str:
    """A harmless display form of a client-supplied file name.

    Only the last path component is kept (both ``/`` and ``\\``), control characters are
    dropped and the length is capped. The name is never used to build a path on the server.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C")
    base = base.strip().lstrip(".") or "upload"
    return base[:120]


def checked_suffix(name: str, allowed: tuple[str, ...] | list[str] = ALLOWED_SUFFIXES,
                   kind: str = "EEG") -> str:
    """The lower-case extension of ``name`` if it is one of ``allowed`` (by default the
    accepted EEG formats; ``kind`` names them in the message).

    Raises
    ------
    UploadRejected
        For any other extension.
    """
    suf = Path(name).suffix.lower()
    if suf not in allowed:
        raise UploadRejected(f"{name}: not an accepted {kind} file type (accepted: "
                             f"{', '.join(allowed)})")
    return suf


async def write_upload(settings: Settings, f: Any, name: str, staged: Path,
                       allowed: tuple[str, ...] | list[str] = ALLOWED_SUFFIXES,
                       kind: str = "EEG") -> tuple[Path, int]:
    """Write an uploaded file, read in 1 MiB chunks, to ``staged`` with the extension of
    ``name`` (checked against ``allowed``, see :func:`checked_suffix`), refusing it past
    ``settings.max_upload_bytes``.

    Parameters
    ----------
    settings : Settings
        The upload limit.
    f : UploadFile
        The upload (any object with an async ``read(n)``).
    name : str
        Its display name (for the extension and the messages).
    staged : Path
        Where to write it; the suffix is replaced by the checked extension.

    Returns
    -------
    tuple of Path and int
        The written file and its size in bytes.

    Raises
    ------
    UploadRejected
        For an extension that is not accepted or a file over the limit (what was written is
        removed).
    """
    staged = staged.with_suffix(checked_suffix(name, allowed, kind))
    size = 0
    try:
        with open(staged, "wb") as out:
            while chunk := await f.read(1024 * 1024):
                size += len(chunk)
                if size > settings.max_upload_bytes:
                    raise UploadRejected(f"{name}: larger than the limit of "
                                         f"{settings.max_upload_mb:g} MiB")
                out.write(chunk)
    except UploadRejected:
        staged.unlink(missing_ok=True)
        raise
    return staged, size


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def accept_file(settings: Settings, staged: Path, name: str) -> dict:
    """Check a staged upload with :func:`hypsa.io.read`, de-identify it, and store it.

    Parameters
    ----------
    settings : Settings
        Where to store, whether to de-identify.
    staged : Path
        The upload as written to ``settings.tmp_dir`` (removed in every case).
    name : str
        Its display name (from :func:`display_name`), used in messages only.

    Returns
    -------
    dict
        ``stored_name, format, duration_s, n_channels, anonymized, sha256, size_bytes``.

    Raises
    ------
    UploadRejected
        The file is not an EEG recording hypsa can read; the message is one line.
    """
    from hypsa.io import anonymize, read

    try:
        suf = checked_suffix(name)
        try:
            rec = read(staged)
        except InputError as exc:
            raise UploadRejected(f"{name}: {exc.problem}") from None
        except HypsaError as exc:
            raise UploadRejected(f"{name}: {' '.join(str(exc).split())}") from None
        except Exception as exc:  # noqa: BLE001 - a reader crash is a bad file, not a 500
            raise UploadRejected(f"{name}: unreadable ({type(exc).__name__})") from None
        stored = f"{uuid.uuid4().hex}{suf}"
        final = settings.recordings_dir / stored
        anonymized = False
        if settings.anonymize and suf in EDF_LIKE:
            try:
                anonymize(staged, final)
            except InputError as exc:
                final.unlink(missing_ok=True)
                raise UploadRejected(f"{name}: {exc.problem}") from None
            anonymized = True
        else:
            os.replace(staged, final)
        start = getattr(rec, "start_time", None)
        info = {"stored_name": stored, "format": suf.lstrip("."),
                "recorded_on": start.date() if start is not None else None,
                "duration_s": float(rec.duration_s), "n_channels": len(rec.eeg_names),
                "anonymized": anonymized, "sha256": _sha256(final),
                "size_bytes": final.stat().st_size}
        return info
    finally:
        staged.unlink(missing_ok=True)


def enqueue(db: Session, recording_id: int) -> Job:
    """Add a queued analysis job for a recording (flushed, not committed)."""
    job = Job(recording_id=recording_id, kind="analyze", status="queued", progress=0.0,
              attempts=0)
    db.add(job)
    db.flush()
    return job


# ----------------------------------------------------------------------------- queue
def requeue_stale(db_factory: sessionmaker[Session], stale_s: float) -> int:
    """Put running jobs whose heartbeat is older than ``stale_s`` back in the queue.

    Returns
    -------
    int
        How many were re-queued.
    """
    cutoff = utcnow() - timedelta(seconds=stale_s)
    with db_factory() as db, db.begin():
        res = db.execute(update(Job).where(Job.status == "running",
                                           (Job.heartbeat.is_(None)) | (Job.heartbeat < cutoff))
                         .values(status="queued", worker=None, progress=0.0))
        n = int(res.rowcount or 0)
    if n:
        log.info("re-queued %d stale job(s)", n)
    return n


def worker_alive(worker_id: str | None) -> bool | None:
    """Whether the worker ``host:pid`` still runs: True/False for one on this machine, None for
    one elsewhere (only its heartbeat can tell)."""
    host, _, pid = (worker_id or "").rpartition(":")
    if not host or host != socket.gethostname()[:40] or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers: read its state where /proc exists
    try:
        state = Path(f"/proc/{int(pid)}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def requeue_dead(db_factory: sessionmaker[Session], worker_id: str | None = None) -> int:
    """Put back in the queue the running jobs of workers known to be dead.

    Parameters
    ----------
    db_factory : sessionmaker
        Database sessions.
    worker_id : str, optional
        A worker known dead (its parent saw it exit); otherwise every running job's worker
        on this machine is checked.

    Returns
    -------
    int
        How many jobs were re-queued.
    """
    with db_factory() as db, db.begin():
        running = db.execute(select(Job.id, Job.worker).where(Job.status == "running")).all()
        dead = [jid for jid, w in running
                if (worker_id is not None and w == worker_id) or worker_alive(w) is False]
        n = 0
        if dead:
            res = db.execute(update(Job).where(Job.id.in_(dead), Job.status == "running")
                             .values(status="queued", worker=None, progress=0.0))
            n = int(res.rowcount or 0)
    if n:
        log.info("re-queued %d job(s) of a dead worker", n)
    return n


def claim(db_factory: sessionmaker[Session], worker_id: str) -> int | None:
    """Claim the oldest queued job for ``worker_id``; its id, or None when the queue is empty.

    The claim is a conditional ``UPDATE ... WHERE status = 'queued'``: of several workers
    racing for one job exactly one sees a row count of 1.
    """
    for _ in range(20):
        with db_factory() as db, db.begin():
            jid = db.scalar(select(Job.id).where(Job.status == "queued").order_by(Job.id)
                            .limit(1))
            if jid is None:
                return None
            now = utcnow()
            res = db.execute(update(Job).where(Job.id == jid, Job.status == "queued")
                             .values(status="running", worker=worker_id, started_at=now,
                                     heartbeat=now, progress=0.0, error=None,
                                     attempts=Job.attempts + 1))
            if res.rowcount == 1:
                return int(jid)
    return None


class _Heartbeat(threading.Thread):
    """Refreshes a running job's heartbeat and progress until stopped."""

    def __init__(self, db_factory: sessionmaker[Session], job_id: int, worker_id: str,
                 period_s: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.db_factory, self.job_id, self.worker_id = db_factory, job_id, worker_id
        self.period_s = period_s
        self.progress = 0.0
        self.stop = threading.Event()

    def beat(self) -> None:
        try:
            with self.db_factory() as db, db.begin():
                db.execute(update(Job).where(Job.id == self.job_id,
                                             Job.worker == self.worker_id,
                                             Job.status == "running")
                           .values(heartbeat=utcnow(), progress=round(self.progress, 3)))
        except Exception:  # noqa: BLE001 - a missed beat is retried
            log.exception("heartbeat failed")

    def run(self) -> None:
        while not self.stop.wait(self.period_s):
            self.beat()


def _finish(db_factory: sessionmaker[Session], job_id: int, worker_id: str, **values: Any
            ) -> bool:
    with db_factory() as db, db.begin():
        res = db.execute(update(Job).where(Job.id == job_id, Job.worker == worker_id,
                                           Job.status == "running")
                         .values(finished_at=utcnow(), heartbeat=utcnow(), **values))
        return res.rowcount == 1


def _analyse(settings: Settings, rec: RecordingRow, job_id: int,
             progress: Callable[[int, int], None], video: Any = None) -> dict:
    """Run the analysis and write its outputs; the AnalysisRow fields. ``video`` (a
    :class:`~hypsa.web.db.RecordingVideo`) adds its movement to the spasm detector and its
    frames to the report (:mod:`hypsa.web.video`)."""
    from hypsa.analysis import analyze
    from hypsa.report import write_report
    from hypsa.report.figures import timeline_figure, to_png

    src = settings.recordings_dir / rec.stored_name
    out = settings.analyses_dir / str(rec.id) / f"job{job_id}"
    out.mkdir(parents=True, exist_ok=True)
    from hypsa.web import video as V
    from hypsa.web.studies import site_params

    movement, clips = V.recording_movement(settings, src, video)
    # an adopted site model (admin, /admin/site-model) decides the spasms; outputs name it
    res = analyze(src, progress=progress, params=site_params(settings), movement=movement)
    res.stem = f"recording-{rec.id}"
    res.summary_["file"] = rec.display_name
    V.finish_summary(res, video)
    res.save(out)
    report = write_report(res, out, source=src, **({"video": clips} if clips else {}),
                          **V.frame_mode(settings))
    V.write_event_frames(out, res, clips, settings)
    fig = timeline_figure(res.summary_, res.epochs, res.grades, res.events)
    (out / "timeline.png").write_bytes(to_png(fig, dpi=80))
    ev = res.events
    events = [{"onset": round(float(r.onset), 3), "duration": round(float(r.duration), 3),
               "confidence": round(float(r.confidence), 3) if "confidence" in ev else None,
               "cluster": int(r.cluster) if "cluster" in ev else 0,
               **({"trial_type": str(r.trial_type)} if "trial_type" in ev else {})}
              for r in ev.itertuples()]
    h = res.summary_["hypsarrhythmia"]
    return {"summary": res.summary_, "events": events,
            "out_dir": str(out.relative_to(settings.data_dir)), "report_name": report.name,
            "based_score": h.get("based_score"), "probability": h.get("probability"),
            "n_spasms": int(res.n_spasms)}


def _test_delay() -> float:
    # testing knob: hold each job this long (with heartbeats) so a test can kill the worker
    try:
        return max(0.0, float(os.environ.get("HYPSA_TEST_JOB_DELAY_S", "0") or 0))
    except ValueError:
        return 0.0


def run_job(settings: Settings, db_factory: sessionmaker[Session], job_id: int,
            worker_id: str) -> str:
    """Run one claimed job to ``done`` or ``failed``; the final status.

    A :class:`~hypsa.errors.HypsaError` (bad file) fails the job with its one-line message;
    any other exception fails it with the exception's type and message. Neither stops the
    worker.
    """
    with db_factory() as db:
        job = db.get(Job, job_id)
        rec = db.get(RecordingRow, job.recording_id) if job else None
        video = db.scalar(select(RecordingVideo).where(
            RecordingVideo.recording_id == rec.id)) if rec is not None else None
    if job is None or rec is None:
        return "missing"
    hb = _Heartbeat(db_factory, job_id, worker_id, settings.heartbeat_s)
    hb.start()
    _busy.set()
    try:
        delay = _test_delay()
        if delay:
            t_end = time.monotonic() + delay
            while time.monotonic() < t_end:
                time.sleep(min(0.2, delay))
                hb.progress = 0.5 * (1 - (t_end - time.monotonic()) / delay)

        def progress(done: int, total: int) -> None:
            hb.progress = 0.5 + 0.45 * done / max(total, 1) if delay else 0.9 * done / max(
                total, 1)

        try:
            fields = _analyse(settings, rec, job_id, progress, video)
        except InputError as exc:
            _finish(db_factory, job_id, worker_id, status="failed",
                    error=f"{rec.display_name}: {scrub_paths(exc.problem, settings.data_dir)}")
            return "failed"
        except HypsaError as exc:
            msg = scrub_paths(str(exc), settings.data_dir)
            _finish(db_factory, job_id, worker_id, status="failed",
                    error=f"{rec.display_name}: {msg}")
            return "failed"
        except Exception as exc:  # noqa: BLE001 - report, keep the worker alive
            log.exception("job %s failed", job_id)
            msg = scrub_paths(str(exc), settings.data_dir)[:200]
            _finish(db_factory, job_id, worker_id, status="failed",
                    error=f"{rec.display_name}: internal error ({type(exc).__name__}: {msg})")
            return "failed"
        with db_factory() as db, db.begin():
            still = db.scalar(select(Job).where(Job.id == job_id, Job.worker == worker_id,
                                                Job.status == "running"))
            if still is None:  # re-queued meanwhile and taken by another worker
                return "lost"
            new = AnalysisRow(recording_id=rec.id, **fields)
            db.add(new)
            db.flush()
            carry_reviews(db, rec.id, new)
            still.status = "done"
            still.progress = 1.0
            still.finished_at = utcnow()
            still.heartbeat = utcnow()
        return "done"
    except WorkerStopped:
        _busy.clear()
        with db_factory() as db, db.begin():
            db.execute(update(Job).where(Job.id == job_id, Job.worker == worker_id,
                                         Job.status == "running")
                       .values(status="queued", worker=None, progress=0.0))
        log.info("job %s put back in the queue: the worker was stopped", job_id)
        raise
    finally:
        _busy.clear()
        hb.stop.set()
        hb.join(timeout=5)


def carry_reviews(db: Session, recording_id: int, new: AnalysisRow) -> int:
    """Copy the reviews of the recording's previous analysis onto ``new``; rows added.

    Uses :func:`hypsa.web.review.carry_over` (same transaction as the new analysis).
    """
    from hypsa.web.review import carry_over

    old = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id == recording_id,
                                              AnalysisRow.id != new.id)
                    .order_by(AnalysisRow.id.desc()).limit(1))
    if old is None:
        return 0
    revs = list(db.scalars(select(Review).where(Review.analysis_id == old.id)))
    if not revs:
        return 0
    rows = [Review(recording_id=recording_id, analysis_id=new.id, **kw)
            for kw in carry_over(old, revs, new)]
    db.add_all(rows)
    return len(rows)


def _worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def process_one(settings: Settings, db_factory: sessionmaker[Session] | None = None,
                worker_id: str | None = None) -> str | None:
    """Claim and run one queued job in this process.

    Returns
    -------
    str or None
        The job's final status, or None when nothing was queued.
    """
    if db_factory is None:
        db_factory = make_sessionmaker(make_engine(settings.database_url))
    wid = worker_id or _worker_id()
    jid = claim(db_factory, wid)
    if jid is None:
        return None
    return run_job(settings, db_factory, jid, wid)


def run_worker(settings: Settings, *, stop: threading.Event | None = None, poll_s: float = 0.5,
               max_jobs: int | None = None, migrate_db: bool = True) -> int:
    """The worker loop: re-queue stale jobs, then claim and run jobs until ``stop`` is set.

    Parameters
    ----------
    settings : Settings
        Server settings (same data folder and database as the server).
    stop : threading.Event, optional
        Set it to end the loop after the current job. SIGTERM/SIGINT stop the loop when
        this runs in the main thread, interrupting a running job, which goes back to the
        queue (:class:`WorkerStopped`).
    poll_s : float
        Sleep between polls of an empty queue.
    max_jobs : int, optional
        Return after this many jobs (tests).
    migrate_db : bool
        Run the migrations first (a worker started alone).

    Returns
    -------
    int
        Number of jobs run.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    settings.prepare()
    engine = make_engine(settings.database_url)
    if migrate_db:
        migrate(engine)
    db_factory = make_sessionmaker(engine)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        def on_signal(*_: Any) -> None:
            stop.set()
            if _busy.is_set():
                _busy.clear()
                raise WorkerStopped()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
    wid = _worker_id()
    log.info("worker %s started on %s", wid, engine.url.render_as_string(hide_password=True))
    requeue_dead(db_factory)
    requeue_stale(db_factory, settings.job_stale_s)
    n = 0
    last_sweep = time.monotonic()
    while not stop.is_set():
        if time.monotonic() - last_sweep > min(5.0, max(1.0, settings.job_stale_s / 2)):
            try:
                requeue_dead(db_factory)
                requeue_stale(db_factory, settings.job_stale_s)
            except Exception:  # noqa: BLE001 - database hiccup: next sweep
                log.exception("re-queue sweep failed")
            last_sweep = time.monotonic()
        try:
            jid = claim(db_factory, wid)
        except Exception:  # noqa: BLE001 - database hiccup: wait and retry
            log.exception("claim failed")
            stop.wait(poll_s * 4)
            continue
        if jid is None:
            stop.wait(poll_s)
            continue
        try:
            status = run_job(settings, db_factory, jid, wid)
        except WorkerStopped:
            break
        log.info("job %s: %s", jid, status)
        n += 1
        if max_jobs is not None and n >= max_jobs:
            break
    engine.dispose()
    return n


def main() -> None:
    """``python -m hypsa.web.jobs``: run one worker with the settings from the environment."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    run_worker(Settings())


if __name__ == "__main__":  # pragma: no cover
    main()

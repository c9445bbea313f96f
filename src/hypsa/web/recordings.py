"""Routes: the dashboard and upload, one recording's page, EEG window, review, report, export,
re-analysis."""

from __future__ import annotations

import copy
import html
import math
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path as FsPath
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hypsa.errors import HypsaError
from hypsa.web import review as RV
from hypsa.web.db import AnalysisRow, Job, Patient, RecordingRow, Review, User
from hypsa.web.deps import (
    MAX_ID,
    clean_message,
    client_ip,
    csrf,
    current_user,
    finite,
    get_db,
    parse_date,
    render,
)
from hypsa.web.jobs import (
    UploadRejected,
    accept_file,
    display_name,
    enqueue,
    write_upload,
)
from hypsa.web.security import audit
from hypsa.web.settings import ALLOWED_SUFFIXES
from hypsa.web.studies import check_blinded

__all__ = ["router", "load_recording", "user_names", "patient_for", "window_data"]

router = APIRouter()
CODE_RE = r"^[A-Za-z0-9_.-]{1,64}$"
MONTAGES = ("referential", "average", "double_banana")
#: Non-EEG signals the viewer can show below the EEG, each on its own scale.
EXTRA_KINDS = ("emg", "ecg", "eog")
#: Two added events closer than this (s) are the same event.
DUPLICATE_S = 0.5


def _rid() -> Any:
    return Path(ge=1, le=MAX_ID)


# ------------------------------------------------------------------------------ helpers
def user_names(db: Session) -> dict[int, str]:
    """``user id -> user name``."""
    return {u.id: u.username for u in db.scalars(select(User))}


def load_recording(db: Session, rid: int) -> tuple[RecordingRow, AnalysisRow | None,
                                                   list[Review], Job | None]:
    """The recording, its latest analysis, its reviews and its latest job (404 if absent)."""
    rec = db.get(RecordingRow, rid)
    if rec is None:
        raise HTTPException(404, "no such recording")
    check_blinded(db, rid)  # a blinded reader study's recording is seen through the study only
    an = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id == rid)
                   .order_by(AnalysisRow.id.desc()).limit(1))
    revs = list(db.scalars(select(Review).where(Review.recording_id == rid)))
    job = db.scalar(select(Job).where(Job.recording_id == rid).order_by(Job.id.desc())
                    .limit(1))
    return rec, an, revs, job


def job_json(j: Job) -> dict:
    """A job for the API."""
    return {"id": j.id, "recording_id": j.recording_id, "status": j.status,
            "progress": round(float(j.progress or 0.0), 3), "error": j.error,
            "attempts": j.attempts}


def patient_for(db: Session, code: str | None, user: User) -> Patient | None:
    """The patient with this pseudonymous code, created if new; None for an empty code."""
    import re

    code = (code or "").strip()
    if not code:
        return None
    if not re.match(CODE_RE, code):
        raise HTTPException(400, "patient code: 1-64 letters, digits, _ . - (a pseudonym, "
                                 "never a name)")
    p = db.scalar(select(Patient).where(Patient.code == code))
    if p is None:
        try:
            with db.begin_nested():
                p = Patient(code=code, created_by=user.id)
                db.add(p)
        except IntegrityError:  # created meanwhile by a concurrent request
            p = db.scalar(select(Patient).where(Patient.code == code))
    return p


def _recording_rows(db: Session) -> list[dict]:
    recs = db.scalars(select(RecordingRow).order_by(RecordingRow.id.desc()).limit(500)).all()
    if not recs:
        return []
    ids = [r.id for r in recs]
    jobs: dict[int, Job] = {}
    for j in db.scalars(select(Job).where(Job.recording_id.in_(ids)).order_by(Job.id)):
        jobs[j.recording_id] = j
    ans: dict[int, AnalysisRow] = {}
    for a in db.scalars(select(AnalysisRow).where(AnalysisRow.recording_id.in_(ids))
                        .order_by(AnalysisRow.id)):
        ans[a.recording_id] = a
    revs: dict[int, list[Review]] = defaultdict(list)
    for r in db.scalars(select(Review).where(Review.recording_id.in_(ids))):
        revs[r.recording_id].append(r)
    pats = {p.id: p.code for p in db.scalars(select(Patient))}
    out = []
    for r in recs:
        j, a = jobs.get(r.id), ans.get(r.id)
        rs = RV.reviewed_summary(a, revs[r.id]) if a is not None else None
        out.append({"id": r.id, "name": r.display_name, "patient": pats.get(r.patient_id),
                    "recorded_on": r.recorded_on.isoformat() if r.recorded_on else "",
                    "duration_s": r.duration_s,
                    "job": job_json(j) if j else None,
                    "grade": rs["grade"]["grade"] if rs else None,
                    "grade_overruled": rs["grade"]["overruled"] if rs else False,
                    "verdict": rs["grade"]["verdict"] if rs else None,
                    "spasms": rs["count"] if rs else None,
                    "reviewed": rs["reviewed"] if rs else False,
                    "pending": rs["pending"] if rs else 0})
    return out


def recording_json(db: Session, rec: RecordingRow, an: AnalysisRow | None,
                   revs: list[Review], job: Job | None) -> dict:
    """One recording with its reviewed analysis, for the page and the API."""
    names = user_names(db)
    pat = db.get(Patient, rec.patient_id) if rec.patient_id else None
    d: dict[str, Any] = {
        "id": rec.id, "name": rec.display_name, "patient": pat.code if pat else None,
        "patient_id": rec.patient_id, "duration_s": rec.duration_s,
        "recorded_on": rec.recorded_on.isoformat() if rec.recorded_on else None,
        "anonymized": rec.anonymized, "job": job_json(job) if job else None,
        "analysis": None}
    from hypsa.web.video import video_json

    d["video"] = video_json(db, rec.id)
    if an is not None:
        rs = RV.reviewed_summary(an, revs, names)
        mine = sorted((r for r in revs if r.analysis_id == an.id), key=lambda r: r.id)
        d["analysis"] = {
            "id": an.id, "created_at": an.created_at.isoformat(timespec="seconds"),
            "detected_grade": an.based_score, "probability": an.probability,
            "detected_count": an.n_spasms, "summary": an.summary,
            "reviewed": rs, "events": RV.effective_events(an, revs, names),
            "pending": RV.pending(an, revs, names),
            "history": [{"kind": r.kind, "event_key": r.event_key, "grade": r.grade,
                         "onset": r.onset, "comment": r.comment,
                         "reviewer": names.get(r.reviewer_id, ""),
                         "at": r.created_at.isoformat(timespec="seconds"),
                         "carried": r.carried_from is not None}
                        for r in mine],
        }
    return d


# ------------------------------------------------------------------------------ dashboard
@router.get("/", response_class=HTMLResponse)
def index(request: Request, user: User = Depends(current_user),
          db: Session = Depends(get_db)) -> HTMLResponse:
    """The upload form and every recording."""
    rows = _recording_rows(db)
    audit(db, user, "recordings.list", ip=client_ip(request), detail=f"{len(rows)} rows")
    db.commit()
    settings = request.app.state.settings
    return render(request, "index.html", user, recordings=rows,
                  accepted=", ".join(ALLOWED_SUFFIXES), max_mb=settings.max_upload_mb)


@router.get("/api/recordings")
def api_recordings(user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """Every recording (the dashboard polls this: not audited, the page view is)."""
    return {"recordings": _recording_rows(db)}


@router.get("/api/jobs")
def api_jobs(ids: str = Query("", max_length=8000), user: User = Depends(current_user),
             db: Session = Depends(get_db)) -> dict:
    """Jobs (all, or ``ids``) and counts per status (polled: not audited)."""
    q = select(Job).order_by(Job.id.desc()).limit(500)
    if ids:
        try:
            wanted = [int(x) for x in ids.split(",") if x.strip()][:500]
        except ValueError:
            raise HTTPException(400, "ids must be comma-separated integers") from None
        if any(not 1 <= w <= MAX_ID for w in wanted):
            raise HTTPException(400, f"ids must lie in 1-{MAX_ID}")
        q = select(Job).where(Job.id.in_(wanted))
    jobs = [job_json(j) for j in db.scalars(q)]
    counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    return {"jobs": jobs, "counts": counts}


# ------------------------------------------------------------------------------ upload
@router.post("/api/uploads", dependencies=[Depends(csrf)])
async def upload(request: Request, user: User = Depends(current_user)) -> JSONResponse:
    """Store, check, de-identify and queue each uploaded file; one result per file."""
    settings = request.app.state.settings
    factory = request.app.state.db_factory
    form = await request.form(max_files=settings.max_files, max_fields=50)
    files = [f for f in form.getlist("files") if not isinstance(f, str)]
    if not files:
        raise HTTPException(400, "no file in the upload (field 'files')")
    code = str(form.get("patient_code") or "")
    recorded_on = parse_date(str(form.get("recorded_on") or ""), "recorded_on")
    # an optional video of the (one) recording: staged first, stored with it (hypsa.web.video)
    video = await _staged_video(request, form, len(files))

    def patient_id() -> int | None:
        with factory() as db:
            p = patient_for(db, code, user)
            db.commit()
            return p.id if p else None

    pid = await run_in_threadpool(patient_id)
    ip = client_ip(request)
    results = []
    for f in files:
        name = display_name(f.filename)
        staged = settings.tmp_dir / f"upload-{uuid.uuid4().hex}.part"
        error = None
        try:
            staged, size = await write_upload(settings, f, name, staged)
            if size == 0:
                raise UploadRejected(f"{name}: empty file")
        except UploadRejected as exc:
            staged.unlink(missing_ok=True)
            error = clean_message(request, str(exc))
        finally:
            await f.close()
        # database and file checks off the event loop (SQLite waits must not block it)
        results.append(await run_in_threadpool(_store, request, staged, name, error, pid,
                                               recorded_on, user, ip, video))
    if video is not None:
        video[0].unlink(missing_ok=True)
    status = 200 if any(r["ok"] for r in results) else 400
    return JSONResponse({"files": results}, status_code=status)


async def _staged_video(request: Request, form: Any, n_files: int) -> tuple | None:
    """``(staged path, name, offset)`` of the upload's video, or None without one."""
    from hypsa.web.video import stage_video

    f = form.get("video")
    if f is None or isinstance(f, str) or not (f.filename or "").strip():
        if str(form.get("video_offset") or "").strip():
            raise HTTPException(400, "video_offset goes with a video")
        return None
    if n_files != 1:
        raise HTTPException(400, f"a video goes with one recording, not {n_files}")
    raw = str(form.get("video_offset") or "").strip()
    offset = finite(raw, "video_offset (s)", -1e7, 1e7) if raw else None
    name = display_name(f.filename)
    try:
        staged = await stage_video(request.app.state.settings, f, name)
    except UploadRejected as exc:
        raise HTTPException(400, clean_message(request, str(exc))) from None
    finally:
        await f.close()
    return staged, name, offset


def _store(request: Request, staged: FsPath, name: str, error: str | None, pid: int | None,
           recorded_on: date | None, user: User, ip: str, video: tuple | None = None) -> dict:
    settings = request.app.state.settings
    res: dict[str, Any] = {"name": name, "ok": False}
    info = None
    if error is None:
        try:
            info = accept_file(settings, staged, name)
        except UploadRejected as exc:
            error = clean_message(request, str(exc))
    with request.app.state.db_factory() as db:
        if info is None:
            res["error"] = error
            audit(db, user, "upload.rejected", patient_id=pid, ip=ip, detail=error)
            db.commit()
            return res
        # a visit is dated by the form's date, else by the recording's own start
        from_file = info.pop("recorded_on", None)
        rec = RecordingRow(patient_id=pid, display_name=name,
                           recorded_on=recorded_on or from_file, uploaded_by=user.id, **info)
        db.add(rec)
        db.flush()
        if video is not None:  # stored with the recording, or neither is
            from hypsa.web.video import store_video

            try:
                v = store_video(db, settings, rec, video[0], video[1], video[2], user)
            except UploadRejected as exc:
                db.rollback()
                (settings.recordings_dir / rec.stored_name).unlink(missing_ok=True)
                res["error"] = clean_message(request, str(exc)) + " (the recording was not kept)"
                audit(db, user, "upload.rejected", patient_id=pid, ip=ip, detail=res["error"])
                db.commit()
                return res
            res["video"] = {"name": v.display_name, "offset_s": v.offset_s, "method": v.method}
        job = enqueue(db, rec.id)
        audit(db, user, "upload", target=f"recording:{rec.id}", patient_id=pid, ip=ip,
              detail=name)
        db.commit()
        res.update(ok=True, recording_id=rec.id, job_id=job.id)
    return res


# ------------------------------------------------------------------------------ one recording
@router.get("/recordings/{rid}", response_class=HTMLResponse)
def recording_page(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                   db: Session = Depends(get_db)) -> HTMLResponse:
    """The review page."""
    rec, an, revs, job = load_recording(db, rid)
    d = recording_json(db, rec, an, revs, job)
    audit(db, user, "recording.view", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request))
    db.commit()
    return render(request, "recording.html", user, rec=d, montages=MONTAGES,
                  carry_tol=f"{RV.CARRY_TOLERANCE_S:g}")


@router.get("/api/recordings/{rid}")
def api_recording(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                  db: Session = Depends(get_db)) -> dict:
    """One recording with its reviewed analysis."""
    rec, an, revs, job = load_recording(db, rid)
    audit(db, user, "recording.read", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request))
    db.commit()
    return recording_json(db, rec, an, revs, job)


def _analysis_file(request: Request, an: AnalysisRow | None, name: str | None) -> FsPath:
    if an is None or not name:
        raise HTTPException(404, "not analysed yet")
    base = (request.app.state.settings.data_dir / an.out_dir).resolve()
    p = (base / name).resolve()
    if base not in p.parents or not p.is_file():
        raise HTTPException(404, "file missing")
    return p


def reviewed_report(settings: Any, rec: RecordingRow, an: AnalysisRow, revs: list[Review],
                    names: dict[int, str]) -> FsPath:
    """The HTML report of the reviewed state (cached per review state in the analysis folder).

    The machine's analysis is loaded from its folder; the reviewed grade and verdict and the
    counted events replace the detected ones, and a box at the top says who reviewed when,
    with the machine's verdict beside the reviewed one.
    """
    from hypsa.report.html import build_content, render_html
    from hypsa.results import load

    out = (settings.data_dir / an.out_dir).resolve()
    mine = [r.id for r in revs if r.analysis_id == an.id]
    key = f"reviewed-{len(mine)}-{max(mine) if mine else 0}.report.html"
    target = out / key
    if target.is_file():
        return target
    stem = f"recording-{rec.id}"
    a = load(out, stem)
    rs = RV.reviewed_summary(an, revs, names)
    g = rs["grade"]
    s = copy.deepcopy(a.summary_)
    h = s.setdefault("hypsarrhythmia", {})
    h["based_score"], h["present"], h["verdict"] = g["grade"], g["present"], g["verdict"]
    gap = float((s.get("spasms") or {}).get("cluster_gap_s") or 60.0)
    eff = RV.effective_events(an, revs, names)
    df = RV.counted_frame(eff, gap)
    sp = s.setdefault("spasms", {})
    rate = rs["rate"]
    sp.update(count=rs["count"], n_clusters=rs["n_clusters"], rate=rate,
              per_hour=rate["per_hour"], per_24h=rate["per_24h"])
    a.summary_ = s
    ev = a.events
    if len(ev) and "onset" in ev:  # keep the detected rows that still count, in their format
        keep = np.zeros(len(ev), bool)
        for o in df["onset"]:
            i = int(np.argmin(np.abs(ev["onset"].to_numpy(float) - o)))
            if abs(float(ev["onset"].iloc[i]) - o) < 1e-3:
                keep[i] = True
        a.events = ev[keep].reset_index(drop=True)
    from hypsa.web.video import report_video_kw

    body = render_html(build_content(a, settings.recordings_dir / rec.stored_name,
                                     **report_video_kw(settings, a.summary_)))
    added = [e for e in eff if e["source"] == "added" and e["counted"]]
    body = _insert_review_box(body, rs, an, added, a.start_time)
    tmp = target.with_suffix(f".{uuid.uuid4().hex}.part")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(target)
    return target


def _verdict_text(v: str | None) -> str:
    return {"present": "hypsarrhythmia present", "absent": "hypsarrhythmia absent",
            "not_assessable": "not assessable"}.get(v or "", "not assessable")


def _insert_review_box(body: str, rs: dict, an: AnalysisRow, added: list[dict] | None = None,
                       start: datetime | None = None) -> str:
    g = rs["grade"]
    e = html.escape
    lines = []
    if g["reviewed"]:
        lines.append(f"Reviewed BASED grade <b>{e(str(g['grade']))}</b> — "
                     f"{_verdict_text(g['verdict'])}, by {e(g['reviewer'])} at "
                     f"{e(g['reviewed_at'] or '')} UTC"
                     + (f": “{e(g['comment'])}”" if g["comment"] else ""))
    lr = rs["last_review"]
    lines.append(f"Spasms counted after review: <b>{rs['count']}</b> ({an.n_spasms} detected)"
                 + (f"; events last reviewed by {e(lr['reviewer'])} at {e(lr['at'])} UTC"
                    if lr else "; events not reviewed"))
    prob = (f", hypsarrhythmia score {an.probability:.2f} (not a probability)"
            if an.probability is not None else "")
    lines.append(f"Machine's verdict: BASED {e(str(an.based_score))} — "
                 f"{_verdict_text(g['machine_verdict'])}{prob}")
    if rs["pending"]:
        lines.append(f"{rs['pending']} earlier decision(s) could not be carried to this "
                     "analysis and await the reviewer")
    box = ('<section id="review-state" style="border:2px solid #1f5fbf;padding:.6em 1em;'
           'margin:1em;font-family:sans-serif"><h2 style="margin:.2em 0">Reviewed state</h2>'
           + "".join(f"<p style=\"margin:.3em 0\">{x}</p>" for x in lines)
           + _added_table(added or [], start) + "</section>")
    i = body.lower().find("<body")
    j = body.find(">", i) if i >= 0 else -1
    return body[: j + 1] + box + body[j + 1:] if j >= 0 else box + body


def _added_table(added: list[dict], start: datetime | None) -> str:
    """The events a reviewer added by hand (counted in the totals above), as a table."""
    if not added:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{_clock_at(start, x['onset'])}</td><td>{x['onset']:.1f}</td>"
        f"<td>{x['duration']:.1f}</td><td>added by the reviewer {e(x['reviewer'])} at "
        f"{e(x['reviewed_at'] or '')} UTC</td><td>{e(x['comment'] or '')}</td></tr>"
        for x in added)
    return ('<table id="reviewer-added" style="margin:.4em 0"><caption style="text-align:left">'
            f"Spasms added by the reviewer ({len(added)}), counted above, not in the machine's "
            "clusters and snippets below</caption><tr><th>clock time</th><th>onset (s)</th>"
            "<th>duration (s)</th><th>source</th><th>comment</th></tr>" + rows + "</table>")


def _clock_at(start: datetime | None, t: float) -> str:
    return (start + timedelta(seconds=float(t))).strftime("%H:%M:%S") if start else "n/a"


@router.get("/recordings/{rid}/report")
async def report(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> FileResponse:
    """The HTML report: of the reviewed state once anyone reviewed, the machine's before."""
    rec, an, revs, _ = load_recording(db, rid)
    p = _analysis_file(request, an, an.report_name if an else None)
    names = user_names(db)
    reviewed = any(r.analysis_id == an.id for r in revs)
    audit(db, user, "report.view", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request), detail="reviewed" if reviewed else "machine")
    db.commit()
    if reviewed:
        try:
            p = await run_in_threadpool(reviewed_report, request.app.state.settings, rec, an,
                                        revs, names)
        except HypsaError as exc:
            raise HTTPException(422, clean_message(request, str(exc))) from None
    return FileResponse(p, media_type="text/html; charset=utf-8")


@router.get("/recordings/{rid}/timeline.png")
def timeline(request: Request, rid: int = _rid(), user: User = Depends(current_user),
             db: Session = Depends(get_db)) -> FileResponse:
    """The timeline figure of the analysis."""
    rec, an, _, _ = load_recording(db, rid)
    p = _analysis_file(request, an, "timeline.png")
    return FileResponse(p, media_type="image/png")


@router.get("/api/recordings/{rid}/window")
async def window(request: Request, rid: int = _rid(), start: str = "0", duration: str = "10",
                 montage: str = "referential", max_points: str = "1200",
                 user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """A window of EEG for the viewer, with the EMG/ECG/EOG signals and the events in it."""
    rec, an, revs, _ = load_recording(db, rid)
    if montage not in MONTAGES:
        raise HTTPException(400, f"montage must be one of {', '.join(MONTAGES)}")
    st = finite(start, "start", 0.0, 1e7)
    dur = finite(duration, "duration", 0.1, 1e7)
    mp = int(finite(max_points, "max_points", 1, 1e6))
    dur = min(dur, 60.0)
    mp = int(min(max(mp, 100), 4000))
    audit(db, user, "eeg.window", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request), detail=f"{st:.1f}+{dur:.1f}s {montage}")
    db.commit()
    path = request.app.state.settings.recordings_dir / rec.stored_name
    try:
        out = await run_in_threadpool(window_data, path, st, dur, montage, mp)
    except HypsaError as exc:
        raise HTTPException(422, clean_message(request, str(exc))) from None
    if an is not None:
        ev = RV.effective_events(an, revs)
        out["events"] = [e for e in ev if e["onset"] + e["duration"] >= out["start"]
                         and e["onset"] <= out["start"] + out["duration"]]
    else:
        out["events"] = []
    return out


def _blocks(x: np.ndarray, k: int, peak: bool) -> np.ndarray:
    """Shrink columns by ``k``: block means, or (``peak``) each block's largest deflection."""
    if k <= 1:
        return x
    m = x.shape[1] // k
    if m == 0:
        return x
    b = x[:, : m * k].reshape(x.shape[0], m, k)
    if not peak:
        return b.mean(axis=2)
    i = np.abs(b).argmax(axis=2)
    return np.take_along_axis(b, i[..., None], axis=2)[..., 0]


def window_data(path: FsPath, start: float, duration: float, montage: str,
                max_points: int) -> dict:
    """A window of EEG for the viewer: montage applied, block-averaged to ``max_points``.

    EMG, ECG and EOG signals of the file come in ``extra`` (µV, each at its own rate, reduced
    to at most ``max_points`` by keeping each block's largest deflection so bursts stay
    visible), for the viewer to draw below the EEG on their own scale.
    """
    from hypsa.channels import DOUBLE_BANANA, STANDARD_19, average_reference, bipolar
    from hypsa.io import read

    rec = read(path)
    names = [n for n in STANDARD_19 if n in rec.eeg_names] or list(rec.eeg_names)
    total = float(rec.duration_s)
    duration = min(duration, total)
    start = min(max(0.0, start), max(0.0, total - duration))
    x = rec.get_data(picks=names, start_s=start, stop_s=start + duration).astype(float)
    fs = float(rec.sfreq)
    x = x - np.median(x, axis=1, keepdims=True)
    if montage == "average":
        x = average_reference(x)
    elif montage == "double_banana":
        x, names = bipolar(x, names, DOUBLE_BANANA)
    k = max(1, math.ceil(x.shape[1] / max_points))
    x = np.nan_to_num(_blocks(x, k, peak=False))
    extra = []
    for ch in rec.channels:
        if ch.kind not in EXTRA_KINDS:
            continue
        try:
            y = rec.get_data(picks=[ch.name], start_s=start,
                             stop_s=start + duration).astype(float)
        except HypsaError:
            continue
        y = y - np.median(y, axis=1, keepdims=True)
        ky = max(1, math.ceil(y.shape[1] / max_points))
        y = np.nan_to_num(_blocks(y, ky, peak=True))
        extra.append({"name": ch.name, "kind": ch.kind, "sfreq": float(ch.sfreq) / ky,
                      "data": np.round(y[0], 1).tolist()})
    return {"start": round(start, 3), "duration": round(duration, 3),
            "total": round(total, 3), "sfreq": fs / k, "montage": montage,
            "channels": list(names), "data": np.round(x, 1).tolist(), "extra": extra}


async def _json_object(request: Request) -> dict:
    """The request's JSON body, which must be an object (400 otherwise)."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "expected a JSON body") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "expected a JSON object")
    return body


@router.post("/api/recordings/{rid}/reviews", dependencies=[Depends(csrf)])
async def add_review(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> dict:
    """One decision: confirm/reject an event, add one, overrule the grade, or settle a
    decision that could not be carried (``resolve``, optionally adding the event again)."""
    body = await _json_object(request)
    rec, an, revs, job = load_recording(db, rid)
    if an is None:
        raise HTTPException(409, "the recording has not been analysed yet")
    kind = body.get("kind")
    comment = str(body.get("comment") or "")[:2000]
    r = Review(recording_id=rid, analysis_id=an.id, kind=str(kind)[:16], reviewer_id=user.id,
               comment=comment)
    extra: Review | None = None
    if kind in ("confirm", "reject"):
        key = str(body.get("event_key") or "")[:32]
        if key not in {e["key"] for e in RV.effective_events(an, revs)}:
            raise HTTPException(400, f"no event {key!r} in this recording")
        r.event_key = key
    elif kind == "add":
        onset = finite(body.get("onset"), "onset (s)", 0.0, float(rec.duration_s))
        dur = finite(body.get("duration", 1.0), "duration (s)", 0.01, 60.0)
        for e in RV.effective_events(an, revs):
            if e["counted"] and abs(e["onset"] - onset) < DUPLICATE_S:
                raise HTTPException(409, f"an event at {e['onset']:.2f} s is already counted "
                                         f"({e['source']}, {e['status']}): confirm it instead")
        r.onset, r.duration = round(onset, 3), round(dur, 3)
    elif kind == "grade":
        g = body.get("grade")
        if not isinstance(g, int) or isinstance(g, bool) or not 0 <= g <= 5:
            raise HTTPException(400, "grade must be an integer BASED grade 0-5")
        if not comment.strip():
            raise HTTPException(400, "overruling the grade needs a comment")
        r.grade = g
    elif kind == "resolve":
        key = str(body.get("key") or "")[:32]
        p = next((p for p in RV.pending(an, revs) if p["key"] == key), None)
        if p is None:
            raise HTTPException(400, f"no unsettled decision {key!r}")
        r.event_key = key
        if body.get("action") == "add":
            extra = Review(recording_id=rid, analysis_id=an.id, kind="add", reviewer_id=user.id,
                           onset=p["onset"], duration=p["duration"] or 1.0,
                           comment=comment or "kept from the earlier analysis")
        elif body.get("action") != "dismiss":
            raise HTTPException(400, "action must be add or dismiss")
    else:
        raise HTTPException(400, "kind must be confirm, reject, add, grade or resolve")
    db.add(r)
    if extra is not None:
        db.add(extra)
    db.flush()
    audit(db, user, f"review.{kind}", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request),
          detail=r.event_key if r.kind in ("confirm", "reject") else r.onset
          if r.kind == "add" else r.grade if r.kind == "grade"
          else f"{r.event_key} {body.get('action')}")
    db.commit()
    revs.append(r)
    if extra is not None:
        revs.append(extra)
    return recording_json(db, rec, an, revs, job)


@router.get("/recordings/{rid}/export.edf")
async def export(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> Response:
    """A copy of the recording with the reviewed events as EDF+ annotations."""
    from hypsa.export import export_annotations

    settings = request.app.state.settings
    rec, an, revs, _ = load_recording(db, rid)
    if an is None:
        raise HTTPException(409, "the recording has not been analysed yet")
    gap = float(((an.summary or {}).get("spasms") or {}).get("cluster_gap_s") or 60.0)
    df = RV.counted_frame(RV.effective_events(an, revs), gap)
    last = RV.reviewed_summary(an, revs, user_names(db))["last_review"]
    note = f"hypsa reviewed by {last['reviewer']} {last['at']}" if last else None
    src = settings.recordings_dir / rec.stored_name
    suf = ".bdf" if rec.stored_name.endswith(".bdf") else ".edf"
    out = settings.tmp_dir / f"export-{rid}-{time.monotonic_ns()}{suf}"
    try:
        await run_in_threadpool(export_annotations, src, df, out, note=note)
        data = out.read_bytes()
    except HypsaError as exc:
        raise HTTPException(422, clean_message(request, str(exc))) from None
    finally:
        out.unlink(missing_ok=True)
    audit(db, user, "export.annotations", target=f"recording:{rid}",
          patient_id=rec.patient_id, ip=client_ip(request), detail=f"{len(df)} events")
    db.commit()
    stem = FsPath(rec.display_name).stem
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80] or "recording"
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f'attachment; filename="{safe}.reviewed{suf}"'})


@router.post("/api/recordings/{rid}/reanalyze", dependencies=[Depends(csrf)])
async def reanalyze(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                    db: Session = Depends(get_db)) -> dict:
    """Queue a new analysis. A reviewed recording needs ``{"confirm": true}``: its decisions
    are carried onto the new analysis, and what cannot be carried is put to the reviewer."""
    body: dict = {}
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await _json_object(request)
    rec, an, revs, job = load_recording(db, rid)
    if job is not None and job.status in ("queued", "running"):
        raise HTTPException(409, "a job for this recording is already queued or running")
    n = sum(1 for r in revs if an is not None and r.analysis_id == an.id
            and r.kind in ("confirm", "reject", "add", "grade", "uncarried"))
    if n and body.get("confirm") is not True:
        raise HTTPException(409, f"this recording has {n} review decision(s): re-analysing "
                                 "carries them to the new analysis where events match within "
                                 f"{RV.CARRY_TOLERANCE_S:g} s and asks about the rest; "
                                 "confirm to go on")
    j = enqueue(db, rid)
    audit(db, user, "job.requeue", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request), detail=f"{n} review decision(s) to carry; confirmed" if n
          else "not reviewed")
    db.commit()
    return job_json(j)

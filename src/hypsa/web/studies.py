"""Blinded reader studies in the web app.

A study is a set of recordings and a set of readers. An admin creates it (and owns it), uploads
its recordings into it and names its readers. Each reader scores each recording on the study's
own page, with the EEG viewer but without hypsa's output or the other readers' marks: spasms as
events, the BASED grade of the most abnormal epoch, hypsarrhythmia yes/no, a free comment.

Blinding: a study's recordings are not analysed while it is open, and every page or API of the
recording itself answers 403 (:func:`check_blinded`) until the owner unblinds: hypsa's output
does not exist yet, and no reader can ask for it. A reader's API returns that reader's own
marks only. The owner sees progress (how many recordings each reader has finished), locks the
study (scores are frozen), then unblinds: hypsa analyses the recordings, and the agreement page
(:mod:`hypsa.study.agreement`) shows kappa with intervals, the event-level table and hypsa
against the readers.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from hypsa.errors import HypsaError
from hypsa.web.db import AnalysisRow, Base, Job, RecordingRow, User, utcnow
from hypsa.web.deps import (
    MAX_ID,
    admin_user,
    clean_message,
    client_ip,
    csrf,
    current_user,
    finite,
    get_db,
    render,
)
from hypsa.web.security import audit

__all__ = ["router", "Study", "StudyReader", "StudyRecording", "StudyScore", "StudyMark",
           "check_blinded", "study_data"]

router = APIRouter()
SID = Path(ge=1, le=MAX_ID)
IID = Path(ge=1, le=MAX_ID)
STATUSES = ("open", "locked", "unblinded")


# ------------------------------------------------------------------------------ tables
class Study(Base):
    """A reader study: ``open`` (readers score) -> ``locked`` -> ``unblinded``."""

    __tablename__ = "studies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    unblinded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class StudyReader(Base):
    """A reader of a study."""

    __tablename__ = "study_readers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class StudyRecording(Base):
    """A recording of a study, shown to the readers under its label only."""

    __tablename__ = "study_recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    label: Mapped[str] = mapped_column(String(32))


class StudyScore(Base):
    """One reader's grade, hypsarrhythmia answer and comment on one study recording."""

    __tablename__ = "study_scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("study_recordings.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hypsarrhythmia: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StudyMark(Base):
    """One spasm a reader marked on a study recording."""

    __tablename__ = "study_marks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("study_recordings.id"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    onset: Mapped[float] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# ------------------------------------------------------------------------------ helpers
def check_blinded(db: Session, rid: int) -> None:
    """403 when the recording belongs to a study that is not unblinded yet (for the pages
    and APIs of the recording itself: hypsa's output and reviews stay hidden)."""
    hit = db.scalar(select(Study.name).join(StudyRecording, StudyRecording.study_id == Study.id)
                    .where(StudyRecording.recording_id == rid, Study.status != "unblinded")
                    .limit(1))
    if hit is not None:
        raise HTTPException(403, f"this recording is in the blinded reader study {hit!r}: "
                                 "it is seen through the study until the owner unblinds it")


def _study(db: Session, sid: int) -> Study:
    s = db.get(Study, sid)
    if s is None:
        raise HTTPException(404, "no such study")
    return s


def _owned_study(db: Session, sid: int, user: User, does: str, status: str,
                 conflict: str) -> Study:
    """The study ``sid`` when ``user`` owns it (403: "only the study's owner ``does``") and it is
    ``status`` (409: ``conflict``, in which ``{status}`` stands for the study's status)."""
    s = _study(db, sid)
    if s.owner_id != user.id:
        raise HTTPException(403, f"only the study's owner {does}")
    if s.status != status:
        raise HTTPException(409, conflict.format(status=s.status))
    return s


def _reader_ids(db: Session, sid: int) -> list[int]:
    return list(db.scalars(select(StudyReader.user_id).where(StudyReader.study_id == sid)))


def _role(db: Session, s: Study, user: User) -> str:
    """``owner``, ``reader`` or ``admin`` (403 for anyone else)."""
    if s.owner_id == user.id:
        return "owner"
    if user.id in _reader_ids(db, s.id):
        return "reader"
    if user.role == "admin":
        return "admin"
    raise HTTPException(403, "you are neither the owner nor a reader of this study")


def _items(db: Session, sid: int) -> list[StudyRecording]:
    return list(db.scalars(select(StudyRecording).where(StudyRecording.study_id == sid)
                           .order_by(StudyRecording.id)))


def _item(db: Session, s: Study, iid: int) -> StudyRecording:
    it = db.get(StudyRecording, iid)
    if it is None or it.study_id != s.id:
        raise HTTPException(404, "no such recording in this study")
    return it


def _as_reader(db: Session, s: Study, user: User) -> None:
    if user.id not in _reader_ids(db, s.id):
        raise HTTPException(403, "only the study's readers score its recordings")


def _progress(db: Session, s: Study) -> list[dict]:
    items = _items(db, s.id)
    ids = [i.id for i in items]
    names = {u.id: u.username for u in db.scalars(select(User))}
    done: dict[int, int] = {}
    marks: dict[int, int] = {}
    if ids:
        for sc in db.scalars(select(StudyScore).where(StudyScore.item_id.in_(ids))):
            if sc.done:
                done[sc.reader_id] = done.get(sc.reader_id, 0) + 1
        for m in db.scalars(select(StudyMark).where(StudyMark.item_id.in_(ids))):
            marks[m.reader_id] = marks.get(m.reader_id, 0) + 1
    return [{"reader": names.get(u, f"user {u}"), "done": done.get(u, 0), "total": len(ids),
             "marks": marks.get(u, 0) if s.status == "unblinded" else None}
            for u in _reader_ids(db, s.id)]


def _spasm_events(events: list[dict] | None) -> list[tuple[float, float]]:
    from hypsa.study.agreement import is_spasm

    out = []
    for e in events or []:
        tt = e.get("trial_type")
        if tt is None or is_spasm([tt])[0]:
            out.append((float(e["onset"]), float(e["duration"])))
    return out


def study_data(db: Session, s: Study):
    """The study's scores and marks as a :class:`hypsa.study.agreement.Study`, with hypsa's
    analyses (once unblinded and analysed) as the rater ``hypsa``."""
    from hypsa.study.agreement import Study as StudyTable

    items = _items(db, s.id)
    names = {u.id: u.username for u in db.scalars(select(User))}
    readers = _reader_ids(db, s.id)
    label = {i.id: i.label for i in items}
    durations, scores, events = {}, [], []
    for it in items:
        rec = db.get(RecordingRow, it.recording_id)
        durations[it.label] = float(rec.duration_s) if rec else 0.0
    ids = list(label)
    if ids:
        for sc in db.scalars(select(StudyScore).where(StudyScore.item_id.in_(ids))):
            if sc.reader_id in readers:
                scores.append({"recording": label[sc.item_id], "reader": names[sc.reader_id],
                               "grade": float(sc.grade) if sc.grade is not None else None,
                               "hypsarrhythmia": None if sc.hypsarrhythmia is None
                               else float(sc.hypsarrhythmia), "comment": sc.comment})
        for m in db.scalars(select(StudyMark).where(StudyMark.item_id.in_(ids))):
            if m.reader_id in readers:
                events.append({"recording": label[m.item_id], "reader": names[m.reader_id],
                               "onset": m.onset, "duration": m.duration})
    algorithm = None
    if s.status == "unblinded":
        for it in items:
            an = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id
                                                     == it.recording_id)
                           .order_by(AnalysisRow.id.desc()).limit(1))
            if an is None:
                continue
            algorithm = "hypsa"
            h = (an.summary or {}).get("hypsarrhythmia") or {}
            present = None if h.get("verdict") == "not_assessable" else h.get("present")
            scores.append({"recording": it.label, "reader": "hypsa",
                           "grade": None if an.based_score is None else float(an.based_score),
                           "hypsarrhythmia": None if present is None else float(bool(present)),
                           "comment": ""})
            events += [{"recording": it.label, "reader": "hypsa", "onset": o, "duration": d}
                       for o, d in _spasm_events(an.events)]
    sc = pd.DataFrame(scores, columns=["recording", "reader", "grade", "hypsarrhythmia",
                                       "comment"])
    for c in ("grade", "hypsarrhythmia"):
        sc[c] = pd.to_numeric(sc[c], errors="coerce")
    ev = pd.DataFrame(events, columns=["recording", "reader", "onset", "duration"])
    return StudyTable(scores=sc, events=ev, durations={k: v for k, v in durations.items()
                                                       if v > 0}, algorithm=algorithm)


def _agreement(db: Session, s: Study, n_boot: int = 500):
    from hypsa.study.agreement import agreement

    return agreement(study_data(db, s), n_boot=n_boot, seed=s.id)


# ------------------------------------------------------------------------------ pages
@router.get("/studies", response_class=HTMLResponse)
def studies_page(request: Request, user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> HTMLResponse:
    """The studies the user owns or reads (an admin sees all), and the form for a new one."""
    mine = set(db.scalars(select(StudyReader.study_id).where(StudyReader.user_id == user.id)))
    rows = []
    for s in db.scalars(select(Study).order_by(Study.id.desc())):
        if user.role == "admin" or s.owner_id == user.id or s.id in mine:
            rows.append({"id": s.id, "name": s.name, "status": s.status,
                         "role": "owner" if s.owner_id == user.id else (
                             "reader" if s.id in mine else "admin"),
                         "recordings": len(_items(db, s.id))})
    users = [u.username for u in db.scalars(select(User).where(User.active.is_(True))
                                            .order_by(User.username))]
    return render(request, "study_list.html", user, studies=rows, users=users,
                  error=request.query_params.get("error", "")[:300])


@router.post("/studies", dependencies=[Depends(csrf)])
async def create_study(request: Request, user: User = Depends(admin_user),
                       db: Session = Depends(get_db)) -> Response:
    """Create a study (admins): a name and the readers' user names."""
    form = await request.form()
    name = " ".join(str(form.get("name") or "").split())[:120]
    wanted = [n.strip() for n in str(form.get("readers") or "").replace(";", ",").split(",")
              if n.strip()]
    if not name or len(wanted) < 2:
        raise HTTPException(400, "a study needs a name and at least two readers (user names, "
                                 "comma-separated)")
    users = []
    for n in dict.fromkeys(wanted):
        u = db.scalar(select(User).where(User.username == n, User.active.is_(True)))
        if u is None:
            raise HTTPException(400, f"no active user named {n[:64]!r}")
        users.append(u)
    s = Study(name=name, owner_id=user.id, status="open")
    db.add(s)
    db.flush()
    for u in users:
        db.add(StudyReader(study_id=s.id, user_id=u.id))
    audit(db, user, "study.create", target=f"study:{s.id}", ip=client_ip(request),
          detail=f"{name}; readers {', '.join(u.username for u in users)}")
    db.commit()
    return RedirectResponse(f"/studies/{s.id}", status_code=303)


@router.get("/studies/{sid}", response_class=HTMLResponse)
def study_page(request: Request, sid: int = SID, user: User = Depends(current_user),
               db: Session = Depends(get_db)) -> HTMLResponse:
    """The owner's progress and controls; a reader's list of recordings to score."""
    s = _study(db, sid)
    role = _role(db, s, user)
    items = _items(db, sid)
    mine = {}
    if user.id in _reader_ids(db, sid) and items:
        for sc in db.scalars(select(StudyScore).where(
                StudyScore.item_id.in_([i.id for i in items]), StudyScore.reader_id == user.id)):
            mine[sc.item_id] = sc
    rows = [{"id": i.id, "label": i.label, "done": bool(mine.get(i.id) and mine[i.id].done)}
            for i in items]
    audit(db, user, "study.view", target=f"study:{sid}", ip=client_ip(request))
    db.commit()
    return render(request, "study.html", user, study=s, role=role, items=rows,
                  is_reader=user.id in _reader_ids(db, sid),
                  progress=_progress(db, s) if role in ("owner", "admin") else [],
                  error=request.query_params.get("error", "")[:300])


@router.post("/studies/{sid}/recordings", dependencies=[Depends(csrf)])
async def add_recordings(request: Request, sid: int = SID, user: User = Depends(current_user),
                         db: Session = Depends(get_db)) -> Response:
    """Upload recordings into an open study (the owner); they are not analysed until the
    study is unblinded."""
    from hypsa.web.jobs import UploadRejected, accept_file, display_name, write_upload

    _owned_study(db, sid, user, "adds recordings", "open",
                 "the study is locked: no recording can be added")
    settings = request.app.state.settings
    form = await request.form(max_files=settings.max_files, max_fields=50)
    files = [f for f in form.getlist("files") if not isinstance(f, str)]
    if not files:
        raise HTTPException(400, "no file in the upload (field 'files')")
    n = len(_items(db, sid))
    errors = []
    for f in files:
        name = display_name(f.filename)
        staged = settings.tmp_dir / f"study-{uuid.uuid4().hex}.part"
        try:
            staged, _ = await write_upload(settings, f, name, staged)
            info = await run_in_threadpool(accept_file, settings, staged, name)
        except UploadRejected as exc:
            staged.unlink(missing_ok=True)
            errors.append(clean_message(request, str(exc)))
            continue
        finally:
            await f.close()
        info.pop("recorded_on", None)
        rec = RecordingRow(display_name=name, uploaded_by=user.id, **info)
        db.add(rec)
        db.flush()
        n += 1
        db.add(StudyRecording(study_id=sid, recording_id=rec.id, label=f"R{n}"))
        audit(db, user, "study.recording", target=f"study:{sid}", ip=client_ip(request),
              detail=f"recording:{rec.id} as R{n}")
        db.commit()
    if errors:
        return RedirectResponse(f"/studies/{sid}?error=" + "; ".join(errors)[:300],
                                status_code=303)
    return RedirectResponse(f"/studies/{sid}", status_code=303)


@router.post("/studies/{sid}/lock", dependencies=[Depends(csrf)])
def lock_study(request: Request, sid: int = SID, user: User = Depends(current_user),
               db: Session = Depends(get_db)) -> Response:
    """Lock an open study (the owner): the scores are frozen."""
    s = _owned_study(db, sid, user, "locks it", "open", "the study is {status}, not open")
    s.status, s.locked_at = "locked", utcnow()
    audit(db, user, "study.lock", target=f"study:{sid}", ip=client_ip(request))
    db.commit()
    return RedirectResponse(f"/studies/{sid}", status_code=303)


@router.post("/studies/{sid}/unblind", dependencies=[Depends(csrf)])
def unblind_study(request: Request, sid: int = SID, user: User = Depends(current_user),
                  db: Session = Depends(get_db)) -> Response:
    """Unblind a locked study (the owner): hypsa analyses its recordings, and the agreement
    can be seen."""
    from hypsa.web.jobs import enqueue

    s = _owned_study(db, sid, user, "unblinds it", "locked",
                     "lock the study before unblinding it")
    s.status, s.unblinded_at = "unblinded", utcnow()
    for it in _items(db, sid):
        has = db.scalar(select(Job.id).where(Job.recording_id == it.recording_id).limit(1))
        if has is None:
            enqueue(db, it.recording_id)
    audit(db, user, "study.unblind", target=f"study:{sid}", ip=client_ip(request))
    db.commit()
    return RedirectResponse(f"/studies/{sid}/agreement", status_code=303)


@router.get("/studies/{sid}/read/{iid}", response_class=HTMLResponse)
def read_page(request: Request, sid: int = SID, iid: int = IID,
              user: User = Depends(current_user), db: Session = Depends(get_db)
              ) -> HTMLResponse:
    """A reader's scoring page: the EEG viewer without hypsa's marks or anyone else's."""
    s = _study(db, sid)
    _as_reader(db, s, user)
    it = _item(db, s, iid)
    rec = db.get(RecordingRow, it.recording_id)
    audit(db, user, "study.read", target=f"study:{sid}", ip=client_ip(request),
          detail=it.label)
    db.commit()
    return render(request, "study_read.html", user, study=s, item=it,
                  duration=rec.duration_s if rec else 0.0)


def _mine(db: Session, it: StudyRecording, user: User) -> dict:
    sc = db.scalar(select(StudyScore).where(StudyScore.item_id == it.id,
                                            StudyScore.reader_id == user.id))
    marks = db.scalars(select(StudyMark).where(StudyMark.item_id == it.id,
                                               StudyMark.reader_id == user.id)
                       .order_by(StudyMark.onset)).all()
    return {"label": it.label,
            "marks": [{"id": m.id, "onset": m.onset, "duration": m.duration} for m in marks],
            "score": {"grade": sc.grade if sc else None,
                      "hypsarrhythmia": sc.hypsarrhythmia if sc else None,
                      "comment": sc.comment if sc else "", "done": bool(sc and sc.done)}}


@router.get("/api/studies/{sid}/items/{iid}")
def api_mine(sid: int = SID, iid: int = IID, user: User = Depends(current_user),
             db: Session = Depends(get_db)) -> dict:
    """The reader's own marks and score on one study recording (never anyone else's)."""
    s = _study(db, sid)
    _as_reader(db, s, user)
    return {**_mine(db, _item(db, s, iid), user), "status": s.status}


@router.get("/api/studies/{sid}/items/{iid}/window")
async def api_window(request: Request, sid: int = SID, iid: int = IID, start: str = "0",
                     duration: str = "10", montage: str = "referential",
                     max_points: str = "1200", user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> dict:
    """A window of the recording's EEG for the study viewer (no events at all)."""
    from hypsa.web.recordings import MONTAGES, window_data

    s = _study(db, sid)
    _as_reader(db, s, user)
    it = _item(db, s, iid)
    rec = db.get(RecordingRow, it.recording_id)
    if montage not in MONTAGES:
        raise HTTPException(400, f"montage must be one of {', '.join(MONTAGES)}")
    st = finite(start, "start", 0.0, 1e7)
    dur = min(finite(duration, "duration", 0.1, 1e7), 60.0)
    mp = int(min(max(finite(max_points, "max_points", 1, 1e6), 100), 4000))
    audit(db, user, "study.eeg.window", target=f"study:{sid}", ip=client_ip(request),
          detail=f"{it.label} {st:.1f}+{dur:.1f}s")
    db.commit()
    path = request.app.state.settings.recordings_dir / rec.stored_name
    try:
        out = await run_in_threadpool(window_data, path, st, dur, montage, mp)
    except HypsaError as exc:
        raise HTTPException(422, clean_message(request, str(exc))) from None
    out["events"] = []
    return out


def _open_for(db: Session, sid: int, iid: int, user: User) -> tuple[Study, StudyRecording]:
    s = _study(db, sid)
    _as_reader(db, s, user)
    it = _item(db, s, iid)
    if s.status != "open":
        raise HTTPException(409, f"the study is {s.status}: scores can no longer change")
    return s, it


@router.post("/api/studies/{sid}/items/{iid}/marks", dependencies=[Depends(csrf)])
async def add_mark(request: Request, sid: int = SID, iid: int = IID,
                   user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """Mark a spasm (``onset``, ``duration`` in s)."""
    s, it = _open_for(db, sid, iid, user)
    body = await request.json()
    rec = db.get(RecordingRow, it.recording_id)
    total = float(rec.duration_s) if rec else 1e7
    onset = finite(body.get("onset"), "onset", 0.0, total)
    dur = finite(body.get("duration", 1.0), "duration", 0.05, 60.0)
    db.add(StudyMark(item_id=it.id, reader_id=user.id, onset=onset, duration=dur))
    audit(db, user, "study.mark", target=f"study:{sid}", ip=client_ip(request),
          detail=f"{it.label} {onset:.2f}s")
    db.commit()
    return _mine(db, it, user)


@router.post("/api/studies/{sid}/items/{iid}/marks/{mid}/delete", dependencies=[Depends(csrf)])
def delete_mark(request: Request, sid: int = SID, iid: int = IID, mid: int = IID,
                user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """Remove one of the reader's own marks."""
    s, it = _open_for(db, sid, iid, user)
    m = db.get(StudyMark, mid)
    if m is None or m.item_id != it.id or m.reader_id != user.id:
        raise HTTPException(404, "no such mark of yours")
    db.delete(m)
    audit(db, user, "study.unmark", target=f"study:{sid}", ip=client_ip(request),
          detail=f"{it.label} {m.onset:.2f}s")
    db.commit()
    return _mine(db, it, user)


@router.post("/api/studies/{sid}/items/{iid}/score", dependencies=[Depends(csrf)])
async def save_score(request: Request, sid: int = SID, iid: int = IID,
                     user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """Save the reader's BASED grade (0-5), hypsarrhythmia yes/no, comment, and whether the
    recording is finished."""
    s, it = _open_for(db, sid, iid, user)
    body = await request.json()
    grade = body.get("grade")
    if grade not in (None, ""):
        grade = int(finite(grade, "grade", 0, 5))
    else:
        grade = None
    hy = body.get("hypsarrhythmia")
    if hy not in (None, "", "yes", "no", True, False):
        raise HTTPException(400, "hypsarrhythmia must be yes or no")
    hyv = None if hy in (None, "") else hy in ("yes", True)
    done = bool(body.get("done"))
    if done and (grade is None or hyv is None):
        raise HTTPException(400, "a finished recording needs a grade and a hypsarrhythmia "
                                 "answer")
    sc = db.scalar(select(StudyScore).where(StudyScore.item_id == it.id,
                                            StudyScore.reader_id == user.id))
    if sc is None:
        sc = StudyScore(item_id=it.id, reader_id=user.id, comment="")
        db.add(sc)
    sc.grade, sc.hypsarrhythmia = grade, hyv
    sc.comment = str(body.get("comment") or "")[:2000]
    sc.done, sc.updated_at = done, utcnow()
    audit(db, user, "study.score", target=f"study:{sid}", ip=client_ip(request),
          detail=f"{it.label} grade {grade} hyps {hyv} done {done}")
    db.commit()
    return _mine(db, it, user)


def _unblinded(db: Session, sid: int, user: User) -> Study:
    s = _study(db, sid)
    _role(db, s, user)
    if s.status != "unblinded":
        raise HTTPException(403, "the agreement is shown once the owner has unblinded the "
                                 "study")
    return s


@router.get("/studies/{sid}/agreement", response_class=HTMLResponse)
async def agreement_page(request: Request, sid: int = SID, user: User = Depends(current_user),
                         db: Session = Depends(get_db)) -> HTMLResponse:
    """Kappa with intervals, the event-level table, counts, and hypsa against the readers."""
    from hypsa.errors import ParameterError

    s = _unblinded(db, sid, user)
    pending = db.scalar(select(Job.id).join(StudyRecording, StudyRecording.recording_id
                                            == Job.recording_id)
                        .where(StudyRecording.study_id == sid,
                               Job.status.in_(("queued", "running"))).limit(1))
    audit(db, user, "study.agreement", target=f"study:{sid}", ip=client_ip(request))
    db.commit()
    res, error = None, ""
    try:
        res = await run_in_threadpool(_agreement, db, s)
    except ParameterError as exc:
        error = str(exc)
    return render(request, "study_agreement.html", user, study=s, res=res, error=error,
                  pending=pending is not None, kinds=_KINDS)


@router.get("/studies/{sid}/agreement/report")
async def agreement_report(request: Request, sid: int = SID,
                           user: User = Depends(current_user),
                           db: Session = Depends(get_db)) -> HTMLResponse:
    """The self-contained HTML report of the agreement (as ``hypsa study agreement``)."""
    from hypsa.study.report import render_html

    s = _unblinded(db, sid, user)
    res = await run_in_threadpool(_agreement, db, s)
    audit(db, user, "study.report", target=f"study:{sid}", ip=client_ip(request))
    db.commit()
    return HTMLResponse(render_html(res, s.name))


_KINDS: dict[str, Any] = {"reader-reader": "reader vs reader",
                          "reader-majority": "reader vs majority of the others",
                          "hypsa-reader": "hypsa vs reader",
                          "hypsa-majority": "hypsa vs majority of the readers",
                          "readers": "across readers", "readers + hypsa": "readers and hypsa"}


# ------------------------------------------------------------------------------ site model
SITE_DIR = "site-model"
CANDIDATE_DIR = "site-model-candidate"


def site_params(settings: Any):
    """The analysis parameters of the adopted site model (``<data>/site-model``), or None for
    the shipped model. The worker analyses with them; every output names the model."""
    from hypsa.study.calibrate import MODEL_FILE, load_site_model

    d = settings.data_dir / SITE_DIR
    if not (d / MODEL_FILE).is_file():
        return None
    return load_site_model(d).params()


def _card(folder: Any) -> dict | None:
    import json

    p = folder / "card.json"
    return json.loads(p.read_text()) if p.is_file() else None


def reviewed_recordings(db: Session, settings: Any) -> list[dict]:
    """The fully reviewed recordings (every detected spasm confirmed or rejected): file,
    patient and the reviewed spasms (confirmed and added)."""
    from hypsa.web import review as RV
    from hypsa.web.db import Review

    out = []
    for rec in db.scalars(select(RecordingRow).order_by(RecordingRow.id)):
        an = db.scalar(select(AnalysisRow).where(AnalysisRow.recording_id == rec.id)
                       .order_by(AnalysisRow.id.desc()).limit(1))
        if an is None or db.scalar(select(StudyRecording.id).join(
                Study, Study.id == StudyRecording.study_id).where(
                StudyRecording.recording_id == rec.id, Study.status != "unblinded")
                .limit(1)) is not None:
            continue
        revs = list(db.scalars(select(Review).where(Review.recording_id == rec.id)))
        ev = [e for e in RV.effective_events(an, revs)
              if e.get("trial_type") is None or _spasm_events([e])]
        if not any(r.analysis_id == an.id for r in revs) or \
                any(e["status"] == "unreviewed" for e in ev):
            continue
        truth = pd.DataFrame([{"onset": e["onset"], "duration": e["duration"]} for e in ev
                              if e["status"] in ("confirmed", "added")],
                             columns=["onset", "duration"])
        out.append({"path": settings.recordings_dir / rec.stored_name,
                    "recording": f"recording-{rec.id}",
                    "patient": f"patient-{rec.patient_id}" if rec.patient_id
                    else f"recording-{rec.id}", "truth": truth})
    return out


def _calibrate_job(settings: Any, factory: Any, state: dict, user_id: int) -> None:
    """Background calibration on the app's reviewed recordings into the candidate folder."""
    import shutil
    from dataclasses import replace

    from hypsa.analysis import AnalysisParams, analyze
    from hypsa.study.calibrate import (
        FLOOR,
        CalibrationRefused,
        Reviewed,
        _spasm_rows,
        calibrate,
        write_refused,
    )

    out = settings.data_dir / CANDIDATE_DIR
    try:
        with factory() as db:
            todo = reviewed_recordings(db, settings)
        state.update(total=len(todo), done=0)
        base = AnalysisParams()
        params = replace(base, spasms=replace(base.spasms, min_confidence=FLOOR))
        recs = []
        for t in todo:
            res = analyze(t["path"], params=params)
            ev = res.events
            ev = ev[_spasm_rows(ev)].reset_index(drop=True) if len(ev) else ev
            recs.append(Reviewed(t["recording"], t["patient"],
                                 float(res.summary_["duration_s"]), ev, t["truth"]))
            state["done"] += 1
        shutil.rmtree(out, ignore_errors=True)
        name = f"site model {utcnow().date().isoformat()}"
        try:
            m = calibrate(recs, name=name, data={"source": f"hypsa web app: {len(recs)} fully "
                                                           "reviewed recordings"})
            m.save(out)
            verdict = m.card["verdict"]
        except CalibrationRefused as exc:
            write_refused(out, exc.card)
            verdict = str(exc)
        state["error"] = ""
    except HypsaError as exc:
        verdict = ""
        state["error"] = " ".join(str(exc).split())
    finally:
        state["running"] = False
    with factory() as db:
        u = db.get(User, user_id)
        audit(db, u, "site_model.calibrate", detail=verdict or state["error"])
        db.commit()


def _site_state(request: Request) -> dict:
    st = getattr(request.app.state, "site_calibration", None)
    if st is None:
        st = {"running": False, "done": 0, "total": 0, "error": ""}
        request.app.state.site_calibration = st
    return st


@router.get("/admin/site-model", response_class=HTMLResponse)
def site_model_page(request: Request, user: User = Depends(admin_user),
                    db: Session = Depends(get_db)) -> HTMLResponse:
    """The spasm model in use (shipped or an adopted site model), a candidate's card, and the
    calibration from the fully reviewed recordings."""
    from hypsa.study.calibrate import MODEL_FILE, shipped_model_info

    d = request.app.state.settings.data_dir
    cand = _card(d / CANDIDATE_DIR)
    return render(request, "study_site_model.html", user, shipped=shipped_model_info(),
                  adopted=_card(d / SITE_DIR), candidate=cand,
                  candidate_ok=(d / CANDIDATE_DIR / MODEL_FILE).is_file(),
                  state=_site_state(request), n_reviewed=len(reviewed_recordings(
                      db, request.app.state.settings)))


@router.post("/admin/site-model/calibrate", dependencies=[Depends(csrf)])
def site_model_calibrate(request: Request, user: User = Depends(admin_user)) -> Response:
    """Start the calibration (in the background; the page shows its progress)."""
    import threading

    st = _site_state(request)
    if st["running"]:
        raise HTTPException(409, "a calibration is already running")
    st.update(running=True, done=0, total=0, error="")
    threading.Thread(target=_calibrate_job, args=(request.app.state.settings,
                                                  request.app.state.db_factory, st, user.id),
                     daemon=True).start()
    return RedirectResponse("/admin/site-model", status_code=303)


@router.post("/admin/site-model/adopt", dependencies=[Depends(csrf)])
def site_model_adopt(request: Request, user: User = Depends(admin_user),
                     db: Session = Depends(get_db)) -> Response:
    """Adopt the accepted candidate: new analyses use it (and name it)."""
    import shutil

    from hypsa.study.calibrate import MODEL_FILE

    d = request.app.state.settings.data_dir
    if not (d / CANDIDATE_DIR / MODEL_FILE).is_file():
        raise HTTPException(409, "no accepted site model to adopt (a refused one is never "
                                 "used)")
    shutil.rmtree(d / SITE_DIR, ignore_errors=True)
    shutil.move(str(d / CANDIDATE_DIR), str(d / SITE_DIR))
    card = _card(d / SITE_DIR) or {}
    audit(db, user, "site_model.adopt", ip=client_ip(request), detail=card.get("verdict", ""))
    db.commit()
    return RedirectResponse("/admin/site-model", status_code=303)


@router.post("/admin/site-model/remove", dependencies=[Depends(csrf)])
def site_model_remove(request: Request, user: User = Depends(admin_user),
                      db: Session = Depends(get_db)) -> Response:
    """Go back to the shipped model for new analyses."""
    import shutil

    shutil.rmtree(request.app.state.settings.data_dir / SITE_DIR, ignore_errors=True)
    audit(db, user, "site_model.remove", ip=client_ip(request))
    db.commit()
    return RedirectResponse("/admin/site-model", status_code=303)

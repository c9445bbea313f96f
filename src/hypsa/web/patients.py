"""Routes: patients, their visits and treatment response, treatments and the caregiver diary."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hypsa.errors import HypsaError
from hypsa.web import review as RV
from hypsa.web.db import DiaryEntry, Patient, RecordingRow, Treatment, User
from hypsa.web.deps import (
    MAX_ID,
    clean_message,
    client_ip,
    csrf,
    current_user,
    get_db,
    parse_date,
    render,
)
from hypsa.web.recordings import load_recording, patient_for, user_names
from hypsa.web.security import audit

__all__ = ["router", "MAX_IMPORT_ROWS"]

router = APIRouter()


def _id() -> Any:
    """A path id: 1 to MAX_ID (a new parameter object for each use)."""
    return Path(ge=1, le=MAX_ID)


#: Most rows one diary CSV may add (a larger file is refused as a whole).
MAX_IMPORT_ROWS = 2000
EVENTS = ("start", "stop", "change")


@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, user: User = Depends(current_user),
             db: Session = Depends(get_db)) -> HTMLResponse:
    """Every patient code with its number of recordings."""
    rows = []
    counts = dict(db.execute(select(RecordingRow.patient_id, func.count())
                             .group_by(RecordingRow.patient_id)).all())
    for p in db.scalars(select(Patient).order_by(Patient.code)):
        rows.append({"id": p.id, "code": p.code, "recordings": counts.get(p.id, 0)})
    audit(db, user, "patients.list", ip=client_ip(request))
    db.commit()
    return render(request, "patients.html", user, patients=rows)


@router.post("/patients", dependencies=[Depends(csrf)])
async def new_patient(request: Request, user: User = Depends(current_user),
                      db: Session = Depends(get_db)) -> Response:
    """Add a patient code."""
    form = await request.form()
    p = patient_for(db, str(form.get("code") or ""), user)
    if p is None:
        raise HTTPException(400, "patient code is empty")
    audit(db, user, "patient.create", target=f"patient:{p.id}", patient_id=p.id,
          ip=client_ip(request))
    db.commit()
    return RedirectResponse(f"/patients/{p.id}", status_code=303)


def _rate_text(rate: dict) -> str:
    if rate.get("per_hour") is None:
        return "—"
    if rate.get("per_24h") is not None:
        return f"{rate['per_24h']:.0f} per 24 h (extrapolated from {rate['analysed_h']:.1f} h)"
    lo, hi = rate["per_hour_ci95"]
    return (f"{rate['per_hour']:.1f} per h (95 % CI {lo:.1f}–{hi:.1f}) in "
            f"{rate['analysed_h'] * 60:.0f} min")


def patient_doc(db: Session, p: Patient, definition: str) -> dict:
    """Visits (reviewed), treatments, diary and the response under ``definition``."""
    from hypsa import response as R

    names = user_names(db)
    recs = db.scalars(select(RecordingRow).where(RecordingRow.patient_id == p.id)
                      .order_by(RecordingRow.recorded_on, RecordingRow.id)).all()
    visits_rows, visits = [], []
    for rec in recs:
        _, an, revs, job = load_recording(db, rec.id)
        when = rec.recorded_on or rec.uploaded_at.date()
        row: dict[str, Any] = {
            "id": rec.id, "name": rec.display_name, "date": when.isoformat(),
            "dated_by": "recording" if rec.recorded_on else "upload",
            "status": job.status if job else "—", "grade": None, "spasms": None,
            "per_24h": None, "rate": None, "rate_text": "—",
            "hours": rec.duration_s / 3600, "reviewed": False}
        if an is not None:
            rs = RV.reviewed_summary(an, revs, names)
            g = rs["grade"]
            row.update(grade=g["grade"], spasms=rs["count"], per_24h=rs["per_24h"],
                       rate=rs["rate"], rate_text=_rate_text(rs["rate"]),
                       reviewed=rs["reviewed"], overruled=g["overruled"],
                       verdict=g["verdict"], machine_verdict=g["machine_verdict"],
                       machine_grade=g["detected"], detected_count=rs["detected_count"],
                       last_review=rs["last_review"], pending=rs["pending"])
            # the reviewed state: events reviewed -> the reviewed count is the confirmed one
            visits.append(R.Visit(date=when, label=rec.display_name,
                                  recording=rec.display_name, spasms=rs["detected_count"],
                                  reviewed_spasms=rs["count"] if rs["events_reviewed"] else None,
                                  per_24h=rs["per_24h"], grade=g["grade"],
                                  verdict=g["verdict"], rate=rs["rate"],
                                  hours=rec.duration_s / 3600))
        visits_rows.append(row)
    trs = db.scalars(select(Treatment).where(Treatment.patient_id == p.id)
                     .order_by(Treatment.date, Treatment.id)).all()
    dia = db.scalars(select(DiaryEntry).where(DiaryEntry.patient_id == p.id)
                     .order_by(DiaryEntry.date, DiaryEntry.id)).all()
    resp: dict[str, Any] | None = None
    note = ""
    tlist = [R.Treatment(date=t.date, event=t.event, drug=t.drug, dose=t.dose) for t in trs]
    if not visits:
        note = "No analysed recording yet."
    elif not any(t.event == "start" for t in tlist):
        note = "Add a treatment start to judge the response."
    else:
        import pandas as pd

        ddf = pd.DataFrame([{"date": d.date, "spasms": d.spasms} for d in dia]) if dia else None
        try:
            resp = R.evaluate(definition, visits, tlist, ddf)
        except HypsaError as exc:
            note = clean_message(None, str(exc))
    return {"patient": {"id": p.id, "code": p.code}, "visits": visits_rows,
            "treatments": [{"id": t.id, "date": t.date.isoformat(), "event": t.event,
                            "drug": t.drug, "dose": t.dose} for t in trs],
            "diary": [{"id": d.id, "date": d.date.isoformat(), "time": d.time,
                       "spasms": d.spasms, "note": d.note} for d in dia],
            "response": resp, "note": note, "definition": definition,
            "definitions": list(R.DEFINITIONS), "reviewed_basis": any(
                v.get("reviewed") for v in visits_rows)}


def _get_patient(db: Session, pid: int) -> Patient:
    p = db.get(Patient, pid)
    if p is None:
        raise HTTPException(404, "no such patient")
    return p


def _audited_doc(db: Session, user: User, request: Request, pid: int, definition: str,
                 action: str) -> dict:
    from hypsa.response import DEFINITIONS

    if definition not in DEFINITIONS:
        raise HTTPException(400, f"definition must be one of {', '.join(DEFINITIONS)}")
    doc = patient_doc(db, _get_patient(db, pid), definition)
    audit(db, user, action, target=f"patient:{pid}", patient_id=pid, ip=client_ip(request))
    db.commit()
    return doc


@router.get("/patients/{pid}", response_class=HTMLResponse)
def patient_page(request: Request, pid: int = _id(), definition: str = "west-delphi",
                 user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> HTMLResponse:
    """The patient page."""
    doc = _audited_doc(db, user, request, pid, definition, "patient.view")
    return render(request, "patient.html", user, doc=doc,
                  error=request.query_params.get("error", "")[:300],
                  msg=request.query_params.get("msg", "")[:300],
                  edit=request.query_params.get("edit", "")[:20])


@router.get("/api/patients/{pid}")
def api_patient(request: Request, pid: int = _id(), definition: str = "west-delphi",
                user: User = Depends(current_user), db: Session = Depends(get_db)) -> dict:
    """The patient's visits, treatments, diary and response."""
    return _audited_doc(db, user, request, pid, definition, "patient.read")


# ------------------------------------------------------------------------------ treatments
def _treatment_fields(form: Any) -> dict:
    d = parse_date(str(form.get("date") or ""), "date")
    ev = str(form.get("event") or "")
    drug = str(form.get("drug") or "").strip()[:64]
    if d is None or ev not in EVENTS or not drug:
        raise HTTPException(400, "treatment needs a date, an event (start, stop, change) and "
                                 "a drug")
    return {"date": d, "event": ev, "drug": drug,
            "dose": str(form.get("dose") or "").strip()[:64]}


def _treatment_text(t: Treatment) -> str:
    return f"{t.date} {t.event} {t.drug} {t.dose}".strip()


@router.post("/patients/{pid}/treatments", dependencies=[Depends(csrf)])
async def add_treatment(request: Request, pid: int = _id(), user: User = Depends(current_user),
                        db: Session = Depends(get_db)) -> Response:
    """Add a treatment event."""
    p = _get_patient(db, pid)
    t = Treatment(patient_id=p.id, created_by=user.id, **_treatment_fields(await request.form()))
    db.add(t)
    audit(db, user, "treatment.add", target=f"patient:{pid}", patient_id=pid,
          ip=client_ip(request), detail=_treatment_text(t))
    db.commit()
    return RedirectResponse(f"/patients/{pid}", status_code=303)


def _own_row(db: Session, model: Any, pid: int, row_id: int) -> Any:
    _get_patient(db, pid)
    r = db.get(model, row_id)
    if r is None or r.patient_id != pid:
        raise HTTPException(404, "no such row for this patient")
    return r


def _edit_row(request: Request, db: Session, user: User, r: Any, pid: int, fields: dict,
              kind: str, text: Callable[[Any], str]) -> Response:
    """Change the patient's row ``r`` to ``fields``, auditing the old and new values."""
    before = text(r)
    for k, v in fields.items():
        setattr(r, k, v)
    audit(db, user, f"{kind}.edit", target=f"{kind}:{r.id}", patient_id=pid,
          ip=client_ip(request), detail=f"{before} -> {text(r)}")
    db.commit()
    return RedirectResponse(f"/patients/{pid}", status_code=303)


def _delete_row(request: Request, db: Session, user: User, model: Any, pid: int, row_id: int,
                kind: str, text: Callable[[Any], str]) -> Response:
    """Delete one of the patient's rows, auditing what it said."""
    r = _own_row(db, model, pid, row_id)
    audit(db, user, f"{kind}.delete", target=f"{kind}:{row_id}", patient_id=pid,
          ip=client_ip(request), detail=text(r))
    db.delete(r)
    db.commit()
    return RedirectResponse(f"/patients/{pid}", status_code=303)


@router.post("/patients/{pid}/treatments/{tid}", dependencies=[Depends(csrf)])
async def edit_treatment(request: Request, pid: int = _id(), tid: int = _id(),
                         user: User = Depends(current_user),
                         db: Session = Depends(get_db)) -> Response:
    """Change a treatment event (the old and new values are audited)."""
    t = _own_row(db, Treatment, pid, tid)
    return _edit_row(request, db, user, t, pid, _treatment_fields(await request.form()),
                     "treatment", _treatment_text)


@router.post("/patients/{pid}/treatments/{tid}/delete", dependencies=[Depends(csrf)])
def delete_treatment(request: Request, pid: int = _id(), tid: int = _id(),
                     user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> Response:
    """Delete a treatment event (what it said is audited)."""
    return _delete_row(request, db, user, Treatment, pid, tid, "treatment", _treatment_text)


# ------------------------------------------------------------------------------ diary
def _diary_fields(d: Any, t: Any, n: Any, note: Any, where: str) -> dict:
    dd = parse_date(str(d or ""), f"{where}date")
    if dd is None:
        raise HTTPException(400, f"{where}date is missing")
    s = str(n if n is not None else "").strip()
    if not s.isdigit() or len(s) > 6:
        raise HTTPException(400, f"{where}spasms {s[:20]!r} is not a whole number 0-10000")
    k = int(s)
    if k > 10000:
        raise HTTPException(400, f"{where}spasms must be 0-10000")
    tt = str(t or "").strip()[:8]
    return {"date": dd, "time": tt, "spasms": k, "note": str(note or "").strip()[:255]}


def _diary_text(d: Any) -> str:
    return f"{d.date} {d.time} {d.spasms} {d.note}".strip()


@router.post("/patients/{pid}/diary", dependencies=[Depends(csrf)])
async def add_diary(request: Request, pid: int = _id(), user: User = Depends(current_user),
                    db: Session = Depends(get_db)) -> Response:
    """Add a diary row."""
    p = _get_patient(db, pid)
    form = await request.form()
    e = DiaryEntry(patient_id=p.id, created_by=user.id,
                   **_diary_fields(form.get("date"), form.get("time"), form.get("spasms"),
                                   form.get("note"), ""))
    db.add(e)
    audit(db, user, "diary.add", target=f"patient:{pid}", patient_id=pid,
          ip=client_ip(request), detail=_diary_text(e))
    db.commit()
    return RedirectResponse(f"/patients/{pid}", status_code=303)


@router.post("/patients/{pid}/diary/{did}", dependencies=[Depends(csrf)])
async def edit_diary(request: Request, pid: int = _id(), did: int = _id(),
                     user: User = Depends(current_user),
                     db: Session = Depends(get_db)) -> Response:
    """Change a diary row (the old and new values are audited)."""
    e = _own_row(db, DiaryEntry, pid, did)
    form = await request.form()
    fields = _diary_fields(form.get("date"), form.get("time"), form.get("spasms"),
                           form.get("note"), "")
    return _edit_row(request, db, user, e, pid, fields, "diary", _diary_text)


@router.post("/patients/{pid}/diary/{did}/delete", dependencies=[Depends(csrf)])
def delete_diary(request: Request, pid: int = _id(), did: int = _id(),
                 user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> Response:
    """Delete a diary row (what it said is audited)."""
    return _delete_row(request, db, user, DiaryEntry, pid, did, "diary", _diary_text)


@router.post("/patients/{pid}/diary.csv", dependencies=[Depends(csrf)])
async def import_diary(request: Request, pid: int = _id(), user: User = Depends(current_user),
                       db: Session = Depends(get_db)) -> Response:
    """Import diary rows from a CSV: rows already there (same date, time, spasms, note) are
    skipped and counted; more than :data:`MAX_IMPORT_ROWS` rows refuse the file."""
    p = _get_patient(db, pid)
    form = await request.form(max_files=1)
    f = form.get("file")
    if f is None or isinstance(f, str):
        raise HTTPException(400, "no CSV file (field 'file')")
    raw = await f.read(2 * 1024 * 1024 + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, "diary CSV must be UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    cols = {(c or "").strip().lower() for c in (reader.fieldnames or [])}
    if not {"date", "spasms"} <= cols:
        raise HTTPException(400, "diary CSV needs the columns date, spasms (and optionally "
                                 "time, note)")
    rows = []
    try:
        for i, r in enumerate(reader, start=2):
            if len(rows) >= MAX_IMPORT_ROWS:
                raise HTTPException(400, f"diary CSV has more than {MAX_IMPORT_ROWS} rows: "
                                         "split it into smaller files")
            r = {(k or "").strip().lower(): v for k, v in r.items() if isinstance(k, str)}
            rows.append(_diary_fields(r.get("date"), r.get("time"), r.get("spasms"),
                                      r.get("note"), f"row {i}: "))
    except csv.Error as exc:
        raise HTTPException(400, f"diary CSV is not valid CSV ({exc})") from None
    if not rows:
        raise HTTPException(400, "diary CSV has no rows")
    key = ("date", "time", "spasms", "note")
    have = {tuple(getattr(d, k) for k in key)
            for d in db.scalars(select(DiaryEntry).where(DiaryEntry.patient_id == p.id))}
    new, dup = [], 0
    for r in rows:
        t = tuple(r[k] for k in key)
        if t in have:
            dup += 1
            continue
        have.add(t)
        new.append(DiaryEntry(patient_id=p.id, created_by=user.id, **r))
    db.add_all(new)
    msg = f"{len(new)} diary row(s) added, {dup} already there skipped"
    audit(db, user, "diary.import", target=f"patient:{pid}", patient_id=pid,
          ip=client_ip(request), detail=msg)
    db.commit()
    from urllib.parse import quote

    return RedirectResponse(f"/patients/{pid}?msg={quote(msg)}", status_code=303)

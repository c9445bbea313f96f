"""Routes and helpers: the video of a recording (video-EEG).

A recording can carry one video: uploaded with it (the dashboard's upload form) or added later
(``POST /api/recordings/{rid}/video``, which queues a new analysis). On arrival the clip is
checked with :func:`hypsa.video.read.probe` and placed on the recording like
``hypsa analyze --video`` does (:func:`hypsa.video.align.place`: the given offset, else the
recording's start time and the video's creation time, else taken to start with the recording),
and the placement is kept with it. With ``HYPSA_ANONYMIZE`` on (the default) the clip is stored
without its container metadata (creation time, place, device, title) and without its sound
(:func:`strip_metadata`; the picture is copied, not re-encoded). The worker measures the clip's
movement on the recording's timeline and gives it to the spasm detector
(:func:`recording_movement`); the report and the review page's event list show the frames of
each event (``HYPSA_REPORT_FRAMES``: ``show``, ``blur`` or ``none``).

The review page plays the clip (``GET /recordings/{rid}/video``, HTTP range requests) beside
the EEG and keeps it in step with the viewer's cursor (``static/video.js``). Every route needs a
logged-in user and passes the same checks as the recording itself (a blinded reader study's
recording is seen through the study only); every access is audited.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path as FsPath
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hypsa.errors import HypsaError, ParameterError
from hypsa.web.db import RecordingRow, RecordingVideo, User
from hypsa.web.deps import MAX_ID, clean_message, client_ip, csrf, current_user, get_db
from hypsa.web.jobs import UploadRejected, checked_suffix, display_name, enqueue, write_upload
from hypsa.web.security import audit
from hypsa.web.settings import Settings

__all__ = ["router", "VIDEO_SUFFIXES", "video_suffix", "stage_video", "check_video",
           "store_video", "video_json", "recording_movement", "finish_summary",
           "write_event_frames", "report_video_kw", "FRAMES_FILE"]

router = APIRouter()

#: Video files accepted (:data:`hypsa.video.read.VIDEO_SUFFIXES`).
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")
#: The frames of each event, written beside the analysis.
FRAMES_FILE = "video_frames.json"
#: Events whose frames are kept for the review page.
MAX_FRAME_EVENTS = 300
MEDIA_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
               ".webm": "video/webm", ".mkv": "video/x-matroska", ".avi": "video/x-msvideo",
               ".3gp": "video/3gpp"}


def _rid() -> Any:
    return Path(ge=1, le=MAX_ID)


# ------------------------------------------------------------------------------ storing
def video_suffix(name: str) -> str:
    """The lower-case extension of ``name`` if it is an accepted video format.

    Raises
    ------
    UploadRejected
        For any other extension.
    """
    return checked_suffix(name, VIDEO_SUFFIXES, "video")


async def stage_video(settings: Settings, f: Any, name: str) -> FsPath:
    """Write an uploaded video, in 1 MiB chunks, to the staging folder.

    Parameters
    ----------
    settings : Settings
        The staging folder and the upload limit.
    f : UploadFile
        The upload (an async ``read(n)``).
    name : str
        Its display name (extension, messages).

    Returns
    -------
    Path
        The staged file.

    Raises
    ------
    UploadRejected
        Wrong extension, empty, or over the limit (what was written is removed).
    """
    staged, size = await write_upload(settings, f, name,
                                      settings.tmp_dir / f"video-{uuid.uuid4().hex}",
                                      VIDEO_SUFFIXES, "video")
    if size == 0:
        staged.unlink(missing_ok=True)
        raise UploadRejected(f"{name}: empty file")
    return staged


def check_video(staged: FsPath, name: str) -> Any:
    """Probe a staged video; its :class:`hypsa.video.read.VideoInfo`.

    Raises
    ------
    UploadRejected
        Not a readable video, or the video support is not installed (one line).
    """
    try:
        from hypsa.video.read import probe

        info = probe(staged)
    except HypsaError as exc:
        raise UploadRejected(f"{name}: {getattr(exc, 'problem', None) or exc}") from None
    except Exception as exc:  # noqa: BLE001 - a reader crash is a bad file, not a 500
        raise UploadRejected(f"{name}: unreadable video ({type(exc).__name__})") from None
    if info.duration_s <= 0:
        raise UploadRejected(f"{name}: the video has no duration")
    return info


def _place(settings: Settings, rec: RecordingRow, info: Any, offset: float | None,
           name: str) -> tuple[float, str, str]:
    from hypsa.io import read
    from hypsa.video.align import place

    try:
        start = read(settings.recordings_dir / rec.stored_name).start_time
    except HypsaError:
        start = None
    try:
        off, method, text = place(start, info.creation_time, offset, float(rec.duration_s),
                                  float(info.duration_s))
    except ParameterError as exc:
        msg = str(exc).replace("give --video-offset", "give the video's offset (s)")
        raise UploadRejected(f"{name}: {msg}") from None
    return off, method, text.replace("(give --video-offset)", "(give the video's offset)")


def strip_metadata(src: FsPath, dst: FsPath) -> None:
    """Copy a clip's picture stream to ``dst`` without any container or stream metadata and
    without its other streams (sound, subtitles, data), keeping its display rotation.

    The packets are copied as they are (no re-encoding), so the picture is unchanged; the
    container follows ``dst``'s extension.

    Parameters
    ----------
    src, dst : Path
        The clip, and where to write the copy (same extension).

    Raises
    ------
    Exception
        Whatever PyAV raises for a stream it cannot copy into that container.
    """
    import av

    rot = 0
    with av.open(str(src)) as inp:
        for frame in inp.decode(inp.streams.video[0]):
            rot = int(getattr(frame, "rotation", 0) or 0)
            break
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ins = inp.streams.video[0]
        outs = out.add_stream_from_template(ins)
        outs.metadata.clear()
        if rot:
            outs.set_display_rotation(rot)
        for pkt in inp.demux(ins):
            if pkt.dts is None:
                continue
            pkt.stream = outs
            out.mux(pkt)


def _sha256(path: FsPath) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def store_video(db: Session, settings: Settings, rec: RecordingRow, staged: FsPath, name: str,
                offset: float | None, user: User) -> RecordingVideo:
    """Check a staged video, place it on the recording and store it (replacing any earlier
    video of the recording). The staged file is removed in every case.

    Parameters
    ----------
    db : Session
        Open session (the row is added and flushed, not committed).
    settings : Settings
        Storage folders.
    rec : RecordingRow
        The recording (already stored).
    staged : Path
        The staged upload.
    name : str
        Its display name.
    offset : float or None
        Seconds from the recording's start to the clip's first frame (None: from the clocks).
    user : User
        Who uploaded it.

    Returns
    -------
    RecordingVideo

    Raises
    ------
    UploadRejected
        Not a readable video, or one that does not overlap the recording.
    """
    try:
        info = check_video(staged, name)
        off, method, text = _place(settings, rec, info, offset, name)
        stored = f"{uuid.uuid4().hex}{video_suffix(name)}"
        settings.videos_dir.mkdir(parents=True, exist_ok=True)
        final = settings.videos_dir / stored
        anonymized = False
        if settings.anonymize:
            try:
                strip_metadata(staged, final)
                anonymized = True
            except Exception:  # noqa: BLE001 - a clip PyAV cannot copy is kept as uploaded
                final.unlink(missing_ok=True)
        if not anonymized:
            staged.replace(final)
    finally:
        staged.unlink(missing_ok=True)
    old = db.scalar(select(RecordingVideo).where(RecordingVideo.recording_id == rec.id))
    if old is not None:
        (settings.videos_dir / old.stored_name).unlink(missing_ok=True)
        db.delete(old)
        db.flush()
    row = RecordingVideo(recording_id=rec.id, display_name=name, stored_name=stored,
                         format=final.suffix.lstrip("."), codec=str(info.codec or "")[:32],
                         size_bytes=final.stat().st_size, sha256=_sha256(final),
                         duration_s=float(info.duration_s), width=int(info.width),
                         height=int(info.height), fps=float(info.fps or 0.0),
                         offset_s=round(float(off), 3), method=method, statement=text,
                         anonymized=anonymized, uploaded_by=user.id)
    db.add(row)
    db.flush()
    return row


def video_of(db: Session, rid: int) -> RecordingVideo | None:
    """The recording's video row, or None."""
    return db.scalar(select(RecordingVideo).where(RecordingVideo.recording_id == rid))


def video_json(db: Session, rid: int) -> dict | None:
    """The recording's video for the page and the API (None without one)."""
    v = video_of(db, rid)
    if v is None:
        return None
    return {"name": v.display_name, "offset_s": v.offset_s, "method": v.method,
            "statement": v.statement, "duration_s": v.duration_s, "width": v.width,
            "height": v.height, "fps": v.fps, "codec": v.codec, "format": v.format,
            "anonymized": v.anonymized, "url": f"/recordings/{rid}/video"}


# ------------------------------------------------------------------------------ analysis
def recording_movement(settings: Settings, src: FsPath, video: RecordingVideo | None):
    """The video's movement on the recording's timeline, for the spasm detector.

    Returns
    -------
    movement : hypsa.video.align.Movement or None
    clips : list of (Path, float)
        The clip and its offset, for the report (empty without a video).
    """
    if video is None:
        return None, []
    from hypsa.video.align import movement_for

    path = settings.videos_dir / video.stored_name
    mv = movement_for(src, [path], [video.offset_s])
    return mv, [(path, float(video.offset_s))]


def finish_summary(res: Any, video: RecordingVideo | None) -> None:
    """Name the clip in the analysis summary by its display name and its placement at upload
    (the server's file names and folders stay out of every output)."""
    vs = res.summary_.get("video")
    if video is None or not vs:
        return
    for c in vs.get("clips") or []:
        c.update(file=video.display_name, stored=f"videos/{video.stored_name}",
                 method=video.method, statement=f"{video.display_name}: {video.statement}")


def frame_mode(settings: Settings) -> dict:
    """``frames`` and ``blur_faces`` for the reports, from ``HYPSA_REPORT_FRAMES``."""
    return {"frames": settings.report_frames != "none",
            "blur_faces": settings.report_frames == "blur"}


def write_event_frames(out: FsPath, res: Any, clips: list, settings: Settings) -> FsPath | None:
    """Write the frames before, at and after each detected event (``d<i>``) that the clip
    covers, as JPEG data URIs, to ``out/video_frames.json``; None when there is nothing to
    write (no video, no event, or ``HYPSA_REPORT_FRAMES=none``)."""
    mode = frame_mode(settings)
    if not clips or not mode["frames"] or not len(res.events):
        return None
    from hypsa.video.page import frame_strips
    from hypsa.video.read import probe

    path, off = clips[0]
    dur = probe(path).duration_s
    keys, onsets = [], []
    for i, on in enumerate(res.events["onset"].astype(float)):
        if off <= on < off + dur and len(keys) < MAX_FRAME_EVENTS:
            keys.append(f"d{i}")
            onsets.append(on - off)
    if not keys:
        return None
    strips = frame_strips(path, onsets, width=120, blur_faces=mode["blur_faces"], quality=70)
    target = out / FRAMES_FILE
    target.write_text(json.dumps({"blurred": mode["blur_faces"], "events": {
        k: [[label, uri] for label, uri in s] for k, s in zip(keys, strips, strict=True)}}))
    return target


def report_video_kw(settings: Settings, summary: dict) -> dict:
    """``write_report``/``build_content`` keywords for a stored analysis: the clip it was
    analysed with (as stored) and the frame mode."""
    kw = frame_mode(settings)
    clips = []
    for c in (summary.get("video") or {}).get("clips") or []:
        stored = str(c.get("stored") or "")
        p = (settings.data_dir / stored).resolve()
        if stored and settings.videos_dir.resolve() in p.parents and p.is_file():
            clips.append((p, float(c.get("offset_s") or 0.0)))
    if clips:
        kw["video"] = clips
    return kw


# ------------------------------------------------------------------------------ routes
def _latest_job(db: Session, rid: int, status: tuple[str, ...]) -> Any:
    """The recording's latest job if its status is one of ``status``, else None."""
    from hypsa.web.db import Job

    job = db.scalar(select(Job).where(Job.recording_id == rid).order_by(Job.id.desc()).limit(1))
    return job if job is not None and job.status in status else None


def _load(db: Session, rid: int) -> RecordingRow:
    from hypsa.web.recordings import load_recording

    return load_recording(db, rid)[0]


@router.post("/api/recordings/{rid}/video", dependencies=[Depends(csrf)])
async def add_video(request: Request, rid: int = _rid(),
                    user: User = Depends(current_user)) -> JSONResponse:
    """Attach a video to a recording (replacing any earlier one) and queue a new analysis
    that uses its movement (a job still queued uses it as is); fields ``video`` (the file) and
    ``video_offset`` (s, optional). 409 while an analysis of the recording runs."""
    from hypsa.web.deps import finite

    settings = request.app.state.settings
    factory = request.app.state.db_factory
    form = await request.form(max_files=1, max_fields=10)
    f = form.get("video")
    if f is None or isinstance(f, str):
        raise HTTPException(400, "no video in the request (field 'video')")
    raw = str(form.get("video_offset") or "").strip()
    offset = finite(raw, "video_offset (s)", -1e7, 1e7) if raw else None
    name = display_name(f.filename)

    def check() -> RecordingRow:
        with factory() as db:
            rec = _load(db, rid)
            if _latest_job(db, rid, ("running",)) is not None:
                raise HTTPException(409, "the recording is being analysed: add the video "
                                         "when the analysis is done")
            return rec

    rec = await run_in_threadpool(check)
    try:
        staged = await stage_video(settings, f, name)
    except UploadRejected as exc:
        raise HTTPException(400, clean_message(request, str(exc))) from None
    finally:
        await f.close()
    ip = client_ip(request)

    def store() -> dict:
        with factory() as db:
            try:
                v = store_video(db, settings, rec, staged, name, offset, user)
            except UploadRejected as exc:
                db.rollback()
                audit(db, user, "video.rejected", target=f"recording:{rid}",
                      patient_id=rec.patient_id, ip=ip, detail=str(exc))
                db.commit()
                raise HTTPException(400, clean_message(request, str(exc))) from None
            job = _latest_job(db, rid, ("queued",)) or enqueue(db, rid)
            audit(db, user, "video.upload", target=f"recording:{rid}",
                  patient_id=rec.patient_id, ip=ip, detail=f"{name} at {v.offset_s:g} s "
                  f"({v.method})")
            db.commit()
            return {"ok": True, "recording_id": rid, "job_id": job.id,
                    "video": video_json(db, rid)}

    return JSONResponse(await run_in_threadpool(store))


@router.get("/recordings/{rid}/video")
def get_video(request: Request, rid: int = _rid(), user: User = Depends(current_user),
              db: Session = Depends(get_db)) -> FileResponse:
    """The recording's video (HTTP range requests answered with 206 and the asked bytes)."""
    rec = _load(db, rid)
    v = video_of(db, rid)
    if v is None:
        raise HTTPException(404, "this recording has no video")
    path = request.app.state.settings.videos_dir / v.stored_name
    if not path.is_file():
        raise HTTPException(404, "video file missing")
    rng = request.headers.get("range", "")
    if not rng or rng.replace(" ", "").startswith("bytes=0-"):  # one audit row per viewing
        audit(db, user, "video.view", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=client_ip(request), detail=v.display_name)
        db.commit()
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix.lower(),
                                                         "application/octet-stream"),
                        content_disposition_type="inline")


@router.get("/api/recordings/{rid}/video/frames")
def video_frames(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> dict:
    """The frames before, at and after each detected event of the latest analysis:
    ``{"events": {"d<i>": [[label, data URI], ...]}, "blurred": bool}`` (empty without)."""
    from hypsa.web.recordings import load_recording

    rec, an, _, _ = load_recording(db, rid)
    out: dict = {"events": {}, "blurred": False}
    if an is None:
        return out
    base = (request.app.state.settings.data_dir / an.out_dir).resolve()
    p = base / FRAMES_FILE
    if p.is_file():
        out = json.loads(p.read_text())
        audit(db, user, "video.frames", target=f"recording:{rid}", patient_id=rec.patient_id,
              ip=client_ip(request), detail=f"{len(out.get('events', {}))} events")
        db.commit()
    return out


@router.delete("/api/recordings/{rid}/video", dependencies=[Depends(csrf)])
def delete_video(request: Request, rid: int = _rid(), user: User = Depends(current_user),
                 db: Session = Depends(get_db)) -> dict:
    """Remove the recording's video (file, row and the event frames) and queue a new analysis
    without it, whose report holds no frame (the review decisions are carried over)."""
    rec = _load(db, rid)
    v = video_of(db, rid)
    if v is None:
        raise HTTPException(404, "this recording has no video")
    if _latest_job(db, rid, ("running",)) is not None:
        raise HTTPException(409, "the recording is being analysed: remove the video when the "
                                 "analysis is done")
    settings = request.app.state.settings
    (settings.videos_dir / v.stored_name).unlink(missing_ok=True)
    from hypsa.web.db import AnalysisRow

    for an in db.scalars(select(AnalysisRow).where(AnalysisRow.recording_id == rid)):
        base = (settings.data_dir / an.out_dir).resolve()
        (base / FRAMES_FILE).unlink(missing_ok=True)
    db.delete(v)
    queued = _latest_job(db, rid, ("queued",)) or enqueue(db, rid)
    audit(db, user, "video.delete", target=f"recording:{rid}", patient_id=rec.patient_id,
          ip=client_ip(request), detail=v.display_name)
    db.commit()
    return {"ok": True, "job_id": queued.id}

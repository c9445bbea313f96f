"""Putting video movement on an EEG recording's timeline (video-EEG).

A clip is placed on the recording by the clocks where both carry one (the recording's start time
and the video's creation time), or by the offset the user gives (seconds from the recording's
start to the clip's first frame), which then wins; with neither, the clip is taken to start with
the recording, and the statement says so. Several clips may cover one recording.

The movement channel that enters the spasm detector is :meth:`MotionTrack.envelope` (the movement
both sides of the body share, kept only inside the clip's own sudden-movement candidates and a
small floor elsewhere), per frame of the detector's ``frame_s``; frames no clip covers hold no
movement information (NaN) and are filled with the window's typical level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from hypsa.errors import ParameterError

__all__ = ["Movement", "place", "movement_for", "movement_from_tracks"]


def place(rec_start: datetime | None, creation: datetime | None, offset_s: float | None,
          rec_duration_s: float, clip_duration_s: float) -> tuple[float, str, str]:
    """Offset (s) of a clip's first frame from the recording's start, and how it was found.

    Parameters
    ----------
    rec_start : datetime or None
        The recording's start time.
    creation : datetime or None
        The clip's creation time.
    offset_s : float or None
        Offset given by the user (wins when given).
    rec_duration_s, clip_duration_s : float
        Lengths, to check that the clip overlaps the recording.

    Returns
    -------
    offset_s : float
    method : {"given offset", "clock times", "assumed"}
    statement : str
        One sentence for the report.
    """
    if offset_s is not None:
        off, method = float(offset_s), "given offset"
        text = f"placed by the given offset: its first frame at {off:.2f} s of the recording"
    elif rec_start is not None and creation is not None:
        off = (creation - rec_start.replace(tzinfo=None)).total_seconds()
        method = "clock times"
        text = (f"placed by the clock times (video created {creation.isoformat()}, recording "
                f"started {rec_start.replace(tzinfo=None).isoformat()}): its first frame at "
                f"{off:.2f} s of the recording")
    else:
        off, method = 0.0, "assumed"
        text = ("no clock time and no offset: taken to start with the recording (give "
                "--video-offset)")
    if off + clip_duration_s <= 0 or off >= rec_duration_s:
        raise ParameterError(
            f"the video ({method}, offset {off:.1f} s, {clip_duration_s:.0f} s long) does not "
            f"overlap the recording (0-{rec_duration_s:.0f} s); give --video-offset")
    return off, method, text


@dataclass
class Movement:
    """Video movement on a recording's timeline.

    Attributes
    ----------
    frame_s : float
        Frame length (s).
    env : ndarray
        Movement envelope per frame from the recording's start (NaN where no clip covers).
    clips : list of dict
        Per clip: ``file, offset_s, method, statement, duration_s``.
    tracks : list
        The clips' :class:`~hypsa.video.motion.MotionTrack` (not pickled to workers).
    """

    frame_s: float
    env: np.ndarray
    clips: list[dict] = field(default_factory=list)
    tracks: list = field(default_factory=list, repr=False)

    def window(self, t0: float, t1: float) -> np.ndarray | None:
        """Envelope frames covering ``[t0, t1)`` (recording seconds); None where no clip covers
        any of it. Uncovered frames take the covered frames' median."""
        i0 = int(np.floor(t0 / self.frame_s))
        n = int(np.ceil((t1 - t0) / self.frame_s))
        idx = np.arange(i0, i0 + n)
        ok = (idx >= 0) & (idx < self.env.size)
        out = np.full(n, np.nan)
        out[ok] = self.env[idx[ok]]
        good = np.isfinite(out)
        if good.sum() < max(8, 0.1 * n):
            return None
        out[~good] = float(np.median(out[good]))
        return out

    def sudden_movements(self) -> list[dict]:
        """The clips' sudden symmetric movements that recur in a series
        (:func:`hypsa.video.events.detect_events`), on the recording's timeline: ``onset``,
        ``duration`` (s), ``confidence``, ``clip`` (index). Empty when the tracks are not kept
        (a worker's copy)."""
        from hypsa.video.events import EVENT_TYPE, EventParams, detect_events

        out = []
        for k, (track, clip) in enumerate(zip(self.tracks, self.clips, strict=False)):
            ev = detect_events(track, EventParams())
            if not len(ev):
                continue
            ev = ev[ev["trial_type"] == EVENT_TYPE]
            off = float(clip.get("offset_s") or 0.0)
            out += [{"onset": round(off + float(o), 3), "duration": round(float(d), 3),
                     "confidence": round(float(c), 3), "clip": k}
                    for o, d, c in zip(ev["onset"], ev["duration"], ev["confidence"],
                                       strict=True)]
        return sorted(out, key=lambda e: e["onset"])

    def describe(self) -> dict:
        """JSON-ready: the clips and how each was placed."""
        return {"clips": self.clips,
                "covered_s": round(float(np.isfinite(self.env).sum() * self.frame_s), 2),
                "modality": "video movement (both sides of the body), as a second modality "
                            "beside the EEG; movement alone never makes a spasm"}

    def __getstate__(self):  # workers need the envelope only
        d = dict(self.__dict__)
        d["tracks"] = []
        return d


def movement_for(recording, clips: list[str | Path], offsets: list[float] | None = None, *,
                 frame_s: float = 0.125, motion=None) -> Movement:
    """Measure the clips and place their movement on the recording's timeline.

    Parameters
    ----------
    recording : path or Recording
        The EEG (for its start time and duration).
    clips : list of path
        Video files.
    offsets : list of float, optional
        Offset of each clip's first frame from the recording's start (s); one value applies to
        the first clip, as many values as clips for several.
    frame_s : float
        The spasm detector's frame (s).
    motion : MotionParams, optional
        Motion measurement parameters.

    Returns
    -------
    Movement
    """
    from hypsa.io import Recording, read
    from hypsa.video.motion import MotionParams, measure_motion
    from hypsa.video.read import probe

    offsets = list(offsets or [])
    if len(offsets) > len(clips):
        raise ParameterError(f"{len(offsets)} offsets for {len(clips)} video(s)")
    rec = recording if isinstance(recording, Recording) else read(recording)
    for k, clip in enumerate(clips):  # a clip off the recording fails before it is measured
        info = probe(clip)
        place(rec.start_time, info.creation_time, offsets[k] if k < len(offsets) else None,
              rec.duration_s, info.duration_s)
    motion = motion or MotionParams(frame_s=frame_s)
    tracks = [(clip, measure_motion(clip, motion)) for clip in clips]
    return movement_from_tracks(rec, tracks, offsets, frame_s=frame_s)


def movement_from_tracks(recording, tracks: list, offsets: list[float] | None = None, *,
                         frame_s: float = 0.125) -> Movement:
    """Place already measured clips on the recording's timeline (see :func:`movement_for`).

    Parameters
    ----------
    recording : path or Recording
        The EEG (for its start time and duration).
    tracks : list of (path, MotionTrack)
        Each clip with its measured movement.
    offsets : list of float, optional
        As in :func:`movement_for`.
    frame_s : float
        The spasm detector's frame (s); the tracks' frame must be the same.

    Returns
    -------
    Movement
    """
    from hypsa.io import Recording, read

    rec = recording if isinstance(recording, Recording) else read(recording)
    offsets = list(offsets or [])
    if len(offsets) > len(tracks):
        raise ParameterError(f"{len(offsets)} offsets for {len(tracks)} video(s)")
    n = int(np.ceil(rec.duration_s / frame_s))
    env = np.full(n, np.nan)
    done, kept = [], []
    for k, (clip, track) in enumerate(tracks):
        info = track.info
        if abs(track.frame_s - frame_s) > 1e-9:
            raise ParameterError(f"{Path(clip).name}: movement frame {track.frame_s} s, the "
                                 f"detector's is {frame_s} s")
        off, method, text = place(rec.start_time, info.creation_time,
                                  offsets[k] if k < len(offsets) else None, rec.duration_s,
                                  info.duration_s)
        e = track.envelope() if track.subject else np.full(len(track.signals), np.nan)
        i0 = int(round(off / frame_s))
        a, b = max(0, i0), min(n, i0 + e.size)
        if b > a:
            seg = e[a - i0:b - i0]
            cur = env[a:b]
            env[a:b] = np.where(np.isfinite(cur), np.fmax(cur, seg), seg)
        done.append({"file": str(clip), "offset_s": round(off, 3), "method": method,
                     "statement": f"{Path(clip).name}: {text}",
                     "duration_s": round(info.duration_s, 2),
                     "moving_subject": bool(track.subject)})
        kept.append(track)
    return Movement(frame_s, env, done, kept)

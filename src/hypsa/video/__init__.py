"""Video: the movement of a spasm, from a video-EEG camera or a parent's phone.

:func:`analyze_video` reads a clip (:mod:`hypsa.video.read`), measures the body's movement with the
camera's own motion removed (:mod:`hypsa.video.motion`), finds sudden, brief, bilateral whole-body
movements and their clusters (:mod:`hypsa.video.events`) and returns a :class:`VideoResult` that
saves ``<stem>.video_events.tsv``, ``<stem>.video.json`` and the page ``<stem>.video.html``
(:mod:`hypsa.video.page`). The movement it measures also enters the EEG spasm detector as a second
modality (``hypsa analyze REC --video CLIP``). What it reports are movements, never a diagnosis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.video.events import (
    EVENT_COLUMNS,
    EVENT_TYPE,
    ISOLATED_TYPE,
    EventParams,
    clusters_table,
    detect_events,
)
from hypsa.video.motion import MotionParams, MotionTrack, measure_motion
from hypsa.video.read import VIDEO_SUFFIXES, probe

__all__ = ["VideoResult", "analyze_video", "statement", "footage_quality", "VIDEO_SUFFIXES",
           "MotionParams", "EventParams", "measure_motion", "probe"]

#: Typical camera speed (body-lengths per second, the clip's median) above which the camera
#: counts as moving throughout (hand-held): on the validation clips of both video generators
#: fixed cameras stay at or under 0.007 and hand-held ones at or over 0.024.
HANDHELD_SPEED = 0.015
#: Share of the picture the movement region covers from which the moving child could not be
#: told apart from the rest of the picture.
WHOLE_PICTURE = 0.9


def footage_quality(track: MotionTrack) -> dict:
    """How well the clip lends itself to the movement measurement, with advice in plain words.

    Parameters
    ----------
    track : MotionTrack
        From :func:`hypsa.video.motion.measure_motion`.

    Returns
    -------
    dict
        ``camera`` (``"steady"`` or ``"hand-held"``), ``camera_speed`` (the clip's median,
        body-lengths per second), ``region_fraction`` (mean share of the picture the body region
        covers) and ``notes`` (sentences for the reader; empty when nothing limits the
        measurement). Measured on simulated clips (docs/video.md): hand-held clips lose about
        half of the spasms a fixed camera finds, and a region covering the whole picture means
        the child was not found apart from its surroundings.
    """
    sig = track.signals
    speed = float(np.nanmedian(sig["camera"])) if len(sig) else 0.0
    area = float(track.info.width * track.info.height) or 1.0
    frac = float(np.mean([r["w"] * r["h"] for r in track.regions]) / area) \
        if track.regions else 0.0
    notes = []
    handheld = speed >= HANDHELD_SPEED
    if handheld:
        notes.append("The camera moved throughout (hand-held): its motion is taken off, but "
                     "small movements are measured less well and more spasms are missed than "
                     "with a steady camera. A phone resting on something steady gives a better "
                     "measurement.")
    if track.subject and frac >= WHOLE_PICTURE:
        notes.append("The moving child could not be told apart from the rest of the picture (the "
                     "movement region covers the whole picture), so the child's own movement is "
                     "measured poorly. Film the whole child from closer, on a plain surface.")
    return {"camera": "hand-held" if handheld else "steady", "camera_speed": round(speed, 4),
            "region_fraction": round(frac, 3), "notes": notes}


def statement(events: pd.DataFrame, subject: bool) -> str:
    """The plain statement of what was found (the report's tone; never a diagnosis)."""
    if not subject:
        return ("No moving subject was found in this video, so no movement could be measured. "
                "Film the whole child, lying still on a plain surface, with the phone held "
                "steady.")
    tt = events["trial_type"] if "trial_type" in events else pd.Series(EVENT_TYPE,
                                                                         index=events.index)
    n = int((tt == EVENT_TYPE).sum())
    n_alone = int((tt == ISOLATED_TYPE).sum())
    cl = clusters_table(events)
    if n == 0 and n_alone == 0:
        return ("No sudden symmetric movements were found in this video. Small or brief "
                "movements, such as a head nod or a quick jerk of the arms, and a small child "
                "in a wide picture are often missed, so this does not rule anything out: if "
                "you are worried about the movements, show the video to a doctor.")
    if n == 0:
        return (f"{n_alone} isolated sudden movement{'s' if n_alone != 1 else ''}, none "
                "recurring in a series. Isolated sudden movements are common in infants "
                "(startles); if they recur in series, show the video to a doctor. This is a "
                "measurement of movement, not a diagnosis.")
    what = f"{n} sudden symmetric movement{'s' if n != 1 else ''}"
    if n_alone:
        what += (f" (and {n_alone} isolated one{'s' if n_alone != 1 else ''}, not recurring "
                 "in a series)")
    if len(cl):
        lo = np.nanmin(cl["min_interval_s"].astype(float))
        hi = np.nanmax(cl["max_interval_s"].astype(float))
        apart = f"{lo:.0f} s" if round(lo) == round(hi) else f"{lo:.0f}-{hi:.0f} s"
        return (f"{what} in {len(cl)} cluster{'s' if len(cl) != 1 else ''}, {apart} "
                "apart. Movements that recur in clusters like this should be shown to a doctor "
                "soon, with this video. This is a measurement of movement, not a diagnosis.")
    return (f"{what}, recurring but not in clusters of {EventParams().min_cluster} or more. "
            "Isolated sudden movements are common in infants (startles); if they recur in "
            "series, show the video to a doctor. This is a measurement of movement, not a "
            "diagnosis.")


@dataclass
class VideoResult:
    """Movement events of one clip.

    Attributes
    ----------
    track : MotionTrack
        The movement signals.
    events : DataFrame
        :data:`hypsa.video.events.EVENT_COLUMNS` plus the criterion scores.
    clusters : DataFrame
        One row per cluster.
    params : dict
        Motion and event parameters.
    extra : dict
        Alignment or other notes added by callers.
    """

    track: MotionTrack
    events: pd.DataFrame
    clusters: pd.DataFrame
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """The clip's file name without its suffix."""
        return self.track.info.path.stem

    def statement(self) -> str:
        """Plain statement of the findings."""
        return statement(self.events, self.track.subject)

    def summary(self) -> dict:
        """JSON-ready summary: clip, subject, events, clusters, intervals, statement."""
        ev = self.events
        if len(ev) and "trial_type" in ev:
            alone = ev[ev["trial_type"] == ISOLATED_TYPE]
            ev = ev[ev["trial_type"] != ISOLATED_TYPE]
        else:
            alone = ev.iloc[:0]
        iv = np.diff(ev["onset"].to_numpy(float)) if len(ev) else np.zeros(0)
        return {
            "video": self.track.info.to_dict(),
            "moving_subject": bool(self.track.subject),
            "regions": self.track.regions,
            "n_events": int(len(ev)),
            "n_isolated": int(len(alone)),
            "n_clusters": int(len(self.clusters)),
            "events_per_hour": round(len(ev) / max(self.track.duration_s / 3600.0, 1e-9), 3),
            "intervals_s": [round(float(v), 2) for v in iv],
            "clusters": self.clusters.round(3).to_dict(orient="records"),
            "statement": self.statement(),
            "footage": footage_quality(self.track),
            "params": self.params,
            **self.extra,
        }

    def events_table(self) -> pd.DataFrame:
        """The BIDS-style events table (``onset, duration, trial_type, ...``; n/a for none)."""
        ev = self.events
        if not len(ev):
            return pd.DataFrame(columns=EVENT_COLUMNS)
        out = ev[EVENT_COLUMNS].copy()
        for c in ("onset", "duration"):
            out[c] = out[c].round(3)
        for c in ("magnitude", "symmetry", "extent", "suddenness", "confidence"):
            out[c] = out[c].astype(float).round(3)
        out["cluster"] = out["cluster"].astype(int).astype(object).where(out["cluster"] >= 0,
                                                                         "n/a")
        return out

    def save(self, out_dir: str | Path, *, page: bool = True, frames: bool = True,
             blur_faces: bool = False) -> dict[str, Path]:
        """Write ``<stem>.video_events.tsv``, ``<stem>.video.json`` and ``<stem>.video.html``.

        Parameters
        ----------
        out_dir : str or Path
            Output folder (created).
        page : bool
            Also write the HTML page.
        frames : bool
            Show frames of each event on the page (False: the movement trace only).
        blur_faces : bool
            Blur skin-coloured areas (faces) in the frames shown.

        Returns
        -------
        dict of str to Path
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"events": out / f"{self.stem}.video_events.tsv",
                 "summary": out / f"{self.stem}.video.json"}
        self.events_table().to_csv(paths["events"], sep="\t", index=False, na_rep="n/a")
        paths["summary"].write_text(json.dumps(self.summary(), indent=2, default=str))
        if page:
            from hypsa.video.page import write_page

            paths["page"] = write_page(self, out / f"{self.stem}.video.html", frames=frames,
                                       blur_faces=blur_faces)
        return paths


def analyze_video(path: str | Path, *, region: tuple[int, int, int, int] | None = None,
                  motion: MotionParams | None = None,
                  events: EventParams | None = None) -> VideoResult:
    """Measure movement in a clip and find the sudden symmetric movements and their clusters.

    Parameters
    ----------
    path : str or Path
        Video file (mp4, mov, avi, mkv, webm, ...).
    region : (x, y, w, h), optional
        The body's region in the clip's pixels; found automatically when None.
    motion, events : MotionParams, EventParams, optional
        Parameters (defaults documented in each class).

    Returns
    -------
    VideoResult

    Examples
    --------
    >>> res = analyze_video("clip.mp4")            # doctest: +SKIP
    >>> res.save("out")                            # doctest: +SKIP
    """
    from dataclasses import asdict, replace

    motion = motion or MotionParams()
    if region is not None:
        motion = replace(motion, region=tuple(int(v) for v in region))
    events = events or EventParams()
    track = measure_motion(path, motion)
    ev = detect_events(track, events)
    return VideoResult(track, ev, clusters_table(ev),
                       {"motion": asdict(motion), "events": asdict(events)})

"""The report's video section: the frames of each spasm beside its EEG (video-EEG).

When a recording was analysed with a video (``hypsa analyze REC --video CLIP``), the report shows
for each detected spasm (the first :data:`MAX_VIDEO_SPASMS` in time, with a note of how many more)
a strip of frames before, at and after its onset, taken from the clip at the aligned time, beside
a short EEG snippet around the onset. Frames are downscaled JPEG embedded as base64, so the report
stays one self-contained file. ``frames=False`` leaves every frame out (the section then lists the
clips and how they were placed, nothing more); ``blur_faces=True`` blurs skin-coloured areas
(:func:`hypsa.video.page.blur_skin`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hypsa.errors import HypsaError

__all__ = ["MAX_VIDEO_SPASMS", "VideoSection", "video_section", "clips_from_summary"]

#: Spasms shown with their frames; the rest are counted in a note.
MAX_VIDEO_SPASMS = 30
#: Half-width of the EEG snippet beside each strip of frames (s).
VIDEO_SNIPPET_HALF_S = 2.5
#: Width of each frame in the report (pixels).
FRAME_WIDTH = 160


@dataclass
class VideoSection:
    """What the report shows of the video.

    Attributes
    ----------
    clips : list of dict
        ``name, offset_s, method, statement`` of each clip.
    rows : list of dict
        Per spasm shown: ``caption``, ``frames`` (list of (label, data URI)), ``figure``
        (EEG snippet Figure or None).
    notes : list of str
        How many spasms are not shown and why, and the de-identification in force.
    frames : bool
        Whether frames were included.
    """

    clips: list[dict] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    frames: bool = True

    def close(self) -> None:
        """Release the figures."""
        for r in self.rows:
            r["figure"] = None


def _resolve(name: str, source: Any) -> Path | None:
    p = Path(name)
    cands = [p]
    if not p.is_absolute() and isinstance(source, str | Path):
        cands.append(Path(source).parent / p)
        cands.append(Path(source).parent / p.name)
    return next((c for c in cands if c.is_file()), None)


def clips_from_summary(analysis: Any, source: Any = None,
                       given: list[str | Path] | None = None) -> tuple[list, list[str]]:
    """The analysed clips as ``(path, offset_s, duration_s, name)``, from ``summary["video"]``.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis; its summary names each clip and the offset it was placed at.
    source : path, optional
        The recording; relative clip names are also looked for beside it.
    given : list of path, optional
        The clips themselves (``hypsa report --video``), matched to the summary's by file name.

    Returns
    -------
    clips : list of tuple
        Those found.
    notes : list of str
        One line per clip not found.
    """
    info = (analysis.summary_.get("video") or {}).get("clips") or []
    by_name = {Path(str(g)).name: Path(g) for g in (given or [])}
    out, notes = [], []
    for c in info:
        name = str(c.get("file", ""))
        p = by_name.get(Path(name).name) or _resolve(name, source)
        if p is None or not p.is_file():
            notes.append(f"The video {Path(name).name} was not found, so its frames are not "
                         "shown (give it with `hypsa report --video CLIP`).")
            continue
        out.append((p, float(c.get("offset_s") or 0.0), float(c.get("duration_s") or 0.0),
                    Path(name).name))
    return out, notes


def _clock(start: Any, t: float) -> str:
    from datetime import timedelta

    return (start + timedelta(seconds=t)).strftime("%H:%M:%S") if start else "n/a"


def video_section(analysis: Any, rec: Any = None, *, clips: list | None = None,
                  source: Any = None, frames: bool = True, blur_faces: bool = False,
                  bad: list[str] | None = None, notch_hz: float | None = None,
                  max_spasms: int = MAX_VIDEO_SPASMS) -> VideoSection | None:
    """Build the video section of a report, or None when the analysis had no video.

    Parameters
    ----------
    analysis : hypsa.results.Analysis
        The analysis (its summary says which clips were used and where they were placed).
    rec : hypsa.io.Recording, optional
        The recording, for the EEG snippets (frames only without it).
    clips : list of (path, offset_s), optional
        The clips and their offsets on the recording; default: from the summary
        (:func:`clips_from_summary`).
    source : path, optional
        The recording's path, to find clips named relative to it.
    frames : bool
        Include frames (False: the section names the clips only).
    blur_faces : bool
        Blur skin-coloured areas in every frame.
    bad : list of str, optional
        Bad electrodes (drawn grey in the snippets).
    notch_hz : float, optional
        Mains notch of the snippets.
    max_spasms : int
        Spasms shown with frames.

    Returns
    -------
    VideoSection or None
    """
    from hypsa.report import figures as FG

    described = (analysis.summary_.get("video") or {}).get("clips") or []
    if not described and not clips:
        return None
    sec = VideoSection(frames=frames)
    for c in described:
        sec.clips.append({"name": Path(str(c.get("file", ""))).name,
                          "offset_s": c.get("offset_s"), "method": c.get("method", ""),
                          "statement": c.get("statement", "")})
    if not frames:
        sec.notes.append("Frames left out for de-identification (--no-frames): the video's "
                         "movement entered the spasm detector, but no picture is shown.")
        return sec
    if clips is None:
        found, notes = clips_from_summary(analysis, source)
        sec.notes += notes
    else:
        found = []
        for path, off in clips:
            try:
                from hypsa.video.read import probe

                dur = probe(path).duration_s
            except HypsaError as exc:
                sec.notes.append(f"The video could not be read ({exc}).")
                continue
            found.append((Path(path), float(off), dur, Path(path).name))
    if not found:
        return sec
    ev = analysis.events
    if len(ev) and "trial_type" in ev:  # electrodecrements are listed, not shown as spasms
        ev = ev[ev["trial_type"].astype(str) != "eeg_decrement"]
    ev = ev.sort_values("onset") if len(ev) else ev
    if not len(ev):
        sec.notes.append("No spasm was detected, so no frames are shown.")
        return sec
    picked: list[tuple[Any, int]] = []  # (event index, clip number)
    outside = 0
    for i, on in zip(ev.index, pd.to_numeric(ev["onset"]), strict=True):
        k = next((k for k, (_, off, dur, _) in enumerate(found)
                  if off <= on < off + max(dur, 0.0)), None)
        if k is None:
            outside += 1
        else:
            picked.append((i, k))
    more = max(0, len(picked) - max_spasms)
    picked = picked[:max_spasms]
    strips: dict[Any, list] = {}
    for k, (path, off, _, name) in enumerate(found):
        mine = [i for i, kk in picked if kk == k]
        if not mine:
            continue
        try:
            from hypsa.video.page import frame_strips

            got = frame_strips(path, [float(ev.loc[i, "onset"]) - off for i in mine],
                               width=FRAME_WIDTH, blur_faces=blur_faces, quality=70)
        except HypsaError as exc:
            sec.notes.append(f"The frames of {name} could not be read ({exc}).")
            continue
        strips.update(zip(mine, got, strict=True))
    start = analysis.start_time
    for i, k in picked:
        if i not in strips:
            continue
        on = float(ev.loc[i, "onset"])
        conf = float(ev.loc[i, "confidence"]) if "confidence" in ev else float("nan")
        kind = str(ev.loc[i, "trial_type"]) if "trial_type" in ev else "detected spasm"
        name, off = found[k][3], found[k][1]
        caption = (f"{kind} at {_clock(start, on)} ({on:.1f} s), pattern score {conf:.2f}; "
                   f"video {name} at {on - off:.1f} s")
        fig = None
        if rec is not None:
            try:
                sn = FG.read_snippet(rec, on - VIDEO_SNIPPET_HALF_S, on + VIDEO_SNIPPET_HALF_S,
                                     mark_s=on, title="", notch_hz=notch_hz)
                fig = FG.snippet_figure(sn, bad)
            except (HypsaError, OSError, ValueError) as exc:
                sec.notes.append(f"The EEG beside the spasm at {on:.1f} s could not be read "
                                 f"({exc}).")
        sec.rows.append({"caption": caption, "frames": strips[i], "figure": fig})
    if more:
        sec.notes.append(f"{more} more spasm(s) in the video are not shown here (the first "
                         f"{max_spasms} are); every spasm is in the events table.")
    if outside:
        sec.notes.append(f"{outside} spasm(s) fall outside the video and have no frames.")
    if blur_faces:
        sec.notes.append("Skin-coloured areas (faces) are blurred in every frame "
                         "(--blur-faces); a face of another colour may stay recognisable.")
    return sec

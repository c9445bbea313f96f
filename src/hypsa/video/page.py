"""The video page: one self-contained HTML file (no external resources).

It shows the plain statement of what was found, the body's movement over the whole clip with each
event and cluster marked, and for each event a strip of frames 1 s before, at, and 1 s after its
onset (``frames=False`` leaves frames out; ``blur_faces=True`` blurs skin-coloured areas, which
covers the face, in every frame shown).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

from hypsa.video.events import ISOLATED_TYPE

__all__ = ["write_page", "blur_skin", "frame_strips", "STRIP_TIMES"]

MAX_STRIPS = 40
#: Where the frames of a strip are taken, relative to an event's onset (s), with their labels.
STRIP_TIMES: tuple[tuple[float, str], ...] = ((-1.0, "1 s before"), (0.25, "at onset"),
                                              (1.0, "1 s after"))


def blur_skin(img: np.ndarray) -> np.ndarray:
    """Blur the skin-coloured areas of an RGB image (faces, hands) beyond recognition.

    Skin is taken as the usual YCrCb range (Cr 133-180, Cb 77-135), widened by a few pixels.
    A face of another colour (strong light, make-up) is not blurred: use ``--no-frames`` where
    de-identification must be certain.

    Parameters
    ----------
    img : ndarray of uint8, shape (h, w, 3)

    Returns
    -------
    ndarray of uint8
    """
    import cv2

    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb)
    m = cv2.inRange(ycc, (0, 133, 77), (255, 180, 135))
    k = max(3, img.shape[1] // 40) | 1
    m = cv2.dilate(m, np.ones((k, k), np.uint8))
    blurred = cv2.GaussianBlur(img, (0, 0), max(4.0, img.shape[1] / 25))
    return np.where(m[..., None] > 0, blurred, img)


def _jpeg(img: np.ndarray, quality: int = 80) -> str:
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def frame_strips(path: str | Path, onsets, *, width: int = 200, blur_faces: bool = False,
                 quality: int = 80) -> list[list[tuple[str, str]]]:
    """Frames before, at and after each onset of a clip, as JPEG data URIs.

    The frames are taken at :data:`STRIP_TIMES` from each onset, in one pass over the clip
    (:func:`hypsa.video.read.grab_frames`), downscaled to ``width`` pixels.

    Parameters
    ----------
    path : str or Path
        Video file.
    onsets : sequence of float
        Event onsets in the clip's own time (s from its first frame).
    width : int
        Width of each frame (pixels).
    blur_faces : bool
        Blur skin-coloured areas (:func:`blur_skin`) in every frame.
    quality : int
        JPEG quality (1-100).

    Returns
    -------
    list of list of (str, str)
        Per onset, ``(label, data URI)`` for each frame of :data:`STRIP_TIMES`.
    """
    from hypsa.video.read import grab_frames

    onsets = [float(o) for o in onsets]
    if not onsets:
        return []
    times = [max(0.0, o + dt) for o in onsets for dt, _ in STRIP_TIMES]
    imgs = grab_frames(path, times, width=width)
    k = len(STRIP_TIMES)
    out = []
    for i in range(len(onsets)):
        row = []
        for j, (_, label) in enumerate(STRIP_TIMES):
            img = imgs[k * i + j]
            if blur_faces:
                img = blur_skin(img)
            row.append((label, _jpeg(img, quality)))
        out.append(row)
    return out


def _trace_svg(res, width: int = 900, height: int = 160) -> str:
    sig = res.track.signals
    if not len(sig):
        return "<p>No movement trace.</p>"
    fs = res.track.frame_s
    y = sig["body"].to_numpy(float)
    n = y.size
    # at most ~1500 points: the maximum of each bin keeps every burst visible
    step = max(1, int(np.ceil(n / 1500)))
    m = int(np.ceil(n / step))
    yb = np.pad(y, (0, m * step - n), constant_values=0).reshape(m, step).max(1)
    top = max(float(np.percentile(yb, 99.5)) * 1.2, 1e-3)
    dur = n * fs
    xs = np.arange(m) * step * fs / dur * width
    ys = height - 20 - np.clip(yb / top, 0, 1) * (height - 30)
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
             'aria-label="body movement over the clip">']
    for _, c in res.clusters.iterrows():
        x0 = c["onset"] / dur * width
        x1 = max(c["offset"] / dur * width, x0 + 2)
        parts.append(f'<rect x="{x0:.1f}" y="0" width="{x1 - x0:.1f}" height="{height - 20}" '
                     'fill="#f3d9a4" opacity="0.6"><title>cluster</title></rect>')
    for _, e in res.events.iterrows():
        x = e["onset"] / dur * width
        col = "#999" if e.get("trial_type") == ISOLATED_TYPE else "#b03030"
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 20}" '
                     f'stroke="{col}" stroke-width="1.5"><title>'
                     f'{e["onset"]:.1f} s</title></line>')
    parts.append(f'<polyline points="{pts}" fill="none" stroke="#245" stroke-width="1"/>')
    for k in range(0, 6):
        t = dur * k / 5
        parts.append(f'<text x="{min(t / dur * width, width - 40):.0f}" y="{height - 4}" '
                     f'font-size="11">{t / 60:.1f} min</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_page(res, path: str | Path, *, frames: bool = True, blur_faces: bool = False) -> Path:
    """Write the self-contained HTML page of a :class:`hypsa.video.VideoResult`.

    Parameters
    ----------
    res : VideoResult
        The analysed clip.
    path : str or Path
        Target ``.html``.
    frames : bool
        Include the frame strips (False: movement trace and tables only).
    blur_faces : bool
        Blur skin-coloured areas in the frames (see :func:`blur_skin`).

    Returns
    -------
    Path
    """
    path = Path(path)
    info = res.track.info
    ev = res.events.sort_values("confidence", ascending=False).head(MAX_STRIPS) \
        .sort_values("onset") if len(res.events) else res.events
    strips = []
    if frames and len(ev):
        grabbed = frame_strips(info.path, ev["onset"], width=200, blur_faces=blur_faces)
        for (_, e), row in zip(ev.iterrows(), grabbed, strict=True):
            cells = [f'<figure><img src="{uri}" alt="{label}">'
                     f"<figcaption>{label}</figcaption></figure>" for label, uri in row]
            strips.append(
                f'<div class="ev"><h3>{e["onset"]:.1f} s '
                f'({int(e["onset"] // 60)}:{e["onset"] % 60:04.1f}) &middot; '
                f'{e["duration"]:.1f} s &middot; symmetry {e["symmetry"]:.2f} &middot; '
                f'confidence {e["confidence"]:.2f}</h3><div class="strip">{"".join(cells)}'
                "</div></div>")
    rows = "".join(
        f"<tr><td>{e['onset']:.2f}</td><td>{e['duration']:.2f}</td><td>{e['magnitude']:.2f}</td>"
        f"<td>{e['symmetry']:.2f}</td><td>{e['extent']:.2f}</td><td>{e['confidence']:.2f}</td>"
        f"<td>{'' if e['cluster'] < 0 else int(e['cluster']) + 1}</td>"
        f"<td>{'isolated' if e.get('trial_type') == ISOLATED_TYPE else 'series'}</td></tr>"
        for _, e in res.events.iterrows())
    crow = "".join(
        f"<tr><td>{int(c['cluster']) + 1}</td><td>{c['onset']:.1f}</td><td>{c['offset']:.1f}</td>"
        f"<td>{int(c['count'])}</td><td>{c['min_interval_s']:.1f}-{c['max_interval_s']:.1f}</td>"
        "</tr>" for _, c in res.clusters.iterrows())
    align = res.extra.get("alignment", {}).get("statement") if res.extra else None
    from hypsa.video import footage_quality

    notes = footage_quality(res.track)["notes"]
    body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>hypsa video: {html.escape(info.path.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:1em auto;padding:0 1em;
color:#222}} .statement{{font-size:1.15em;background:#f4f6f8;padding:.8em;border-left:4px solid
#245}} table{{border-collapse:collapse;font-size:.9em}} td,th{{border:1px solid #ccc;
padding:2px 6px;text-align:right}} .strip{{display:flex;gap:6px}} figure{{margin:0}}
figcaption{{font-size:.8em;text-align:center}} .note{{color:#555;font-size:.85em}}</style>
</head><body>
<h1>Movement in {html.escape(info.path.name)}</h1>
<p class="statement">{html.escape(res.statement())}</p>
{"".join(f'<p class="note"><b>About this video:</b> {html.escape(n)}</p>' for n in notes)}
<p class="note">{info.duration_s / 60:.1f} min, {info.width}x{info.height},
{info.fps:.0f} frames/s. {html.escape(align or '')}</p>
<h2>Body movement</h2>{_trace_svg(res)}
<p class="note">Movement of the body (body-lengths per second) with the camera's own motion
removed; red lines: sudden symmetric movements recurring in a series; grey: isolated ones;
shaded: clusters.</p>
<h2>Clusters</h2>
{'<table><tr><th>#</th><th>from (s)</th><th>to (s)</th><th>movements</th><th>apart (s)</th>'
 '</tr>' + crow + '</table>' if crow else '<p>None.</p>'}
<h2>Sudden symmetric movements</h2>
{'<table><tr><th>onset (s)</th><th>duration (s)</th><th>magnitude</th><th>symmetry</th>'
 '<th>extent</th><th>confidence</th><th>cluster</th><th>recurs</th></tr>' + rows +
 '</table>'
 if rows else '<p>None.</p>'}
{"".join(strips) if frames else '<p class="note">Frames left out (--no-frames).</p>'}
<p class="note">hypsa measures movement in a video to support a clinician's judgement. It does
not diagnose. The method and its validation (on simulated video only) are in docs/video.md. On
simulated videos drawn another way than those its settings were chosen on, it found 16 of 97
spasms (16 %): finding nothing here does not mean there were no spasms.</p>
</body></html>"""
    path.write_text(body, encoding="utf-8")
    return path

"""Movement of the body in a video: dense optical flow with the camera's own motion removed.

The clip is streamed at a reduced size and rate (:func:`hypsa.video.read.iter_frames`). For each
pair of kept frames:

1. both frames are normalised (median and quartiles), so a global change of light does not read
   as motion;
2. the camera's own motion (pan, shake, rotation, zoom of a hand-held phone) is the affine motion
   that most of the picture shares: points on a grid are tracked (pyramidal Lucas-Kanade), the
   affine motion is fitted to them robustly (RANSAC), and the earlier frame is moved onto the
   later one by it before the dense flow is computed, so the flow holds what the camera does
   not explain: dense optical flow (Farnebäck 2003, OpenCV), a displacement per pixel;
3. the remaining displacement is summed into a coarse grid of cells and into frames of
   ``frame_s`` seconds (0.125 s, the spasm detector's frame).

In each frame the picture's own movement floor (the lower quartile of the cells: what a hand-held
camera leaves everywhere once its motion is removed) is taken off every cell; with a hand-held
camera, so is half of what each cell moves in step with the camera's speed (a high-contrast
blanket under shake; ``_without_shake``). Every ``region_s``
seconds the body region is found from the cells that move above that floor (the largest
connected moving region; or the region the user gives) and the cells are reduced to a few signals
per frame: the whole body, its left/right and upper/lower halves (halves across and along the
body's long axis), the movement outside the body (a passing hand), the body's own rigid shift
and coherence (being handled), the camera's motion, the floor and the change of light. Only
these signals are kept, so memory is bounded by ``block_s`` whatever the clip's length. The
cell sums of each block can be kept (``cells_out``) and reduced again with other region
parameters (:func:`track_from_cells`) without decoding the clip again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from hypsa.errors import ParameterError
from hypsa.video.read import VideoInfo, iter_frames, keyframe_times, probe

__all__ = ["MotionParams", "MotionTrack", "CellBlock", "measure_motion", "track_from_cells",
           "SIGNALS", "CELLS_VERSION"]

#: Version of the cell sums :func:`measure_motion` computes (caches of them carry it).
CELLS_VERSION = 1

#: Percentile of the cells taken as the picture's own movement floor in each frame.
FLOOR_Q = 25.0
#: Percentile of the cells' mean movement over a block taken as the picture's own noise when
#: the body region is found: the child may fill more than half of a phone's picture (portrait
#: framing, filmed from close), so the median would lie on the body.
REGION_NOISE_Q = 35.0

#: Frames whose pair ends on a key frame take their neighbours' values (``_mask_keyframes``).
KEYFRAMES = True

#: Share of each cell's movement explained by the camera's speed that is taken off
#: (``_without_shake``; 0 leaves the cells as measured), and the typical camera speed (pixels per
#: second at the processing width) above which a clip counts as hand-held for it (fixed cameras
#: on the simulated clips: at most 0.07; hand-held: at least 2.5). Chosen on the tuning clips.
SHAKE_K = 0.5
SHAKE_GATE = 1.0

#: Margin around the body region, as a fraction of its size, left out of "outside" (limbs
#: reach past the region in a big movement).
MARGIN = 0.75

#: Floor of the movement channel handed to the spasm detector (body-lengths per second): a
#: still infant, or a frame outside every sudden-movement candidate, is not a zero background.
ENVELOPE_FLOOR = 0.01

#: The per-frame signals of a :class:`MotionTrack` (body-lengths per second, except ``light``).
SIGNALS = ["body", "left", "right", "upper", "lower", "outside", "shift", "coherence", "camera",
           "floor", "light", "change_body", "change_outside"]


@dataclass(frozen=True)
class MotionParams:
    """Parameters of the motion measurement.

    Attributes
    ----------
    width : int
        Processing size in pixels of the picture's longer side (the clip is downscaled to it).
    max_fps : float
        Highest processing rate (frames in between are decoded, not measured).
    frame_s : float
        Output frame (s); the spasm detector's ``frame_s``.
    cells : int
        Grid cells along the picture's longer side.
    block_s : float
        Cell sums are held for ``block_s`` seconds at a time (memory).
    region_s : float
        The body region is found again every ``region_s`` seconds (within a block; a hand-held
        camera reframes and the child moves).
    region : (x, y, w, h) or None
        The body region in the clip's pixels; None finds it automatically.
    min_activity : float
        Least typical cell movement (pixels per frame at the processing width) of a moving region;
        below it the video has no moving subject.
    """

    width: int = 160
    max_fps: float = 15.0
    frame_s: float = 0.125
    cells: int = 20
    block_s: float = 300.0
    region_s: float = 300.0
    region: tuple[int, int, int, int] | None = None
    min_activity: float = 0.01

    def __post_init__(self) -> None:
        if not 32 <= self.width <= 1920:
            raise ParameterError(f"width must be 32-1920 px, got {self.width}")
        if not 2 <= self.max_fps <= 120:
            raise ParameterError(f"max_fps must be 2-120, got {self.max_fps}")
        if not 4 <= self.cells <= 64:
            raise ParameterError(f"cells must be 4-64, got {self.cells}")
        if self.region is not None and (len(self.region) != 4 or min(self.region[2:]) <= 0):
            raise ParameterError(f"region must be x,y,w,h with w, h > 0, got {self.region}")


@dataclass
class MotionTrack:
    """Movement signals of one clip, per frame of ``frame_s`` seconds.

    Attributes
    ----------
    info : VideoInfo
        The clip.
    frame_s : float
        Frame length (s); frame ``i`` covers ``[i * frame_s, (i + 1) * frame_s)`` of the clip.
    signals : DataFrame
        One row per frame, columns :data:`SIGNALS` (body-lengths per second; ``light`` is the
        change of mean brightness per second, in grey levels; ``change_body`` and
        ``change_outside`` are the change of appearance per second once the camera's motion is
        allowed for, 0-1 grey scale) and ``covered`` (a measured frame
        pair falls in the frame).
    regions : list of dict
        Per block: ``onset, duration, x, y, w, h`` (clip pixels), ``axis`` ("vertical" or
        "horizontal"), ``found`` (False where no moving subject was found and a neighbouring
        block's region was used).
    subject : bool
        Whether a moving subject was found anywhere in the clip.
    params : MotionParams
    """

    info: VideoInfo
    frame_s: float
    signals: pd.DataFrame
    regions: list[dict] = field(default_factory=list)
    subject: bool = True
    params: MotionParams = field(default_factory=MotionParams)

    @property
    def duration_s(self) -> float:
        """Length covered by the frames (s)."""
        return len(self.signals) * self.frame_s

    def envelope(self, events=None, *, gated: bool = True) -> np.ndarray:
        """The movement channel for the spasm detector (like an EMG envelope), per frame.

        The movement both sides of the body share, ``2 * min(left, right)`` (body-lengths per
        second), so that one-sided and alternating movements (kicks) count little, plus a small
        floor (0.01) so that a still infant does not give a zero background.

        With ``gated`` (the default) the envelope holds that movement only inside the clip's own
        sudden-movement candidates (:func:`hypsa.video.events.detect_events`, every candidate
        of confidence at least ``events.min_confidence``, isolated or in a series) and the floor
        everywhere else. The detector looks for a burst against the envelope's own running
        background; with a hand-held camera the ungated movement carries the shake and every
        ordinary movement, which raises that background until a spasm no longer stands out. The
        candidates are what the video itself judges sudden, brief, bilateral and whole-body, so
        the gated envelope is a burst at such a movement and flat elsewhere; movement alone
        still never makes a spasm (the detector needs the EEG pattern).

        Parameters
        ----------
        events : EventParams, optional
            Decision parameters of the candidates (default ``EventParams()``).
        gated : bool
            Keep the movement only inside the candidates (False: everywhere).

        Returns
        -------
        ndarray of float, shape (n_frames,)
        """
        s = self.signals
        both = 2.0 * np.minimum(s["left"].to_numpy(float), s["right"].to_numpy(float))
        if not gated:
            return both + ENVELOPE_FLOOR
        from hypsa.video.events import EventParams, detect_events

        params = events if events is not None else EventParams()
        env = np.full(both.size, ENVELOPE_FLOOR)
        ev = detect_events(self, params, all_candidates=True)
        if not len(ev):
            return env
        ev = ev[ev["confidence"].to_numpy(float) >= params.min_confidence]
        for onset, dur in zip(ev["onset"].to_numpy(float), ev["duration"].to_numpy(float),
                              strict=True):
            a = int(round(onset / self.frame_s))
            b = min(both.size, a + max(1, int(round(dur / self.frame_s))))
            env[a:b] = both[a:b] + ENVELOPE_FLOOR
        return env


def _norm(gray: np.ndarray) -> np.ndarray:
    # median and quartiles: a limb moving does not shift them (a mean and spread would, and
    # the whole picture would seem to change)
    g = gray.astype(np.float32)
    q1, m, q3 = np.percentile(gray[::2, ::2], [25, 50, 75])
    return np.clip((g - m) / max(float(q3 - q1), 1.0) * 64.0 + 128.0, 0, 255).astype(np.uint8)


def _camera(prev: np.ndarray, cur: np.ndarray, pts: np.ndarray):
    """Affine camera motion from ``prev`` to ``cur``: grid points tracked (pyramidal
    Lucas-Kanade), the motion most of them share fitted robustly (RANSAC).

    Returns the 2x3 matrix and the fraction of tracked points it explains."""
    import cv2

    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(15, 15), maxLevel=3)
    ok = st.ravel() == 1
    if ok.sum() < 6:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), 0.0
    src, dst = pts[ok].reshape(-1, 2), nxt[ok].reshape(-1, 2)
    m, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=0.5,
                                  maxIters=200, confidence=0.95, refineIters=5)
    if m is None:  # no consistent motion: the median shift stands for the camera's
        med = np.median(dst - src, axis=0)
        return np.array([[1.0, 0.0, med[0]], [0.0, 1.0, med[1]]]), 0.0
    return m, float(inl.sum()) / len(pts)


class _Accumulator:
    """Cell sums per output frame for one block."""

    def __init__(self, n_frames: int, gh: int, gw: int) -> None:
        self.cells = np.zeros((n_frames, gh, gw, 4), np.float32)  # u, v, |d|, |change|
        self.camera = np.zeros(n_frames, np.float32)
        self.light = np.zeros(n_frames, np.float32)
        self.count = np.zeros(n_frames, np.int32)
        self.dt = np.zeros(n_frames, np.float32)


def measure_motion(path: str | Path, params: MotionParams = MotionParams(), *,
                   cells_out: list | None = None) -> MotionTrack:
    """Measure the body's movement in a video clip.

    Parameters
    ----------
    path : str or Path
        Video file.
    params : MotionParams
        Processing size and rate, output frame, body region.
    cells_out : list, optional
        When given, each block's cell sums (:class:`CellBlock`) are appended to it, so that
        :func:`track_from_cells` can rebuild the track with other region or reduction
        parameters without decoding the clip again (the validation caches them).

    Returns
    -------
    MotionTrack

    Raises
    ------
    FileAccessError, CorruptFileError, UnsupportedFormatError
        From reading the clip.
    """
    path = Path(path)
    info = probe(path)
    regions: list[dict] = []
    frames: list[pd.DataFrame] = []
    for blk in _cell_blocks(path, info, params):
        if cells_out is not None:
            cells_out.append(blk)
        frames.append(_reduce(blk, params, info, regions))
    return _assemble(info, frames, regions, params)


@dataclass
class CellBlock:
    """Cell sums of one block of ``block_s`` seconds (see :func:`measure_motion`).

    Attributes
    ----------
    index : int
        Block number from the clip's start.
    n : int
        Frames of the block actually covered by the clip.
    scale : float
        Processing pixels per clip pixel.
    acc : _Accumulator
        The sums: ``cells`` (frames, rows, columns, [u, v, |d|, |change|]), ``camera``,
        ``light``, ``count``, ``dt``.
    """

    index: int
    n: int
    scale: float
    acc: _Accumulator


def track_from_cells(info: VideoInfo, blocks: list[CellBlock],
                     params: MotionParams = MotionParams()) -> MotionTrack:
    """Rebuild a :class:`MotionTrack` from cached cell sums.

    Parameters
    ----------
    info : VideoInfo
        The clip.
    blocks : list of CellBlock
        From ``measure_motion(..., cells_out=...)`` with the same ``width``, ``max_fps``,
        ``frame_s``, ``cells`` and ``block_s``.
    params : MotionParams
        Region and reduction parameters.

    Returns
    -------
    MotionTrack
    """
    regions: list[dict] = []
    frames = [_reduce(b, params, info, regions) for b in blocks]
    return _assemble(info, frames, regions, params)


def _assemble(info, frames, regions, params) -> MotionTrack:
    fs = params.frame_s
    if not frames:
        return MotionTrack(info, fs, pd.DataFrame(columns=[*SIGNALS, "covered"]), [], False,
                           params)
    sig = pd.concat(frames, ignore_index=True)
    if KEYFRAMES:
        _mask_keyframes(sig, info, params)
    subject = any(r["found"] for r in regions)
    if subject:
        _fill_regions(regions)
    return MotionTrack(info, fs, sig, regions, subject, params)


def _mask_keyframes(sig: pd.DataFrame, info: VideoInfo, params: MotionParams) -> None:
    """The frames whose measured pair ends on a key frame take their neighbours' values.

    At a key frame the compression noise of the whole picture changes at once (see
    :func:`hypsa.video.read.keyframe_times`): one frame pair of apparent movement on every
    textured surface, the body's included, which no limb makes. Clips with a key frame more
    often than every ``2`` s (all-intra codecs, some phones) are left as they are: there the
    change is part of the clip's usual noise."""
    from hypsa.errors import HypsaError

    if not len(sig) or not Path(info.path).is_file():
        return
    try:
        kt = keyframe_times(info.path)
    except HypsaError:
        return
    if not kt.size or kt.size * 2.0 > max(info.duration_s, 1e-9):
        return
    dt = 1.0 / max(min(info.fps or params.max_fps, params.max_fps), 1e-3)
    idx = np.unique(((kt - 0.5 * dt) // params.frame_s).astype(int))
    idx = idx[(idx >= 0) & (idx < len(sig))]
    if idx.size:
        sig.loc[idx, SIGNALS] = np.nan
        sig[SIGNALS] = sig[SIGNALS].interpolate(limit_direction="both")


def _cell_blocks(path: Path, info: VideoInfo, params: MotionParams):
    """Stream the clip and yield one :class:`CellBlock` per ``block_s`` seconds."""
    import cv2

    cv2.setNumThreads(1)
    fs = params.frame_s
    bf = max(1, int(round(params.block_s / fs)))
    acc = None
    block_i = 0
    prev = None
    prev_t = 0.0
    prev_mean = 0.0
    scale = None
    grid = None
    gh = gw = 0
    # the picture's longer side is brought to params.width (portrait clips as landscape ones)
    width = params.width if info.width >= info.height else \
        max(16, int(round(params.width * info.width / info.height)))
    for t, gray in iter_frames(path, width=width, max_fps=params.max_fps):
        h, w = gray.shape
        if scale is None:
            scale = w / float(info.width)
            step = max(2, int(round(max(h, w) / 24)))
            ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
            grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32).reshape(-1, 1, 2)
            xx = np.arange(w, dtype=np.float32)[None, :]
            yy = np.arange(h, dtype=np.float32)[:, None]
            long_side = max(h, w)
            gw = max(2, int(round(params.cells * w / long_side)))
            gh = max(2, int(round(params.cells * h / long_side)))
            acc = _Accumulator(bf, gh, gw)
        cur = cv2.GaussianBlur(_norm(gray), (0, 0), 1.0)  # fine texture and block noise out
        mean = float(gray.mean())
        if prev is not None:
            k = int((prev_t + t) / 2.0 // fs)
            while k >= (block_i + 1) * bf:
                yield CellBlock(block_i, bf, scale, acc)
                block_i += 1
                acc = _Accumulator(bf, gh, gw)
            j = k - block_i * bf
            # the camera's motion first; the previous frame is moved onto the current one by
            # it, and the dense flow between them is what the camera does not explain
            m, inliers = _camera(prev, cur, grid)
            cu = (m[0, 0] - 1.0) * xx + m[0, 1] * yy + m[0, 2]
            cv = m[1, 0] * xx + (m[1, 1] - 1.0) * yy + m[1, 2]
            cam = np.hypot(cu, cv)
            acc.camera[j] += float(cam.mean())
            still = prev
            if cam.max() > 0.05:
                still = cv2.warpAffine(prev, m.astype(np.float32), (w, h),
                                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            flow = cv2.calcOpticalFlowFarneback(still, cur, None, 0.5, 3, 13, 2, 5, 1.1, 0)
            edge = int(np.ceil(cam.max())) + 2  # the strip the warp filled in
            flow[:edge], flow[-edge:], flow[:, :edge], flow[:, -edge:] = 0, 0, 0, 0
            mag = np.hypot(flow[..., 0], flow[..., 1])
            # change of appearance once the camera is allowed for: a hand or an arm sliding in
            # shows little flow (plain skin) but changes what is seen
            change = cv2.absdiff(still, cur).astype(np.float32) / 255.0
            change[:edge], change[-edge:], change[:, :edge], change[:, -edge:] = 0, 0, 0, 0
            # a frame pair the camera model fits badly (a sudden jerk of the phone, motion
            # blur) counts its unexplained motion as the camera's too
            acc.camera[j] += float(mag.mean()) * max(0.0, 0.6 - inliers) / 0.6
            stack = np.dstack([flow, mag, change])
            acc.cells[j] += cv2.resize(stack, (gw, gh), interpolation=cv2.INTER_AREA)
            acc.light[j] += abs(mean - prev_mean)
            acc.count[j] += 1
            acc.dt[j] += max(t - prev_t, 1e-3)
        prev, prev_t, prev_mean = cur, t, mean
    if acc is None:
        return
    last = int(prev_t // fs) + 1 - block_i * bf
    yield CellBlock(block_i, max(1, min(last, bf)), scale, acc)


def _fill_regions(regions: list[dict]) -> None:
    found = [i for i, r in enumerate(regions) if r["found"]]
    for i, r in enumerate(regions):
        if not r["found"]:
            j = min(found, key=lambda f: abs(f - i))
            r.update({k: regions[j][k] for k in ("x", "y", "w", "h", "axis")})


def _find_region(cells: np.ndarray, count: np.ndarray, params: MotionParams):
    """Cells of the largest region that moves (mean movement over the block); None when
    nothing moves."""
    used = count > 0
    if used.sum() < 4:
        return None
    mag = cells[used, :, :, 2] / count[used, None, None]
    # the movement each cell has beyond the picture's own floor in that frame (what a hand-held
    # camera leaves everywhere: compression, interpolation), over the frames the camera did not
    # jerk (their floor is far above the clip's usual one)
    floor = _floor(mag)
    calm = floor <= 3.0 * float(np.median(floor)) + 1e-3
    if calm.sum() >= 4:
        mag = mag[calm]
        floor = floor[calm]
    return _largest(np.maximum(mag - floor[:, None, None], 0.0).mean(0), params)


def _floor(x: np.ndarray) -> np.ndarray:
    """Per frame, the picture's own movement floor: the lower quartile of the inner cells (the
    body rarely covers three quarters of the picture; the outermost cells are left out)."""
    inner = x[:, 1:-1, 1:-1] if min(x.shape[1:3]) > 2 else x
    return np.percentile(inner.reshape(x.shape[0], -1), FLOOR_Q, axis=1)


def _largest(act: np.ndarray, params: MotionParams):
    # above the picture's own flow noise (a low percentile of the cells); the outermost cells
    # are left out (flow at the picture's edge is unreliable)
    act = act.copy()
    act[[0, -1], :] = act[:, [0, -1]].min()
    act[:, [0, -1]] = act[:, [0, -1]].min()
    inner = act[1:-1, 1:-1]
    base = float(np.percentile(inner, REGION_NOISE_Q))
    # the spread of the picture's own noise, from the cells below that level (the body, which
    # may fill more than half the picture, lies above it)
    spread = float(np.median(base - inner[inner <= base])) * 1.4826 + 1e-6
    act = np.maximum(act - base, 0.0)
    top = float(act.max())
    if top < params.min_activity:
        return None
    mask = act > max(2.5 * spread, params.min_activity, 0.1 * top)
    mask = ndimage.binary_closing(mask, iterations=2) | mask
    lab, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum_labels(act, lab, index=np.arange(1, n + 1))
    # the largest moving region, with any other that moves at least a third as much (a body
    # whose arms and legs move apart from a still trunk)
    keep = 1 + np.flatnonzero(sizes >= sizes.max() / 3.0)
    r, c = np.nonzero(np.isin(lab, keep))
    if r.size < 2:
        return None
    gh, gw = act.shape
    w = act[r, c]
    # the halves are split through the centre of the movement, not of the box (a limb flung
    # out widens the box on one side)
    mid = (float((r * w).sum() / w.sum()) + 0.5, float((c * w).sum() / w.sum()) + 0.5)
    return (max(0, r.min() - 1), min(gh, r.max() + 2), max(0, c.min() - 1),
            min(gw, c.max() + 2), mid)


def _top(x: np.ndarray, frac: float = 0.25) -> np.ndarray:
    """Per frame, the mean of the most moving ``frac`` of the cells (a limb moving is a few
    cells of the body's box)."""
    v = x.reshape(x.shape[0], -1)
    if v.shape[1] == 0:
        return np.zeros(x.shape[0])
    k = max(1, int(round(frac * v.shape[1])))
    return np.sort(v, axis=1)[:, -k:].mean(1)


def _reduce(blk: CellBlock, params: MotionParams, info: VideoInfo, regions: list[dict]):
    """One block's cells -> per-frame body signals; appends a region per ``region_s``."""
    fs = params.frame_s
    bf = blk.acc.cells.shape[0]
    rf = max(1, int(round(params.region_s / fs)))
    out = []
    for a in range(0, blk.n, rf):
        b = min(blk.n, a + rf)
        if blk.n - b < rf // 2:  # a short tail joins the piece before it
            b = blk.n
        out.append(_reduce_part(blk.acc, a, b, blk.index * bf * fs + a * fs, blk.scale, params,
                                info, regions))
        if b == blk.n:
            break
    return pd.concat(out, ignore_index=True)


def _without_shake(acc: _Accumulator, i0: int, i1: int) -> np.ndarray:
    """Cell sums of frames ``i0:i1`` with the movement each cell shows in step with the
    camera's own motion taken off (a hand-held camera only).

    Once the camera's motion is removed, what it leaves behind is not the same everywhere: a
    high-contrast surface (a blanket's grid, stripes) shows more residual flow under the same
    shake than a plain one, and the per-frame floor (:data:`FLOOR_Q`) takes off only the part
    shared by the whole picture. Each cell's speed is regressed on the camera's speed over the
    piece (least squares; the body's own movements are brief and few against it), and
    ``SHAKE_K`` of the part it explains is taken off. Clips whose typical camera speed is below
    ``SHAKE_GATE`` (a fixed camera) are left as they are: there the camera's estimate moves
    with the child's own large movements and the regression would take off the body's
    movement."""
    cells = acc.cells[i0:i1]
    if SHAKE_K <= 0:
        return cells
    ok = acc.count[i0:i1] > 0
    dt = np.maximum(acc.dt[i0:i1], 1e-3)
    cam = acc.camera[i0:i1] / dt
    c = cam[ok]
    if c.size < 8 or float(np.median(c)) <= SHAKE_GATE:
        return cells
    cc = c - c.mean()
    den = float((cc * cc).sum())
    if den <= 1e-9:
        return cells
    speed = cells[..., 2] / dt[:, None, None]
    so = speed[ok]
    beta = np.maximum(np.tensordot(cc, so - so.mean(0), axes=(0, 0)) / den, 0.0) * SHAKE_K
    out = cells.copy()
    out[..., 2] = np.maximum(speed - beta[None] * cam[:, None, None], 0.0) * dt[:, None, None]
    return out


def _reduce_part(acc: _Accumulator, i0: int, i1: int, onset: float, scale: float,
                 params: MotionParams, info: VideoInfo, regions: list[dict]):
    """Frames ``i0:i1`` of a block's cells -> per-frame body signals; appends their region."""
    n = i1 - i0
    cells = _without_shake(acc, i0, i1)
    count = acc.count[i0:i1]
    gh, gw = cells.shape[1:3]
    cw, ch = info.width / gw, info.height / gh
    found = True
    if params.region is not None:
        x, y, w, h = params.region
        box = (int(y // ch), int(np.ceil((y + h) / ch)), int(x // cw), int(np.ceil((x + w) / cw)))
        box = (max(0, box[0]), min(gh, max(box[1], box[0] + 1)),
               max(0, box[2]), min(gw, max(box[3], box[2] + 1)), None)
    else:
        box = _find_region(cells, count, params)
        if box is None:
            found = False
            box = (0, gh, 0, gw, None)
    r0, r1, c0, c1, mid = box
    vertical = (r1 - r0) * ch >= (c1 - c0) * cw
    regions.append({"onset": onset, "duration": n * params.frame_s, "x": int(c0 * cw),
                    "y": int(r0 * ch), "w": int((c1 - c0) * cw), "h": int((r1 - r0) * ch),
                    "axis": "vertical" if vertical else "horizontal", "found": found})
    # body length in processing pixels; sums of displacement over the frame's time -> speed
    body_px = float(np.hypot((r1 - r0) * ch, (c1 - c0) * cw)) * scale
    dt = np.maximum(acc.dt[i0:i1], 1e-3)
    cells = cells / dt[:, None, None, None]
    k = 1.0 / max(body_px, 1.0)  # pixels per second -> body-lengths per second
    # movement and change of appearance beyond the picture's own floor in each frame (a
    # hand-held camera leaves some everywhere), so that what is left is the body's own
    floor = _floor(cells[..., 2])
    mag = np.maximum(cells[..., 2] - floor[:, None, None], 0.0)
    chg = np.maximum(cells[..., 3] - _floor(cells[..., 3])[:, None, None], 0.0)
    body = mag[:, r0:r1, c0:c1]
    if mid is None:
        rm, cm = (r0 + r1) // 2, (c0 + c1) // 2
    else:
        rm = int(np.clip(round(mid[0]), r0 + 1, r1 - 1))
        cm = int(np.clip(round(mid[1]), c0 + 1, c1 - 1))
    if vertical:
        a, b = mag[:, r0:r1, c0:cm], mag[:, r0:r1, cm:c1]      # left/right of the image
        up, lo = mag[:, r0:rm, c0:c1], mag[:, rm:r1, c0:c1]
    else:
        a, b = mag[:, r0:rm, c0:c1], mag[:, rm:r1, c0:c1]
        up, lo = mag[:, r0:r1, c0:cm], mag[:, r0:r1, cm:c1]
    # "outside" leaves a margin around the box (limbs reach past it in a big movement)
    mr = max(1, int(round(MARGIN * (r1 - r0))))
    mc = max(1, int(round(MARGIN * (c1 - c0))))
    inside = np.zeros((gh, gw), bool)
    inside[max(0, r0 - mr):r1 + mr, max(0, c0 - mc):c1 + mc] = True
    n_out = int((~inside).sum())
    outside = _top(mag[:, ~inside]) if n_out else np.zeros(n)
    uv = cells[:, r0:r1, c0:c1, :2].reshape(n, -1, 2)
    shift = np.hypot(*np.median(uv, axis=1).T)
    # how much of the body's movement is one shared displacement (1: moved whole, as when
    # handled or carried; a spasm's limbs move apart or together, little of it shared)
    coherence = np.hypot(*uv.sum(axis=1).T) / np.maximum(
        cells[:, r0:r1, c0:c1, 2].reshape(n, -1).sum(1), 1e-9)
    df = pd.DataFrame({
        "body": _top(body) * k,
        "left": _top(a) * k,
        "right": _top(b) * k,
        "upper": _top(up) * k,
        "lower": _top(lo) * k,
        "outside": outside * k,
        "shift": shift * k,
        "coherence": np.clip(coherence, 0.0, 1.0),
        "camera": acc.camera[i0:i1] / dt * k,
        "floor": floor * k,
        "change_body": _top(chg[:, r0:r1, c0:c1]),
        "change_outside": _top(chg[:, ~inside]) if n_out else np.zeros(n),
        "light": acc.light[i0:i1] / dt,
        "covered": count > 0,
    })
    # frames with no measured pair (low frame rate, dropped frames) take their neighbours' values
    if (~df["covered"]).any() and df["covered"].any():
        cols = SIGNALS
        df.loc[~df["covered"], cols] = np.nan
        df[cols] = df[cols].interpolate(limit_direction="both")
    return df

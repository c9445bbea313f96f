"""An independent generator of infant videos with known epileptic spasms and known mimics.

Written from the clinical description of a spasm and of the ordinary movements of an infant
(``clinical-background.md``), without hypsa's video detector or its simulator: every choice is
this module's own and its range is kept wide (see ``README_video_independent.md``).

The scene is a top-down view of an infant lying on its back on a blanket, drawn with OpenCV as
shaded ellipses and limb capsules (head with face and hair, trunk in patterned clothing, nappy,
arms, hands, legs, feet), posed by a small joint model: trunk flexion, head flexion/extension,
shoulder abduction and lift, elbow, hip abduction and flexion, knee. Every movement (spasm,
startle, kicking, writhing general movements, arm waving, crying, sucking, feeding, sleep
myoclonus, a caregiver's hands, being picked up, a toy, a blanket) is an additive time course on
those joints or an extra drawn object. The camera is a similarity transform per frame (tripod, or
hand-held with tremor, drift, zoom and quick reframing); lighting is a baked light field (window
band, vignette, colour temperature) times a global gain (flicker, dim scenes) plus sensor noise.
Frames are encoded to H.264 with PyAV, at a constant or a variable frame rate.

Outputs of :func:`generate` in ``out_dir``: ``clip.mp4``, ``events.tsv`` (BIDS-style truth:
``onset, duration, trial_type, cluster, pattern, amplitude, symmetry``; ``trial_type`` is
``spasm`` for each spasm and its own name for every other drawn movement) and ``truth.json``
(seed, kind, camera, framing, fps and every drawing parameter).

Command line::

    python benchmarks/generalize/video_independent.py OUT --kind spasms --seed 0 --minutes 5
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

try:  # the project's typed errors when hypsa is importable
    from hypsa.errors import ParameterError
except ImportError:  # pragma: no cover - standalone use
    class ParameterError(ValueError):  # type: ignore[no-redef]
        """A bad argument."""

__all__ = ["KINDS", "CAMERAS", "ORIENTATIONS", "LIGHTS", "SIZES", "FPS_CHOICES", "BODY_AXES",
           "GeneratedClip", "generate", "condition_of", "main"]

#: Clip kinds: ``spasms`` (1-3 clusters plus ordinary movement), ``ordinary`` (no spasm; startles,
#: handling and the rest of an infant's ordinary movement).
KINDS = ("spasms", "ordinary")
CAMERAS = ("fixed", "handheld")
ORIENTATIONS = ("landscape", "portrait")
LIGHTS = ("bright", "dim")
#: Landscape sizes (width, height) and their draw weights; portrait swaps them.
#: (848 rather than 854: a width that is a multiple of 16 keeps the encoder's output the same
#: from run to run.)
SIZES = ((640, 360), (848, 480), (960, 540), (1280, 720))
SIZE_WEIGHTS = (0.55, 0.25, 0.12, 0.08)
FPS_CHOICES = (15.0, 20.0, 24.0, 25.0, 30.0)
#: The infant's long axis along the frame's long axis, diagonal, or across it.
BODY_AXES = ("long_axis", "diagonal", "short_axis")

# Joint model: one column per degree of freedom.
DOF = ("x", "y", "rot", "scale", "trunk", "head", "turn", "tilt",
       "abdL", "abdR", "liftL", "liftR", "elbL", "elbR",
       "hipabL", "hipabR", "hipflL", "hipflR", "kneeL", "kneeR",
       "mouth", "breath", "eyes", "shrug", "red")
J = {n: i for i, n in enumerate(DOF)}

# Spasm patterns: joint changes per unit amplitude (infant's left L / right R share the value).
_FLEX_UP = {"head": 0.9, "trunk": 0.7, "abd": -0.5, "lift": 0.6, "elb": 0.6, "shrug": 0.6}
_EXT_UP = {"head": -0.6, "trunk": -0.2, "abd": 0.75, "lift": 0.35, "elb": -0.9, "shrug": 0.3}
_FLEX_LEGS = {"hipab": -0.15, "hipfl": 0.55, "knee": 0.5}
_EXT_LEGS = {"hipab": 0.1, "hipfl": -0.3, "knee": -0.8}
PATTERNS = {
    "flexor": {**_FLEX_UP, **_FLEX_LEGS},
    "extensor": {**_EXT_UP, **_EXT_LEGS},
    "mixed_flex_arms_ext_legs": {**_FLEX_UP, **_EXT_LEGS},
    "mixed_ext_arms_flex_legs": {**_EXT_UP, **_FLEX_LEGS, "head": 0.5},
    "subtle_head_nod": {"head": 0.9, "shrug": 0.7, "abd": -0.15, "lift": 0.15},
}
PATTERN_WEIGHTS = (0.4, 0.2, 0.15, 0.1, 0.15)
SIDED = ("abd", "lift", "elb", "hipab", "hipfl", "knee")


@dataclass
class GeneratedClip:
    """Paths and truth of one generated clip.

    Attributes
    ----------
    clip, events, truth_json : Path
        ``clip.mp4``, ``events.tsv`` and ``truth.json``.
    events_table : DataFrame
        The truth rows.
    truth : dict
        Everything in ``truth.json``.
    """

    clip: Path
    events: Path
    truth_json: Path
    events_table: pd.DataFrame
    truth: dict

    def spasms(self) -> pd.DataFrame:
        """The truth rows of the spasms only."""
        return self.events_table[self.events_table["trial_type"] == "spasm"].reset_index(
            drop=True)


def condition_of(index: int) -> tuple[str, str, str]:
    """Camera, orientation and light of the ``index``-th clip of a balanced set.

    Parameters
    ----------
    index : int
        Position in the set (cycles through the 8 combinations).

    Returns
    -------
    (camera, orientation, light)
    """
    i = int(index) % 8
    return CAMERAS[i % 2], ORIENTATIONS[(i // 2) % 2], LIGHTS[(i // 4) % 2]


# ---------------------------------------------------------------------------------------------
# Time courses
# ---------------------------------------------------------------------------------------------

def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _window(t: np.ndarray, t0: float, t1: float, ramp: float) -> np.ndarray:
    """1 inside [t0, t1] with raised-cosine ramps of ``ramp`` s at both ends, 0 outside."""
    ramp = max(min(ramp, (t1 - t0) / 2), 1e-3)
    return _smoothstep((t - t0) / ramp) * _smoothstep((t1 - t) / ramp)


def _smooth_noise(rng: np.random.Generator, t: np.ndarray, f_hi: float, n: int = 1
                  ) -> np.ndarray:
    """Band-limited noise (sum of random sinusoids below ``f_hi`` Hz), unit SD, shape (len, n)."""
    k = 8
    f = rng.uniform(0.05 * f_hi, f_hi, (k, n))
    ph = rng.uniform(0, 2 * np.pi, (k, n))
    a = rng.uniform(0.5, 1.0, (k, n))
    out = np.einsum("kn,tkn->tn", a, np.sin(2 * np.pi * f[None] * t[:, None, None] + ph[None]))
    return out / np.sqrt(0.5 * (a ** 2).sum(0))[None]


def _spasm_envelope(t: np.ndarray, t0: float, rise: float, dur: float, plateau: float,
                    relax: float, tremor_hz: float) -> np.ndarray:
    """Phasic jerk (rise to 1), tonic phase at ``plateau``, relaxation to 0 at ``t0 + dur``."""
    u = t - t0
    env = np.zeros_like(t)
    r = (u >= 0) & (u < rise)
    env[r] = _smoothstep(u[r] / rise)
    tonic_end = dur - relax
    p = (u >= rise) & (u < tonic_end)
    settle = np.clip((u[p] - rise) / 0.12, 0, 1)
    env[p] = (1 - settle) + settle * plateau
    env[p] *= 1 + 0.04 * np.sin(2 * np.pi * tremor_hz * u[p])
    q = (u >= tonic_end) & (u < dur)
    env[q] = plateau * (1 - _smoothstep((u[q] - tonic_end) / relax))
    return env


def _add_pattern(D: np.ndarray, pattern: dict, env: np.ndarray, gain_l: float, gain_r: float,
                 env_r: np.ndarray | None = None) -> None:
    env_r = env if env_r is None else env_r
    for key, v in pattern.items():
        if key in SIDED:
            D[:, J[key + "L"]] += v * gain_l * env
            D[:, J[key + "R"]] += v * gain_r * env_r
        else:
            D[:, J[key]] += v * 0.5 * (gain_l + gain_r) * env


# ---------------------------------------------------------------------------------------------
# Planning: what happens when
# ---------------------------------------------------------------------------------------------

class _Timeline:
    """Busy intervals of the major movements (one at a time, spasms kept clear)."""

    def __init__(self, T: float) -> None:
        self.T = T
        self.busy: list[tuple[float, float]] = []

    def free(self, t0: float, t1: float, margin: float = 1.0) -> bool:
        if t0 < 1.0 or t1 > self.T - 0.5:
            return False
        return all(t1 + margin <= a or t0 - margin >= b for a, b in self.busy)

    def take(self, t0: float, t1: float) -> None:
        self.busy.append((t0, t1))

    def place(self, rng: np.random.Generator, dur: float, lo: float = 1.0,
              hi: float | None = None, tries: int = 60, margin: float = 1.0) -> float | None:
        hi = self.T - dur - 0.5 if hi is None else min(hi, self.T - dur - 0.5)
        for _ in range(tries):
            if hi <= lo:
                return None
            t0 = float(rng.uniform(lo, hi))
            if self.free(t0, t0 + dur, margin):
                self.take(t0, t0 + dur)
                return t0
        return None


def _plan_clusters(rng: np.random.Generator, T: float, start_after: float) -> list[list[float]]:
    """Spasm onsets per cluster: 1-3 clusters of 3-15 spasms, 4-40 s apart, >= 60 s between."""
    n_clusters = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
    clusters: list[list[float]] = []
    t = max(3.0, min(start_after, T - 20.0))
    for c in range(n_clusters):
        base = float(np.exp(rng.uniform(np.log(5.0), np.log(30.0))))
        n = int(rng.integers(3, 16))
        iv = np.clip(base * rng.uniform(0.6, 1.4, n - 1), 4.0, 40.0)
        gap = float(rng.uniform(60.0, 150.0)) if c else 0.0
        t0 = t + gap
        room = T - 3.0 - t0
        while n > 3 and iv[: n - 1].sum() > room:
            n -= 1
        if iv[: n - 1].sum() > room:
            iv = np.full(n - 1, 5.0)
            if iv.sum() > room:
                break
        on = t0 + np.concatenate([[0.0], np.cumsum(iv[: n - 1])])
        clusters.append([float(v) for v in on])
        t = on[-1] + 2.0
    return clusters


# ---------------------------------------------------------------------------------------------
# Drawing helpers
# ---------------------------------------------------------------------------------------------

def _hsv_bgr(h: float, s: float, v: float) -> np.ndarray:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return np.array([b, g, r]) * 255.0


SKIN_RGB = ((255, 224, 196), (241, 194, 167), (224, 172, 138), (198, 134, 99), (141, 85, 54),
            (92, 58, 38))


def _background(rng: np.random.Generator, w: int, h: int, p: dict) -> np.ndarray:
    """World background (blanket with pattern, folds, mattress edge), float32 BGR 0-255."""
    import cv2

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.asarray(p["blanket_bgr"], np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    pat = p["blanket_pattern"]
    period = p["blanket_period_px"]
    alt = np.asarray(p["blanket_alt_bgr"], np.float32)
    if pat == "checks":
        m = ((xx // period + yy // period) % 2).astype(np.float32)
    elif pat == "stripes":
        m = ((xx * math.cos(p["blanket_angle"]) + yy * math.sin(p["blanket_angle"]))
             // period % 2).astype(np.float32)
    elif pat == "dots":
        m = (((xx % period) - period / 2) ** 2 + ((yy % period) - period / 2) ** 2
             < (period * 0.22) ** 2).astype(np.float32)
    else:
        m = np.zeros((h, w), np.float32)
    m = cv2.GaussianBlur(m, (0, 0), 0.8)
    img = img * (1 - m[..., None] * 0.9) + alt * (m[..., None] * 0.9)
    # knit / weave texture and soft folds
    tex = rng.normal(0, p["blanket_texture"], (h, w)).astype(np.float32)
    folds = cv2.GaussianBlur(rng.normal(0, 1, (h // 8 + 1, w // 8 + 1)).astype(np.float32),
                             (0, 0), 3)
    folds = cv2.resize(folds, (w, h), interpolation=cv2.INTER_CUBIC)
    folds = folds / max(float(np.abs(folds).max()), 1e-6)
    img *= (1 + p["blanket_folds"] * folds)[..., None]
    img += tex[..., None]
    # mattress edge / cot side along one border of the world
    if p["cot_edge"] != "none":
        e = int(p["cot_edge_frac"] * (w if p["cot_edge"] in ("left", "right") else h))
        sl = {"left": (slice(None), slice(0, e)), "right": (slice(None), slice(w - e, w)),
              "top": (slice(0, e), slice(None)), "bottom": (slice(h - e, h), slice(None))}
        img[sl[p["cot_edge"]]] = np.asarray(p["cot_bgr"], np.float32)
        if p["cot_bars"]:
            step = max(8, int(0.03 * max(w, h)))
            if p["cot_edge"] in ("left", "right"):
                for y in range(0, h, step):
                    img[y:y + step // 3, sl[p["cot_edge"]][1]] *= 0.75
            else:
                for x in range(0, w, step):
                    img[sl[p["cot_edge"]][0], x:x + step // 3] *= 0.75
    return img


def _light_field(w: int, h: int, p: dict) -> np.ndarray:
    """Multiplicative light field in world pixels (vignette, window band), float32 (h, w)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    f = 1 - p["vignette"] * r2 / 2
    if p["window_band"]:
        a = p["window_angle"]
        d = (xx * math.cos(a) + yy * math.sin(a)) / max(w, h)
        band = 1 / (1 + np.exp(-(d - p["window_pos"]) / p["window_soft"]))
        band *= 1 / (1 + np.exp((d - p["window_pos"] - p["window_width"]) / p["window_soft"]))
        f = f * (1 + p["window_gain"] * (band - 0.5))  # sunlit band, shade elsewhere
    return f.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------

def _check(kind: str, seed: int, minutes: float, camera: str | None, orientation: str | None,
           light: str | None, fps: float | None, variable_fps: bool | None,
           size: tuple[int, int] | None) -> None:
    if kind not in KINDS:
        raise ParameterError(f"kind must be one of {KINDS}, not {kind!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, not {seed!r}")
    if not isinstance(minutes, (int, float)) or not math.isfinite(minutes) or minutes <= 0:
        raise ParameterError(f"minutes must be a positive number, not {minutes!r}")
    if minutes > 60:
        raise ParameterError(f"minutes must be at most 60, not {minutes!r}")
    if kind == "spasms" and minutes * 60 < 20:
        raise ParameterError(f"a 'spasms' clip needs at least 20 s to hold a cluster of 3 "
                             f"spasms, not {minutes * 60:.1f} s")
    if minutes * 60 < 5:
        raise ParameterError(f"a clip must last at least 5 s, not {minutes * 60:.1f} s")
    for name, val, allowed in (("camera", camera, CAMERAS), ("orientation", orientation,
                                                             ORIENTATIONS),
                               ("light", light, LIGHTS)):
        if val is not None and val not in allowed:
            raise ParameterError(f"{name} must be one of {allowed}, not {val!r}")
    if fps is not None and not (isinstance(fps, (int, float)) and 10 <= fps <= 60):
        raise ParameterError(f"fps must be between 10 and 60, not {fps!r}")
    if size is not None:
        if (len(size) != 2 or not all(isinstance(v, (int, np.integer)) for v in size)
                or min(size) < 64 or max(size) > 1920 or any(v % 2 for v in size)):
            raise ParameterError(f"size must be (width, height), even, 64-1920 px, not {size!r}")
    if variable_fps is not None and not isinstance(variable_fps, bool):
        raise ParameterError(f"variable_fps must be True, False or None, not {variable_fps!r}")


def generate(out_dir: str | Path, seed: int, *, kind: str, minutes: float = 5.0,
             camera: str | None = None, orientation: str | None = None,
             light: str | None = None, fps: float | None = None,
             variable_fps: bool | None = None, size: tuple[int, int] | None = None,
             crf: int | None = None, body_axis: str | None = None) -> GeneratedClip:
    """Draw one clip of an infant with known movements and write it with its truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder (created) that receives ``clip.mp4``, ``events.tsv`` and ``truth.json``.
    seed : int
        Non-negative seed; the output is a deterministic function of all arguments.
    kind : {"spasms", "ordinary"}
        ``spasms``: 1-3 clusters of 3-15 spasms plus ordinary movement; ``ordinary``: no spasm,
        with isolated startles and handling.
    minutes : float
        Length (5 s to 60 min; a ``spasms`` clip needs at least 20 s).
    camera : {"fixed", "handheld"}, optional
        Tripod or hand-held; drawn when None.
    orientation : {"landscape", "portrait"}, optional
        Drawn when None.
    light : {"bright", "dim"}, optional
        Drawn when None.
    fps : float, optional
        Nominal frame rate (10-60); drawn from :data:`FPS_CHOICES` when None.
    variable_fps : bool, optional
        Irregular frame times with dropped frames (phone-like); drawn when None.
    size : (width, height), optional
        Frame size in pixels (even numbers); drawn from :data:`SIZES` when None.
    crf : int, optional
        H.264 constant rate factor (0-51); drawn from 20-32 when None.
    body_axis : {"long_axis", "diagonal", "short_axis"}, optional
        The infant's long axis relative to the frame's long axis (+-20 degrees, head at either
        end); drawn when None (65/20/15 %).

    Returns
    -------
    GeneratedClip

    Raises
    ------
    ParameterError
        An argument out of range.
    """
    _check(kind, seed, minutes, camera, orientation, light, fps, variable_fps, size)
    crf_given = crf
    if crf is not None and not (isinstance(crf, (int, np.integer)) and 0 <= crf <= 51):
        raise ParameterError(f"crf must be an integer 0-51, not {crf!r}")
    if body_axis is not None and body_axis not in BODY_AXES:
        raise ParameterError(f"body_axis must be one of {BODY_AXES}, not {body_axis!r}")
    import av
    import cv2

    cv2.setNumThreads(1)
    rng = np.random.default_rng([int(seed), KINDS.index(kind), 7919])
    T = float(minutes) * 60.0
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # ---- camera, format, lighting ------------------------------------------------------------
    camera = camera or str(rng.choice(CAMERAS))
    orientation = orientation or str(rng.choice(ORIENTATIONS, p=[0.55, 0.45]))
    light = light or str(rng.choice(LIGHTS, p=[0.6, 0.4]))
    wh = size or SIZES[int(rng.choice(len(SIZES), p=SIZE_WEIGHTS))]
    if size is None and orientation == "portrait":
        wh = (wh[1], wh[0])
    W, H = int(wh[0]), int(wh[1])
    fps = float(fps) if fps is not None else float(rng.choice(FPS_CHOICES))
    vfr = bool(rng.random() < 0.3) if variable_fps is None else variable_fps
    crf = int(crf) if crf is not None else int(rng.integers(20, 33))
    if light == "dim" and crf_given is None:
        crf = min(crf + 4, 36)  # phones compress dim, noisy scenes harder
    # frame times
    if vfr:
        n_guess = int(T * fps * 1.3) + 10
        dt = (1 / fps) * rng.uniform(0.8, 1.2, n_guess)
        dt[rng.random(n_guess) < 0.03] *= 2.0  # dropped frames
        times = np.concatenate([[0.0], np.cumsum(dt)])
        times = times[times < T - 0.5 / fps]
    else:
        times = np.arange(int(round(T * fps))) / fps
    t = times
    nF = len(t)

    framing = str(rng.choice(["close", "medium", "wide"], p=[0.3, 0.45, 0.25]))
    body_frac = {"close": (0.75, 0.92), "medium": (0.55, 0.75), "wide": (0.35, 0.55)}[framing]
    L = float(rng.uniform(*body_frac)) * min(W, H)  # body length (crown to heel) in pixels
    along = str(rng.choice(BODY_AXES, p=[0.65, 0.2, 0.15]))
    along = body_axis or along
    base_rot = {"long_axis": 0.0, "diagonal": math.pi / 4, "short_axis": math.pi / 2}[along]
    base_rot += float(rng.uniform(-0.35, 0.35))
    if W > H:  # landscape: body's long axis along x means rotating by 90 degrees
        base_rot += math.pi / 2
    base_rot += math.pi if rng.random() < 0.3 else 0.0  # head toward the other end
    bright = light == "bright"
    P: dict = {
        "skin_bgr": list(np.array(SKIN_RGB[int(rng.integers(len(SKIN_RGB)))][::-1], float)
                         * rng.uniform(0.92, 1.05)),
        "hair_dark": float(rng.uniform(0.15, 0.8)),
        "hair_amount": float(rng.uniform(0.0, 1.0)),
        "clothing": str(rng.choice(["sleepsuit", "bodysuit", "nappy_only"], p=[0.45, 0.4,
                                                                               0.15])),
        "cloth_bgr": list(_hsv_bgr(rng.random(), rng.uniform(0.1, 0.8), rng.uniform(0.45, 1.0))),
        "cloth_alt_bgr": list(_hsv_bgr(rng.random(), rng.uniform(0.0, 0.8),
                                       rng.uniform(0.3, 1.0))),
        "cloth_pattern": str(rng.choice(["plain", "stripes", "dots"], p=[0.4, 0.35, 0.25])),
        "blanket_bgr": list(_hsv_bgr(rng.random(), rng.uniform(0.0, 0.7),
                                     rng.uniform(0.35, 0.95))),
        "blanket_alt_bgr": list(_hsv_bgr(rng.random(), rng.uniform(0.0, 0.7),
                                         rng.uniform(0.3, 1.0))),
        "blanket_pattern": str(rng.choice(["plain", "checks", "stripes", "dots"])),
        "blanket_period_px": float(rng.uniform(0.03, 0.12) * min(W, H)),
        "blanket_angle": float(rng.uniform(0, np.pi)),
        "blanket_texture": float(rng.uniform(1.0, 9.0)),
        "blanket_folds": float(rng.uniform(0.02, 0.18)),
        "cot_edge": str(rng.choice(["none", "left", "right", "top", "bottom"])),
        "cot_edge_frac": float(rng.uniform(0.06, 0.15)),
        "cot_bgr": list(_hsv_bgr(rng.uniform(0.05, 0.12), rng.uniform(0.1, 0.6),
                                 rng.uniform(0.3, 0.9))),
        "cot_bars": bool(rng.random() < 0.5),
        "vignette": float(rng.uniform(0.0, 0.45)),
        "window_band": bool(rng.random() < 0.4),
        "window_angle": float(rng.uniform(0, np.pi)),
        "window_pos": float(rng.uniform(0.1, 0.6)),
        "window_width": float(rng.uniform(0.1, 0.35)),
        "window_soft": float(rng.uniform(0.01, 0.05)),
        "window_gain": float(rng.uniform(0.15, 0.5)),
        "colour_temp": str(rng.choice(["daylight", "warm", "cool"])),
        "gain": float(rng.uniform(0.9, 1.12) if bright else rng.uniform(0.28, 0.55)),
        "noise_sd": float(rng.uniform(0.0, 2.5) if bright else rng.uniform(3.0, 10.0)),
        "blur": bool(rng.random() < (0.2 if bright else 0.6)),
        "flicker": float(rng.uniform(0.02, 0.08)) if rng.random() < 0.3 else 0.0,
        "flicker_hz": float(rng.choice([100.0, 120.0])),
        "exposure_drift": float(rng.uniform(0.0, 0.08)),
    }
    tint = {"daylight": (1.0, 1.0, 1.0), "warm": (0.8, 0.95, 1.08), "cool": (1.08, 1.0, 0.9)}
    P["tint_bgr"] = list(tint[P["colour_temp"]])

    # ---- posture and movement plan -----------------------------------------------------------
    D = np.zeros((nF, len(DOF)))
    neutral = {"abd": rng.uniform(0.7, 1.4), "elb": rng.uniform(1.0, 1.9),
               "lift": rng.uniform(0.0, 0.2), "hipab": rng.uniform(0.3, 0.65),
               "hipfl": rng.uniform(0.2, 0.5), "knee": rng.uniform(0.8, 1.4)}
    for k, v in neutral.items():
        D[:, J[k + "L"]] = v + rng.normal(0, 0.08)
        D[:, J[k + "R"]] = v + rng.normal(0, 0.08)
    D[:, J["scale"]] = 1.0
    D[:, J["rot"]] = base_rot
    D[:, J["turn"]] = rng.uniform(-0.5, 0.5)
    P["neutral"] = {k: round(float(v), 3) for k, v in neutral.items()}

    profile = str(rng.choice(["sleep", "awake", "wake_up"], p=[0.25, 0.35, 0.4]))
    wake_at = {"sleep": T, "awake": 0.0,
               "wake_up": float(rng.uniform(0.15, 0.5) * T)}[profile]
    awake = (t >= wake_at).astype(float)
    D[:, J["eyes"]] = _smoothstep((t - wake_at) / 2.0) if wake_at < T else 0.0
    # breathing: 30-60/min asleep, faster awake
    f_b = rng.uniform(0.5, 0.8) + 0.25 * awake
    D[:, J["breath"]] = np.sin(2 * np.pi * np.cumsum(f_b * np.gradient(t)))
    # slow postural drift (always) and fidgeting when awake
    drift = _smooth_noise(rng, t, 0.05, len(DOF))
    D[:, J["abdL"]:J["kneeR"] + 1] += 0.06 * drift[:, J["abdL"]:J["kneeR"] + 1]
    D[:, J["turn"]] += 0.15 * drift[:, J["turn"]]
    fid = _smooth_noise(rng, t, 1.5, len(DOF))
    D[:, J["abdL"]:J["kneeR"] + 1] += (0.05 * awake)[:, None] * fid[:, J["abdL"]:J["kneeR"] + 1]

    rows: list[dict] = []
    tl = _Timeline(T)

    def row(on: float, du: float, tt: str, **kw) -> None:
        rows.append({"onset": round(on, 3), "duration": round(du, 3), "trial_type": tt, **kw})

    # spasms
    spasm_par: list[dict] = []
    if kind == "spasms":
        start = wake_at + rng.uniform(2, 30) if profile == "wake_up" else rng.uniform(5, 0.4 * T)
        clusters = _plan_clusters(rng, T, float(start))
        for ci, onsets in enumerate(clusters, start=1):
            n = len(onsets)
            main_pat = str(rng.choice(list(PATTERNS), p=PATTERN_WEIGHTS))
            for si, on in enumerate(onsets):
                pat = main_pat if rng.random() < 0.8 else str(rng.choice(list(PATTERNS),
                                                                          p=PATTERN_WEIGHTS))
                subtle = pat == "subtle_head_nod" or rng.random() < 0.12
                amp = rng.uniform(0.15, 0.4) if subtle else rng.uniform(0.35, 1.0)
                amp *= 0.75 + 0.25 * math.sin(math.pi * (si + 0.5) / n)  # wax and wane
                dur = float(rng.uniform(0.5, 2.0))
                rise = float(rng.uniform(0.08, 0.25))
                relax = float(min(rng.uniform(0.15, 0.5), dur - rise - 0.05))
                plateau = float(rng.uniform(0.55, 0.95))
                asym = rng.random() < 0.3
                weak = float(rng.uniform(0.3, 0.7) if asym else rng.uniform(0.85, 1.0))
                lag = float(rng.uniform(0.0, 0.12) if asym else rng.uniform(0.0, 0.03))
                left_weak = bool(rng.random() < 0.5)
                gl, gr = (weak, 1.0) if left_weak else (1.0, weak)
                trem = float(rng.uniform(6, 11))
                env = _spasm_envelope(t, on, rise, dur, plateau, relax, trem)
                env2 = _spasm_envelope(t, on + lag, rise, dur - lag, plateau,
                                       min(relax, dur - lag - rise - 0.02), trem)
                _add_pattern(D, PATTERNS[pat], env * amp, gl, gr, env2 * amp)
                if asym:
                    D[:, J["turn"]] += (0.4 if left_weak else -0.4) * env * amp
                D[:, J["eyes"]] = np.maximum(D[:, J["eyes"]], env)
                tl.take(on, on + dur)
                row(on, dur, "spasm", cluster=ci, pattern=pat, amplitude=round(amp, 3),
                    symmetry=round(min(gl, gr), 3))
                spasm_par.append({"onset": round(on, 3), "duration": round(dur, 3),
                                  "cluster": ci, "pattern": pat, "amplitude": round(amp, 3),
                                  "weaker_side_gain": round(min(gl, gr), 3),
                                  "weaker_side": ("left" if left_weak else "right")
                                  if asym else "none", "lag_s": round(lag, 3),
                                  "rise_s": round(rise, 3), "plateau": round(plateau, 3),
                                  "relax_s": round(relax, 3)})
            # crying after a cluster, often
            if rng.random() < 0.5:
                cd = float(rng.uniform(5, 25))
                c0 = onsets[-1] + float(rng.uniform(2.5, 6))
                if c0 + cd < T - 1 and tl.free(c0, c0 + cd):
                    tl.take(c0, c0 + cd)
                    _crying(rng, t, D, c0, cd)
                    row(c0, cd, "crying")

    # ---- ordinary movements --------------------------------------------------------------------
    extras: dict = {"hands": [], "bottle": [], "toy": [], "cover": None}
    n_min = T / 60.0
    # startles: isolated, >= 60 s apart and >= 45 s from any spasm
    n_st = int(rng.integers(1, 4)) if kind == "ordinary" else int(rng.integers(0, 2))
    n_st = min(n_st, max(1, int(T // 60)))
    spasm_on = [r["onset"] for r in rows if r["trial_type"] == "spasm"]
    startle_on: list[float] = []
    for _ in range(n_st * 10):
        if len(startle_on) >= n_st:
            break
        du = float(rng.uniform(0.6, 1.5))
        t0 = float(rng.uniform(1.5, max(1.6, T - du - 1.0)))
        if any(abs(t0 - s) < 45 for s in spasm_on) or any(abs(t0 - s) < 60 for s in startle_on):
            continue
        if not tl.free(t0, t0 + du, 1.5):
            continue
        tl.take(t0, t0 + du)
        startle_on.append(t0)
        amp = float(rng.uniform(0.5, 1.1))
        e1 = _spasm_envelope(t, t0, rng.uniform(0.06, 0.15), du * 0.45, 0.7, du * 0.2, 8.0)
        e2 = _window(t, t0 + du * 0.35, t0 + du, du * 0.25)
        moro1 = {"abd": 0.8, "elb": -0.9, "lift": 0.4, "head": -0.3, "knee": -0.4,
                 "hipfl": -0.1}
        moro2 = {"abd": -0.4, "elb": 0.5, "lift": 0.5}
        _add_pattern(D, moro1, e1 * amp, 1.0, float(rng.uniform(0.8, 1.0)))
        _add_pattern(D, moro2, e2 * amp * 0.7, 1.0, 1.0)
        D[:, J["eyes"]] = np.maximum(D[:, J["eyes"]], e1)
        row(t0, du, "startle", amplitude=round(amp, 3))
        if rng.random() < 0.35:
            cd = float(rng.uniform(4, 20))
            if tl.free(t0 + du + 0.5, t0 + du + 0.5 + cd, 0.2):
                tl.take(t0 + du + 0.5, t0 + du + 0.5 + cd)
                _crying(rng, t, D, t0 + du + 0.5, cd)
                row(t0 + du + 0.5, cd, "crying")

    # handling by a caregiver, picked up, feeding, rattle
    n_hand = int(rng.integers(1, 3)) if kind == "ordinary" else int(rng.integers(0, 2))
    for _ in range(n_hand):
        du = float(rng.uniform(4, 20))
        t0 = tl.place(rng, du)
        if t0 is not None:
            _handling(rng, t, D, t0, du, extras, L)
            row(t0, du, "handling")
    if rng.random() < (0.5 if kind == "ordinary" else 0.25) and T >= 40:
        du = float(rng.uniform(8, 22))
        t0 = tl.place(rng, du)
        if t0 is not None:
            _picked_up(rng, t, D, t0, du, extras, L)
            row(t0, du, "picked_up")
    if rng.random() < 0.3 and T >= 60:
        du = float(min(rng.uniform(30, 120), T * 0.4))
        t0 = tl.place(rng, du)
        if t0 is not None:
            _feeding(rng, t, D, t0, du, extras)
            row(t0, du, "feeding")
    if rng.random() < 0.3:
        du = float(rng.uniform(3, 15))
        t0 = tl.place(rng, du)
        if t0 is not None:
            extras["toy"].append({"kind": "rattle", "t0": t0, "t1": t0 + du,
                                  "hz": float(rng.uniform(3, 6)),
                                  "bgr": list(_hsv_bgr(rng.random(), 0.8, 0.9)),
                                  "where": list(rng.uniform(-0.15, 0.15, 2)),
                                  "from": float(rng.uniform(0, 2 * np.pi))})
            row(t0, du, "rattle_shaken")
    if rng.random() < 0.2:  # a mobile over the cot, turning at times
        n_turn = int(rng.integers(1, 3))
        spins = []
        for _ in range(n_turn):
            du = float(rng.uniform(10, 60))
            t0 = float(rng.uniform(0, max(1.0, T - du)))
            spins.append((t0, t0 + du))
            row(t0, min(du, T - t0), "toy_moving")
        extras["toy"].append({"kind": "mobile", "spins": spins, "n": int(rng.integers(2, 5)),
                              "radius": float(rng.uniform(0.12, 0.25)),
                              "speed": float(rng.uniform(0.15, 0.5)),
                              "centre": list(rng.uniform(-0.1, 0.1, 2))})
    if rng.random() < 0.25:  # a blanket over the legs, pulled once
        pull = float(rng.uniform(5, T - 5)) if T > 15 else None
        extras["cover"] = {"bgr": list(_hsv_bgr(rng.random(), rng.uniform(0.1, 0.7),
                                                 rng.uniform(0.4, 0.95))),
                           "pull_t": pull, "pull_dur": float(rng.uniform(0.6, 2.0)),
                           "pull_shift": float(rng.uniform(0.05, 0.15))}
        if pull is not None:
            row(pull, extras["cover"]["pull_dur"], "blanket_moved")

    # bouts by state: general movements, kicking, arm waving, crying, sucking, sleep myoclonus
    rate = {"general_movements": 0.9, "kicking": 0.5, "arm_waving": 0.4, "crying": 0.15,
            "sucking": 0.15, "sleep_myoclonus": 0.25, "sleep_jerk": 0.2}
    for kind_b, r in rate.items():
        asleep_kind = kind_b in ("sleep_myoclonus", "sleep_jerk", "sucking")
        n_b = int(rng.poisson(r * n_min * (1.0 if kind_b != "sucking" else 1.0)))
        for _ in range(n_b):
            du = {"general_movements": rng.uniform(5, 45), "kicking": rng.uniform(2, 12),
                  "arm_waving": rng.uniform(2, 8), "crying": rng.uniform(5, 30),
                  "sucking": rng.uniform(8, 40), "sleep_myoclonus": rng.uniform(2, 8),
                  "sleep_jerk": rng.uniform(0.15, 0.4)}[kind_b]
            du = float(du)
            lo, hi = (1.0, wake_at) if asleep_kind else (wake_at + 1.0, None)
            if kind_b == "sucking" and rng.random() < 0.5:
                lo, hi = 1.0, None
            if hi is not None and hi - lo < du + 2:
                continue
            if lo > T - du - 1:
                continue
            t0 = tl.place(rng, du, lo=lo, hi=hi)
            if t0 is None:
                continue
            extra = _bout(rng, t, D, kind_b, t0, du)
            row(t0, du, kind_b, **extra)

    # ---- camera --------------------------------------------------------------------------------
    cam = np.zeros((nF, 4))  # dx, dy (px), rotation (rad), zoom (factor - 1)
    cam_par: dict = {"mode": camera}
    if camera == "handheld":
        shake_px = float(rng.uniform(0.5, 4.0)) * min(W, H) / 360
        drift_px = float(rng.uniform(5, 30)) * min(W, H) / 360
        cam[:, :2] = shake_px * _smooth_noise(rng, t, 7.0, 2) / 1.4
        cam[:, :2] += drift_px * _smooth_noise(rng, t, 0.08, 2)
        cam[:, 2] = float(rng.uniform(0.005, 0.03)) * _smooth_noise(rng, t, 0.1, 1)[:, 0]
        cam[:, 2] += 0.002 * _smooth_noise(rng, t, 5.0, 1)[:, 0]
        zoom_amp = float(rng.uniform(0.0, 0.12))
        cam[:, 3] = zoom_amp * _smooth_noise(rng, t, 0.03, 1)[:, 0]
        n_ref = int(rng.integers(1, 5))
        reframes = []
        for _ in range(n_ref):
            t0 = float(rng.uniform(1, max(1.5, T - 3)))
            du = float(rng.uniform(0.4, 1.5))
            dxy = rng.uniform(-1, 1, 2) * rng.uniform(20, 80) * min(W, H) / 360
            dr = float(rng.uniform(-0.06, 0.06))
            s = _smoothstep((t - t0) / du)
            cam[:, 0] += dxy[0] * s
            cam[:, 1] += dxy[1] * s
            cam[:, 2] += dr * s
            reframes.append({"onset": round(t0, 3), "duration": round(du, 3),
                             "shift_px": [round(float(v), 1) for v in dxy],
                             "rot_rad": round(dr, 4)})
            row(t0, du, "camera_reframe")
        cam_par.update({"shake_px": round(shake_px, 2), "drift_px": round(drift_px, 2),
                        "zoom_amp": round(zoom_amp, 3), "reframes": reframes})

    # ---- render ----------------------------------------------------------------------------------
    margin = 0.3
    Ww, Hw = int(W * (1 + margin)), int(H * (1 + margin))
    ox, oy = (Ww - W) / 2, (Hw - H) / 2
    bg = _background(rng, Ww, Hw, P)
    light_f = _light_field(Ww, Hw, P)
    tint_arr = np.asarray(P["tint_bgr"], np.float32)
    bg = np.clip(bg * light_f[..., None] * tint_arr, 0, 255).astype(np.uint8)
    centre_world = np.array([Ww / 2, Hw / 2]) + rng.uniform(-0.05, 0.05, 2) * min(W, H)
    # global gain per frame: exposure, flicker (aliased), dim scene
    g = P["gain"] * (1 + P["exposure_drift"] * _smooth_noise(rng, t, 0.02, 1)[:, 0])
    if P["flicker"] > 0:
        g = g * (1 + P["flicker"] * np.sin(2 * np.pi * P["flicker_hz"] * t))
    n_bank = 12
    noise_bank = []
    if P["noise_sd"] > 0.5:
        for _ in range(n_bank):
            nz = rng.normal(0, P["noise_sd"], (H, W, 1)).astype(np.float32)
            nz = np.repeat(nz, 3, axis=2) + rng.normal(0, P["noise_sd"] * 0.5, (H, W, 3))
            if not bright:  # a phone's denoiser leaves grain a few pixels wide, same SD
                nz = cv2.GaussianBlur(nz.astype(np.float32), (0, 0), 1.0)
                nz *= P["noise_sd"] / max(float(nz[..., 0].std()), 1e-6)
            noise_bank.append((np.clip(nz, 0, 255).astype(np.uint8),
                               np.clip(-nz, 0, 255).astype(np.uint8)))
    noise_pick = rng.integers(0, n_bank, nF)

    container = av.open(str(out / "clip.mp4"), "w")
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
    tb = Fraction(1, 90000)
    stream.codec_context.time_base = tb
    painter = _Painter(P, extras, L, rng)
    for i in range(nF):
        ang = cam[i, 2]
        z = 1 + cam[i, 3]
        c, s_ = math.cos(ang) * z, math.sin(ang) * z
        # world -> image: rotate/zoom about the frame centre, then shift
        cx, cy = Ww / 2, Hw / 2
        M = np.array([[c, -s_, W / 2 - (c * cx - s_ * cy) + cam[i, 0]],
                      [s_, c, H / 2 - (s_ * cx + c * cy) + cam[i, 1]]])
        if camera == "fixed":
            img = bg[int(oy):int(oy) + H, int(ox):int(ox) + W].copy()
            M = np.array([[1.0, 0, -int(ox)], [0, 1.0, -int(oy)]])
        else:
            img = cv2.warpAffine(bg, M, (W, H), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT)
        lw = light_f[int(np.clip(centre_world[1], 0, Hw - 1)),
                     int(np.clip(centre_world[0], 0, Ww - 1))]
        painter.draw(img, D[i], t[i], M, centre_world, lw * tint_arr)
        if P["blur"]:
            img = cv2.GaussianBlur(img, (3, 3), 0)
        if abs(g[i] - 1) > 1e-3:
            img = cv2.convertScaleAbs(img, alpha=float(g[i]))
        if noise_bank:
            pos, neg = noise_bank[noise_pick[i]]
            cv2.add(img, pos, dst=img)
            cv2.subtract(img, neg, dst=img)
        fr = av.VideoFrame.from_ndarray(img, format="bgr24")
        fr.pts = int(round(t[i] * 90000))
        fr.time_base = tb
        for pkt in stream.encode(fr):
            container.mux(pkt)
    for pkt in stream.encode():
        container.mux(pkt)
    container.close()

    # ---- truth -------------------------------------------------------------------------------
    ev = pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "cluster", "pattern",
                                     "amplitude", "symmetry"])
    ev = ev.sort_values(["onset", "trial_type"]).reset_index(drop=True)
    ev["cluster"] = ev["cluster"].astype("Int64")
    ev.to_csv(out / "events.tsv", sep="\t", index=False, na_rep="n/a")
    truth = {
        "generator": "video_independent", "seed": int(seed), "kind": kind,
        "duration_s": round(float(t[-1] + (t[-1] - t[-2] if nF > 1 else 1 / fps)), 3),
        "n_frames": int(nF), "fps": fps, "variable_fps": vfr, "width": W, "height": H,
        "orientation": orientation, "camera": cam_par, "light": light, "crf": crf,
        "framing": framing, "body_length_px": round(L, 1), "body_axis": along,
        "body_rotation_rad": round(base_rot, 3), "state_profile": profile,
        "wake_at_s": round(min(wake_at, T), 3),
        "n_spasms": len(spasm_par),
        "n_clusters": len({s["cluster"] for s in spasm_par}),
        "spasms": spasm_par,
        "counts": ev["trial_type"].value_counts().to_dict(),
        "drawing": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in P.items()},
        "extras": json.loads(json.dumps(extras, default=float)),
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1, default=float))
    return GeneratedClip(out / "clip.mp4", out / "events.tsv", out / "truth.json", ev, truth)


# ---------------------------------------------------------------------------------------------
# Ordinary movements
# ---------------------------------------------------------------------------------------------

def _crying(rng: np.random.Generator, t: np.ndarray, D: np.ndarray, t0: float, du: float
            ) -> None:
    """Crying: mouth wide in cry cycles, face reddens, limbs tense, tremble and flail."""
    w = _window(t, t0, t0 + du, 1.0)
    cyc = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.3, 0.7) * (t - t0))
    D[:, J["mouth"]] = np.maximum(D[:, J["mouth"]], w * (0.5 + 0.5 * cyc))
    D[:, J["red"]] = np.maximum(D[:, J["red"]], w)
    D[:, J["eyes"]] *= 1 - 0.8 * w
    tension = float(rng.uniform(0.1, 0.35))
    D[:, J["trunk"]] += w * tension * cyc
    D[:, J["head"]] -= w * 0.3 * tension * cyc
    fl = _smooth_noise(rng, t, float(rng.uniform(0.8, 2.0)), 12)
    D[:, J["abdL"]:J["kneeR"] + 1] += w[:, None] * float(rng.uniform(0.15, 0.4)) * fl
    tr = _smooth_noise(rng, t, 8.0, 12)
    D[:, J["abdL"]:J["kneeR"] + 1] += w[:, None] * 0.03 * tr


def _bout(rng: np.random.Generator, t: np.ndarray, D: np.ndarray, kind: str, t0: float,
          du: float) -> dict:
    w = _window(t, t0, t0 + du, min(1.0, du / 3))
    limbs = slice(J["abdL"], J["kneeR"] + 1)
    if kind == "general_movements":
        # writhing/fidgety: smooth, variable, asynchronous across limbs, trunk rotation
        f = float(rng.uniform(0.3, 1.5))
        a = float(rng.uniform(0.15, 0.5))
        D[:, limbs] += w[:, None] * a * _smooth_noise(rng, t, f, 12)
        D[:, J["turn"]] += w * 0.3 * _smooth_noise(rng, t, f / 2, 1)[:, 0]
        D[:, J["rot"]] += w * 0.04 * _smooth_noise(rng, t, f / 3, 1)[:, 0]
        return {"amplitude": round(a, 3)}
    if kind == "kicking":
        f = float(rng.uniform(0.6, 1.6))
        both = rng.random() < 0.2
        a = float(rng.uniform(0.3, 0.8))
        ph = 2 * np.pi * f * (t - t0)
        kl = np.maximum(0, np.sin(ph)) ** 1.5
        kr = np.maximum(0, np.sin(ph + (0 if both else np.pi))) ** 1.5
        for side, k in (("L", kl), ("R", kr)):
            D[:, J["hipfl" + side]] += w * a * (k - 0.3)
            D[:, J["knee" + side]] += w * a * (0.8 * k - 0.9 * (1 - k))
        return {"pattern": "both_legs" if both else "alternating", "amplitude": round(a, 3)}
    if kind == "arm_waving":
        f = float(rng.uniform(0.8, 2.5))
        a = float(rng.uniform(0.2, 0.6))
        which = str(rng.choice(["left", "right", "both"]))
        ph = 2 * np.pi * f * (t - t0)
        for side, on in (("L", which in ("left", "both")), ("R", which in ("right", "both"))):
            if on:
                off = rng.uniform(0, np.pi)
                D[:, J["abd" + side]] += w * a * np.sin(ph + off)
                D[:, J["lift" + side]] += w * a * 0.5 * (1 + np.sin(ph + off + 1.0))
                D[:, J["elb" + side]] += w * a * 0.6 * np.sin(ph + off + 2.0)
        return {"pattern": which, "amplitude": round(a, 3)}
    if kind == "crying":
        _crying(rng, t, D, t0, du)
        return {}
    if kind == "sucking":
        f = float(rng.uniform(1.2, 2.2))
        D[:, J["mouth"]] = np.maximum(D[:, J["mouth"]],
                                      w * 0.15 * (1 + np.sin(2 * np.pi * f * (t - t0))))
        D[:, J["head"]] += w * 0.04 * np.sin(2 * np.pi * f * (t - t0))
        return {}
    if kind == "sleep_myoclonus":
        # runs of brief (50-300 ms) jerks of one or more limbs, 0.5-3 per second
        rate = float(rng.uniform(0.5, 3.0))
        tt = t0 + float(rng.uniform(0, 0.3))
        n = 0
        while tt < t0 + du:
            d = float(rng.uniform(0.05, 0.3))
            a = float(rng.uniform(0.15, 0.5))
            e = _window(t, tt, tt + d, d / 2)
            limb = str(rng.choice(["armL", "armR", "legL", "legR", "arms", "legs"]))
            sides = {"armL": "L", "armR": "R", "legL": "L", "legR": "R"}.get(limb, "LR")
            for s in sides:
                if limb.startswith("arm"):
                    D[:, J["abd" + s]] += e * a
                    D[:, J["elb" + s]] -= e * a * 0.6
                else:
                    D[:, J["hipfl" + s]] += e * a * 0.6
                    D[:, J["knee" + s]] -= e * a * 0.6
            tt += float(rng.exponential(1 / rate)) + d
            n += 1
        return {"amplitude": n}
    if kind == "sleep_jerk":
        # hypnic jerk: one brief bilateral whole-body jerk
        a = float(rng.uniform(0.2, 0.6))
        e = _window(t, t0, t0 + du, du / 2)
        _add_pattern(D, {"abd": 0.5, "elb": -0.4, "hipfl": 0.3, "knee": -0.3, "head": -0.3},
                     e * a, 1.0, 1.0)
        return {"amplitude": round(a, 3)}
    raise ValueError(kind)


def _handling(rng: np.random.Generator, t: np.ndarray, D: np.ndarray, t0: float, du: float,
              extras: dict, L: float) -> None:
    """A caregiver's hand enters, adjusts the infant (moves limbs or the whole body) and goes."""
    ent = float(rng.uniform(0.8, 2.0))
    contact = _window(t, t0 + ent, t0 + du - ent, 0.6)
    shift = rng.uniform(-0.08, 0.08, 2) * L
    rot = float(rng.uniform(-0.25, 0.25))
    s = _smoothstep((t - t0 - ent) / max(du - 2 * ent, 0.5))
    D[:, J["x"]] += shift[0] * s
    D[:, J["y"]] += shift[1] * s
    D[:, J["rot"]] += rot * s
    D[:, J["abdL"]:J["kneeR"] + 1] += contact[:, None] * 0.25 * _smooth_noise(rng, t, 0.8, 12)
    extras["hands"].append({"t0": t0, "t1": t0 + du, "enter": ent,
                            "from": float(rng.uniform(0, 2 * np.pi)),
                            "target": [float(v) for v in rng.uniform(-0.15, 0.25, 2)],
                            "skin": list(np.array(SKIN_RGB[int(rng.integers(6))][::-1], float)),
                            "sleeve": list(_hsv_bgr(rng.random(), rng.uniform(0, 0.7),
                                                    rng.uniform(0.2, 0.9))),
                            "two": False})


def _picked_up(rng: np.random.Generator, t: np.ndarray, D: np.ndarray, t0: float, du: float,
               extras: dict, L: float) -> None:
    """Two hands take the infant under the arms, lift it toward the camera, sway, put it back."""
    ent = float(rng.uniform(1.0, 2.0))
    lift = _window(t, t0 + ent, t0 + du - ent, 1.2)
    D[:, J["scale"]] += lift * float(rng.uniform(0.25, 0.5))
    move = rng.uniform(-0.25, 0.25, 2) * L
    D[:, J["x"]] += lift * move[0]
    D[:, J["y"]] += lift * move[1]
    D[:, J["rot"]] += lift * 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 0.9) * (t - t0))
    new = rng.uniform(-0.06, 0.06, 2) * L
    after = _smoothstep((t - (t0 + du - ent)) / 1.0)
    D[:, J["x"]] += after * new[0]
    D[:, J["y"]] += after * new[1]
    D[:, J["abdL"]:J["kneeR"] + 1] += lift[:, None] * 0.3 * _smooth_noise(rng, t, 1.0, 12)
    D[:, J["hipflL"]] += lift * 0.2
    D[:, J["hipflR"]] += lift * 0.2
    extras["hands"].append({"t0": t0, "t1": t0 + du, "enter": ent,
                            "from": float(rng.uniform(0, 2 * np.pi)), "target": [0.0, 0.0],
                            "skin": list(np.array(SKIN_RGB[int(rng.integers(6))][::-1], float)),
                            "sleeve": list(_hsv_bgr(rng.random(), rng.uniform(0, 0.7),
                                                    rng.uniform(0.2, 0.9))),
                            "two": True})


def _feeding(rng: np.random.Generator, t: np.ndarray, D: np.ndarray, t0: float, du: float,
             extras: dict) -> None:
    """A bottle held at the mouth by a hand; rhythmic sucking."""
    w = _window(t, t0, t0 + du, 2.0)
    f = float(rng.uniform(0.8, 1.6))
    D[:, J["mouth"]] = np.maximum(D[:, J["mouth"]],
                                  w * 0.25 * (1 + np.sin(2 * np.pi * f * (t - t0))))
    D[:, J["head"]] += w * 0.05 * np.sin(2 * np.pi * f * (t - t0))
    extras["bottle"].append({"t0": t0, "t1": t0 + du, "angle": float(rng.uniform(-1.2, 1.2)),
                             "hz": f,
                             "skin": list(np.array(SKIN_RGB[int(rng.integers(6))][::-1],
                                                   float))})


# ---------------------------------------------------------------------------------------------
# Painter: joint angles -> shaded shapes
# ---------------------------------------------------------------------------------------------

def _dir(angle: float, side: float) -> np.ndarray:
    return np.array([side * math.sin(angle), math.cos(angle)])


class _Painter:
    """Draws the infant (and the hands, bottle, toys, cover) for one frame's joint values."""

    def __init__(self, P: dict, extras: dict, L: float, rng: np.random.Generator) -> None:
        self.P, self.X, self.L = P, extras, L
        self.skin = np.asarray(P["skin_bgr"], float)
        self.cloth = np.asarray(P["cloth_bgr"], float)
        self.alt = np.asarray(P["cloth_alt_bgr"], float)
        self.hair = self.skin * (1 - P["hair_dark"]) * 0.6
        self.light_dir = _dir(float(rng.uniform(0, 2 * np.pi)), 1.0)
        self.dots = rng.uniform(-1, 1, (14, 2))

    def draw(self, img: np.ndarray, d: np.ndarray, tt: float, M: np.ndarray,
             centre: np.ndarray, light: np.ndarray) -> None:
        import cv2

        L = self.L * d[J["scale"]]
        rot = d[J["rot"]]
        cr, sr = math.cos(rot), math.sin(rot)
        org = centre + np.array([d[J["x"]], d[J["y"]]])
        A = M[:, :2]
        zoom = math.sqrt(abs(np.linalg.det(A)))

        def P(pt: np.ndarray) -> tuple[int, int]:
            """Body units -> image pixels (x16 fixed point for anti-aliased drawing)."""
            # body frame: origin at the chest (shoulder line), y toward the feet
            wx = org[0] + L * (cr * pt[0] - sr * (pt[1] - 0.1))
            wy = org[1] + L * (sr * pt[0] + cr * (pt[1] - 0.1))
            ix = A[0, 0] * wx + A[0, 1] * wy + M[0, 2]
            iy = A[1, 0] * wx + A[1, 1] * wy + M[1, 2]
            return int(ix * 16), int(iy * 16)

        def px(v: float) -> int:
            return max(1, int(v * L * zoom))

        lt = np.asarray(light, float)
        red = d[J["red"]]
        skin = self.skin * lt * np.array([0.93, 0.93, 1.0]) ** (1 - red) * np.array(
            [1 - 0.18 * red, 1 - 0.22 * red, 1.0])
        cloth = self.cloth * lt
        alt = self.alt * lt

        def col(c: np.ndarray, k: float = 1.0) -> tuple:
            return tuple(float(v) for v in np.clip(c * k, 0, 255))

        def capsule(a: np.ndarray, b: np.ndarray, width: float, c: np.ndarray) -> None:
            w = px(width)
            pa, pb = P(a), P(b)
            cv2.line(img, pa, pb, col(c, 0.62), w + 2, cv2.LINE_AA, 4)
            cv2.line(img, pa, pb, col(c), w, cv2.LINE_AA, 4)
            off = self.light_dir * width * 0.18
            cv2.line(img, P(a + off), P(b + off), col(c, 1.15), max(1, w // 3), cv2.LINE_AA, 4)

        def ellipse(cen: np.ndarray, ax: tuple[float, float], ang: float, c: np.ndarray,
                    outline: bool = True) -> None:
            axes = (px(ax[0]) * 16, px(ax[1]) * 16)
            deg = math.degrees(ang + rot) + math.degrees(math.atan2(A[1, 0], A[0, 0]))
            if outline:
                cv2.ellipse(img, P(cen), (axes[0] + 16, axes[1] + 16), deg, 0, 360,
                            col(c, 0.6), -1, cv2.LINE_AA, 4)
            cv2.ellipse(img, P(cen), axes, deg, 0, 360, col(c), -1, cv2.LINE_AA, 4)

        # --- joints (body units; L/R: infant's left is +x)
        shrug = d[J["shrug"]]
        trunk_len = 0.30 * (1 - 0.22 * d[J["trunk"]])
        S = np.array([0.0, -0.02 * shrug])
        Hc = np.array([0.0, trunk_len])
        hf = d[J["head"]]
        head_r = 0.115 * (1 + 0.12 * max(hf, 0) + 0.08 * max(d[J["trunk"]], 0))
        head_c = S + np.array([0.04 * d[J["tilt"]],
                               -(0.03 + 0.115) * (1 - 0.45 * max(hf, 0) + 0.12 * max(-hf, 0))])
        sleeves = self.P["clothing"] == "sleepsuit"
        legs_cl = self.P["clothing"] == "sleepsuit"
        arm_c1 = cloth if self.P["clothing"] != "nappy_only" else skin
        arm_c2 = cloth if sleeves else skin
        leg_c = cloth if legs_cl else skin
        pts = {}
        for side, s in (("L", 1.0), ("R", -1.0)):
            a, e, fl = d[J["abd" + side]], np.clip(d[J["lift" + side]], 0, 1.2), d[J["elb" + side]]
            sh = np.array([s * 0.1 * (1 - 0.1 * e), S[1]])
            el = sh + 0.13 * (1 - 0.5 * e) * _dir(a, s)
            wr = el + 0.12 * (1 - 0.35 * e) * _dir(a + fl, s)
            hd = wr + 0.035 * _dir(a + fl, s)
            b, f, k = d[J["hipab" + side]], np.clip(d[J["hipfl" + side]], -0.3, 1.1), d[
                J["knee" + side]]
            hp = Hc + np.array([s * 0.07, 0.0])
            kn = hp + 0.15 * math.cos(f * 1.7) * _dir(b, s)
            an = kn + 0.14 * (1 - 0.3 * max(f, 0)) * _dir(b - 0.8 * k, s)
            ft = an + 0.045 * _dir(b - 0.8 * k - 0.3, s)
            pts[side] = (sh, el, wr, hd, hp, kn, an, ft, e)
        def legs() -> None:
            for side in ("L", "R"):
                sh, el, wr, hd, hp, kn, an, ft, e = pts[side]
                capsule(hp, kn, 0.075, leg_c)
                capsule(kn, an, 0.058, leg_c)
                capsule(an, ft, 0.045, skin if not legs_cl else cloth)

        # legs lifted toward the chest lie over the belly; else under the trunk's edge
        legs_up = max(d[J["hipflL"]], d[J["hipflR"]]) > 0.6
        if not legs_up:
            legs()
        cover = self.X.get("cover")
        if cover:
            shift = 0.0
            if cover["pull_t"] is not None:
                shift = cover["pull_shift"] * _smoothstep(
                    np.array([(tt - cover["pull_t"]) / cover["pull_dur"]]))[0]
            poly = [Hc + np.array([-0.2, -0.02 + shift]), Hc + np.array([0.2, -0.02 + shift])]
            for side in ("L", "R"):
                sh, el, wr, hd, hp, kn, an, ft, e = pts[side]
                poly += [kn + np.array([0, 0.03]), an + np.array([0, 0.05])]
            hull = cv2.convexHull(np.array([P(p) for p in poly], np.int32))
            cc = np.asarray(cover["bgr"]) * lt
            cv2.fillConvexPoly(img, hull, col(cc), cv2.LINE_AA, 4)
            cv2.polylines(img, [hull], True, col(cc, 0.7), 2, cv2.LINE_AA, 4)
        # trunk with clothing pattern and nappy
        tc = (S + Hc) / 2 + np.array([0, 0.02])
        half_w = 0.115 * (1 + 0.03 * d[J["breath"]])
        half_l = trunk_len / 2 + 0.06
        body_c = cloth if self.P["clothing"] != "nappy_only" else skin
        ellipse(tc, (half_w, half_l), 0.0, body_c)
        if self.P["clothing"] != "nappy_only":
            pat = self.P["cloth_pattern"]
            if pat == "stripes":
                for yv in np.linspace(-0.8, 0.8, 7):
                    xv = half_w * math.sqrt(1 - yv * yv) * 0.96
                    cv2.line(img, P(tc + np.array([-xv, yv * half_l])),
                             P(tc + np.array([xv, yv * half_l])), col(alt), px(0.012),
                             cv2.LINE_AA, 4)
            elif pat == "dots":
                for u, v in self.dots:
                    if u * u + v * v < 0.7:
                        cv2.circle(img, P(tc + np.array([u * half_w, v * half_l])),
                                   px(0.012) * 16, col(alt), -1, cv2.LINE_AA, 4)
        ellipse(Hc + np.array([0, 0.01]), (0.11, 0.07), 0.0, np.array([235, 240, 245]) * lt,
                outline=True)
        if legs_up:
            legs()
        # arms (over the trunk when lifted)
        for side in ("L", "R"):
            sh, el, wr, hd, hp, kn, an, ft, e = pts[side]
            sc = 1 + 0.25 * e
            capsule(sh, el, 0.055 * sc, arm_c1)
            capsule(el, wr, 0.048 * sc, arm_c2)
            ellipse(hd, (0.03 * sc, 0.035 * sc), 0.0, skin)
        # head: skull, hair, face
        ellipse(head_c, (head_r * 0.92, head_r), math.radians(8 * d[J["tilt"]]), skin)
        if self.P["hair_amount"] > 0.2:
            axes = (px(head_r * 0.9) * 16, px(head_r * 0.98) * 16)
            deg = math.degrees(rot) + math.degrees(math.atan2(A[1, 0], A[0, 0]))
            span = 60 + 80 * self.P["hair_amount"]
            cv2.ellipse(img, P(head_c), axes, deg + 270, -span, span,
                        col(self.hair * lt), -1, cv2.LINE_AA, 4)
        turn = d[J["turn"]]
        fy = 0.25 * head_r * (1 - 2 * max(hf, 0) * 0.4 + 0.8 * max(-hf, 0))
        fc = head_c + np.array([0.35 * head_r * turn, fy * 0.2])
        eyes = d[J["eyes"]]
        for s in (-1, 1):
            ep = fc + np.array([s * 0.38 * head_r, -0.05 * head_r])
            if eyes > 0.5:
                ellipse(ep, (0.02, 0.012 * eyes), 0.0, np.array([40, 35, 35]) * lt, False)
            else:
                cv2.line(img, P(ep - np.array([0.02, 0])), P(ep + np.array([0.02, 0])),
                         col(self.skin * lt, 0.5), px(0.006), cv2.LINE_AA, 4)
        mo = np.clip(d[J["mouth"]], 0, 1.2)
        mp = fc + np.array([0, 0.42 * head_r])
        ellipse(mp, (0.025 + 0.012 * mo, 0.006 + 0.03 * mo), 0.0,
                np.array([80, 70, 150]) * lt, False)
        self._extras(img, tt, P, px, col, capsule, ellipse, head_c, pts, lt)

    def _extras(self, img, tt, P, px, col, capsule, ellipse, head_c, pts, lt) -> None:
        """Caregiver's hands, bottle, rattle and mobile, when active at time ``tt``."""
        for hnd in self.X["hands"]:
            if not hnd["t0"] <= tt <= hnd["t1"]:
                continue
            ent = hnd["enter"]
            u = min((tt - hnd["t0"]) / ent, (hnd["t1"] - tt) / ent, 1.0)
            u = float(_smoothstep(np.array([u]))[0])
            sk = np.asarray(hnd["skin"]) * lt
            sl = np.asarray(hnd["sleeve"]) * lt
            targets = ([pts["L"][0], pts["R"][0]] if hnd["two"]
                       else [np.asarray(hnd["target"])])
            for k, tg in enumerate(targets):
                ang = hnd["from"] + (math.pi if k else 0.0)
                far = tg + 1.6 * np.array([math.cos(ang), math.sin(ang)])
                hp = far + (tg - far) * u + 0.01 * math.sin(2 * math.pi * 0.7 * tt)
                elbow = hp + 0.45 * (far - hp) / max(np.linalg.norm(far - hp), 1e-6)
                capsule(far, elbow, 0.14, sl)
                capsule(elbow, hp, 0.1, sk)
                ellipse(hp, (0.06, 0.075), math.atan2(far[1] - hp[1], far[0] - hp[0]), sk)
                for fgr in range(4):
                    fa = math.atan2(tg[1] - far[1], tg[0] - far[0]) + (fgr - 1.5) * 0.25
                    tip = hp + 0.09 * np.array([math.cos(fa), math.sin(fa)])
                    capsule(hp, tip, 0.02, sk)
        for bt in self.X["bottle"]:
            if not bt["t0"] <= tt <= bt["t1"]:
                continue
            a = bt["angle"]
            mouth = head_c + np.array([0, 0.05])
            dvec = np.array([math.sin(a), -math.cos(a)])
            wob = 0.004 * math.sin(2 * math.pi * bt["hz"] * tt)
            tip = mouth + dvec * (0.02 + wob)
            end = tip + dvec * 0.25
            capsule(tip, end, 0.07, np.array([240, 240, 235]) * lt)
            capsule(end - dvec * 0.04, end, 0.075, np.array([200, 120, 60]) * lt)
            capsule(end - dvec * 0.1, end - dvec * 0.1 + np.array([0.1, 0.05]), 0.09,
                    np.asarray(bt["skin"]) * lt)
        for toy in self.X["toy"]:
            if toy["kind"] == "rattle" and toy["t0"] <= tt <= toy["t1"]:
                base = np.asarray(toy["where"])
                sh = 0.03 * math.sin(2 * math.pi * toy["hz"] * tt)
                p = base + np.array([sh, sh * 0.5])
                far = base + 1.5 * np.array([math.cos(toy["from"]), math.sin(toy["from"])])
                capsule(far, p, 0.1, self.skin * 0.9 * lt)
                ellipse(p + np.array([0.06, 0]), (0.05, 0.05), 0.0, np.asarray(toy["bgr"]) * lt)
            elif toy["kind"] == "mobile":
                ang = 0.0
                for a0, a1 in toy["spins"]:
                    ang += 2 * math.pi * toy["speed"] * float(np.clip(tt - a0, 0, a1 - a0))
                c = np.asarray(toy["centre"]) + np.array([0, 0.1])
                for k in range(toy["n"]):
                    th = ang + 2 * math.pi * k / toy["n"]
                    p = c + toy["radius"] * np.array([math.cos(th), math.sin(th)])
                    ellipse(p, (0.04, 0.04), 0.0,
                            _hsv_bgr(k / toy["n"], 0.7, 0.95) * lt)


# ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Command line: write one clip (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--kind", choices=KINDS, default="spasms")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--camera", choices=CAMERAS)
    ap.add_argument("--orientation", choices=ORIENTATIONS)
    ap.add_argument("--light", choices=LIGHTS)
    a = ap.parse_args(argv)
    try:
        g = generate(a.out, a.seed, kind=a.kind, minutes=a.minutes, camera=a.camera,
                     orientation=a.orientation, light=a.light)
    except ParameterError as exc:
        print(f"error: {exc}")
        return 2
    print(g.clip, g.truth["n_spasms"], "spasms,", g.truth["n_clusters"], "clusters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Synthetic infant videos with known epileptic spasms and known ordinary movements (third drawing).

A procedural generator written from the clinical description of epileptic spasms and of their
mimics only. The infant is a 3-D articulated skeleton (pelvis, lumbar and thoracic trunk, neck,
head, upper arms, forearms, hands, thighs, shanks, feet) whose joint angles are driven over time.
Every body part is a soft, shaded ellipsoid; each ellipsoid is projected exactly (its outline under
perspective is the conic ``K (c c^T - M) K^T``) by a camera placed at an oblique angle: a
video-EEG camera on the wall or ceiling, a baby monitor, or a parent's phone (on a stand or held
in the hand). Parts are drawn far to near (painter's order). Video-EEG scenes show an electrode
cap with a bundle of wires that lags and sways behind the head, a cot with bars, a textured
mattress, a burnt-in clock; home scenes a crib, bed, play mat or infant seat, sometimes a mobile
toy or a parent lying alongside. Caregivers' arms enter to handle the infant.

Spasms come in 1-3 clusters (3-20 spasms, 4-40 s apart), often on waking; ordinary movement
(general movements, kicking, startles, sleep myoclonus, crying, feeding, hiccups, shuddering,
Sandifer-type posturing, stretching, handling) is drawn densely by sleep/wake state; camera and
scene nuisances (hand tremor, reframing, zoom, focus hunting, auto-exposure, light changes,
passing shadows, IR night mode, sensor noise, variable frame rate, H.264 compression) are added.

Usage::

    from video_third import generate, condition_of
    g = generate("/tmp/out", seed=0, kind="spasms", minutes=5.0)

or ``python video_third.py OUT --kind spasms --seed 0 --minutes 5``. See README_video_third.md.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pandas as pd

try:
    from hypsa.errors import ParameterError
except ImportError:  # pragma: no cover - source checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from hypsa.errors import ParameterError

__all__ = ["Generated", "generate", "condition_of", "main", "VERSION"]

VERSION = "video_third/1"

CAMERAS = ("fixed", "handheld")
ORIENTATIONS = ("landscape", "portrait")
LIGHTS = ("bright", "dim")
KINDS = ("spasms", "ordinary")
MIN_MINUTES = 0.5
MAX_MINUTES = 120.0
MAX_PIXEL_RATE = 14_500_000  # width x height x fps; bounds the CPU time per minute of clip

EVENT_COLUMNS = ["onset", "duration", "trial_type", "cluster", "pattern", "amplitude", "symmetry"]

# ----------------------------------------------------------------------------------------------
# pose channels (angles in degrees, root translation and shoulder shrug in metres, rest 0..1)

CHANNELS = (
    "root_x", "root_y", "root_z", "root_yaw", "root_pitch", "root_roll",
    "trunk_flex", "chest_flex", "trunk_lat", "trunk_twist",
    "neck_flex", "neck_lat", "head_turn",
    "shrug_l", "shrug_r",
    "arm_b_l", "arm_b_r", "arm_a_l", "arm_a_r", "elbow_l", "elbow_r", "arm_tw_l", "arm_tw_r",
    "hip_b_l", "hip_b_r", "hip_a_l", "hip_a_r", "knee_l", "knee_r", "ankle_l", "ankle_r",
    "mouth", "eyes", "gaze", "breath", "redness",
)  # fmt: skip
CH = {name: i for i, name in enumerate(CHANNELS)}
NCH = len(CHANNELS)

LIMITS = {
    "trunk_flex": (-25, 60), "chest_flex": (-25, 40), "trunk_lat": (-30, 30),
    "trunk_twist": (-40, 40), "neck_flex": (-50, 60), "neck_lat": (-40, 40),
    "head_turn": (-95, 95), "shrug": (0.0, 0.03), "arm_b": (-30, 180), "arm_a": (-25, 130),
    "elbow": (0, 150), "arm_tw": (-60, 60), "hip_b": (-20, 135), "hip_a": (-10, 75),
    "knee": (0, 150), "ankle": (40, 120), "mouth": (0, 1), "eyes": (0, 1), "gaze": (0, 1),
    "redness": (0, 1),
}  # fmt: skip

# general-movement amplitude per channel at gain 1 (deg; shrug in m)
GM_AMP = {
    "arm_b": 22.0, "arm_a": 18.0, "elbow": 25.0, "arm_tw": 15.0, "hip_b": 20.0, "hip_a": 10.0,
    "knee": 25.0, "ankle": 10.0, "head_turn": 12.0, "neck_flex": 5.0, "neck_lat": 5.0,
    "trunk_flex": 3.0, "chest_flex": 2.0, "trunk_lat": 4.0, "trunk_twist": 5.0, "shrug": 0.003,
}  # fmt: skip

# sleep/wake states: event name, general-movement gain, breathing rate (Hz), eyes open
STATES = {
    "quiet_sleep": ("quiet_sleep", 0.03, (0.45, 0.6), 0.0),
    "active_sleep": ("active_sleep", 0.15, (0.6, 0.8), 0.0),
    "waking": ("waking", 0.5, (0.65, 0.85), 1.0),
    "awake_calm": ("general_movements", 0.6, (0.65, 0.85), 1.0),
    "awake_active": ("general_movements", 1.0, (0.7, 0.9), 1.0),
    "crying": ("crying", 1.3, (0.8, 1.0), 0.25),
    "feeding": ("feeding", 0.3, (0.65, 0.8), 1.0),
}
STATE_DUR = {
    "quiet_sleep": (40, 200), "active_sleep": (20, 120), "waking": (8, 30),
    "awake_calm": (15, 100), "awake_active": (10, 60), "crying": (8, 60), "feeding": (30, 150),
}  # fmt: skip
TRANS = {
    "quiet_sleep": (("active_sleep", 0.45), ("waking", 0.55)),
    "active_sleep": (("quiet_sleep", 0.35), ("waking", 0.65)),
    "waking": (("awake_calm", 0.5), ("awake_active", 0.25), ("crying", 0.25)),
    "awake_calm": (("awake_active", 0.35), ("crying", 0.2), ("feeding", 0.15),
                   ("quiet_sleep", 0.1), ("active_sleep", 0.2)),
    "awake_active": (("awake_calm", 0.45), ("crying", 0.35), ("feeding", 0.2)),
    "crying": (("awake_calm", 0.5), ("awake_active", 0.2), ("feeding", 0.3)),
    "feeding": (("awake_calm", 0.5), ("quiet_sleep", 0.3), ("active_sleep", 0.2)),
}  # fmt: skip

# ordinary discrete movements: rate per minute by state
RATES = {
    "quiet_sleep": {"sleep_twitch": 3.0, "sleep_myoclonus": 0.8, "startle": 0.3, "sigh": 0.6,
                    "head_turn": 0.3, "sucking": 0.4},
    "active_sleep": {"sleep_twitch": 8.0, "sleep_myoclonus": 1.2, "startle": 0.4, "sigh": 0.4,
                     "head_turn": 0.6, "sucking": 0.6, "stretch": 0.2},
    "waking": {"stretch": 2.0, "head_turn": 2.0, "hand_to_mouth": 1.2, "startle": 0.5,
               "kicking": 1.5},
    "awake_calm": {"head_turn": 1.5, "hand_to_mouth": 0.8, "reaching": 1.0, "kicking": 1.2,
                   "startle": 0.3, "shudder": 0.3, "stretch": 0.3},
    "awake_active": {"kicking": 4.0, "reaching": 1.5, "head_turn": 2.0, "startle": 0.4,
                     "shudder": 0.4, "hand_to_mouth": 0.6},
    "crying": {"kicking": 2.0, "colic_legs": 1.5, "head_turn": 2.0, "startle": 0.3},
    "feeding": {"sandifer": 0.3, "shudder": 0.2, "head_turn": 0.5},
}  # fmt: skip
# spasm-like mimics guaranteed in every clip (at least one per minute), by the states they need
HARD_MIMICS = {
    "quiet_sleep": ("sleep_myoclonus", "startle"), "active_sleep": ("sleep_myoclonus", "startle"),
    "waking": ("startle", "kicking", "stretch"), "awake_calm": ("startle", "kicking", "shudder"),
    "awake_active": ("kicking", "startle", "shudder"), "crying": ("kicking", "colic_legs"),
    "feeding": ("shudder", "sandifer"),
}  # fmt: skip
HARD_NAMES = ("startle", "sleep_startle", "sleep_myoclonus", "kicking", "shuddering", "hiccups",
              "stretch", "legs_drawn_up_crying", "sandifer_posturing")

# body points whose image motion is reported per event (truth "motion_px")
KEYPOINTS = ("head_c", "neck_base", "pelvis", "el_l", "el_r", "hd_l", "hd_r", "kn_l", "kn_r",
             "ft_l", "ft_r")
SPASM_PATTERNS = ("flexor", "extensor", "mixed", "head_nod", "shoulder_shrug", "eye_deviation")
SPASM_PATTERN_P = (0.45, 0.2, 0.2, 0.1, 0.03, 0.02)


@dataclass(frozen=True)
class Generated:
    """What :func:`generate` wrote."""

    clip: Path
    events: Path
    truth_json: Path
    events_table: pd.DataFrame
    truth: dict


def condition_of(index: int) -> tuple[str, str, str]:
    """Return the (camera, orientation, light) of the index-th condition; cycles through 8."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise ParameterError(f"condition index must be an integer, got {index!r}")
    i = int(index)
    if i < 0:
        raise ParameterError(f"condition index must be >= 0, got {i}")
    return CAMERAS[i % 2], ORIENTATIONS[(i // 2) % 2], LIGHTS[(i // 4) % 2]


# ----------------------------------------------------------------------------------------------
# small helpers


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _logu(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _pick(rng: np.random.Generator, items: tuple | list, p: tuple | list | None = None) -> Any:
    if p is not None:
        p = np.asarray(p, float)
        p = p / p.sum()
    return items[int(rng.choice(len(items), p=p))]


def _ease(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _ease_out(x: np.ndarray) -> np.ndarray:
    return np.sin(0.5 * np.pi * np.clip(x, 0.0, 1.0))


def _pulse(tt: np.ndarray, rise: float, hold: float, fall: float) -> np.ndarray:
    """0 -> 1 over rise, held, back to 0 over fall (smooth)."""
    up = _ease(tt / max(rise, 1e-3))
    down = 1.0 - _ease((tt - rise - hold) / max(fall, 1e-3))
    return np.where(tt < 0, 0.0, np.minimum(up, down))


def _jerk(tt: np.ndarray, rise: float, fall: float) -> np.ndarray:
    """A brief jerk: fast rise, slightly slower return."""
    up = _ease_out(tt / max(rise, 1e-3))
    down = 1.0 - _ease((tt - rise) / max(fall, 1e-3))
    return np.where(tt < 0, 0.0, np.where(tt < rise, up, down))


def _bandnoise(rng: np.random.Generator, t: np.ndarray, f_lo: float, f_hi: float,
               n: int = 6) -> np.ndarray:
    """Unit-variance smooth random signal: sum of sinusoids with log-uniform frequencies."""
    out = np.zeros_like(t)
    amps = rng.uniform(0.4, 1.0, n)
    for a in amps:
        f = _logu(rng, f_lo, f_hi)
        out += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return out / math.sqrt(float(np.sum(amps**2)) / 2.0)


def _hsv_bgr(h: float, s: float, v: float) -> tuple[float, float, float]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (255 * b, 255 * g, 255 * r)


def _rx(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1.0, 0], [-s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


# ----------------------------------------------------------------------------------------------
# argument checks


def _check_args(out_dir, seed, kind, minutes, camera, orientation, light, body_axis) -> None:
    if not isinstance(out_dir, (str, Path)) or str(out_dir) == "":
        raise ParameterError(f"out_dir must be a non-empty path, got {out_dir!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if kind not in KINDS:
        raise ParameterError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float, np.integer, np.floating)):
        raise ParameterError(f"minutes must be a number, got {minutes!r}")
    if not math.isfinite(float(minutes)) or not MIN_MINUTES <= float(minutes) <= MAX_MINUTES:
        raise ParameterError(
            f"minutes must be between {MIN_MINUTES} and {MAX_MINUTES}, got {minutes!r}"
        )
    for name, val, allowed in (("camera", camera, CAMERAS),
                               ("orientation", orientation, ORIENTATIONS),
                               ("light", light, LIGHTS)):  # fmt: skip
        if val is not None and val not in allowed:
            raise ParameterError(f"{name} must be None or one of {', '.join(allowed)}, got {val!r}")
    if body_axis is not None and not isinstance(body_axis, str):
        raise ParameterError(f"body_axis must be None or a string, got {body_axis!r}")


# ----------------------------------------------------------------------------------------------
# scene: device, framing, lighting, palette


DEVICES = {
    # resolutions (landscape), weights; fps, weights; crf range; fov (long side) range
    "ward_camera": (((320, 240), (352, 288), (640, 480), (704, 576), (720, 576), (960, 540),
                     (1280, 720)), (0.15, 0.15, 0.3, 0.15, 0.1, 0.05, 0.1),
                    (10.0, 12.5, 15.0, 20.0, 25.0, 30.0), (0.1, 0.1, 0.2, 0.1, 0.4, 0.1),
                    (24, 34), (45.0, 80.0)),
    "baby_monitor": (((640, 360), (640, 480), (960, 540), (1280, 720)), (0.3, 0.3, 0.2, 0.2),
                     (10.0, 15.0, 20.0, 25.0), (0.2, 0.35, 0.2, 0.25), (24, 32), (70.0, 100.0)),
    "phone": (((640, 360), (854, 480), (960, 540), (1280, 720)), (0.2, 0.3, 0.2, 0.3),
              (24.0, 25.0, 30.0), (0.15, 0.15, 0.7), (24, 32), (60.0, 78.0)),
}  # fmt: skip


def _draw_scene(rng, kind, minutes, camera, orientation, light, body_axis) -> dict:
    sc: dict[str, Any] = {}
    # draw every default even when given, so that a given value equal to the drawn one
    # reproduces the same clip
    mode_d = _pick(rng, CAMERAS)
    mode = camera or mode_d
    orient_d = "landscape" if rng.random() < (0.85 if mode == "fixed" else 0.45) else "portrait"
    orient = orientation or orient_d
    light_d = "dim" if rng.random() < 0.4 else "bright"
    lt = light or light_d
    p_veeg = {("fixed", "landscape"): 0.7, ("fixed", "portrait"): 0.25}.get((mode, orient), 0.3)
    setting = "veeg" if rng.random() < p_veeg else "home"
    r_dev = rng.random()
    if mode == "fixed" and orient == "landscape":
        device = "ward_camera" if setting == "veeg" else (
            "baby_monitor" if r_dev < 0.5 else "phone")
    else:
        device = "phone"
    sc.update(camera_mode=mode, orientation=orient, light=lt, setting=setting, device=device)

    res, res_w, fpss, fps_w, crf_r, fov_r = DEVICES[device]
    w, h = res[int(rng.choice(len(res), p=np.asarray(res_w) / sum(res_w)))]
    if device == "phone" and lt == "dim":
        fpss, fps_w = (15.0, 20.0, 24.0, 30.0), (0.35, 0.25, 0.2, 0.2)
    fps = float(fpss[int(rng.choice(len(fpss), p=np.asarray(fps_w) / sum(fps_w)))])
    if w * h * fps > MAX_PIXEL_RATE:  # keeps the rendering cost bounded
        fps = max(f for f in (10.0, 12.5, 15.0, 20.0, 24.0, 25.0, 30.0)
                  if w * h * f <= MAX_PIXEL_RATE)
    if orient == "portrait":
        w, h = h, w
    p_vfr = {"ward_camera": 0.2, "baby_monitor": 0.35, "phone": 0.45}[device]
    p_vfr += 0.2 * (mode == "handheld") + 0.15 * (lt == "dim")
    sc.update(width=int(w), height=int(h), fps=fps, variable_fps=bool(rng.random() < p_vfr))
    sc["crf"] = int(rng.integers(crf_r[0], crf_r[1] + 1))
    sc["preset"] = "ultrafast" if w * h * fps > 2_000_000 else "veryfast"
    sc["gop"] = int(max(10, round(fps * _u(rng, 1.0, 4.0))))
    # bitrate cap (VBV) as bits per pixel: streaming cameras and phones cap their bitrate
    bpp = _u(rng, 0.06, 0.15) if device == "phone" else _u(rng, 0.04, 0.1)
    sc["maxrate_kbps"] = int(max(100, round(bpp * w * h * fps / 1000)))

    # posture and lying surface
    if setting == "veeg":
        posture = _pick(rng, ("supine", "side"), (0.75, 0.25))
        surface = "cot"
    else:
        posture = _pick(rng, ("supine", "side", "seat"), (0.6, 0.15, 0.25))
        surface = "floor" if posture == "seat" else _pick(rng, ("crib", "bed", "playmat"))
    sc.update(posture=posture, surface=surface)
    sc["cot_rail_h"] = _u(rng, 0.3, 0.6) if surface in ("cot", "crib") else 0.0

    fr_p = {"ward_camera": (0.05, 0.4, 0.55), "baby_monitor": (0.05, 0.45, 0.5),
            "phone": (0.4, 0.5, 0.1) if mode == "handheld" else (0.2, 0.6, 0.2)}[device]
    framing = _pick(rng, ("close", "medium", "wide"), fr_p)
    frac = {"close": (0.75, 1.0), "medium": (0.5, 0.75), "wide": (0.25, 0.5)}[framing]
    sc["framing"] = framing
    sc["frame_fill"] = _u(rng, *frac)
    sc["fov_deg"] = _u(rng, *fov_r)
    f_px = 0.5 * max(w, h) / math.tan(math.radians(sc["fov_deg"]) / 2)
    vhalf = math.degrees(math.atan(0.5 * h / f_px))
    el_r = {"ward_camera": (30, 70), "baby_monitor": (40, 80),
            "phone": (35, 90) if mode == "handheld" else (30, 75)}[device]
    if posture == "seat":
        el_r = (30, 65)
    lo = max(el_r[0], vhalf + 8.0)
    sc["elevation_deg"] = _u(rng, min(lo, 85.0), max(el_r[1], lo + 2.0))
    sc["roll_deg"] = {"ward_camera": 2.0, "baby_monitor": 3.0,
                      "phone": 12.0 if mode == "handheld" else 5.0}[device] * float(
        rng.uniform(-1, 1))
    sc["infant_length_m"] = _u(rng, 0.58, 0.76)
    sc["age_months"] = round(3 + 9 * (sc["infant_length_m"] - 0.58) / 0.18, 1)
    # infant yaw on the surface (0 = head towards +y)
    if surface in ("cot", "crib"):
        yaw = (0.0 if rng.random() < 0.6 else 180.0) + _u(rng, -15, 15)
    else:
        yaw = _u(rng, -180, 180)
    sc["infant_yaw_deg"] = yaw
    if posture == "seat":
        sc["azimuth_deg"] = yaw - 90.0 + _u(rng, -50, 50)  # camera in front of the infant
    else:
        sc["azimuth_deg"] = _u(rng, -180, 180)
    sc["body_axis_request"] = body_axis

    # lighting
    ir = lt == "dim" and device in ("ward_camera", "baby_monitor") and rng.random() < 0.85
    sc["ir_night_mode"] = bool(ir)
    if lt == "bright":
        sc.update(scene_light=_u(rng, 0.9, 1.1), contrast=_u(rng, 0.9, 1.1),
                  offset=_u(rng, 0, 10), noise_sigma=_u(rng, 1.0, 3.5))
    elif ir:
        sc.update(scene_light=_u(rng, 0.8, 1.05), contrast=_u(rng, 0.7, 1.0),
                  offset=_u(rng, 5, 20), noise_sigma=_u(rng, 5.0, 12.0))
    else:
        sc.update(scene_light=_u(rng, 0.35, 0.6), contrast=_u(rng, 0.6, 0.85),
                  offset=_u(rng, 5, 20), noise_sigma=_u(rng, 6.0, 14.0))
    sc["camera_gain"] = 1.0 if lt == "bright" or ir else _u(rng, 1.2, 1.5)
    sc["tint"] = ((1.0, 1.0, 1.0) if lt == "bright" or ir else
                  ((0.75, 0.92, 1.1) if rng.random() < 0.7 else (1.1, 0.95, 0.85)))
    sc["flicker"] = ([_u(rng, 0.005, 0.025), _u(rng, 0.1, 2.0)]
                     if lt == "bright" and rng.random() < 0.3 else [0.0, 0.0])
    sc["auto_exposure_tau_s"] = _u(rng, 0.3, 1.5)
    sc["auto_exposure_strength"] = _u(rng, 0.6, 0.95)
    scale = min(w, h) / 480.0
    sc["lens_blur_px"] = _u(rng, 0.3, 1.2) * max(scale, 0.5) + (0.5 if lt == "dim" else 0.0)
    sc["light_dir_deg"] = _u(rng, 0, 360)
    sc["vignette"] = _u(rng, 0.3, 0.6) if ir else (_u(rng, 0.0, 0.25) if mode == "fixed"
                                                     else 0.0)
    # phones denoise: weaker, blotchy noise; low-cost cameras: fine grain
    if device == "phone":
        sc["noise_sigma"] *= 0.5
        sc["noise_grain_px"] = _u(rng, 0.6, 1.2)
    else:
        sc["noise_grain_px"] = 0.0
    sc["timestamp_overlay"] = bool(device != "phone" and rng.random() < 0.7)
    # extras
    sc["mobile_toy"] = bool(setting == "home" and surface in ("crib", "playmat")
                            and rng.random() < 0.3)
    sc["parent_alongside"] = bool(surface == "bed" and rng.random() < 0.5)
    sc["eeg_cap"] = setting == "veeg" or (device == "phone" and rng.random() < 0.1)
    sc["caregiver_rate_per_min"] = (_u(rng, 0.15, 0.6) if setting == "veeg"
                                    else _u(rng, 0.3, 1.2))
    return sc


def _palette(rng, sc) -> dict:
    tint = np.asarray(sc["tint"])

    def c(col):
        return tuple(float(min(255.0, v * t)) for v, t in zip(col, tint, strict=True))

    skins = ((167, 194, 241), (140, 170, 225), (105, 150, 210), (66, 120, 190), (45, 85, 140),
             (172, 205, 250))  # fmt: skip
    skin = np.asarray(skins[int(rng.integers(len(skins)))], float) * _u(rng, 0.9, 1.08)
    cloth = _hsv_bgr(_u(rng, 0, 1), _u(rng, 0.1, 0.7), _u(rng, 0.55, 1.0))
    cloth2 = _hsv_bgr(_u(rng, 0, 1), _u(rng, 0.1, 0.6), _u(rng, 0.6, 1.0))
    cap = _pick(rng, ((232, 232, 228), (200, 215, 225), (205, 160, 110), (170, 200, 170),
                      (225, 225, 240)))  # fmt: skip
    carer_skin = skins[int(rng.integers(len(skins)))]
    pal = {
        "skin": c(np.clip(skin, 0, 255)),
        "cloth": c(cloth),
        "cloth2": c(cloth2),
        "diaper": c((236, 240, 242)),
        "cap": c(cap),
        "hair": c(_pick(rng, ((40, 50, 70), (30, 40, 55), (80, 120, 160), (20, 20, 25)))),
        "eye": c((35, 30, 30)),
        "mouth": c((70, 60, 120)),
        "electrode": c(_pick(rng, ((185, 185, 185), (60, 160, 200), (40, 40, 40)))),
        "carer_skin": c(carer_skin),
        "carer_sleeve": c(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.1, 0.8), _u(rng, 0.2, 0.9))),
        "bottle": c((225, 235, 240)),
        "seat": c(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.2, 0.7), _u(rng, 0.3, 0.8))),
        "parent": c(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.1, 0.7), _u(rng, 0.25, 0.85))),
        "toy": [c(_hsv_bgr(_u(rng, 0, 1), 0.7, 0.95)) for _ in range(5)],
        "wires": [c(_pick(rng, ((30, 30, 30), (90, 90, 90), (200, 200, 200), (40, 60, 160),
                                (160, 80, 40), (60, 150, 60)))) for _ in range(4)],
        "bars": c(_pick(rng, ((235, 235, 235), (80, 130, 170), (150, 150, 150), (60, 90, 120)))),
        "panel": c(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.0, 0.4), _u(rng, 0.6, 0.95))),
    }
    pal["sleeves_long"] = bool(rng.random() < 0.5)
    pal["socks"] = bool(rng.random() < 0.4)
    pal["bare_legs"] = bool(rng.random() < 0.25)
    return pal


# ----------------------------------------------------------------------------------------------
# frame times


def _frame_times(rng, sc, duration: float) -> tuple[np.ndarray, dict]:
    fps = sc["fps"]
    dt = 1.0 / fps
    n_max = int(duration * fps) + 2
    if not sc["variable_fps"]:
        t = np.arange(n_max) * dt
        return t[t < duration], {"jitter_frac": 0.0, "drop_rate": 0.0, "slow_segments": []}
    jit = _u(rng, 0.02, 0.12)
    drop = _u(rng, 0.005, 0.04)
    steps = np.full(n_max * 2, dt)
    dropped = rng.random(steps.size) < drop
    steps[dropped] *= rng.integers(2, 4, int(dropped.sum()))
    slow = []
    if sc["light"] == "dim" or rng.random() < 0.3:
        for _ in range(int(rng.integers(0, 3))):
            a = _u(rng, 0, duration)
            b = a + _u(rng, 5, 30)
            f = _u(rng, 1.4, 2.0)
            slow.append([round(a, 3), round(b, 3), round(f, 3)])
    t = np.concatenate([[0.0], np.cumsum(steps)])[:-1]
    for a, b, f in slow:
        steps = np.where((t >= a) & (t < b), steps * f, steps)
        t = np.concatenate([[0.0], np.cumsum(steps)])[:-1]
    t = t + rng.normal(0, jit * dt, t.size)
    t[0] = 0.0
    t = np.maximum.accumulate(t)
    for i in range(1, t.size):  # keep frames at least 0.3 dt apart
        if t[i] - t[i - 1] < 0.3 * dt:
            t[i] = t[i - 1] + 0.3 * dt
    t = t[t < duration]
    return t, {"jitter_frac": round(jit, 4), "drop_rate": round(drop, 4), "slow_segments": slow}


# ----------------------------------------------------------------------------------------------
# timeline: states, clusters, spasms, ordinary movements, caregivers, nuisances


class _Builder:
    """Holds the pose layers over the frame times and the events drawn so far."""

    def __init__(self, t: np.ndarray, rng: np.random.Generator, sc: dict):
        self.t = t
        self.rng = rng
        self.sc = sc
        self.T = float(t[-1]) + (float(t[-1] - t[-2]) if t.size > 1 else 0.1)
        n = t.size
        self.rest = np.zeros((n, NCH))
        self.gm = np.zeros((n, NCH))
        self.ev = np.zeros((n, NCH))
        self.suppress = np.zeros(n)
        self.rows: list[dict] = []
        self.detail: list[dict] = []
        self.carers: list[dict] = []
        self.busy: list[tuple[float, float]] = []  # spasm windows: no other discrete movement
        self.carer_busy: list[tuple[float, float]] = []

    def sl(self, t0: float, t1: float) -> tuple[slice, np.ndarray]:
        i0 = int(np.searchsorted(self.t, t0))
        i1 = int(np.searchsorted(self.t, t1))
        return slice(i0, i1), self.t[i0:i1] - t0

    def base_at(self, t0: float) -> np.ndarray:
        i = min(int(np.searchsorted(self.t, t0)), self.t.size - 1)
        return self.rest[i] + self.gm[i] + self.ev[i]

    def free(self, t0: float, t1: float, carer: bool = False) -> bool:
        if t0 < 0 or t1 > self.T:
            return False
        lst = self.busy + (self.carer_busy if carer else [])
        return all(t1 <= a or t0 >= b for a, b in lst)

    def row(self, onset, duration, trial_type, amplitude, cluster=None, pattern=None,
            symmetry=None, **extra) -> None:
        self.rows.append({"onset": round(float(onset), 3), "duration": round(float(duration), 3),
                          "trial_type": trial_type, "cluster": cluster, "pattern": pattern,
                          "amplitude": round(float(np.clip(amplitude, 0, 1)), 3),
                          "symmetry": None if symmetry is None else round(float(symmetry), 3)})
        if extra:
            self.detail.append({"onset": round(float(onset), 3), "trial_type": trial_type,
                                **extra})

    def blend(self, side_ch: str, s: slice, w: np.ndarray, target: float, base: np.ndarray,
              gain: float = 1.0) -> None:
        i = CH[side_ch]
        self.ev[s, i] += gain * w * (target - base[i])

    def add(self, ch: str, s: slice, values) -> None:
        self.ev[s, CH[ch]] += values


def _keyframed(t: np.ndarray, keys: list[tuple[float, float, np.ndarray]]) -> np.ndarray:
    """Piecewise-smooth values from keyframes (time, transition seconds, value vector)."""
    out = np.broadcast_to(keys[0][2], (t.size,) + np.shape(keys[0][2])).astype(float).copy()
    prev = keys[0][2]
    for tk, dk, vk in keys[1:]:
        w = _ease((t - tk) / max(dk, 1e-3))
        if np.ndim(out) == 2:
            out += w[:, None] * (np.asarray(vk) - np.asarray(prev))[None, :]
        else:
            out += w * (vk - prev)
        prev = vk
    return out


def _rest_pose(rng, sc, habit: dict, state: str) -> np.ndarray:
    """A resting posture (channel vector) for this infant, posture and state."""
    p = np.zeros(NCH)
    posture = sc["posture"]
    asleep = state in ("quiet_sleep", "active_sleep")
    for side in ("l", "r"):
        style = habit["arms"] if rng.random() < 0.75 else _pick(rng, ("W", "sides", "chest"))
        if state == "feeding":
            style = "feed"
        b, a, e = {"W": ((80, 100), (60, 85), (70, 110)),
                   "sides": ((10, 40), (15, 40), (20, 60)),
                   "chest": ((45, 75), (5, 25), (95, 130)),
                   "feed": ((65, 90), (10, 30), (90, 120))}[style]  # fmt: skip
        p[CH["arm_b_" + side]] = _u(rng, *b)
        p[CH["arm_a_" + side]] = _u(rng, *a)
        p[CH["elbow_" + side]] = _u(rng, *e)
        p[CH["arm_tw_" + side]] = _u(rng, -15, 15)
        legs = habit["legs"]
        if not asleep and rng.random() < 0.5:
            legs = "lifted"
        b, a, k = {"frog": ((35, 60), (35, 55), (60, 95)),
                   "lifted": ((60, 95), (15, 40), (50, 95)),
                   "extended": ((5, 25), (8, 25), (5, 35))}[legs]  # fmt: skip
        p[CH["hip_b_" + side]] = _u(rng, *b)
        p[CH["hip_a_" + side]] = _u(rng, *a)
        p[CH["knee_" + side]] = _u(rng, *k)
        p[CH["ankle_" + side]] = _u(rng, 70, 95)
    if posture == "side":
        for side in ("l", "r"):
            p[CH["hip_b_" + side]] += _u(rng, 10, 30)
            p[CH["knee_" + side]] += _u(rng, 10, 30)
            p[CH["hip_a_" + side]] *= 0.4
            p[CH["arm_a_" + side]] *= 0.4
        p[CH["trunk_flex"]] = _u(rng, 5, 15)
        p[CH["head_turn"]] = _u(rng, -15, 15)
    elif posture == "seat":
        for side in ("l", "r"):
            p[CH["hip_b_" + side]] = _u(rng, 70, 95)
            p[CH["hip_a_" + side]] = _u(rng, 15, 30)
            p[CH["knee_" + side]] = _u(rng, 40, 85)
            if state != "feeding":
                p[CH["arm_b_" + side]] = _u(rng, 25, 60)
                p[CH["arm_a_" + side]] = _u(rng, 25, 50)
        p[CH["trunk_flex"]] = _u(rng, 0, 10)
        p[CH["neck_flex"]] = _u(rng, 5, 15)
        p[CH["head_turn"]] = _u(rng, -25, 25)
    else:
        turn = _u(rng, 20, 70) if asleep else _u(rng, 0, 45)
        p[CH["head_turn"]] = turn * habit["turn_side"] * (1 if rng.random() < 0.75 else -1)
        p[CH["neck_flex"]] = _u(rng, 0, 12)
    p[CH["neck_lat"]] = _u(rng, -8, 8)
    p[CH["trunk_lat"]] = _u(rng, -6, 6)
    p[CH["trunk_twist"]] = _u(rng, -6, 6)
    p[CH["eyes"]] = 0.0 if asleep else 1.0
    return p


def _plan_clusters(rng, T: float) -> list[dict]:
    kmax = 1 if T < 150 else (2 if T < 300 else 3)
    k = int(rng.integers(1, kmax + 1))
    cl = [{"n": int(rng.integers(3, 21)), "m": _logu(rng, 5.0, 30.0)} for _ in range(k)]
    lead_min = min(20.0, 0.12 * T)
    tail_min = min(10.0, 0.08 * T)
    gap = min(45.0, 0.2 * T)

    def span(c):
        return (c["n"] - 1) * c["m"] * 1.1 + 3.0

    while sum(span(c) for c in cl) + (len(cl) - 1) * gap + lead_min + tail_min > T:
        i = int(np.argmax([span(c) for c in cl]))
        if cl[i]["n"] > 3 and (cl[i]["m"] <= 8 or rng.random() < 0.6):
            cl[i]["n"] -= 1
        elif cl[i]["m"] > 4.6:
            cl[i]["m"] = max(4.6, cl[i]["m"] * 0.85)
        elif len(cl) > 1:
            cl.pop(i)
        else:
            break
    # intervals
    for c in cl:
        iv = np.clip(c["m"] * rng.lognormal(0.0, 0.25, c["n"] - 1), 4.0, 40.0)
        lim = span(c) - 3.0
        if iv.sum() > lim:
            iv = np.maximum(4.0, iv * lim / iv.sum())
        c["intervals"] = iv
        c["span"] = float(iv.sum()) + 3.0
    free = T - sum(c["span"] for c in cl) - (len(cl) - 1) * gap - lead_min - tail_min
    free = max(free, 0.0)
    parts = rng.dirichlet(np.ones(len(cl) + 1)) * free
    t = lead_min + parts[0]
    for i, c in enumerate(cl):
        c["start"] = float(t)
        t += c["span"] + gap + parts[i + 1]
    return cl


def _markov_fill(rng, a: float, b: float, state: str, out: list, allow_feed: bool) -> str:
    t = a
    while t < b - 1e-6:
        d = _u(rng, *STATE_DUR[state])
        d = min(d, b - t)
        if b - (t + d) < 5.0:
            d = b - t
        out.append([t, t + d, state])
        t += d
        nxt = TRANS[state]
        names = [n for n, _ in nxt if allow_feed or n != "feeding"]
        p = [q for n, q in nxt if allow_feed or n != "feeding"]
        state = _pick(rng, names, p)
    return state


def _timeline(rng, sc, kind: str, T: float) -> tuple[list, list]:
    """Sleep/wake states [(t0, t1, state)] and spasm clusters."""
    allow_feed = True
    start = _pick(rng, ("quiet_sleep", "active_sleep", "awake_calm", "awake_active", "crying"),
                  (0.35, 0.3, 0.2, 0.1, 0.05) if sc["light"] == "dim" else
                  (0.15, 0.2, 0.35, 0.2, 0.1))
    states: list = []
    clusters: list = []
    if kind == "ordinary":
        # same kind of day as a spasm clip: often a waking transition in it
        if rng.random() < 0.6 and T > 40:
            tw = _u(rng, 0.1, 0.6) * T
            _markov_fill(rng, 0.0, tw, _pick(rng, ("quiet_sleep", "active_sleep")), states,
                         allow_feed)
            # force the last piece before tw to be sleep, then waking
            states[-1][2] = _pick(rng, ("quiet_sleep", "active_sleep"))
            wl = min(_u(rng, 8, 25), T - tw)
            states.append([tw, tw + wl, "waking"])
            if tw + wl < T:
                _markov_fill(rng, tw + wl, T, _pick(rng, ("awake_calm", "crying",
                                                         "awake_active")), states, allow_feed)
        else:
            _markov_fill(rng, 0.0, T, start, states, allow_feed)
        return states, clusters

    clusters = _plan_clusters(rng, T)
    t = 0.0
    st = start
    for c in clusters:
        c["on_waking"] = bool(rng.random() < 0.7)
        first = c["start"]
        last_end = first + float(np.sum(c["intervals"])) + 2.5
        if c["on_waking"]:
            wl = min(_u(rng, 4, 20), max(first - t, 0.0))
            ws = first - wl
            if ws - t > 1.0:
                st = _markov_fill(rng, t, ws, st, states, allow_feed)
                states[-1][2] = _pick(rng, ("quiet_sleep", "active_sleep"))
            if wl > 0:
                states.append([ws, first, "waking"])
        else:
            if first - t > 1.0:
                st = _markov_fill(rng, t, first, st, states, allow_feed)
                if states[-1][2] in ("quiet_sleep", "active_sleep", "feeding"):
                    states[-1][2] = "awake_calm"
        c["between"] = _pick(rng, ("awake_calm", "crying", "cry_after"), (0.45, 0.2, 0.35))
        c["state_start"] = first
        c["state_end"] = min(last_end, T)
        states.append([first, c["state_end"], "cluster"])
        t = c["state_end"]
        st = _pick(rng, ("awake_calm", "crying", "awake_active", "quiet_sleep"),
                   (0.4, 0.3, 0.15, 0.15))
    if t < T - 1e-6:
        _markov_fill(rng, t, T, st, states, allow_feed)
    # merge sub-second slivers
    return [s for s in states if s[1] - s[0] > 1e-3], clusters


def _spasm_style(rng, pattern: str) -> dict:
    """Stereotyped joint targets of one infant's spasms (a cluster)."""
    ax: dict[str, float] = {}
    arms = legs = None
    limb_delta: dict[str, float] = {}
    flex_ax = {"trunk_flex": _u(rng, 8, 22), "chest_flex": _u(rng, 6, 18),
               "neck_flex": _u(rng, 25, 45), "shrug": _u(rng, 0.004, 0.014)}
    ext_ax = {"trunk_flex": -_u(rng, 4, 12), "chest_flex": -_u(rng, 4, 12),
              "neck_flex": -_u(rng, 15, 35), "shrug": _u(rng, 0.0, 0.006)}
    flex_arms = {"arm_b": _u(rng, 75, 110), "arm_a": _u(rng, 5, 35), "elbow": _u(rng, 40, 110)}
    ext_arms = {"arm_b": _u(rng, 70, 110), "arm_a": _u(rng, 90, 120), "elbow": _u(rng, 0, 25)}
    flex_legs = {"hip_b": _u(rng, 80, 115), "hip_a": _u(rng, 10, 30), "knee": _u(rng, 60, 110)}
    ext_legs = {"hip_b": _u(rng, 0, 20), "hip_a": _u(rng, 20, 45), "knee": _u(rng, 0, 20)}
    variant = None
    if pattern == "flexor":
        ax, arms, legs = flex_ax, flex_arms, flex_legs
    elif pattern == "extensor":
        ax, arms, legs = ext_ax, ext_arms, ext_legs
    elif pattern == "mixed":
        variant = _pick(rng, ("flex_axis_ext_arms", "flex_arms_ext_legs", "ext_axis_flex_arms"))
        if variant == "flex_axis_ext_arms":
            ax, arms, legs = flex_ax, ext_arms, flex_legs
        elif variant == "flex_arms_ext_legs":
            ax, arms, legs = flex_ax, flex_arms, ext_legs
        else:
            ax, arms, legs = ext_ax, flex_arms, flex_legs
    elif pattern == "head_nod":
        ax = {"neck_flex": _u(rng, 15, 40), "trunk_flex": _u(rng, 0, 4),
              "shrug": _u(rng, 0, 0.005)}
    elif pattern == "shoulder_shrug":
        ax = {"shrug": _u(rng, 0.012, 0.025), "neck_flex": _u(rng, 0, 8)}
        limb_delta = {"arm_a": -_u(rng, 5, 15), "elbow": _u(rng, 5, 20)}
    else:  # eye_deviation
        ax = {"gaze": 1.0, "neck_flex": -_u(rng, 3, 10), "eyes": 1.0}
    return {"axial": {k: round(v, 4) for k, v in ax.items()},
            "arms": None if arms is None else {k: round(v, 2) for k, v in arms.items()},
            "legs": None if legs is None else {k: round(v, 2) for k, v in legs.items()},
            "limb_delta": {k: round(v, 2) for k, v in limb_delta.items()},
            "arms_gain": round(_u(rng, 0.6, 1.0), 3),
            "legs_gain": 0.0 if rng.random() < 0.2 else round(_u(rng, 0.3, 1.0), 3),
            "variant": variant}


def _spasm_env(tt: np.ndarray, sp: dict) -> np.ndarray:
    r, s, T, h, d = sp["rise_s"], sp["settle_s"], sp["tonic_s"], sp["hold"], sp["relax_s"]
    e = np.zeros_like(tt)
    a = (tt >= 0) & (tt < r)
    e[a] = _ease_out(tt[a] / r)
    b = (tt >= r) & (tt < r + s)
    e[b] = 1.0 - (1.0 - h) * _ease((tt[b] - r) / s)
    c = (tt >= r + s) & (tt < r + s + T)
    trem = 0.0
    if sp["tremor_hz"] > 0:
        trem = sp["tremor_amp"] * np.sin(2 * np.pi * sp["tremor_hz"] * (tt[c] - r - s))
    e[c] = h * (1.0 + trem)
    dd = (tt >= r + s + T) & (tt < r + s + T + d)
    e[dd] = h * (1.0 - _ease((tt[dd] - r - s - T) / d))
    return e


def _draw_spasms(b: _Builder, rng, clusters: list) -> list:
    spasms = []
    for ci, c in enumerate(clusters, start=1):
        pattern = _pick(rng, SPASM_PATTERNS, SPASM_PATTERN_P)
        style = _spasm_style(rng, pattern)
        nod_style = _spasm_style(rng, "head_nod")
        c.update(pattern=pattern, style=style)
        base_amp = _logu(rng, 0.3, 1.0) if pattern not in ("head_nod", "shoulder_shrug",
                                                            "eye_deviation") else _u(rng, 0.4, 1)
        asym = rng.random() < 0.3
        weak_side = _pick(rng, ("l", "r"))
        rise_mu = _u(rng, 0.05, 0.3)
        tremor_p = _u(rng, 0.0, 0.6)
        trend = _pick(rng, ("flat", "crescendo", "decrescendo", "arch"))
        c.update(base_amplitude=round(base_amp, 3), asymmetric=bool(asym),
                 weaker_side=weak_side, trend=trend, index=ci)
        onsets = c["start"] + np.concatenate([[0.0], np.cumsum(c["intervals"])])
        n = len(onsets)
        for k, t0 in enumerate(onsets):
            x = (k + 0.5) / n
            prof = {"flat": 1.0, "crescendo": 0.7 + 0.3 * x, "decrescendo": 1.0 - 0.3 * x,
                    "arch": 0.7 + 0.3 * math.sin(math.pi * x)}[trend]
            amp = float(np.clip(base_amp * prof * rng.lognormal(0, 0.15), 0.1, 1.0))
            pat, sty = pattern, style
            if pattern in ("flexor", "extensor", "mixed") and rng.random() < 0.12:
                pat, sty = "head_nod", nod_style
                amp = float(np.clip(amp * _u(rng, 0.4, 0.9), 0.08, 1.0))
            sym = _u(rng, 0.3, 0.85) if asym else _u(rng, 0.85, 1.0)
            ws = weak_side if rng.random() < 0.85 else _pick(rng, ("l", "r"))
            sp = {"onset": float(t0), "cluster": ci, "pattern": pat, "amplitude": amp,
                  "symmetry": sym, "weaker_side": ws,
                  "lag_s": _u(rng, 0.0, 0.12) if asym else _u(rng, 0.0, 0.03),
                  "rise_s": float(np.clip(rise_mu * rng.lognormal(0, 0.2), 0.05, 0.3)),
                  "settle_s": _u(rng, 0.05, 0.15),
                  "tonic_s": 0.0 if rng.random() < 0.25 else _u(rng, 0.1, 1.5),
                  "hold": _u(rng, 0.4, 1.0), "relax_s": _u(rng, 0.1, 0.8),
                  "tremor_hz": _u(rng, 6, 12) if rng.random() < tremor_p else 0.0,
                  "tremor_amp": _u(rng, 0.03, 0.1)}
            if sp["tremor_hz"] == 0:
                sp["tremor_amp"] = 0.0
            dur = sp["rise_s"] + sp["settle_s"] + sp["tonic_s"] + sp["relax_s"]
            if dur > 3.0:
                sp["tonic_s"] = max(0.0, sp["tonic_s"] - (dur - 3.0))
                dur = sp["rise_s"] + sp["settle_s"] + sp["tonic_s"] + sp["relax_s"]
            sp["duration"] = dur
            _apply_spasm(b, sp, sty)
            b.busy.append((t0 - 1.5, t0 + dur + 1.5))
            spasms.append(sp)
            b.row(t0, dur, "spasm", amp, cluster=ci, pattern=pat, symmetry=sym)
    return spasms


def _apply_spasm(b: _Builder, sp: dict, style: dict) -> None:
    t0 = sp["onset"]
    s, tt = b.sl(t0 - 0.01, t0 + sp["duration"] + sp["lag_s"] + 0.05)
    if tt.size == 0:
        return
    tt = tt - 0.01
    base = b.base_at(t0)
    a = sp["amplitude"]
    sym = sp["symmetry"]
    env = _spasm_env(tt, sp)
    env_lag = _spasm_env(tt - sp["lag_s"], sp)
    ax_gain = a * (1.0 + sym) / 2.0
    for k, v in style["axial"].items():
        if k == "shrug":
            for side in ("l", "r"):
                g = a * (sym if side == sp["weaker_side"] else 1.0)
                e = env_lag if side == sp["weaker_side"] else env
                b.add("shrug_" + side, s, g * v * e)
        elif k in ("gaze", "eyes"):
            i = CH[k]
            b.ev[s, i] += np.clip(a * 2.0, 0, 1) * env * (v - base[i])
        else:
            b.add(k, s, ax_gain * v * env)
    sgn = 1.0 if sp["weaker_side"] == "r" else -1.0  # bend towards the stronger side
    b.add("trunk_lat", s, sgn * (1 - sym) * a * 10.0 * env)
    b.add("head_turn", s, sgn * (1 - sym) * a * 20.0 * env)
    for side in ("l", "r"):
        weak = side == sp["weaker_side"]
        g = a * (sym if weak else 1.0)
        e = env_lag if weak else env
        if style["arms"]:
            for j, target in style["arms"].items():
                b.blend(f"{j}_{side}", s, e, target, base, g * style["arms_gain"])
        if style["legs"] and style["legs_gain"] > 0:
            for j, target in style["legs"].items():
                b.blend(f"{j}_{side}", s, e, target, base, g * style["legs_gain"])
        for j, dv in style["limb_delta"].items():
            b.add(f"{j}_{side}", s, g * dv * e)
    b.suppress[s] = np.maximum(b.suppress[s], 0.85 * np.clip(env * 1.5, 0, 1))


# ---- ordinary movements ---------------------------------------------------------------------


def _ev_startle(b: _Builder, rng, t0: float, state: str) -> float:
    asleep = state in ("quiet_sleep", "active_sleep")
    amp = _u(rng, 0.3, 0.8) if asleep else _u(rng, 0.5, 1.0)
    rise = _u(rng, 0.05, 0.15)
    p1 = _u(rng, 0.2, 0.5)  # extension/abduction phase
    p2 = 0.0 if asleep else _u(rng, 0.4, 1.0)  # embrace phase
    back = _u(rng, 0.5, 1.2)
    dur = rise + p1 + p2 + back
    s, tt = b.sl(t0, t0 + dur)
    base = b.base_at(t0)
    w1 = _ease_out(tt / rise) * (1 - _ease((tt - rise - p1) / max(p2 * 0.6, 0.15)))
    w2 = _ease((tt - rise - p1) / max(p2 * 0.6, 0.1)) * (1 - _ease((tt - rise - p1 - p2) / back))
    if p2 == 0:
        w1 = _jerk(tt, rise, p1 + back)
        w2 = np.zeros_like(tt)
    for side in ("l", "r"):
        g = amp * _u(rng, 0.8, 1.0)
        b.blend("arm_a_" + side, s, w1, _u(rng, 95, 125), base, g)
        b.blend("elbow_" + side, s, w1, _u(rng, 0, 25), base, g)
        b.blend("arm_b_" + side, s, w1, _u(rng, 80, 110), base, g)
        b.blend("arm_a_" + side, s, w2, _u(rng, 15, 35), base, g)
        b.blend("elbow_" + side, s, w2, _u(rng, 60, 100), base, g)
        b.blend("knee_" + side, s, w1, _u(rng, 5, 30), base, 0.5 * g)
        b.blend("hip_b_" + side, s, w1, _u(rng, 10, 40), base, 0.4 * g)
    b.add("neck_flex", s, -amp * _u(rng, 5, 15) * w1)
    b.add("trunk_flex", s, -amp * _u(rng, 0, 5) * w1)
    b.add("eyes", s, np.clip(1 - base[CH["eyes"]], 0, 1) * (w1 + w2) * 0.8)
    b.row(t0, dur, "startle" if not asleep else "sleep_startle", amp,
          rise_s=round(rise, 3), embrace_s=round(p2, 3))
    return dur


def _ev_twitch(b: _Builder, rng, t0: float, state: str) -> float:
    ch = _pick(rng, ("elbow", "arm_b", "arm_a", "knee", "hip_b", "ankle", "neck_flex",
                     "head_turn", "mouth"))  # fmt: skip
    side = _pick(rng, ("l", "r"))
    name = ch if ch in ("neck_flex", "head_turn", "mouth") else f"{ch}_{side}"
    amp = _u(rng, 0.05, 0.35)
    rise, fall = _u(rng, 0.04, 0.12), _u(rng, 0.08, 0.25)
    s, tt = b.sl(t0, t0 + rise + fall)
    mag = 0.6 if ch == "mouth" else (40.0 * amp)
    b.add(name, s, (1 if rng.random() < 0.7 else -1) * mag * _jerk(tt, rise, fall))
    b.row(t0, rise + fall, "sleep_twitch", amp, part=name)
    return rise + fall


def _ev_myoclonus(b: _Builder, rng, t0: float, state: str) -> float:
    """Benign sleep myoclonus: a burst of brief repetitive jerks of one or more limbs."""
    dur = _u(rng, 2.0, 15.0)
    rate = _u(rng, 1.0, 5.0)
    amp = _u(rng, 0.2, 0.7)
    limbs = _pick(rng, (("arm_l",), ("arm_r",), ("leg_l",), ("leg_r",), ("arm_l", "arm_r"),
                        ("leg_l", "leg_r"), ("arm_l", "arm_r", "leg_l", "leg_r")))
    times = []
    t = t0
    while t < t0 + dur:
        times.append(t)
        t += max(0.12, rng.exponential(1.0 / rate) * 0.5 + 0.5 / rate)
    for tj in times:
        rise, fall = _u(rng, 0.03, 0.08), _u(rng, 0.08, 0.2)
        s, tt = b.sl(tj, tj + rise + fall)
        w = _jerk(tt, rise, fall) * amp * _u(rng, 0.6, 1.0)
        for lb in limbs:
            side = lb[-1]
            if lb.startswith("arm"):
                b.add("elbow_" + side, s, 30 * w)
                b.add("arm_b_" + side, s, 12 * w)
            else:
                b.add("hip_b_" + side, s, 25 * w)
                b.add("knee_" + side, s, 30 * w)
    b.row(t0, times[-1] - t0 + 0.3, "sleep_myoclonus", amp, limbs=list(limbs),
          n_jerks=len(times), rate_hz=round(rate, 2))
    return dur


def _ev_kicking(b: _Builder, rng, t0: float, state: str) -> float:
    dur = _u(rng, 2.0, 15.0)
    f = _u(rng, 0.8, 2.2)
    amp = _u(rng, 0.3, 1.0)
    inphase = rng.random() < 0.4
    arms = rng.random() < 0.35
    s, tt = b.sl(t0, t0 + dur)
    env = _pulse(tt, 0.4, dur - 0.8, 0.4) * (0.7 + 0.3 * np.sin(2 * np.pi * 0.2 * tt))
    for side, ph in (("l", 0.0), ("r", 0.0 if inphase else np.pi)):
        osc = np.sin(2 * np.pi * f * tt + ph + _u(rng, -0.3, 0.3))
        b.add("hip_b_" + side, s, amp * 30 * env * osc)
        b.add("knee_" + side, s, amp * 40 * env * osc)
        b.add("ankle_" + side, s, amp * 10 * env * osc)
        if arms:
            b.add("arm_a_" + side, s, amp * 15 * env * np.sin(2 * np.pi * f * tt + ph))
    b.row(t0, dur, "kicking", amp, freq_hz=round(f, 2), in_phase=bool(inphase),
          with_arms=bool(arms))
    return dur


def _ev_head_turn(b: _Builder, rng, t0: float, state: str) -> float:
    d = _u(rng, 0.8, 2.5)
    base = b.base_at(t0)
    cur = base[CH["head_turn"]]
    target = _u(rng, -70, 70) if b.sc["posture"] == "supine" else _u(rng, -30, 30)
    s, _ = b.sl(t0, b.T + 1)
    tt = b.t[s] - t0
    # persistent: the head stays turned until another movement changes it
    b.ev[s, CH["head_turn"]] += (target - cur) * _ease(tt / d) * np.exp(-np.maximum(tt - d, 0)
                                                                          / 40.0)
    b.row(t0, d, "head_turn", abs(target - cur) / 140.0, to_deg=round(target, 1))
    return d


def _ev_hand_to_mouth(b: _Builder, rng, t0: float, state: str) -> float:
    side = _pick(rng, ("l", "r"))
    hold = _u(rng, 1.5, 8.0)
    dur = hold + 2.0
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, _u(rng, 0.6, 1.2), hold, _u(rng, 0.6, 1.0))
    base = b.base_at(t0)
    b.blend("arm_b_" + side, s, w, _u(rng, 55, 80), base)
    b.blend("arm_a_" + side, s, w, _u(rng, 5, 20), base)
    b.blend("elbow_" + side, s, w, _u(rng, 120, 140), base)
    b.add("mouth", s, 0.3 * w * (0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * tt)))
    b.row(t0, dur, "hand_to_mouth", 0.4, side=side)
    return dur


def _ev_reaching(b: _Builder, rng, t0: float, state: str) -> float:
    both = rng.random() < 0.4
    sides = ("l", "r") if both else (_pick(rng, ("l", "r")),)
    dur = _u(rng, 1.0, 3.5)
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, dur * 0.35, dur * 0.25, dur * 0.4)
    base = b.base_at(t0)
    amp = _u(rng, 0.4, 1.0)
    for side in sides:
        b.blend("arm_b_" + side, s, w, _u(rng, 85, 115), base, amp)
        b.blend("arm_a_" + side, s, w, _u(rng, 0, 25), base, amp)
        b.blend("elbow_" + side, s, w, _u(rng, 10, 45), base, amp)
    b.row(t0, dur, "reaching", amp * (0.8 if both else 0.5), both_arms=bool(both))
    return dur


def _ev_stretch(b: _Builder, rng, t0: float, state: str) -> float:
    rise, hold, fall = _u(rng, 0.8, 1.5), _u(rng, 0.5, 2.0), _u(rng, 1.0, 2.0)
    dur = rise + hold + fall
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, rise, hold, fall)
    base = b.base_at(t0)
    amp = _u(rng, 0.5, 1.0)
    overhead = rng.random() < 0.6
    for side in ("l", "r"):
        if overhead:
            b.blend("arm_b_" + side, s, w, _u(rng, 145, 170), base, amp)
            b.blend("arm_a_" + side, s, w, _u(rng, 15, 40), base, amp)
        else:
            b.blend("arm_a_" + side, s, w, _u(rng, 80, 110), base, amp)
        b.blend("elbow_" + side, s, w, _u(rng, 5, 30), base, amp)
        b.blend("hip_b_" + side, s, w, _u(rng, 0, 20), base, amp)
        b.blend("knee_" + side, s, w, _u(rng, 0, 20), base, amp)
    b.add("neck_flex", s, -amp * _u(rng, 8, 20) * w)
    b.add("chest_flex", s, -amp * _u(rng, 3, 8) * w)
    yawn = rng.random() < 0.5
    if yawn:
        b.add("mouth", s, 0.9 * _pulse(tt, rise, hold + 0.3, fall))
    b.row(t0, dur, "stretch", amp, overhead=bool(overhead), yawn=bool(yawn))
    return dur


def _ev_hiccups(b: _Builder, rng, t0: float, state: str) -> float:
    dur = min(_u(rng, 20.0, 120.0), b.T - t0)
    later = [a for a, _ in b.busy if a >= t0]
    if later:  # a bout stops before the next spasm
        dur = min(dur, min(later) - t0)
    period = _u(rng, 1.5, 4.0)
    amp = _u(rng, 0.1, 0.35)
    t = t0
    n = 0
    while t < t0 + dur:
        s, tt = b.sl(t, t + 0.3)
        w = _jerk(tt, 0.04, 0.2) * amp
        b.add("chest_flex", s, 12 * w)
        b.add("breath", s, -3 * w)
        b.add("shrug_l", s, 0.02 * w)
        b.add("shrug_r", s, 0.02 * w)
        b.add("neck_flex", s, 8 * w)
        n += 1
        t += period * rng.lognormal(0, 0.15)
    b.row(t0, dur, "hiccups", amp, period_s=round(period, 2), n_hiccups=n)
    return dur


def _ev_shudder(b: _Builder, rng, t0: float, state: str) -> float:
    dur = _u(rng, 1.0, 6.0)
    f = _u(rng, 6.0, 11.0)
    amp = _u(rng, 0.2, 0.6)
    s, tt = b.sl(t0, t0 + dur)
    env = _pulse(tt, 0.2, dur - 0.5, 0.3) * amp
    osc = np.sin(2 * np.pi * f * tt)
    for side in ("l", "r"):
        b.add("shrug_" + side, s, 0.008 * env * osc)
        b.add("arm_a_" + side, s, 6 * env * np.sin(2 * np.pi * f * tt + 0.5))
        b.add("elbow_" + side, s, 5 * env * osc)
    b.add("neck_lat", s, 4 * env * np.sin(2 * np.pi * f * tt + 1.0))
    b.add("trunk_twist", s, 3 * env * osc)
    b.add("neck_flex", s, 5 * env)
    b.row(t0, dur, "shuddering", amp, freq_hz=round(f, 2))
    return dur


def _ev_sandifer(b: _Builder, rng, t0: float, state: str) -> float:
    rise, hold, fall = _u(rng, 1.0, 3.0), _u(rng, 5.0, 40.0), _u(rng, 1.0, 3.0)
    dur = rise + hold + fall
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, rise, hold, fall) * (1 + 0.1 * np.sin(2 * np.pi * 0.3 * tt))
    amp = _u(rng, 0.4, 1.0)
    sgn = 1 if rng.random() < 0.5 else -1
    b.add("neck_flex", s, -amp * _u(rng, 20, 40) * w)
    b.add("neck_lat", s, sgn * amp * _u(rng, 10, 25) * w)
    b.add("head_turn", s, sgn * amp * _u(rng, 10, 40) * w)
    b.add("chest_flex", s, -amp * _u(rng, 5, 12) * w)
    b.add("trunk_flex", s, -amp * _u(rng, 3, 8) * w)
    b.add("trunk_lat", s, sgn * amp * _u(rng, 5, 15) * w)
    b.row(t0, dur, "sandifer_posturing", amp)
    return dur


def _ev_sigh(b: _Builder, rng, t0: float, state: str) -> float:
    dur = _u(rng, 1.5, 3.0)
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, dur * 0.4, 0.1, dur * 0.5)
    b.add("breath", s, 2.5 * w)
    b.add("chest_flex", s, -2.0 * w)
    b.add("shrug_l", s, 0.004 * w)
    b.add("shrug_r", s, 0.004 * w)
    b.row(t0, dur, "sigh", 0.15)
    return dur


def _ev_sucking(b: _Builder, rng, t0: float, state: str) -> float:
    dur = _u(rng, 3.0, 15.0)
    f = _u(rng, 1.5, 2.5)
    s, tt = b.sl(t0, t0 + dur)
    env = _pulse(tt, 0.3, dur - 0.6, 0.3)
    b.add("mouth", s, 0.25 * env * (0.5 + 0.5 * np.sin(2 * np.pi * f * tt)))
    b.add("neck_flex", s, 1.2 * env * np.sin(2 * np.pi * f * tt))
    b.row(t0, dur, "sucking", 0.1, freq_hz=round(f, 2))
    return dur


def _ev_colic_legs(b: _Builder, rng, t0: float, state: str) -> float:
    rise, hold, fall = _u(rng, 0.3, 0.8), _u(rng, 1.0, 5.0), _u(rng, 0.5, 1.5)
    dur = rise + hold + fall
    s, tt = b.sl(t0, t0 + dur)
    w = _pulse(tt, rise, hold, fall)
    base = b.base_at(t0)
    amp = _u(rng, 0.5, 1.0)
    for side in ("l", "r"):
        b.blend("hip_b_" + side, s, w, _u(rng, 95, 120), base, amp)
        b.blend("knee_" + side, s, w, _u(rng, 90, 120), base, amp)
        b.blend("hip_a_" + side, s, w, _u(rng, 10, 25), base, amp)
    b.add("trunk_flex", s, amp * 6 * w)
    b.row(t0, dur, "legs_drawn_up_crying", amp)
    return dur


# longest duration of each ordinary movement (s): nothing may start that would reach a spasm
MAX_DUR = {
    "startle": 3.0, "sleep_twitch": 0.4, "sleep_myoclonus": 15.5, "kicking": 15.0,
    "head_turn": 2.5, "hand_to_mouth": 10.0, "reaching": 3.5, "stretch": 5.5, "hiccups": 20.0,
    "shudder": 6.0, "sandifer": 46.0, "sigh": 3.0, "sucking": 15.0, "colic_legs": 7.5,
}  # fmt: skip

ORDINARY = {
    "startle": _ev_startle, "sleep_twitch": _ev_twitch, "sleep_myoclonus": _ev_myoclonus,
    "kicking": _ev_kicking, "head_turn": _ev_head_turn, "hand_to_mouth": _ev_hand_to_mouth,
    "reaching": _ev_reaching, "stretch": _ev_stretch, "hiccups": _ev_hiccups,
    "shudder": _ev_shudder, "sandifer": _ev_sandifer, "sigh": _ev_sigh,
    "sucking": _ev_sucking, "colic_legs": _ev_colic_legs,
}  # fmt: skip


def _ev_handling(b: _Builder, rng, t0: float, kind: str) -> float | None:
    """A caregiver's arm(s) enter, act on the infant and leave."""
    app, ret = _u(rng, 0.6, 1.5), _u(rng, 0.6, 1.5)
    act = {"pick_up": _u(rng, 4, 14), "diaper_change": _u(rng, 6, 25),
           "reposition": _u(rng, 1.5, 4), "pat": _u(rng, 4, 25), "stroke": _u(rng, 3, 12),
           "adjust_cap": _u(rng, 3, 10), "pacifier": _u(rng, 1, 3),
           "reach_in": _u(rng, 1, 4)}[kind]  # fmt: skip
    dur = app + act + ret
    if not b.free(t0, t0 + dur, carer=True):
        return None
    b.carer_busy.append((t0, t0 + dur))
    s, tt = b.sl(t0, t0 + dur)
    base = b.base_at(t0)
    hands: list[dict] = []
    amp = 0.5
    if kind == "pick_up":
        lift = _u(rng, 0.12, 0.35)
        pitch = _u(rng, 20, 60)
        wl = _pulse(tt - app, 1.0, max(act - 2.0, 0.2), 1.0)
        b.add("root_z", s, lift * wl)
        b.add("root_pitch", s, pitch * wl)
        b.add("root_roll", s, _u(rng, -15, 15) * wl)
        # put back slightly elsewhere
        sp, tp = b.sl(t0 + app + act, b.T + 1)
        step = _ease((b.t[sp] - t0 - app - act) / 1.0)
        for ch, r in (("root_x", 0.06), ("root_y", 0.08), ("root_yaw", 15)):
            b.add(ch, sp, _u(rng, -r, r) * step)
        hands = [{"at": "armpit_l"}, {"at": "armpit_r"}]
        amp = 1.0
    elif kind == "diaper_change":
        wl = _pulse(tt - app, 1.0, max(act - 2.0, 0.2), 1.0)
        for side in ("l", "r"):
            b.blend("hip_b_" + side, s, wl, _u(rng, 95, 120), base)
            b.blend("knee_" + side, s, wl, _u(rng, 10, 35), base)
            b.blend("hip_a_" + side, s, wl, _u(rng, 5, 15), base)
        b.add("root_z", s, 0.03 * wl)
        b.add("root_pitch", s, -_u(rng, 5, 12) * wl)
        hands = [{"at": "ankles"}, {"at": "pelvis", "wipe_hz": _u(rng, 1, 2)}]
        amp = 0.8
    elif kind == "reposition":
        sp, tp = b.sl(t0 + app, b.T + 1)
        step = _ease((b.t[sp] - t0 - app) / max(act, 0.5))
        for ch, r in (("root_x", 0.08), ("root_y", 0.1), ("root_yaw", 25)):
            b.add(ch, sp, _u(rng, -r, r) * step)
        hands = [{"at": "chest"}, {"at": "pelvis"}]
        amp = 0.7
    elif kind == "pat":
        f = _u(rng, 1.0, 3.0)
        wl = _pulse(tt - app, 0.3, max(act - 0.6, 0.1), 0.3)
        osc = np.sin(2 * np.pi * f * tt)
        b.add("root_z", s, -0.004 * wl * osc)
        b.add("root_roll", s, 2.0 * wl * osc)
        hands = [{"at": _pick(rng, ("chest", "belly", "pelvis")), "pat_hz": f}]
        amp = 0.3
    elif kind == "stroke":
        hands = [{"at": _pick(rng, ("head", "chest", "belly")), "stroke_hz": _u(rng, 0.3, 1)}]
        amp = 0.2
    elif kind == "adjust_cap":
        wl = _pulse(tt - app, 0.8, max(act - 1.6, 0.1), 0.8)
        b.add("head_turn", s, _u(rng, -35, 35) * wl)
        b.add("neck_lat", s, _u(rng, -10, 10) * wl)
        b.add("neck_flex", s, _u(rng, 0, 15) * wl)
        hands = [{"at": "head"}]
        amp = 0.4
    elif kind == "pacifier":
        hands = [{"at": "mouth"}]
        sp, tp = b.sl(t0 + app, t0 + app + 30.0)
        b.add("mouth", sp, 0.25 * (0.5 + 0.5 * np.sin(2 * np.pi * 2.0 * tp)) * np.exp(-tp / 20))
        amp = 0.2
    else:  # reach_in: hand goes to the edge of the cot and out again
        hands = [{"at": "beside"}]
        amp = 0.2
    shoulder_side = _pick(rng, (-1.0, 1.0))
    b.carers.append({"t0": t0, "t1": t0 + dur, "approach_s": app, "act_s": act,
                     "return_s": ret, "kind": kind, "hands": hands, "side": shoulder_side,
                     "along": _u(rng, -0.3, 0.3), "height": _u(rng, 0.45, 0.8)})
    b.row(t0, dur, f"handling_{kind}", amp)
    return dur


def _build_pose(rng, sc, kind: str, t: np.ndarray) -> tuple[_Builder, dict]:
    T = float(t[-1]) + 1.0 / sc["fps"]
    b = _Builder(t, rng, sc)
    habit = {"arms": _pick(rng, ("W", "sides", "chest"), (0.5, 0.3, 0.2)),
             "legs": _pick(rng, ("frog", "lifted", "extended"), (0.5, 0.3, 0.2)),
             "turn_side": _pick(rng, (-1.0, 1.0))}
    states, clusters = _timeline(rng, sc, kind, T)
    # per-state levels, rest-pose keyframes
    keys = []
    lvl_keys = []  # gm gain, eyes, cry, feed, breath-rate
    cl_by_start = {round(c["state_start"], 6): c for c in clusters}
    expanded = []
    for a, z, st in states:
        if st == "cluster":
            c = cl_by_start[round(a, 6)]
            between = c["between"]
            if between == "cry_after":
                onsets = c["start"] + np.concatenate([[0.0], np.cumsum(c["intervals"])])
                tcur = a
                for k, on in enumerate(onsets):
                    nxt = onsets[k + 1] if k + 1 < len(onsets) else z
                    cry_a = on + 1.0
                    cry_z = min(nxt - 1.0, cry_a + _u(rng, 2.0, 10.0))
                    if cry_z - cry_a > 1.0:
                        if cry_a > tcur:
                            expanded.append([tcur, cry_a, "awake_calm", True])
                        expanded.append([cry_a, cry_z, "crying", True])
                        tcur = cry_z
                if tcur < z:
                    expanded.append([tcur, z, "awake_calm", True])
            else:
                expanded.append([a, z, between, True])
        else:
            expanded.append([a, z, st, False])
    prev_in = False
    for a, z, st, in_cluster in expanded:
        name, gm, br, eyes = STATES[st]
        if in_cluster and st == "awake_calm":
            gm = 0.35
        rp = _rest_pose(rng, sc, habit, st)
        if not in_cluster:
            keys.append((a, _u(rng, 1.5, 3.0), rp))
        elif not prev_in:  # the posture of a cluster is settled before its first spasm
            keys.append((a - 3.5, 2.0, rp))
        prev_in = in_cluster
        if (st in ("awake_calm", "awake_active", "crying", "waking") and z - a > 25
                and not in_cluster):
            tk = a + _u(rng, 15, 50)
            while tk < z - 5:
                keys.append((tk, _u(rng, 1.5, 4.0), _rest_pose(rng, sc, habit, st)))
                tk += _u(rng, 15, 50)
        lvl_keys.append((a, 0.6 if st == "crying" else 1.5,
                         np.array([gm, eyes, 1.0 * (st == "crying"), 1.0 * (st == "feeding"),
                                   _u(rng, *br)])))
        b.row(a, z - a, name, min(gm, 1.0), state=st, in_cluster=bool(in_cluster))
    keys.sort(key=lambda k: k[0])
    b.rest[:] = _keyframed(t, keys)
    lv = _keyframed(t, lvl_keys)
    gm_gain, eyes_lvl, cry, feed, br_hz = lv.T

    # general movements (smooth, writhing, variable), fidgety component
    fidgety = rng.random() < 0.5
    slow_mod = 0.6 + 0.4 * _bandnoise(rng, t, 0.02, 0.08, 3).clip(-1.5, 1.5) / 1.5
    for name in CHANNELS:
        key = name.rsplit("_", 1)[0] if name.endswith(("_l", "_r")) else name
        if key not in GM_AMP:
            continue
        amp = GM_AMP[key]
        sig = 0.7 * _bandnoise(rng, t, 0.12, 0.5) + 0.5 * _bandnoise(rng, t, 0.4, 1.4)
        if fidgety:
            sig += 0.25 * _bandnoise(rng, t, 1.0, 3.0, 4) * (gm_gain < 0.8)
        b.gm[:, CH[name]] = amp * gm_gain * slow_mod * sig
    # breathing, crying, feeding, eyes
    phase = 2 * np.pi * np.concatenate([[0.0], np.cumsum(br_hz[:-1] * np.diff(t))])
    b.ev[:, CH["breath"]] += (0.8 + 1.2 * cry) * np.sin(phase + 0.3 * _bandnoise(rng, t, 0.05,
                                                                                  0.2, 3))
    cyc_p = _u(rng, 1.0, 2.2)
    cry_cycle = 0.5 + 0.5 * np.tanh(3.0 * (np.sin(2 * np.pi * t / cyc_p + 0.8 * _bandnoise(
        rng, t, 0.05, 0.2, 3)) + 0.5))  # smooth cry / inhale cycle
    b.ev[:, CH["mouth"]] += cry * (0.35 + 0.6 * cry_cycle)
    b.ev[:, CH["redness"]] += 0.8 * cry
    b.ev[:, CH["trunk_flex"]] += cry * 5.0 * cry_cycle
    b.ev[:, CH["neck_flex"]] += cry * 4.0 * cry_cycle
    suck_f = _u(rng, 0.9, 1.5)
    burst = _bandnoise(rng, t, 0.03, 0.1, 3) > -0.6
    suck = np.sin(2 * np.pi * suck_f * t) * burst
    b.ev[:, CH["mouth"]] += feed * (0.2 + 0.15 * suck)
    b.ev[:, CH["neck_flex"]] += feed * 1.5 * suck
    blinks = np.zeros_like(t)
    tb = _u(rng, 0, 4)
    while tb < T:
        ss, tt = b.sl(tb, tb + 0.25)
        blinks[ss] = np.maximum(blinks[ss], _jerk(tt, 0.07, 0.15))
        tb += _u(rng, 2.0, 8.0)
    b.rest[:, CH["eyes"]] = eyes_lvl * (1.0 - blinks) * (1 - 0.75 * cry)

    spasms = _draw_spasms(b, rng, clusters) if kind == "spasms" else []
    # post-spasm behavioural arrest in some clusters
    for c in clusters:
        if rng.random() < 0.5:
            for sp in (x for x in spasms if x["cluster"] == c["index"]):
                a0 = sp["onset"] + sp["duration"]
                s, tt = b.sl(a0, a0 + _u(rng, 1.0, 3.0))
                b.suppress[s] = np.maximum(b.suppress[s], 0.7 * (1 - _ease(tt / 3.0)))

    # discrete ordinary movements by state
    for a, z, st, _in_cluster in expanded:
        if st == "waking" and rng.random() < 0.7 and b.free(a + 0.5, a + 9.0):
            _ev_stretch(b, rng, a + _u(rng, 0.5, min(3.0, max(z - a - 4.0, 0.6))), st)
        for evname, rate in RATES[st].items():
            n = rng.poisson(rate * (z - a) / 60.0)
            for t0 in np.sort(rng.uniform(a, z, n)):
                if not b.free(float(t0), float(t0) + MAX_DUR[evname]):
                    continue
                ORDINARY[evname](b, rng, float(t0), st)
    if rng.random() < 0.15:  # a bout of hiccups somewhere
        t0 = _u(rng, 0, max(T - 20, 1))
        if b.free(t0, min(t0 + 20, T)):
            _ev_hiccups(b, rng, t0, "any")
    need = max(1, int(round(T / 60.0))) - sum(r["trial_type"] in HARD_NAMES for r in b.rows)
    tries = 0
    while need > 0 and tries < 200:
        tries += 1
        a, z, st, _ = expanded[int(rng.integers(len(expanded)))]
        if z - a < 3.0:
            continue
        t0 = _u(rng, a, z - 2.0)
        evname = _pick(rng, HARD_MIMICS[st])
        if b.free(t0, t0 + MAX_DUR[evname]):
            ORDINARY[evname](b, rng, t0, st)
            need -= 1
    # caregivers
    kinds_veeg = ("adjust_cap", "reposition", "pat", "pick_up", "diaper_change", "stroke",
                  "reach_in")
    kinds_home = ("pick_up", "diaper_change", "reposition", "pat", "stroke", "pacifier",
                  "reach_in")
    pk = (0.25, 0.2, 0.15, 0.08, 0.1, 0.1, 0.12)
    rate = sc["caregiver_rate_per_min"]
    for a, z, st, _ in expanded:
        fac = {"crying": 2.0, "quiet_sleep": 0.4, "active_sleep": 0.5}.get(st, 1.0)
        n = rng.poisson(rate * fac * (z - a) / 60.0)
        for t0 in np.sort(rng.uniform(a, z, n)):
            kinds = kinds_veeg if sc["setting"] == "veeg" else kinds_home
            k = _pick(rng, kinds, pk)
            if sc["posture"] == "seat" and k == "diaper_change":
                k = "stroke"
            _ev_handling(b, rng, float(t0), k)
    # feeding: bottle and the feeding hand
    for a, z, st, _ in expanded:
        if st == "feeding" and z - a > 4.0 and b.free(a, z, carer=True):
            b.carer_busy.append((a, z))
            b.carers.append({"t0": a, "t1": z, "approach_s": 1.5, "act_s": z - a - 3.0,
                             "return_s": 1.5, "kind": "bottle", "hands": [{"at": "bottle"}],
                             "side": _pick(rng, (-1.0, 1.0)), "along": _u(rng, 0.0, 0.3),
                             "height": _u(rng, 0.4, 0.7)})
    info = {"states": [[round(a, 3), round(z, 3), st] for a, z, st, _ in expanded],
            "habit": habit, "fidgety": bool(fidgety), "clusters": clusters, "spasms": spasms}
    return b, info


def _finalize_pose(b: _Builder) -> np.ndarray:
    P = b.rest + b.gm * (1.0 - b.suppress)[:, None] + b.ev
    # repositioning and being put down again must not carry the infant off the mattress
    P[:, CH["root_x"]] = np.clip(P[:, CH["root_x"]], -0.12, 0.12)
    P[:, CH["root_y"]] = np.clip(P[:, CH["root_y"]], -0.2, 0.2)
    for name, i in CH.items():
        key = name.rsplit("_", 1)[0] if name.endswith(("_l", "_r")) else name
        if key in LIMITS:
            lo, hi = LIMITS[key]
            P[:, i] = np.clip(P[:, i], lo, hi)
    return P


# ----------------------------------------------------------------------------------------------
# camera path and nuisances


def _camera_path(rng, sc, t: np.ndarray, b: _Builder) -> dict:
    n = t.size
    cp = {k: np.zeros(n) for k in ("daz", "del", "ddist", "droll", "dfov", "tx", "ty", "tz",
                                   "jyaw", "jpitch", "jroll", "blur")}  # fmt: skip
    T = b.T
    mode = sc["camera_mode"]
    rows = []
    if mode == "handheld":
        trem = _u(rng, 0.08, 0.5)
        sway = _u(rng, 0.3, 2.0)
        cp["jyaw"] = np.radians(trem * _bandnoise(rng, t, 4, 12) + sway * _bandnoise(
            rng, t, 0.2, 1.5))
        cp["jpitch"] = np.radians(trem * _bandnoise(rng, t, 4, 12) + sway * _bandnoise(
            rng, t, 0.2, 1.5))
        cp["jroll"] = np.radians(0.5 * trem * _bandnoise(rng, t, 3, 10) + sway * _bandnoise(
            rng, t, 0.1, 0.8))
        drift = _u(rng, 0.01, 0.04)
        cp["tx"] += drift * _bandnoise(rng, t, 0.03, 0.3)
        cp["ty"] += drift * _bandnoise(rng, t, 0.03, 0.3)
        cp["ddist"] += 0.08 * _bandnoise(rng, t, 0.02, 0.2)
        sc["tremor_deg"] = round(trem, 3)
        sc["sway_deg"] = round(sway, 3)
        sc["drift_m"] = round(drift, 4)
        n_re = rng.poisson(_u(rng, 0.5, 2.0) * T / 60)
        for t0 in np.sort(rng.uniform(0, T, n_re)):
            d = _u(rng, 0.5, 2.0)
            s, _ = b.sl(t0, T + 1)
            w = _ease((t[s] - t0) / d)
            dx, dy = _u(rng, -0.12, 0.12), _u(rng, -0.12, 0.12)
            daz, del_ = _u(rng, -10, 10), _u(rng, -6, 6)
            cp["tx"][s] += dx * w
            cp["ty"][s] += dy * w
            cp["daz"][s] += daz * w
            cp["del"][s] += del_ * w
            cp["ddist"][s] += _u(rng, -0.15, 0.15) * w
            size = min(1.0, (abs(dx) + abs(dy)) * 4 + abs(daz) / 20)
            rows.append((t0, d, "camera_reframe", size))
        n_zoom = rng.poisson(_u(rng, 0.0, 0.5) * T / 60)
        for t0 in np.sort(rng.uniform(0, T, n_zoom)):
            d = _u(rng, 0.5, 1.5)
            s, _ = b.sl(t0, T + 1)
            z = _u(rng, -0.25, 0.2)
            cp["dfov"][s] += z * _ease((t[s] - t0) / d)
            rows.append((t0, d, "camera_zoom", min(1.0, abs(z) * 3)))
    else:
        sc.update(tremor_deg=0.0, sway_deg=0.0, drift_m=0.0)
        n_b = rng.poisson((0.08 if sc["device"] != "phone" else 0.05) * T / 60)
        for t0 in np.sort(rng.uniform(0, T, n_b)):
            d = _u(rng, 0.1, 0.4)
            s, _ = b.sl(t0, T + 1)
            w = _ease((t[s] - t0) / d)
            cp["daz"][s] += _u(rng, -2, 2) * w
            cp["del"][s] += _u(rng, -1.5, 1.5) * w
            cp["tx"][s] += _u(rng, -0.02, 0.02) * w
            rows.append((t0, d, "camera_bump", 0.3))
        if sc["device"] == "ward_camera" and rng.random() < 0.15:
            t0 = _u(rng, 0, T)
            d = _u(rng, 1.0, 3.0)
            s, _ = b.sl(t0, T + 1)
            w = _ease((t[s] - t0) / d)
            cp["dfov"][s] += _u(rng, -0.3, 0.2) * w
            cp["daz"][s] += _u(rng, -8, 8) * w
            rows.append((t0, d, "camera_ptz_move", 0.6))
    if sc["device"] == "phone":
        n_f = rng.poisson(_u(rng, 0.0, 0.5) * T / 60)
        for t0 in np.sort(rng.uniform(0, T, n_f)):
            d = _u(rng, 0.3, 1.2)
            s, tt = b.sl(t0, t0 + d)
            cp["blur"][s] = np.maximum(cp["blur"][s], _u(rng, 1.5, 4.0) * np.sin(np.pi * tt / d))
            rows.append((t0, d, "focus_hunt", 0.3))
    for t0, d, name, amp in rows:
        b.row(t0, d, name, amp)
    return cp


def _light_path(rng, sc, t: np.ndarray, b: _Builder) -> tuple[np.ndarray, list]:
    """Per-frame global gain (scene light x auto-exposure x flicker) and shadow passes."""
    T = b.T
    light = np.full(t.size, sc["scene_light"])
    n_l = rng.poisson(_u(rng, 0.0, 0.3) * T / 60)
    for t0 in np.sort(rng.uniform(0, T, n_l)):
        f = _u(rng, 0.6, 1.6)
        s, tt = b.sl(t0, T + 1)
        light[s] *= 1.0 + (f - 1.0) * _ease(tt / _u(rng, 0.05, 0.5))
        b.row(t0, 0.5, "light_change", min(1.0, abs(math.log(f))))
    shadows = []
    n_s = rng.poisson(_u(rng, 0.0, 0.5) * T / 60)
    for t0 in np.sort(rng.uniform(0, T, n_s)):
        d = _u(rng, 1.5, 4.0)
        shadows.append({"t0": float(t0), "dur": d, "strength": _u(rng, 0.15, 0.4),
                        "y": _u(rng, 0.1, 0.9), "dir": _pick(rng, (-1.0, 1.0)),
                        "size": _u(rng, 0.3, 0.7)})
        b.row(t0, d, "shadow_pass", 0.3)
    # auto exposure: gain follows the inverse of the light with a lag
    target = sc["scene_light"] / light
    g = np.empty_like(target)
    g[0] = 1.0
    tau = sc["auto_exposure_tau_s"]
    dts = np.diff(t, prepend=t[0])
    for i in range(1, t.size):
        a = 1.0 - math.exp(-dts[i] / tau)
        g[i] = g[i - 1] + a * (target[i] - g[i - 1])
    gain = light * (1.0 + sc["auto_exposure_strength"] * (g - 1.0)) * sc["camera_gain"]
    amp, fb = sc["flicker"]
    if amp > 0:
        gain *= 1.0 + amp * np.sin(2 * np.pi * fb * t)
    return gain * sc["contrast"], shadows


# ----------------------------------------------------------------------------------------------
# geometry of the infant


class _Body:
    def __init__(self, sc: dict, pal: dict):
        k = sc["infant_length_m"] / 0.66
        self.k = k
        self.L_lumb, self.L_thor, self.L_neck = 0.09 * k, 0.13 * k, 0.035 * k
        self.head_ax = np.array([0.056, 0.068, 0.064]) * (0.85 + 0.15 * k)
        self.sw, self.hw = 0.072 * k, 0.045 * k
        self.ua, self.fa, self.hand = 0.10 * k, 0.085 * k, 0.045 * k
        self.th, self.sh, self.ft = 0.12 * k, 0.11 * k, 0.07 * k
        self.r_ua, self.r_fa, self.r_th, self.r_sh = 0.024 * k, 0.02 * k, 0.034 * k, 0.026 * k
        self.posture = sc["posture"]
        self.yaw0 = math.radians(sc["infant_yaw_deg"])
        self.roll0 = 0.0
        self.pitch0 = 0.0
        self.base = np.array([0.0, 0.0, 0.0])
        if self.posture == "side":
            self.roll0 = math.radians(sc["side_roll_deg"])
        elif self.posture == "seat":
            self.pitch0 = math.radians(sc["seat_recline_deg"])
            self.base = np.array([0.0, 0.0, 0.13])
        self.pal = pal
        self.cap = sc["eeg_cap"]
        long_sl = pal["sleeves_long"]
        c_arm = "cloth" if long_sl else "skin"
        c_leg = "skin" if pal["bare_legs"] else "cloth"
        self.colors = {"abdomen": "cloth", "chest": "cloth",
                       "diaper": "diaper" if pal["bare_legs"] else "cloth",
                       "neck": "skin", "head": "cap" if self.cap else "skin",
                       "face": "skin", "ua": "cloth", "fa": c_arm, "hand": "skin",
                       "th": c_leg, "sh": c_leg, "ft": "cloth2" if pal["socks"] else "skin"}
        # electrode sites (head frame: x left, y crown, z face) ~ 10-20 positions
        sites = [(0, 0.7, 0.7), (0, 1, 0), (0, 0.7, -0.7), (0.5, 0.6, 0.6), (-0.5, 0.6, 0.6),
                 (0.75, 0.65, 0), (-0.75, 0.65, 0), (0.5, 0.6, -0.6), (-0.5, 0.6, -0.6),
                 (0.95, 0.25, 0.1), (-0.95, 0.25, 0.1), (0.3, 0.35, -0.9), (-0.3, 0.35, -0.9),
                 (0.3, 0.45, 0.85), (-0.3, 0.45, 0.85), (0.85, 0.2, -0.45),
                 (-0.85, 0.2, -0.45)]  # fmt: skip
        self.sites = np.array([_unit(np.array(s, float)) for s in sites])

    @staticmethod
    def _limb(alpha: float, beta: float, side: float) -> tuple[np.ndarray, np.ndarray]:
        cb, sb, ca, sa = math.cos(beta), math.sin(beta), math.cos(alpha), math.sin(alpha)
        u = np.array([side * sa, -cb * ca, sb * ca])
        w = np.array([0.0, sb, cb])
        return u, w

    def pose(self, q: np.ndarray) -> dict:
        """Forward kinematics: world-space ellipsoids and named points for one frame."""
        d = math.radians
        tf, cf = d(q[CH["trunk_flex"]]), d(q[CH["chest_flex"]])
        lat, tw = d(q[CH["trunk_lat"]]), d(q[CH["trunk_twist"]])
        pitch = self.pitch0 + d(q[CH["root_pitch"]])
        if self.posture == "supine" and tf + cf < 0:
            pitch += -0.5 * (tf + cf)  # arching: the two ends share the bend
        Rw = _rz(self.yaw0 + d(q[CH["root_yaw"]])) @ _rx(pitch) @ _ry(
            self.roll0 + d(q[CH["root_roll"]]))
        R1 = _ry(tw / 2) @ _rz(-lat / 2) @ _rx(tf)
        R2 = R1 @ _ry(tw / 2) @ _rz(-lat / 2) @ _rx(cf)
        R3 = R2 @ _rx(d(q[CH["neck_flex"]])) @ _rz(-d(q[CH["neck_lat"]])) @ _ry(
            d(q[CH["head_turn"]]))
        k = self.k
        waist = R1 @ np.array([0, self.L_lumb, 0])
        neck_base = waist + R2 @ np.array([0, self.L_thor, 0])
        neck_top = neck_base + R3 @ np.array([0, self.L_neck, 0])
        head_c = neck_top + R3 @ np.array([0, 0.05 * k, 0.01 * k])
        br = q[CH["breath"]]
        pts = {"pelvis": np.zeros(3), "waist": waist, "neck_base": neck_base,
               "neck_top": neck_top, "head_c": head_c}
        # limbs in body frame
        for side, sg in (("l", 1.0), ("r", -1.0)):
            sh = neck_base + R2 @ np.array([sg * self.sw, -0.02 * k + q[CH["shrug_" + side]],
                                            -0.005])
            u, w = self._limb(d(q[CH["arm_a_" + side]]), d(q[CH["arm_b_" + side]]), sg)
            u, w = R2 @ u, R2 @ w
            tw_a = d(q[CH["arm_tw_" + side]])
            w = math.cos(tw_a) * w + math.sin(tw_a) * np.cross(u, w)
            e = d(q[CH["elbow_" + side]])
            f = math.cos(e) * u + math.sin(e) * w
            elbow = sh + u * self.ua
            wrist = elbow + f * self.fa
            pts.update({"sh_" + side: sh, "el_" + side: elbow, "wr_" + side: wrist,
                        "hd_" + side: wrist + f * self.hand})
            hip = np.array([sg * self.hw, -0.02 * k, -0.005])
            u, w = self._limb(d(q[CH["hip_a_" + side]]), d(q[CH["hip_b_" + side]]), sg)
            kn = d(q[CH["knee_" + side]])
            shank = math.cos(kn) * u - math.sin(kn) * w
            shank_w = math.sin(kn) * u + math.cos(kn) * w
            an = d(q[CH["ankle_" + side]])
            foot = math.cos(an) * shank + math.sin(an) * shank_w
            knee = hip + u * self.th
            ankle = knee + shank * self.sh
            pts.update({"hip_" + side: hip, "kn_" + side: knee, "an_" + side: ankle,
                        "ft_" + side: ankle + foot * self.ft})
        names = list(pts)
        P = np.array([pts[n] for n in names]) @ Rw.T + self.base
        W = dict(zip(names, P, strict=True))
        RW1, RW2, RW3 = Rw @ R1, Rw @ R2, Rw @ R3
        # trunk and head ellipsoids
        ell = []
        breath = 1.0 + 0.035 * br
        ab_ax = np.array([0.07, 0.075, 0.052 * (1 + 0.02 * br)]) * k
        ch_ax = np.array([0.078, 0.078, 0.055 * breath]) * k
        ell.append(("abdomen", (W["pelvis"] + W["waist"]) / 2 + RW1 @ np.array([0, 0.01, 0]),
                    RW1, ab_ax))
        ell.append(("chest", (W["waist"] + W["neck_base"]) / 2, RW2, ch_ax))
        ell.append(("diaper", W["pelvis"] + RW1 @ (np.array([0, -0.03, 0.0]) * k), RW1,
                    np.array([0.072, 0.06, 0.058]) * k))
        ell.append(("head", W["head_c"], RW3, self.head_ax * (1.04 if self.cap else 1.0)))
        low = []
        if self.posture != "seat":
            for _, c, R, ax in ell:
                M = (R * ax**2) @ R.T
                low.append(c[2] - math.sqrt(M[2, 2]))
            dz = -min(low) + q[CH["root_z"]]
        else:
            dz = q[CH["root_z"]]
        shift = np.array([q[CH["root_x"]], q[CH["root_y"]], dz])
        for n in W:
            W[n] = W[n] + shift
        ell = [(n, c + shift, R, ax) for n, c, R, ax in ell]
        if self.posture != "seat":
            rad = {"el": self.r_ua, "wr": self.r_fa, "hd": 0.018 * k, "kn": self.r_th,
                   "an": self.r_sh, "ft": 0.02 * k}
            for n in W:
                pre = n.split("_")[0]
                if pre in rad and W[n][2] < rad[pre]:
                    W[n] = W[n].copy()
                    W[n][2] = rad[pre]
        return {"W": W, "ell": ell, "R_head": RW3, "R_chest": RW2}


def _seg(p: np.ndarray, q: np.ndarray, r: float, over: float = 0.5) -> tuple:
    v = q - p
    ln = float(np.linalg.norm(v))
    v = v / ln if ln > 1e-9 else np.array([0, 0, 1.0])
    L = ln / 2 + r * over
    M = r * r * np.eye(3) + (L * L - r * r) * np.outer(v, v)
    return (p + q) / 2, M


def _ell_M(R: np.ndarray, ax: np.ndarray) -> np.ndarray:
    return (R * ax**2) @ R.T


# ----------------------------------------------------------------------------------------------
# camera


class _Cam:
    def __init__(self, sc: dict, target: np.ndarray):
        self.sc = sc
        self.W, self.H = sc["width"], sc["height"]
        self.target = target

    def at(self, cp: dict | None, i: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sc = self.sc
        g = (lambda k: 0.0) if cp is None else (lambda k: float(cp[k][i]))
        az = math.radians(sc["azimuth_deg"] + g("daz"))
        el = math.radians(min(89.5, sc["elevation_deg"] + g("del")))
        dist = sc["distance_m"] * (1.0 + g("ddist"))
        fov = math.radians(sc["fov_deg"]) * (1.0 + g("dfov"))
        tgt = self.target + np.array([g("tx"), g("ty"), g("tz")])
        away = np.array([math.cos(az), math.sin(az), 0.0])
        C = tgt + dist * np.array([math.cos(el) * away[0], math.cos(el) * away[1], math.sin(el)])
        fwd = _unit(tgt - C)
        up = _unit(-away * math.sin(el) + np.array([0, 0, 1.0]) * math.cos(el))
        y_c = -up
        x_c = np.cross(y_c, fwd)
        R = np.array([x_c, y_c, fwd])
        R = _rz(math.radians(sc["roll_deg"]) + g("jroll")) @ _rx(g("jpitch")) @ _ry(
            g("jyaw")) @ R
        f = 0.5 * max(self.W, self.H) / math.tan(fov / 2)
        K = np.array([[f, 0, self.W / 2], [0, f, self.H / 2], [0, 0, 1.0]])
        return K, R, -R @ C


def _project_points(K, R, tv, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Xc = X @ R.T + tv
    z = Xc[:, 2]
    uv = (Xc @ K.T)[:, :2] / np.maximum(z, 1e-6)[:, None]
    return uv, z


def _project_ellipsoids(K, R, tv, C: np.ndarray, M: np.ndarray):
    """Exact perspective outline of ellipsoids (centres C (n,3), shape M (n,3,3))."""
    cc = C @ R.T + tv
    Mc = np.einsum("ij,njk,lk->nil", R, M, R)
    G = Mc - cc[:, :, None] * cc[:, None, :]
    Cs = np.einsum("ij,njk,lk->nil", K, G, K)
    den = cc[:, 2] ** 2 - Mc[:, 2, 2]
    ok = (den > 1e-6) & (cc[:, 2] > 0.02)
    den = np.where(ok, den, 1.0)
    N = Cs / den[:, None, None]
    x0 = -N[:, :2, 2]
    S = N[:, :2, :2] + x0[:, :, None] * x0[:, None, :]
    p, q, r = S[:, 0, 0], S[:, 0, 1], S[:, 1, 1]
    disc = np.sqrt(((p - r) / 2) ** 2 + q * q)
    l1 = (p + r) / 2 + disc
    l2 = (p + r) / 2 - disc
    ang = 0.5 * np.degrees(np.arctan2(2 * q, p - r))
    a = np.sqrt(np.maximum(l1, 0))
    bb = np.sqrt(np.maximum(l2, 0))
    return x0, a, bb, ang, cc[:, 2], ok


# ----------------------------------------------------------------------------------------------
# static scene: texture of the lying surface, cot


SURF_SIZE = {"cot": (0.62, 1.22), "crib": (0.62, 1.22), "bed": (1.6, 2.0), "playmat": (1.0, 1.2),
             "floor": (1.2, 1.2)}  # fmt: skip


def _texture(rng, sc, pal) -> tuple[np.ndarray, float, float, dict]:
    mpp = 0.003
    half = 1.5
    n = int(2 * half / mpp)
    tint = np.asarray(sc["tint"])
    home = sc["setting"] == "home"
    floor = np.array(_pick(rng, ((150, 160, 165), (120, 150, 175), (90, 110, 130),
                                 (175, 180, 185), (70, 90, 110))), float)  # fmt: skip
    tex = np.empty((n, n, 3), np.float32)
    tex[:] = floor
    if home and rng.random() < 0.6:  # wooden planks
        pw = int(_u(rng, 0.08, 0.15) / mpp)
        for x0 in range(0, n, pw):
            tex[:, x0:x0 + pw] *= _u(rng, 0.85, 1.1)
            tex[:, x0:x0 + 2] *= 0.7
    tex += rng.normal(0, 6, (n, n, 1)).astype(np.float32)
    tex = cv2.GaussianBlur(tex, (0, 0), 6)  # far below the mattress: out of focus

    sw, sl = SURF_SIZE[sc["surface"]]
    if sc["surface"] == "bed":
        sw, sl = _u(rng, 1.2, 1.8), _u(rng, 1.8, 2.1)
    ox, oy = _u(rng, -0.05, 0.05), _u(rng, -0.05, 0.05)
    if sc["surface"] == "bed":
        ox, oy = _u(rng, -0.4, 0.4), _u(rng, -0.3, 0.3)
    surf = {"w": sw, "l": sl, "ox": ox, "oy": oy}

    def px(x, y):
        return int((x + half) / mpp), int((half - y) / mpp)

    base = np.array(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.0, 0.35), _u(rng, 0.75, 0.98)))
    if sc["surface"] == "floor":
        base = np.array(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.2, 0.7), _u(rng, 0.5, 0.9)))
    x0, y0 = px(ox - sw / 2, oy + sl / 2)
    x1, y1 = px(ox + sw / 2, oy - sl / 2)
    layer = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    layer[:] = base
    pattern = _pick(rng, ("plain", "dots", "stripes", "checks", "stars", "blobs"),
                    (0.3, 0.2, 0.15, 0.1, 0.1, 0.15))
    pc = np.array(_hsv_bgr(_u(rng, 0, 1), _u(rng, 0.3, 0.8), _u(rng, 0.5, 0.95)))
    hh, ww = layer.shape[:2]
    if pattern == "dots":
        step = int(_u(rng, 0.04, 0.1) / mpp)
        rad = max(2, int(step * _u(rng, 0.1, 0.25)))
        for yy in range(step // 2, hh, step):
            for xx in range((yy // step % 2) * step // 2, ww, step):
                cv2.circle(layer, (xx, yy), rad, pc.tolist(), -1, cv2.LINE_AA)
    elif pattern == "stripes":
        step = int(_u(rng, 0.03, 0.12) / mpp)
        wid = max(2, int(step * _u(rng, 0.2, 0.5)))
        for xx in range(0, ww + hh, step):
            cv2.line(layer, (xx, 0), (xx - hh, hh), pc.tolist(), wid, cv2.LINE_AA)
    elif pattern == "checks":
        step = int(_u(rng, 0.05, 0.15) / mpp)
        for yy in range(0, hh, step):
            for xx in range(0, ww, step):
                if (xx // step + yy // step) % 2:
                    blk = layer[yy:yy + step, xx:xx + step]
                    blk[:] = 0.85 * blk + 0.15 * pc
    elif pattern in ("stars", "blobs"):
        for _ in range(int(ww * hh / (0.12 / mpp) ** 2)):
            cx, cy = int(rng.uniform(0, ww)), int(rng.uniform(0, hh))
            r = int(_u(rng, 0.01, 0.04) / mpp)
            col = _hsv_bgr(_u(rng, 0, 1), _u(rng, 0.3, 0.8), _u(rng, 0.5, 0.95))
            if pattern == "stars":
                ang = np.linspace(0, 2 * np.pi, 11)[:-1] + _u(rng, 0, 1)
                rr = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
                poly = np.stack([cx + rr * np.cos(ang), cy + rr * np.sin(ang)], 1)
                cv2.fillPoly(layer, [poly.astype(np.int32)], col, cv2.LINE_AA)
            else:
                cv2.ellipse(layer, (cx, cy), (r, int(r * _u(rng, 0.4, 1))), _u(rng, 0, 180),
                            0, 360, col, -1, cv2.LINE_AA)
    # wrinkles / folds
    wr = np.zeros((hh, ww), np.float32)
    for _ in range(int(_u(rng, 8, 30))):
        p0 = np.array([rng.uniform(0, ww), rng.uniform(0, hh)])
        ang = _u(rng, 0, np.pi)
        pts = [p0 + np.array([math.cos(ang), math.sin(ang)]) * s * 40 + rng.normal(0, 8, 2)
               for s in range(int(_u(rng, 3, 8)))]
        cv2.polylines(wr, [np.array(pts, np.int32)], False, _u(rng, -1, 1),
                      int(_u(rng, 3, 9)), cv2.LINE_AA)
    wr = cv2.GaussianBlur(wr, (0, 0), 5)
    layer *= (1.0 + 0.12 * wr)[:, :, None]
    layer += rng.normal(0, 3, (hh, ww, 1)).astype(np.float32)
    # darker edge of the mattress
    edge = np.ones((hh, ww), np.float32)
    m = max(3, int(0.015 / mpp))
    edge[:m, :] = edge[-m:, :] = 0.75
    edge[:, :m] = edge[:, -m:] = 0.75
    layer *= cv2.GaussianBlur(edge, (0, 0), 2)[:, :, None]
    ys0, xs0 = max(y0, 0), max(x0, 0)
    ys1, xs1 = min(y1, n), min(x1, n)
    tex[ys0:ys1, xs0:xs1] = layer[ys0 - y0:ys1 - y0, xs0 - x0:xs1 - x0]
    # a few static objects on the surface: folded blanket, toy, EEG head box
    objs = []
    if rng.random() < 0.5:
        bx, by = ox + _u(rng, -0.2, 0.2) * sw, oy + _u(rng, 0.3, 0.45) * sl * _pick(rng, (-1, 1))
        p0, p1 = px(bx - 0.12, by + 0.08), px(bx + 0.12, by - 0.08)
        cv2.rectangle(tex, p0, p1, _hsv_bgr(_u(rng, 0, 1), 0.4, 0.8), -1)
        objs.append("blanket")
    if home and rng.random() < 0.5:
        tx, ty = ox + _u(rng, -0.4, 0.4) * sw, oy + _u(rng, -0.45, 0.45) * sl
        c = px(tx, ty)
        cv2.circle(tex, c, int(0.035 / mpp), pal["toy"][0], -1, cv2.LINE_AA)
        cv2.circle(tex, (c[0] + int(0.03 / mpp), c[1]), int(0.02 / mpp), pal["toy"][1], -1)
        objs.append("toy")
    if sc["setting"] == "veeg":
        hx, hy = ox + _u(rng, -0.3, 0.3) * sw, oy + 0.42 * sl
        p0, p1 = px(hx - 0.06, hy + 0.04), px(hx + 0.06, hy - 0.04)
        cv2.rectangle(tex, p0, p1, (60, 60, 65), -1)
        objs.append("eeg_headbox")
    tex *= tint.astype(np.float32)
    f_px = 0.5 * max(sc["width"], sc["height"]) / math.tan(math.radians(sc["fov_deg"]) / 2)
    tex_per_img_px = sc["distance_m"] / (f_px * mpp)
    tex = cv2.GaussianBlur(tex, (0, 0), max(0.7, sc["lens_blur_px"] * tex_per_img_px))
    surf["objects"] = objs
    surf["pattern"] = pattern
    return np.clip(tex, 0, 255).astype(np.uint8), mpp, half, surf


def _cot_geometry(rng, sc, surf, cam_pos: np.ndarray, infant_xy: np.ndarray) -> dict:
    if sc["surface"] not in ("cot", "crib"):
        return {"bars": np.zeros((0, 2, 3)), "rails": np.zeros((0, 2, 3)), "panels": []}
    w, ln, ox, oy = surf["w"], surf["l"], surf["ox"], surf["oy"]
    h = sc["cot_rail_h"]
    spacing = _u(rng, 0.06, 0.09)
    bars, rails = [], []
    lowered = _pick(rng, (None, -1.0, 1.0), (0.5, 0.25, 0.25))
    # a camera outside the cot and below its rails would film through a wall of bars:
    # that side is let down (a drop-side cot, or the parent lowered it)
    near = 1.0 if cam_pos[0] > ox else -1.0
    outside = abs(cam_pos[0] - ox) > w / 2
    if outside and cam_pos[2] < h + 0.25:
        lowered = near
    elif outside:
        # height at which the line of sight to the infant crosses the near side
        xs = ox + near * w / 2
        s = (xs - infant_xy[0]) / (cam_pos[0] - infant_xy[0])
        z_cross = 0.05 + s * (cam_pos[2] - 0.05)
        if z_cross < h and rng.random() < 0.6:
            lowered = near  # else: filmed through the bars
    for sx in (-1.0, 1.0):
        hs = h if lowered != sx else _u(rng, 0.1, 0.2)
        x = ox + sx * w / 2
        for y in np.arange(oy - ln / 2 + spacing / 2, oy + ln / 2, spacing):
            bars.append([[x, y, -0.04], [x, y, hs]])
        rails.append([[x, oy - ln / 2, hs], [x, oy + ln / 2, hs]])
        rails.append([[x, oy - ln / 2, -0.035], [x, oy + ln / 2, -0.035]])
    panels = []
    for sy in (-1.0, 1.0):
        y = oy + sy * ln / 2
        he = _u(rng, 0.3, 0.6)
        panels.append(np.array([[ox - w / 2, y, -0.04], [ox + w / 2, y, -0.04],
                                [ox + w / 2, y, he], [ox - w / 2, y, he]]))
    return {"bars": np.array(bars), "rails": np.array(rails), "panels": panels, "height": h,
            "spacing": spacing, "lowered_side": lowered}


# ----------------------------------------------------------------------------------------------
# renderer


class _Renderer:
    def __init__(self, rng, sc, pal, body: _Body, cam: _Cam, tex, mpp, half, cot, surf):
        self.rng = rng
        self.sc, self.pal, self.body, self.cam = sc, pal, body, cam
        self.W, self.H = sc["width"], sc["height"]
        self.tex, self.mpp, self.half = tex, mpp, half
        self.cot = cot
        self.surf = surf
        self.T_tex = np.array([[mpp, 0, -half + 0.5 * mpp], [0, -mpp, half - 0.5 * mpp],
                               [0, 0, 1.0]])
        self.bg_key = None
        self.bg = None
        ld = math.radians(sc["light_dir_deg"])
        self.light = np.array([math.cos(ld), math.sin(ld)]) * (0.0 if sc["ir_night_mode"]
                                                              else 1.0)
        self.scale = min(self.W, self.H) / 480.0
        # noise bank
        sig = sc["noise_sigma"]
        ch = 1 if sc["ir_night_mode"] else 3
        grain = sc["noise_grain_px"]
        self.noise = []
        for _ in range(6):
            nz = rng.normal(0, sig, (self.H + 16, self.W + 16, ch)).astype(np.float32)
            if grain > 0:
                nz = cv2.GaussianBlur(nz, (0, 0), grain) * (1.0 + 1.5 * grain)
            if nz.ndim == 3 and ch == 1:
                nz = nz[:, :, 0]
            elif nz.ndim == 2 and ch == 3:
                nz = nz[:, :, None]
            self.noise.append((np.clip(nz, 0, 255).astype(np.uint8),
                               np.clip(-nz, 0, 255).astype(np.uint8)))
        yy, xx = np.mgrid[0:self.H, 0:self.W].astype(np.float32)
        rr = ((xx - self.W / 2) ** 2 + (yy - self.H / 2) ** 2) / (0.25 * (self.W**2 + self.H**2))
        self.vig = (1.0 - sc["vignette"] * rr).astype(np.float32)
        self.yuv = np.full((self.H * 3 // 2, self.W), 128, np.uint8)
        self.wire_hist: list[tuple[float, np.ndarray]] = []
        self.mobile = None
        if sc["mobile_toy"]:
            self.mobile = {"z": _u(rng, 0.35, 0.5), "r": _u(rng, 0.08, 0.14),
                           "f": _u(rng, 0.05, 0.2), "swing": _u(rng, 0.01, 0.04),
                           "n": int(rng.integers(3, 6)), "phase": _u(rng, 0, 6.28)}
        self.parent = None
        if sc["parent_alongside"]:
            self.parent = {"side": _pick(rng, (-1.0, 1.0)), "gap": _u(rng, 0.22, 0.35),
                           "shift_f": _u(rng, 0.01, 0.04)}
        self.wires = None
        if body.cap:
            nstr = int(rng.integers(2, 5))
            self.wires = {"n": nstr, "wiggle": rng.uniform(-1, 1, (nstr, 3)) * 0.04,
                          "lag": _u(rng, 0.2, 0.6), "end_side": _u(rng, -0.25, 0.25),
                          "offs": rng.normal(0, 0.006, (nstr, 2))}
        self.carer_arm = (0.30, 0.27)

    # -- background ---------------------------------------------------------------------------
    def _background(self, K, R, tv) -> np.ndarray:
        Hm = K @ np.column_stack([R[:, 0], R[:, 1], tv])
        Hi = Hm @ self.T_tex
        moving = self.sc["camera_mode"] == "handheld"
        if moving and self.W * self.H > 300_000:
            # a moving view is re-warped every frame: warp at half size, then enlarge
            hw, hh = self.W // 2, self.H // 2
            Hs = np.diag([hw / self.W, hh / self.H, 1.0]) @ Hi
            small = cv2.warpPerspective(self.tex, Hs, (hw, hh), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)
            img = cv2.resize(small, (self.W, self.H), interpolation=cv2.INTER_LINEAR)
        else:
            img = cv2.warpPerspective(self.tex, Hi, (self.W, self.H), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REPLICATE)
        # far cot panels and far bars
        for P in self.cot["panels"]:
            uv, z = _project_points(K, R, tv, P)
            if np.all(z > 0.05):
                mid = P.mean(0) @ R.T + tv
                if mid[2] > self._ref_depth:
                    cv2.fillPoly(img, [np.round(uv * 16).astype(np.int32)], self.pal["panel"],
                                 cv2.LINE_AA, 4)
        self._draw_lines(img, K, R, tv, far=True)
        if moving:
            return img
        if self.sc["vignette"] > 0:
            img = (img * self.vig[:, :, None]).astype(np.uint8)
        s = self.sc["lens_blur_px"]
        if s > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), s)
        return img

    def _line_set(self):
        segs = []
        if len(self.cot["bars"]):
            segs.append((self.cot["bars"], 0.011))
            segs.append((self.cot["rails"], 0.016))
        return segs

    def _draw_lines(self, img, K, R, tv, far: bool, items: list | None = None) -> None:
        f = K[0, 0]
        for segs, rad in self._line_set():
            A = segs[:, 0, :]
            B = segs[:, 1, :]
            ua, za = _project_points(K, R, tv, A)
            ub, zb = _project_points(K, R, tv, B)
            mz = (((A + B) / 2) @ R.T + tv)[:, 2]
            sel = (za > 0.05) & (zb > 0.05) & ((mz > self._ref_depth) == far)
            th = np.maximum(1, np.round(2 * rad * f / np.maximum(mz, 1e-3))).astype(int)
            ia = np.round(ua * 16).astype(int).tolist()
            ib = np.round(ub * 16).astype(int).tolist()
            col = self.pal["bars"]
            for j in np.nonzero(sel)[0].tolist():
                if items is None:
                    cv2.line(img, ia[j], ib[j], col, int(th[j]), cv2.LINE_AA, 4)
                else:
                    items.append((float(mz[j]), 3, (ia[j], ib[j], int(th[j]), col)))

    # -- one frame ----------------------------------------------------------------------------
    def frame(self, q: np.ndarray, K, R, tv, t: float, carers: list,
              blur_extra: float) -> np.ndarray:
        W, H = self.W, self.H
        bd = self.body.pose(q)
        Wp = bd["W"]
        self.last_points = np.array([Wp[n] for n in KEYPOINTS])
        self._ref_depth = float((self.cam.target @ R.T + tv)[2]) + 0.05
        key = (np.round(K, 6).tobytes(), np.round(R, 7).tobytes(), np.round(tv, 6).tobytes())
        if key != self.bg_key:
            self.bg = self._background(K, R, tv)
            self.bg_key = key
        img = self.bg.copy()

        C, M, col, kinds = [], [], [], []
        pal = self.pal
        body = self.body

        def add(c, m, color, kind=0):
            C.append(c)
            M.append(m)
            col.append(color)
            kinds.append(kind)

        for name, c, Rr, ax in bd["ell"]:
            add(c, _ell_M(Rr, ax), pal[body.colors[name]])
            if name == "head" and not body.cap:  # hair: shows at the top and back of the head
                add(c + Rr @ (np.array([0, 0.012, -0.012]) * body.k), _ell_M(Rr, ax),
                    pal["hair"])
        k = body.k
        skin = np.array(pal["skin"])
        red = float(q[CH["redness"]])
        face_col = tuple(skin * (1 - 0.25 * red) + np.array([60, 60, 230]) * 0.25 * red)
        add(*_seg(Wp["neck_base"], Wp["neck_top"], 0.028 * k, 0.3), pal["skin"])
        for s in ("l", "r"):
            add(*_seg(Wp["sh_" + s], Wp["el_" + s], body.r_ua), pal[body.colors["ua"]])
            add(*_seg(Wp["el_" + s], Wp["wr_" + s], body.r_fa), pal[body.colors["fa"]])
            add(*_seg(Wp["wr_" + s], Wp["hd_" + s], 0.018 * k, 0.8), pal["skin"])
            add(*_seg(Wp["hip_" + s], Wp["kn_" + s], body.r_th), pal[body.colors["th"]])
            add(*_seg(Wp["kn_" + s], Wp["an_" + s], body.r_sh), pal[body.colors["sh"]])
            add(*_seg(Wp["an_" + s], Wp["ft_" + s], 0.02 * k, 0.8), pal[body.colors["ft"]])
        n_body = len(C)
        # face and features (only when the face is towards the camera)
        Rh = bd["R_head"]
        hc = Wp["head_c"]
        cam_pos = -R.T @ tv
        to_cam = _unit(cam_pos - hc)
        face_n = Rh[:, 2]
        facing = float(face_n @ to_cam)
        hax = body.head_ax
        if facing > -0.2:
            fc = hc + Rh @ np.array([0, -0.012, hax[2] * 0.62])
            add(fc, _ell_M(Rh, np.array([0.043, 0.046, 0.022]) * k), face_col)
            if facing > 0.15:
                eo = float(q[CH["eyes"]])
                gz = float(q[CH["gaze"]])
                for sx in (-1, 1):
                    ec = hc + Rh @ np.array([sx * 0.018 * k, (0.004 + 0.004 * gz) * k,
                                             hax[2] * 0.93])
                    add(ec, _ell_M(Rh, np.array([0.0075, 0.0015 + 0.0045 * eo, 0.002]) * k),
                        pal["eye"], 1)
                mo = float(q[CH["mouth"]])
                mc = hc + Rh @ np.array([0, -0.03 * k, hax[2] * 0.88])
                add(mc, _ell_M(Rh, np.array([0.008 + 0.006 * mo, 0.002 + 0.01 * mo, 0.002]) * k),
                    pal["mouth"], 1)
        # caregivers, bottle, parent, mobile, seat
        extra_first = len(C)
        self._carers(add, carers, t, Wp, bd)
        self._extras(add, t, Wp)
        items: list = []
        Carr = np.array(C)
        Marr = np.array(M)
        x0, a, bb, ang, depth, ok = _project_ellipsoids(K, R, tv, Carr, Marr)
        for j in range(len(C)):
            if ok[j]:
                # kind 4 (the infant seat) is always behind the infant
                items.append((depth[j] + (10.0 if kinds[j] == 4 else 0.0), 0, j))
        # electrodes and wires
        if body.cap:
            self._electrodes(items, K, R, tv, hc, Rh, hax, to_cam)
            self._wires(items, K, R, tv, Wp, Rh, hax, t)
        self._draw_lines(None, K, R, tv, far=False, items=items)
        # contact shadow on the mattress
        if body.posture != "seat":
            self._shadow(img, K, R, tv, Carr[:n_body], Marr[:n_body])
        items.sort(key=lambda it: -it[0])
        lx, ly = self.light
        for _, typ, pay in items:
            if typ == 0:
                j = pay
                self._ellipse(img, x0[j], a[j], bb[j], ang[j], col[j], kinds[j], lx, ly)
            elif typ == 1:
                ua, ub, th, colr = pay
                cv2.line(img, (int(ua[0] * 16), int(ua[1] * 16)), (int(ub[0] * 16),
                         int(ub[1] * 16)), colr, th, cv2.LINE_AA, 4)
            elif typ == 3:  # already in fixed point
                ia, ib, th, colr = pay
                cv2.line(img, ia, ib, colr, th, cv2.LINE_AA, 4)
            else:
                (u, v), rad, colr = pay
                cv2.circle(img, (int(u * 16), int(v * 16)), int(rad * 16), colr, -1,
                           cv2.LINE_AA, 4)
        # soften the body region (soft volumes + lens blur)
        sel = ok.copy()
        sel[extra_first:] = sel[extra_first:] & False
        if sel.any():
            xs = np.concatenate([x0[sel, 0] - a[sel], x0[sel, 0] + a[sel]])
            ys = np.concatenate([x0[sel, 1] - a[sel], x0[sel, 1] + a[sel]])
            m = 6
            xa, xb = int(max(0, xs.min() - m)), int(min(W, xs.max() + m))
            ya, yb = int(max(0, ys.min() - m)), int(min(H, ys.max() + m))
            if xb - xa > 4 and yb - ya > 4:
                sg = max(0.6, self.sc["lens_blur_px"])
                ks = 3 if sg < 0.9 else (5 if sg < 1.5 else 7)
                img[ya:yb, xa:xb] = cv2.GaussianBlur(img[ya:yb, xa:xb], (ks, ks), sg)
        if blur_extra > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), blur_extra * max(self.scale, 0.5))
        return img

    def _ellipse(self, img, c, a, b, ang, col, kind, lx, ly) -> None:
        if a < 0.35:
            return
        cx, cy = c
        if kind == 1 or a < 2.0:
            cv2.ellipse(img, (int(cx * 16), int(cy * 16)),
                        (max(1, int(a * 16)), max(1, int(b * 16))), float(ang), 0, 360, col,
                        -1, cv2.LINE_AA, 4)
            return
        if kind == 2:  # hair: flat and slightly darker
            cv2.ellipse(img, (int(cx * 16), int(cy * 16)), (int(a * 16), int(b * 16)),
                        float(ang), 0, 360, col, -1, cv2.LINE_AA, 4)
            return
        dark = (col[0] * 0.62, col[1] * 0.62, col[2] * 0.62)
        cv2.ellipse(img, (int(cx * 16), int(cy * 16)), (int(a * 16), int(b * 16)), float(ang), 0,
                    360, dark, -1, cv2.LINE_AA, 4)
        mb = min(a, b)
        ox, oy = lx * 0.16 * mb, ly * 0.16 * mb
        cv2.ellipse(img, (int((cx + ox) * 16), int((cy + oy) * 16)),
                    (int(a * 0.8 * 16), int(b * 0.78 * 16)), float(ang), 0, 360, col, -1,
                    cv2.LINE_AA, 4)
        if mb > 3.0:
            hi = (min(255, col[0] * 1.12 + 14), min(255, col[1] * 1.12 + 14),
                  min(255, col[2] * 1.12 + 14))
            cv2.ellipse(img, (int((cx + 2.2 * ox) * 16), int((cy + 2.2 * oy) * 16)),
                        (int(a * 0.42 * 16), int(b * 0.4 * 16)), float(ang), 0, 360, hi, -1,
                        cv2.LINE_AA, 4)

    def _shadow(self, img, K, R, tv, C, M) -> None:
        Cs = C.copy()
        low = Cs[:, 2] - np.sqrt(np.maximum(M[:, 2, 2], 0))
        keep = low < 0.05
        if not keep.any():
            return
        Cs = Cs[keep]
        Ms = M[keep].copy()
        Cs[:, 2] = 0.001
        Ms[:, 2, :] *= 0.02
        Ms[:, :, 2] *= 0.02
        Ms[:, :2, :2] *= 1.25
        x0, a, b, ang, _, ok = _project_ellipsoids(K, R, tv, Cs, Ms)
        if not ok.any():
            return
        xs = np.concatenate([x0[ok, 0] - a[ok], x0[ok, 0] + a[ok]])
        ys = np.concatenate([x0[ok, 1] - a[ok], x0[ok, 1] + a[ok]])
        xa, xb = int(max(0, xs.min() - 4)), int(min(self.W, xs.max() + 4))
        ya, yb = int(max(0, ys.min() - 4)), int(min(self.H, ys.max() + 4))
        if xb - xa < 3 or yb - ya < 3:
            return
        roi = img[ya:yb, xa:xb]
        dark = roi.copy()
        for j in np.nonzero(ok)[0]:
            cv2.ellipse(dark, (int((x0[j, 0] - xa) * 16), int((x0[j, 1] - ya) * 16)),
                        (max(1, int(a[j] * 16)), max(1, int(b[j] * 16))), float(ang[j]), 0, 360,
                        (0, 0, 0), -1, cv2.LINE_AA, 4)
        st = 0.15 if self.sc["ir_night_mode"] else 0.3
        cv2.addWeighted(roi, 1 - st, dark, st, 0, dst=roi)

    def _electrodes(self, items, K, R, tv, hc, Rh, hax, to_cam) -> None:
        pts = hc + (self.body.sites * hax * 1.04) @ Rh.T
        nrm = (self.body.sites / hax) @ Rh.T
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        vis = nrm @ to_cam > 0.2
        if not vis.any():
            return
        uv, z = _project_points(K, R, tv, pts[vis])
        f = K[0, 0]
        for j in range(len(z)):
            items.append((z[j] - 0.001, 2, (uv[j], max(0.6, 0.0055 * f / z[j]),
                                            self.pal["electrode"])))

    def _wires(self, items, K, R, tv, Wp, Rh, hax, t) -> None:
        wi = self.wires
        anchor = Wp["head_c"] + Rh @ (np.array([0, 0.55, -0.83]) * hax)
        self.wire_hist.append((t, anchor))
        while len(self.wire_hist) > 2 and self.wire_hist[1][0] < t - 2.0:
            self.wire_hist.pop(0)
        ht = np.array([h[0] for h in self.wire_hist])
        ha = np.array([h[1] for h in self.wire_hist])
        # far end: beyond the head along the body axis, on the surface, then out of view
        yaw = self.body.yaw0
        ax_dir = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
        perp = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        end = Wp["pelvis"] * np.array([1, 1, 0]) + ax_dir * (0.62 * self.body.k + 0.35) \
            + perp * wi["end_side"] + np.array([0, 0, 0.25])
        s = np.linspace(0, 1, 9)
        f = K[0, 0]
        tl = t - wi["lag"] * s  # points further down the wire follow the head later
        a_l = np.stack([np.interp(tl, ht, ha[:, d]) for d in range(3)], 1)
        base = (1 - s)[:, None] * a_l + s[:, None] * end
        sag = np.sin(np.pi * np.minimum(s * 1.4, 1.0))
        allp = []
        for j in range(wi["n"]):
            p = base + perp[None, :] * (wi["wiggle"][j, 0] * np.sin(np.pi * s * 2 + j)
                                        + wi["offs"][j, 0] * (1 - s * 0.5))[:, None]
            # lies on the mattress in the middle part, rises at the end
            z = np.maximum(0.004, p[:, 2] - sag * 0.12 + wi["offs"][j, 1])
            p[:, 2] = np.where(s < 0.85, z, p[:, 2])
            allp.append(p)
        pts = np.concatenate(allp)
        uv, z = _project_points(K, R, tv, pts)
        iu = np.round(uv * 16).astype(int).tolist()
        th = np.maximum(1, np.round(0.004 * f / np.maximum(z, 1e-3))).astype(int).tolist()
        zz = z.tolist()
        n = len(s)
        for j in range(wi["n"]):
            col = self.pal["wires"][j % 4]
            for i in range(j * n, j * n + n - 1):
                if zz[i] < 0.05 or zz[i + 1] < 0.05:
                    continue
                items.append(((zz[i] + zz[i + 1]) / 2 + 0.002, 3, (iu[i], iu[i + 1], th[i], col)))

    def _carers(self, add, carers, t, Wp, bd) -> None:
        pal = self.pal
        for cg in carers:
            if not cg["t0"] <= t < cg["t1"]:
                continue
            tt = t - cg["t0"]
            app, act, ret = cg["approach_s"], cg["act_s"], cg["return_s"]
            w = float(_pulse(np.array([tt]), app, act, ret)[0])
            yaw = self.body.yaw0
            perp = np.array([math.cos(yaw), math.sin(yaw), 0.0])
            ax_dir = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
            pel = Wp["pelvis"]
            for hi, hand in enumerate(cg["hands"]):
                side = cg["side"]
                shoulder = pel * np.array([1, 1, 0]) + perp * side * 0.55 + ax_dir * (
                    cg["along"] + 0.1 * hi) + np.array([0, 0, cg["height"]])
                at = hand["at"]
                tgt = {"armpit_l": Wp["sh_l"] - ax_dir * 0.03, "armpit_r": Wp["sh_r"]
                       - ax_dir * 0.03, "ankles": (Wp["an_l"] + Wp["an_r"]) / 2,
                       "pelvis": pel, "chest": (Wp["waist"] + Wp["neck_base"]) / 2,
                       "belly": Wp["waist"], "head": Wp["head_c"],
                       "mouth": Wp["head_c"] + bd["R_head"][:, 2] * 0.07,
                       "bottle": Wp["head_c"] + bd["R_head"][:, 2] * 0.16
                       + np.array([0, 0, 0.05]),
                       "beside": pel + perp * side * 0.2}.get(at, pel)  # fmt: skip
                tgt = tgt + np.array([0, 0, 0.035])
                if "pat_hz" in hand:
                    tgt = tgt + np.array([0, 0, 0.012 * max(0, math.sin(2 * math.pi
                                                                       * hand["pat_hz"] * tt))])
                if "wipe_hz" in hand:
                    tgt = tgt + perp * 0.03 * math.sin(2 * math.pi * hand["wipe_hz"] * tt)
                if "stroke_hz" in hand:
                    tgt = tgt + ax_dir * 0.04 * math.sin(2 * math.pi * hand["stroke_hz"] * tt)
                start = shoulder + (tgt - shoulder) * 0.25 + np.array([0, 0, 0.1])
                hand_p = start + (tgt - start) * w
                self._arm(add, shoulder, hand_p, pal)
                if at == "bottle":
                    bdir = _unit(bd["R_head"][:, 2] + np.array([0, 0, 0.6]))
                    mouth = Wp["head_c"] + bd["R_head"][:, 2] * 0.06
                    b0 = mouth + (hand_p - mouth) * (1 - w) + bdir * 0.01
                    add(*_seg(b0, b0 + bdir * 0.14, 0.03, 0.3), pal["bottle"])

    def _arm(self, add, S, Hd, pal) -> None:
        l1, l2 = self.carer_arm
        v = Hd - S
        d = float(np.linalg.norm(v))
        u = v / max(d, 1e-6)
        d = min(d, l1 + l2 - 1e-3)
        Hd = S + u * d
        a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
        h = math.sqrt(max(l1 * l1 - a * a, 0.0))
        pole = np.array([0, 0, -1.0]) + 0.5 * np.array([u[1], -u[0], 0])
        pv = _unit(pole - (pole @ u) * u)
        E = S + u * a + pv * h
        add(*_seg(S, E, 0.045), pal["carer_sleeve"])
        add(*_seg(E, Hd, 0.037), pal["carer_skin"])
        fd = _unit(Hd - E)
        hc = Hd + fd * 0.045
        M = 0.026**2 * np.eye(3) + (0.06**2 - 0.026**2) * np.outer(fd, fd)
        side = _unit(np.cross(fd, np.array([0, 0, 1.0])))
        M += (0.045**2 - 0.026**2) * np.outer(side, side)
        add(hc, M, pal["carer_skin"])

    def _extras(self, add, t, Wp) -> None:
        pal = self.pal
        body = self.body
        yaw = body.yaw0
        perp = np.array([math.cos(yaw), math.sin(yaw), 0.0])
        ax_dir = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
        if body.posture == "seat":
            R = _rz(yaw) @ _rx(body.pitch0)
            c = body.base + R @ np.array([0, 0.12, -0.07])
            add(c, _ell_M(R, np.array([0.16, 0.3, 0.05])), pal["seat"], 4)
            c2 = body.base + _rz(yaw) @ np.array([0, -0.12, -0.06])
            add(c2, _ell_M(_rz(yaw), np.array([0.15, 0.14, 0.04])), pal["seat"], 4)
        if self.parent is not None:
            p = self.parent
            off = 0.03 * math.sin(2 * math.pi * p["shift_f"] * t)
            br = 1 + 0.02 * math.sin(2 * math.pi * 0.25 * t)
            c = body.base + perp * p["side"] * (p["gap"] + 0.2 + off) + np.array([0, 0, 0.12])
            R = _rz(yaw)
            add(c + ax_dir * 0.1, _ell_M(R, np.array([0.2 * br, 0.4, 0.12 * br])),
                pal["parent"])
            self._arm(add, c + ax_dir * 0.35 + np.array([0, 0, 0.05]),
                      Wp["waist"] + perp * p["side"] * 0.09 + np.array([0, 0, 0.02]), pal)
        if self.mobile is not None:
            m = self.mobile
            top = Wp["waist"] * np.array([1, 1, 0]) + np.array([0, 0, m["z"]])
            for i in range(m["n"]):
                a = m["phase"] + 2 * math.pi * (m["f"] * t + i / m["n"])
                sw = m["swing"] * math.sin(2 * math.pi * 0.6 * t + i)
                c = top + np.array([math.cos(a) * m["r"] + sw, math.sin(a) * m["r"], -0.12])
                add(c, 0.03**2 * np.eye(3), pal["toy"][i % len(pal["toy"])])


# ----------------------------------------------------------------------------------------------
# encoder


class _Encoder:
    def __init__(self, path: Path, sc: dict):
        self.c = av.open(str(path), "w")
        rate = Fraction(sc["fps"]).limit_denominator(1000)
        s = self.c.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = sc["width"], sc["height"], "yuv420p"
        s.codec_context.time_base = Fraction(1, 90000)
        s.options = {"preset": sc["preset"], "crf": str(sc["crf"]), "threads": "1",
                     "g": str(sc["gop"]), "maxrate": f"{sc['maxrate_kbps']}k",
                     "bufsize": f"{2 * sc['maxrate_kbps']}k"}
        self.s = s

    def write(self, yuv: np.ndarray, t: float) -> None:
        fr = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        fr.pts = int(round(t * 90000))
        fr.time_base = Fraction(1, 90000)
        for p in self.s.encode(fr):
            self.c.mux(p)

    def close(self) -> None:
        for p in self.s.encode():
            self.c.mux(p)
        self.c.close()


# ----------------------------------------------------------------------------------------------
# main entry


def _to_builtin(x):
    if isinstance(x, dict):
        return {str(k): _to_builtin(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_to_builtin(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_to_builtin(v) for v in x.tolist()]
    if isinstance(x, (np.floating, float)):
        return round(float(x), 5)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def _image_angle(cam: _Cam, body: _Body, q0: np.ndarray) -> tuple[float, float]:
    K, R, tv = cam.at(None, None)
    bd = body.pose(q0)
    uv, _ = _project_points(K, R, tv, np.array([bd["W"]["pelvis"], bd["W"]["neck_base"],
                                                bd["W"]["head_c"]]))
    dx, dy = uv[1] - uv[0]
    ang = math.atan2(dx, -dy)  # 0: head up in the picture, positive: head towards the right
    length = float(np.linalg.norm(uv[2] - uv[0]))
    return ang, length


def _steer_axis(rng, sc, cam: _Cam, body: _Body, q0, request: str | None) -> bool:
    if request is None:
        return False
    req = request.strip().lower()
    targets = {"vertical": (0.0, math.pi), "horizontal": (math.pi / 2, -math.pi / 2),
               "oblique": (math.pi / 4, -math.pi / 4, 3 * math.pi / 4, -3 * math.pi / 4)}
    targets["diagonal"] = targets["oblique"]
    if req not in targets:
        return False
    goal = _pick(rng, targets[req]) + _u(rng, -0.15, 0.15)
    key, rng_span = ("roll_deg", np.linspace(-45, 45, 31)) if body.posture == "seat" else (
        "azimuth_deg", np.linspace(0, 360, 73)[:-1])
    base = sc[key]
    best = None
    for dv in rng_span:
        sc[key] = base + dv if key == "azimuth_deg" else dv
        a, _ = _image_angle(cam, body, q0)
        err = abs(math.atan2(math.sin(a - goal), math.cos(a - goal)))
        if best is None or err < best[0]:
            best = (err, sc[key])
    sc[key] = best[1]
    return True


def generate(out_dir, seed: int = 0, kind: str = "spasms", minutes: float = 5.0,
             camera: str | None = None, orientation: str | None = None,
             light: str | None = None, body_axis: str | None = None) -> Generated:
    """Draw and render one synthetic clip with its ground truth; see the module docstring."""
    _check_args(out_dir, seed, kind, minutes, camera, orientation, light, body_axis)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot create out_dir {out}: {exc.strerror}") from exc
    seed = int(seed)
    minutes = float(minutes)
    ss = np.random.SeedSequence([seed, 0x71D3])
    r_scene, r_time, r_pose, r_cam, r_tex, r_render = (np.random.default_rng(s)
                                                       for s in ss.spawn(6))
    sc = _draw_scene(r_scene, kind, minutes, camera, orientation, light, body_axis)
    sc["side_roll_deg"] = _pick(r_scene, (-1.0, 1.0)) * _u(r_scene, 75, 95)
    sc["seat_recline_deg"] = _u(r_scene, 35, 60)
    pal = _palette(r_scene, sc)
    duration = minutes * 60.0
    t, vfr = _frame_times(r_time, sc, duration)
    b, info = _build_pose(r_pose, sc, kind, t)
    P = _finalize_pose(b)
    body = _Body(sc, pal)
    # camera distance from the framing
    bd0 = body.pose(P[0])
    mid = (bd0["W"]["pelvis"] + bd0["W"]["neck_base"]) / 2
    w, h = sc["width"], sc["height"]
    f_px = 0.5 * max(w, h) / math.tan(math.radians(sc["fov_deg"]) / 2)
    extent = sc["infant_length_m"] * 1.05
    sc["distance_m"] = max(0.35, f_px * extent / (sc["frame_fill"] * min(w, h)))
    view_half = sc["distance_m"] * min(w, h) / (2 * f_px)
    target = mid + np.array([_u(r_scene, -0.25, 0.25) * view_half,
                             _u(r_scene, -0.25, 0.25) * view_half, 0.0])
    target[2] = 0.05 if sc["posture"] != "seat" else 0.2
    if sc["cot_rail_h"] > 0:  # film over the rails of a cot, not through them
        need = (sc["cot_rail_h"] + 0.15 - target[2]) / sc["distance_m"]
        if need > math.sin(math.radians(sc["elevation_deg"])):
            sc["elevation_deg"] = min(88.0, math.degrees(math.asin(min(1.0, need))))
    cam = _Cam(sc, target)
    sc["body_axis_applied"] = _steer_axis(r_scene, sc, cam, body, P[0], body_axis)
    cp = _camera_path(r_cam, sc, t, b)
    gain, shadows = _light_path(r_cam, sc, t, b)
    tex, mpp, half, surf = _texture(r_tex, sc, pal)
    K0, R0, t0 = cam.at(None, None)
    cot = _cot_geometry(r_tex, sc, surf, -R0.T @ t0, mid[:2])
    rend = _Renderer(r_render, sc, pal, body, cam, tex, mpp, half, cot, surf)
    ang, length_px = _image_angle(cam, body, P[0])
    if sc["mobile_toy"]:
        b.row(0.0, b.T, "mobile_toy", 0.2, **rend.mobile)
    if sc["parent_alongside"]:
        b.row(0.0, b.T, "parent_alongside", 0.3, **rend.parent)

    clip = out / "clip.mp4"
    enc = _Encoder(clip, sc)
    ir = sc["ir_night_mode"]
    off = sc["offset"]
    W, H = sc["width"], sc["height"]
    clock0 = _u(r_render, 0, 86400)
    kp = np.zeros((t.size, len(KEYPOINTS), 2), np.float32)
    try:
        for i in range(t.size):
            ti = float(t[i])
            K, R, tv = cam.at(cp, i)
            img = rend.frame(P[i], K, R, tv, ti, b.carers, float(cp["blur"][i]))
            kp[i] = _project_points(K0, R0, t0, rend.last_points)[0]
            for shd in shadows:
                if shd["t0"] <= ti < shd["t0"] + shd["dur"]:
                    _apply_shadow(img, shd, ti)
            if ir:
                g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                g = cv2.convertScaleAbs(g, alpha=float(gain[i]), beta=off)
                pos, neg = rend.noise[i % 6]
                dy, dx = (i * 7) % 16, (i * 11) % 16
                cv2.add(g, pos[dy:dy + H, dx:dx + W], dst=g)
                cv2.subtract(g, neg[dy:dy + H, dx:dx + W], dst=g)
                _clock(g, sc, clock0 + ti)
                rend.yuv[:H] = g
                enc.write(rend.yuv, ti)
            else:
                img = cv2.convertScaleAbs(img, alpha=float(gain[i]), beta=off)
                pos, neg = rend.noise[i % 6]
                dy, dx = (i * 7) % 16, (i * 11) % 16
                cv2.add(img, pos[dy:dy + H, dx:dx + W], dst=img)
                cv2.subtract(img, neg[dy:dy + H, dx:dx + W], dst=img)
                _clock(img, sc, clock0 + ti)
                enc.write(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420), ti)
    finally:
        enc.close()

    # events
    df = pd.DataFrame(b.rows, columns=EVENT_COLUMNS).sort_values(["onset", "trial_type"],
                                                                  kind="mergesort")
    df = df.reset_index(drop=True)
    df["cluster"] = df["cluster"].astype("Int64")
    ev_path = out / "events.tsv"
    df.to_csv(ev_path, sep="\t", index=False, na_rep="n/a")
    table = pd.read_csv(ev_path, sep="\t", na_values=["n/a"], keep_default_na=False)
    table["cluster"] = table["cluster"].astype("Int64")

    motion = _event_motion(t, kp, df)
    for sp in info["spasms"]:
        sp["motion_px"] = _event_motion(t, kp, pd.DataFrame([sp]))[0]
    spasms = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in sp.items()}
              for sp in info["spasms"]]
    clusters = []
    for c in info["clusters"]:
        clusters.append({"index": c.get("index"), "n_spasms": c["n"],
                         "mean_interval_s": round(c["m"], 3),
                         "intervals_s": np.round(c["intervals"], 3).tolist(),
                         "first_onset_s": round(c["start"], 3), "on_waking": c["on_waking"],
                         "between_spasms": c["between"], "pattern": c.get("pattern"),
                         "style": c.get("style"), "base_amplitude": c.get("base_amplitude"),
                         "asymmetric": c.get("asymmetric"), "weaker_side": c.get("weaker_side"),
                         "amplitude_trend": c.get("trend")})
    truth = {
        "generator": VERSION, "seed": seed, "kind": kind, "minutes": minutes,
        "width": W, "height": H, "fps": sc["fps"], "variable_fps": sc["variable_fps"],
        "n_frames": int(t.size), "duration_s": round(float(b.T), 4),
        "frame_timing": vfr,
        "camera": {"mode": sc["camera_mode"], "device": sc["device"],
                   "elevation_deg": sc["elevation_deg"], "azimuth_deg": sc["azimuth_deg"],
                   "distance_m": sc["distance_m"], "fov_deg": sc["fov_deg"],
                   "roll_deg": sc["roll_deg"], "tremor_deg": sc["tremor_deg"],
                   "sway_deg": sc["sway_deg"], "drift_m": sc["drift_m"],
                   "target_m": target, "frame_fill": sc["frame_fill"]},
        "orientation": sc["orientation"], "light": sc["light"], "framing": sc["framing"],
        "body_rotation_rad": round(ang, 5), "infant_length_px": round(length_px, 2),
        "body_axis": body_axis, "body_axis_applied": sc["body_axis_applied"],
        "setting": sc["setting"], "posture": sc["posture"], "surface": sc["surface"],
        "infant": {"length_m": sc["infant_length_m"], "age_months": sc["age_months"],
                   "yaw_deg": sc["infant_yaw_deg"], "eeg_cap": sc["eeg_cap"],
                   "side_roll_deg": sc["side_roll_deg"] if sc["posture"] == "side" else None,
                   "seat_recline_deg": sc["seat_recline_deg"] if sc["posture"] == "seat"
                   else None, "habit": info["habit"], "fidgety": info["fidgety"],
                   "sleeves_long": pal["sleeves_long"], "socks": pal["socks"]},
        "lighting": {k: sc[k] for k in ("ir_night_mode", "scene_light", "contrast", "offset",
                                        "noise_sigma", "camera_gain", "tint", "flicker",
                                        "auto_exposure_tau_s", "auto_exposure_strength",
                                        "lens_blur_px", "vignette", "light_dir_deg")},
        "scene": {"timestamp_overlay": sc["timestamp_overlay"], "mobile_toy": sc["mobile_toy"],
                  "parent_alongside": sc["parent_alongside"],
                  "caregiver_rate_per_min": sc["caregiver_rate_per_min"],
                  "surface": {k: v for k, v in surf.items()},
                  "cot": {k: v for k, v in cot.items() if k not in ("bars", "rails", "panels")}},
        "encoder": {"codec": "h264", "pix_fmt": "yuv420p", "preset": sc["preset"],
                    "crf": sc["crf"], "gop": sc["gop"], "maxrate_kbps": sc["maxrate_kbps"],
                    "bufsize_kbits": 2 * sc["maxrate_kbps"]},
        "states": info["states"],
        "clusters": clusters,
        "spasms": spasms,
        "ordinary_details": b.detail,
        "caregivers": [{k: v for k, v in c.items()} for c in b.carers],
        "palette_bgr": {k: v for k, v in pal.items()},
        "n_spasms": len(spasms),
        "events_motion_px": motion,
        "event_counts": df["trial_type"].value_counts().to_dict(),
    }
    truth = _to_builtin(truth)
    tj = out / "truth.json"
    tj.write_text(json.dumps(truth, indent=1))
    return Generated(clip=clip, events=ev_path, truth_json=tj, events_table=table, truth=truth)


def _event_motion(t: np.ndarray, kp: np.ndarray, df: pd.DataFrame) -> list[float]:
    """Largest image displacement (px, fixed camera) of any body keypoint from its position at
    the event's onset, over the event (the infant's own movement, camera motion excluded)."""
    out = []
    for on, du in zip(df["onset"].to_numpy(float), df["duration"].to_numpy(float), strict=True):
        i0 = min(int(np.searchsorted(t, on)), t.size - 1)
        i1 = max(i0 + 1, int(np.searchsorted(t, on + du)) + 1)
        d = np.linalg.norm(kp[i0:i1] - kp[i0][None], axis=2)
        out.append(round(float(d.max()), 2))
    return out


def _clock(img: np.ndarray, sc: dict, secs: float) -> None:
    """Burnt-in clock of a ward camera or baby monitor."""
    if not sc["timestamp_overlay"]:
        return
    s = int(secs)
    txt = f"{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
    fs = max(0.35, 0.45 * min(img.shape[:2]) / 480)
    cv2.putText(img, txt, (int(8 * fs / 0.45), int(24 * fs / 0.45)), cv2.FONT_HERSHEY_SIMPLEX,
                fs, (235, 235, 235), 1, cv2.LINE_AA)


def _apply_shadow(img: np.ndarray, shd: dict, t: float) -> None:
    H, W = img.shape[:2]
    x = (t - shd["t0"]) / shd["dur"]
    cx = (x if shd["dir"] > 0 else 1 - x) * 1.6 - 0.3
    sw, sh = max(8, W // 8), max(8, H // 8)
    mask = np.zeros((sh, sw), np.float32)
    cv2.ellipse(mask, (int(cx * sw), int(shd["y"] * sh)),
                (int(shd["size"] * sw * 0.5), int(shd["size"] * sh)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, sw / 12))
    m = cv2.resize(mask, (W, H), interpolation=cv2.INTER_LINEAR)
    f = (1.0 - shd["strength"] * m)[:, :, None]
    img[:] = (img * f).astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output folder (clip.mp4, events.tsv, truth.json)")
    ap.add_argument("--kind", default="spasms", choices=KINDS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--camera", choices=CAMERAS)
    ap.add_argument("--orientation", choices=ORIENTATIONS)
    ap.add_argument("--light", choices=LIGHTS)
    ap.add_argument("--body-axis", dest="body_axis")
    a = ap.parse_args(argv)
    try:
        g = generate(a.out, seed=a.seed, kind=a.kind, minutes=a.minutes, camera=a.camera,
                     orientation=a.orientation, light=a.light, body_axis=a.body_axis)
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tr = g.truth
    print(f"{g.clip}  {tr['width']}x{tr['height']} {tr['fps']} fps  {tr['n_frames']} frames  "
          f"{tr['n_spasms']} spasms  {len(g.events_table)} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

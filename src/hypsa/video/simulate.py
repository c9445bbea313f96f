"""Known-truth video: a procedurally drawn infant with ordinary movements, spasms and nuisances.

The infant lies on its back on a patterned blanket, seen from above: trunk (clothed, striped),
head (skin, with eyes and a mouth), two arms (sleeve, forearm, hand) and two legs (clothed thigh,
shin, foot), each limb articulated at shoulder/hip and elbow/knee. Its pose at each instant is a
rest pose plus the contributions of:

- ordinary movement: breathing (trunk width, 0.6-0.9 Hz), sucking bouts (mouth), alternating kick
  bouts (legs, 0.8-1.5 Hz), writhing general movements (every joint, smooth independent noise),
  crying bouts (mouth wide open, flailing), isolated startles (arms fling out and back in
  0.25-0.45 s, no held posture, never in series);
- spasms: a phasic contraction (0.1-0.25 s) into a flexor (head and trunk bend, arms come up and
  in, legs pull up), extensor (head back, arms out straight, legs straight) or mixed posture, held
  (tonic phase), then released; 0.5-2 s in all; symmetric or asymmetric (one side 30-60 %); in
  clusters (a spasm every 5-40 s);
- nuisances: a hand-held camera (slow pan, rotation and zoom, 3-8 Hz shake, sudden reframing), a
  caregiver's hand passing over the infant or handling it (moving the whole infant), light
  switched or a cloud passing (global gain), a shadow, H.264 compression, portrait framing and a
  variable frame rate.

The truth is written as a BIDS-style ``<stem>_events.tsv``: every spasm (``trial_type`` "spasm",
``eventType`` ``sz_gen_m_spasms``) and every ordinary movement or nuisance with its kind. With
``eeg=True`` the spasm timing comes from :func:`hypsa.simulate.simulate` with the same seed and
duration, and that EEG (same spasms on the same timeline) is written beside the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import ParameterError

__all__ = ["VideoSimulation", "plan_video", "simulate_video", "CONDITIONS"]

SPASM_EVENT = "sz_gen_m_spasms"
KINDS = ("flexor", "extensor", "mixed")
START = datetime(2024, 1, 1, 9, 0, 0)


@dataclass
class VideoSimulation:
    """What was simulated: the files and the truth.

    Attributes
    ----------
    video : Path
        The clip written.
    events : DataFrame
        ``onset, duration, trial_type, eventType, cluster, kind, symmetric`` (spasms and every
        ordinary movement or nuisance).
    eeg : Path or None
        The EEG written on the same timeline (``eeg=True``).
    params : dict
        The parameters drawn from the seed.
    """

    video: Path
    events: pd.DataFrame
    eeg: Path | None = None
    params: dict = field(default_factory=dict)

    @property
    def spasms(self) -> pd.DataFrame:
        """The spasm rows of :attr:`events`."""
        return self.events[self.events["trial_type"] == "spasm"].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# plan


def _bouts(rng, duration, rate_per_min, dur_range, kind, avoid=()):
    out = []
    t = rng.exponential(60.0 / rate_per_min) if rate_per_min > 0 else duration
    while t < duration - 1.0:
        d = float(rng.uniform(*dur_range))
        if all(t + d + 3.0 < a or t > b + 3.0 for a, b in avoid):
            out.append({"onset": float(t), "duration": min(d, duration - t), "trial_type": kind})
        t += d + rng.exponential(60.0 / rate_per_min)
    return out


def _own_clusters(rng, duration, n_clusters, per_cluster, interval):
    rows = []
    starts: list[float] = []
    for c in range(n_clusters):
        count = int(rng.integers(per_cluster[0], per_cluster[1] + 1))
        gaps = rng.uniform(interval[0], interval[1], max(count - 1, 0))
        span = float(gaps.sum()) + 3.0
        for _ in range(50):
            a = float(rng.uniform(10.0, max(10.5, duration - span - 10.0)))
            if all(abs(a - s) > span + 120.0 for s in starts):
                break
        starts.append(a)
        on = a + np.r_[0.0, np.cumsum(gaps)]
        for o in on[on < duration - 5.0]:
            rows.append({"onset": float(o), "duration": float(rng.uniform(0.5, 2.0)),
                         "cluster": c})
    return pd.DataFrame(rows, columns=["onset", "duration", "cluster"])


def plan_video(duration_s: float, *, n_clusters: int = 2, spasms: pd.DataFrame | None = None,
               handheld: bool = False, seed: int = 0,
               per_cluster: tuple[int, int] = (4, 12),
               interval: tuple[float, float] = (5.0, 40.0)) -> tuple[pd.DataFrame, dict]:
    """Plan what happens in a simulated clip.

    Parameters
    ----------
    duration_s : float
        Clip length (s).
    n_clusters : int
        Spasm clusters when ``spasms`` is not given (0: ordinary movement only).
    spasms : DataFrame, optional
        ``onset, duration, cluster`` of the spasms (e.g. from an EEG simulation).
    handheld : bool
        Hand-held camera (pan, shake, reframing) instead of a fixed one.
    seed : int
        Random seed.
    per_cluster : (int, int)
        Fewest and most spasms in a drawn cluster.
    interval : (float, float)
        Range of the intervals between the spasms of a drawn cluster (s).

    Returns
    -------
    events : DataFrame
        The truth (see :class:`VideoSimulation`).
    params : dict
        Per-clip drawn parameters (skin, clothing, posture, rates).
    """
    rng = np.random.default_rng([seed, 101])
    if spasms is None:
        spasms = _own_clusters(rng, duration_s, n_clusters, per_cluster, interval)
    sp = spasms[["onset", "duration", "cluster"]].copy().reset_index(drop=True)
    sp["trial_type"] = "spasm"
    sp["eventType"] = SPASM_EVENT
    sp["kind"] = rng.choice(KINDS, len(sp), p=[0.5, 0.25, 0.25]) if len(sp) else []
    sym = rng.random(len(sp)) < 0.8
    sp["symmetric"] = sym
    sp["side_gain"] = np.where(sym, rng.uniform(0.85, 1.0, len(sp)), rng.uniform(0.3, 0.6,
                                                                               len(sp)))
    sp["amp"] = rng.uniform(0.6, 1.0, len(sp))
    busy = [(o - 4.0, o + d + 2.0) for o, d in zip(sp["onset"], sp["duration"], strict=True)]
    rows = []
    rows += _bouts(rng, duration_s, rng.uniform(1.0, 2.5), (2.0, 15.0), "kicks", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.5, 1.5), (5.0, 40.0), "general_movements", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.3, 1.0), (5.0, 30.0), "sucking", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.05, 0.3), (5.0, 25.0), "crying", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.05, 0.15), (0.25, 0.45), "startle", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.1, 0.3), (2.0, 5.0), "hand_passing", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.05, 0.2), (1.5, 4.0), "handling", busy)
    rows += _bouts(rng, duration_s, rng.uniform(0.05, 0.2), (0.2, 3.0), "light_change")
    rows += _bouts(rng, duration_s, rng.uniform(0.05, 0.15), (2.0, 6.0), "shadow")
    if handheld:
        rows += _bouts(rng, duration_s, rng.uniform(0.2, 0.6), (0.3, 1.0), "camera_reframe")
    other = pd.DataFrame(rows, columns=["onset", "duration", "trial_type"])
    other["eventType"] = "n/a"
    ev = pd.concat([sp, other], ignore_index=True).sort_values("onset", kind="stable")
    ev = ev.reset_index(drop=True)
    params = {
        "seed": seed,
        "handheld": handheld,
        "skin": [float(v) for v in rng.uniform([0.55, 0.42, 0.32], [0.97, 0.82, 0.72])],
        "cloth": [float(v) for v in rng.uniform(0.2, 0.95, 3)],
        "cloth2": [float(v) for v in rng.uniform(0.2, 0.95, 3)],
        "blanket": [float(v) for v in rng.uniform(0.3, 0.95, 3)],
        "blanket2": [float(v) for v in rng.uniform(0.3, 0.95, 3)],
        "tilt_deg": float(rng.uniform(-25, 25)),
        "head_first": bool(rng.random() < 0.5),
        "breath_hz": float(rng.uniform(0.6, 0.9)),
        "size": float(rng.uniform(0.85, 1.1)),
    }
    return ev, params


# ---------------------------------------------------------------------------------------------
# motion of the pose


class _Smooth:
    """Smooth random signals (sum of sinusoids with random phases) for a few channels."""

    def __init__(self, rng, n, f_lo, f_hi, k=4):
        self.f = rng.uniform(f_lo, f_hi, (n, k))
        self.p = rng.uniform(0, 2 * np.pi, (n, k))
        self.a = rng.uniform(0.5, 1.0, (n, k))
        self.a /= self.a.sum(1, keepdims=True)

    def __call__(self, t):
        return (self.a * np.sin(2 * np.pi * self.f * t + self.p)).sum(1)


def _ramp(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _envelope(t, onset, dur, edge=0.8):
    """0..1 bout envelope with soft edges."""
    if t < onset or t > onset + dur:
        return 0.0
    e = min(edge, dur / 3)
    return float(_ramp((t - onset) / e) * _ramp((onset + dur - t) / e)) if e > 0 else 1.0


def _spasm_course(t, onset, dur, rng_vals):
    """Spasm activation 0..1: phasic rise, tonic hold, release."""
    rise, rel = rng_vals
    if t < onset or t > onset + dur:
        return 0.0
    x = t - onset
    if x < rise:
        return float(_ramp(x / rise))
    hold_end = dur - rel
    if x < hold_end:
        return 1.0
    return float(1.0 - _ramp((x - hold_end) / rel))


class _Pose:
    """Joint angles (radians) and trunk/head terms at time t, from the plan."""

    def __init__(self, events: pd.DataFrame, params: dict, seed: int) -> None:
        rng = np.random.default_rng([seed, 202])
        self.ev = events
        self.p = params
        self.gm = _Smooth(rng, 10, 0.15, 0.8)
        self.cry = _Smooth(rng, 10, 0.8, 2.5)
        self.kick_f = float(rng.uniform(0.8, 1.5))
        self.suck_f = float(rng.uniform(1.3, 2.0))
        self.by_kind = {k: g for k, g in events.groupby("trial_type")}
        sp = self.by_kind.get("spasm", pd.DataFrame(columns=["onset", "duration"]))
        self.sp = sp
        self.sp_shape = [(float(rng.uniform(0.1, 0.25)), float(rng.uniform(0.25, 0.45)))
                         for _ in range(len(sp))]
        st = self.by_kind.get("startle", pd.DataFrame(columns=["onset", "duration"]))
        self.st = st
        self.arr = {k: (g["onset"].to_numpy(float), g["duration"].to_numpy(float))
                    for k, g in self.by_kind.items()}
        self.sp_rows = sp.to_dict("records")

    def _active(self, kind, t):
        g = self.arr.get(kind)
        if g is None:
            return 0.0, None
        on, du = g
        i = int(np.searchsorted(on, t, side="right")) - 1
        if i < 0 or t > on[i] + du[i]:
            return 0.0, None
        return _envelope(t, on[i], du[i]), (on[i], du[i])

    def at(self, t: float) -> dict:
        deg = math.pi / 180
        # rest pose: arm angle from the body axis toward the feet (0) to the head (pi)
        q = {"arm": np.array([70.0, 70.0]) * deg, "elbow": np.array([60.0, 60.0]) * deg,
             "hip": np.array([15.0, 15.0]) * deg, "knee": np.array([40.0, 40.0]) * deg,
             "legfold": np.array([0.25, 0.25]), "head_nod": 0.0, "head_turn": 0.0,
             "trunk_len": 1.0, "trunk_w": 1.0, "mouth": 0.1, "shift": np.zeros(2)}
        q["trunk_w"] += 0.025 * math.sin(2 * math.pi * self.p["breath_hz"] * t)
        a, _ = self._active("general_movements", t)
        if a:
            n = self.gm(t) * a
            q["arm"] += n[0:2] * 35 * deg
            q["elbow"] += n[2:4] * 30 * deg
            q["hip"] += n[4:6] * 15 * deg
            q["knee"] += n[6:8] * 30 * deg
            q["head_turn"] += n[8] * 0.35
            q["legfold"] += np.abs(n[4:6]) * 0.3
        a, _ = self._active("kicks", t)
        if a:
            ph = 2 * math.pi * self.kick_f * t
            k = np.array([math.sin(ph), math.sin(ph + math.pi)]) * 0.5 + 0.5
            q["legfold"] += a * 0.45 * k
            q["knee"] += a * 40 * deg * k
        a, _ = self._active("sucking", t)
        if a:
            q["mouth"] += a * 0.25 * (0.5 + 0.5 * math.sin(2 * math.pi * self.suck_f * t))
        a, _ = self._active("crying", t)
        if a:
            n = self.cry(t) * a
            q["mouth"] = 0.1 + 0.8 * a
            q["arm"] += n[0:2] * 40 * deg
            q["elbow"] += n[2:4] * 35 * deg
            q["legfold"] += np.abs(n[4:6]) * 0.4
            q["knee"] += n[6:8] * 30 * deg
            q["head_turn"] += n[8] * 0.3
            q["trunk_w"] += 0.03 * n[9]
        # startle: arms fling out and straighten, legs straighten, and back (no hold)
        a, row = self._active("startle", t)
        if row is not None:
            x = (t - row[0]) / row[1]
            if 0 <= x <= 1:
                s = math.sin(math.pi * x) ** 2
                q["arm"] += s * 35 * deg
                q["elbow"] -= s * 45 * deg
                q["legfold"] = q["legfold"] * (1 - 0.6 * s)
                q["knee"] -= s * 25 * deg
        a, row = self._active("handling", t)
        if a:
            q["shift"] = np.array([0.12, 0.05]) * a * math.sin(math.pi * min(
                1.0, (t - row[0]) / max(row[1], 1e-3)))
        # spasms
        if len(self.sp):
            on = self.arr["spasm"][0]
            i = int(np.searchsorted(on, t, side="right")) - 1
            if i >= 0:
                row = self.sp_rows[i]
                s = _spasm_course(t, row["onset"], row["duration"], self.sp_shape[i])
                if s > 0:
                    amp = s * float(row["amp"])
                    g = np.array([1.0, float(row["side_gain"])])
                    if i % 2:
                        g = g[::-1]
                    kind = row["kind"]
                    flex_upper = kind in ("flexor", "mixed")
                    flex_lower = kind == "flexor"
                    if flex_upper:
                        q["arm"] += amp * g * 55 * deg
                        q["elbow"] += amp * g * 50 * deg
                        q["head_nod"] += amp * 0.5
                        q["trunk_len"] -= amp * 0.12
                    else:
                        q["arm"] += amp * g * 30 * deg
                        q["elbow"] -= amp * g * 55 * deg
                        q["head_nod"] -= amp * 0.45
                        q["trunk_len"] += amp * 0.06
                    if flex_lower:
                        q["legfold"] += amp * g * 0.6
                        q["knee"] += amp * g * 45 * deg
                        q["hip"] -= amp * g * 8 * deg
                    else:
                        q["legfold"] = q["legfold"] * (1 - amp * g * 0.9)
                        q["knee"] -= amp * g * 35 * deg
                        q["hip"] += amp * g * 10 * deg
        q["legfold"] = np.clip(q["legfold"], 0.0, 0.9)
        q["elbow"] = np.clip(q["elbow"], -10 * deg, 150 * deg)
        q["knee"] = np.clip(q["knee"], -5 * deg, 140 * deg)
        return q


# ---------------------------------------------------------------------------------------------
# drawing


def _col(c):
    return tuple(int(255 * v) for v in c)


def _blanket(w, h, p, rng):
    import cv2

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    per = float(rng.uniform(18, 40)) * w / 640
    a = (np.sin(2 * np.pi * xx / per) > 0.3) | (np.sin(2 * np.pi * yy / per) > 0.3)
    c1 = np.array(_col(p["blanket"]), np.float32)
    c2 = np.array(_col(p["blanket2"]), np.float32)
    img = np.where(a[..., None], c1, c2)
    noise = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 1.2)
    img = img + noise[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def _stripes(w, h, p, rng):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    per = float(rng.uniform(6, 14)) * w / 640
    s = np.sin(2 * np.pi * (xx + yy) / per) > 0
    c1 = np.array(_col(p["cloth"]), np.float32)
    c2 = np.array(_col(p["cloth2"]), np.float32)
    return np.where(s[..., None], c1, c2).astype(np.uint8)


class _Painter:
    def __init__(self, w, h, params, rng):
        self.w, self.h = w, h
        self.p = params
        self.mw, self.mh = int(w * 1.3), int(h * 1.3)
        self.bg = _blanket(self.mw, self.mh, params, rng)
        self.cloth = _stripes(self.mw, self.mh, params, rng)
        self.skin = _col(params["skin"])
        self.u = min(w, h) / 8.5 * params["size"]
        ang = params["tilt_deg"] * math.pi / 180
        if w > h:  # landscape: the body lies across the picture
            ang += math.pi / 2 if params["head_first"] else -math.pi / 2
        elif not params["head_first"]:
            ang += math.pi
        self.ang = ang

    def draw(self, q, hand=None, shadow=None):
        import cv2

        img = self.bg.copy()
        mask = np.zeros((self.mh, self.mw), np.uint8)
        u = self.u
        ca, sa = math.cos(self.ang), math.sin(self.ang)
        cx = self.mw / 2 + q["shift"][0] * self.mw
        cy = self.mh / 2 + q["shift"][1] * self.mh

        def P(x, y):  # body frame (x lateral, y toward the feet) -> picture
            return (cx + ca * x - sa * y, cy + sa * x + ca * y)

        def ip(pt):
            return (int(round(pt[0] * 4)), int(round(pt[1] * 4)))

        sh = 2  # sub-pixel bits for cv2 drawing (coordinates x4)
        tl = 1.6 * u * q["trunk_len"]
        tw = 1.05 * u * q["trunk_w"]
        # legs (under the trunk)
        for side, sgn in ((0, -1), (1, 1)):
            hip = np.array([sgn * 0.55 * u, tl * 0.8])
            fold = q["legfold"][side]
            th = q["hip"][side]
            d1 = np.array([sgn * math.sin(th), math.cos(th)]) * 1.5 * u * (1 - fold)
            knee = hip + d1
            k = th + q["knee"][side] * (0.4 + fold)
            d2 = np.array([sgn * math.sin(k * 0.6 + fold * 1.2), math.cos(k * 0.6 + fold * 1.2)
                           * (1 - 1.6 * fold)]) * 1.4 * u
            foot = knee + d2
            cv2.line(mask, ip(P(*hip)), ip(P(*knee)), 255, int(0.75 * u), cv2.LINE_AA, sh)
            cv2.line(mask, ip(P(*knee)), ip(P(*foot)), 255, int(0.62 * u), cv2.LINE_AA, sh)
            cv2.circle(img, ip(P(*foot)), int(0.33 * u * 4), self.skin, -1, cv2.LINE_AA, sh)
        # arms
        for side, sgn in ((0, -1), (1, 1)):
            sho = np.array([sgn * 0.85 * u, -tl * 0.75])
            a = q["arm"][side]
            d1 = np.array([sgn * math.sin(a), math.cos(a)]) * 1.2 * u
            elb = sho + d1
            b = a + q["elbow"][side]
            d2 = np.array([sgn * math.sin(b), math.cos(b)]) * 1.1 * u
            hand_pt = elb + d2
            cv2.line(mask, ip(P(*sho)), ip(P(*elb)), 255, int(0.55 * u), cv2.LINE_AA, sh)
            cv2.line(img, ip(P(*elb)), ip(P(*hand_pt)), self.skin, int(0.45 * u), cv2.LINE_AA,
                     sh)
            cv2.circle(img, ip(P(*hand_pt)), int(0.3 * u * 4), self.skin, -1, cv2.LINE_AA, sh)
        # trunk
        c = P(0.0, 0.0)
        cv2.ellipse(mask, ip(c), (int(tw * 4), int(tl * 4)), self.ang * 180 / math.pi, 0, 360,
                    255, -1, cv2.LINE_AA, sh)
        m = mask > 127
        img[m] = self.cloth[m]
        # head: nods toward the chest (flexion) or back (extension), turns
        hy = -tl - 1.0 * u + q["head_nod"] * 0.45 * u
        hx = q["head_turn"] * 0.3 * u
        hc = P(hx, hy)
        r = 1.0 * u * (1 - 0.1 * q["head_nod"])
        cv2.ellipse(img, ip(hc), (int(r * 0.9 * 4), int(r * 4)), self.ang * 180 / math.pi, 0,
                    360, self.skin, -1, cv2.LINE_AA, sh)
        dark = (40, 30, 30)
        for ex in (-0.35, 0.35):
            cv2.circle(img, ip(P(hx + ex * u + q["head_turn"] * 0.2 * u, hy - 0.15 * u)),
                       int(0.09 * u * 4), dark, -1, cv2.LINE_AA, sh)
        mo = max(0.05, q["mouth"])
        cv2.ellipse(img, ip(P(hx + q["head_turn"] * 0.2 * u, hy + 0.4 * u)),
                    (int(0.22 * u * 4), int(0.2 * u * mo * 4 + 2)), self.ang * 180 / math.pi,
                    0, 360, (120, 40, 50), -1, cv2.LINE_AA, sh)
        hair = P(hx, hy - 0.75 * u)
        cv2.ellipse(img, ip(hair), (int(0.7 * u * 4), int(0.3 * u * 4)),
                    self.ang * 180 / math.pi, 0, 360, (70, 50, 35), -1, cv2.LINE_AA, sh)
        if hand is not None:  # a caregiver's hand and forearm, from the picture's edge
            hx2, hy2, edge = hand
            ex, ey = edge
            cv2.line(img, (int(ex), int(ey)), (int(hx2), int(hy2)), (200, 170, 150),
                     int(1.3 * u))
            cv2.ellipse(img, (int(hx2), int(hy2)), (int(0.9 * u), int(0.7 * u)), 30, 0, 360,
                        (215, 180, 160), -1)
        if shadow is not None:
            sx, sy = shadow
            sm = np.zeros((self.mh, self.mw), np.float32)
            cv2.circle(sm, (int(sx), int(sy)), int(3 * u), 1.0, -1)
            sm = cv2.GaussianBlur(sm, (0, 0), u)
            img = (img * (1 - 0.35 * sm[..., None])).astype(np.uint8)
        return img


def _camera_matrix(t, w, h, mw, mh, cam, handheld, reframes):
    """World (margin canvas) -> picture affine matrix at time t."""
    import cv2

    if handheld:
        pan = cam["pan"](t)
        shake = cam["shake"](t)
        k = cam.get("shake_gain", 1.0)
        dx = pan[0] * 0.06 * w + shake[0] * 0.004 * w * k
        dy = pan[1] * 0.06 * h + shake[1] * 0.004 * w * k
        rot = pan[2] * 3.0 + shake[2] * 0.3 * k
        zoom = 1.0 + pan[3] * 0.05
        for on, du, vx, vy in reframes:
            x = (t - on) / du
            if x > 0:
                r = _ramp(min(x, 1.0))
                dx += vx * r * 0.08 * w
                dy += vy * r * 0.08 * h
    else:
        dx = dy = rot = 0.0
        zoom = 1.0
    m = cv2.getRotationMatrix2D((mw / 2, mh / 2), rot, zoom)
    m[0, 2] += dx - (mw - w) / 2
    m[1, 2] += dy - (mh - h) / 2
    return m


def simulate_video(
    path: str | Path,
    minutes: float = 1.0,
    *,
    width: int = 640,
    height: int = 360,
    fps: float = 30.0,
    handheld: bool = False,
    portrait: bool = False,
    variable_fps: bool | None = None,
    n_clusters: int = 2,
    spasms: pd.DataFrame | None = None,
    eeg: str | Path | None = None,
    crf: int = 28,
    seed: int = 0,
    condition: str = "standard",
) -> VideoSimulation:
    """Write a simulated infant video (H.264 mp4) and its truth ``<stem>_events.tsv``.

    Parameters
    ----------
    path : str or Path
        Target ``.mp4``.
    minutes : float
        Length in minutes (0.05-120).
    width, height : int
        Picture size (landscape; swapped when ``portrait``).
    fps : float
        Nominal frame rate (10-60).
    handheld : bool
        Hand-held camera: slow pan, rotation and zoom, shake, sudden reframing.
    portrait : bool
        Phone portrait framing.
    variable_fps : bool or None
        Irregular frame intervals (phone); default: with ``handheld``.
    n_clusters : int
        Spasm clusters (0: ordinary movement only). With ``eeg``, the EEG simulation places them.
    spasms : DataFrame, optional
        ``onset, duration, cluster`` of the spasms, instead of drawing them (not with ``eeg``).
    eeg : str or Path, optional
        Also write a simulated hypsarrhythmic EEG (EDF+, with a deltoid-free montage) with the
        same spasms on the same timeline; its start is the video's creation time.
    crf : int
        H.264 quality (18 good - 35 poor).
    seed : int
        Random seed.
    condition : {"standard", "dim"}
        ``"dim"``: a second way of drawing the footage, from the clinical description rather
        than the standard drawing: a dim room (the picture at 45-65 % of its light, lower
        contrast) with the sensor's grain (fresh noise in every frame, 4-8 grey levels), a
        hand-held camera that sways more slowly (0.05-0.3 Hz) and shakes at 1.5-4 Hz with
        1.5 times the amplitude, and spasms every 5-30 s in clusters of 5-15 (the clinical
        range), encoded at CRF 31.

    Returns
    -------
    VideoSimulation
    """
    import av
    import cv2

    if not 0.05 <= minutes <= 120:
        raise ParameterError(f"minutes must be 0.05-120, got {minutes}")
    if not 10 <= fps <= 60:
        raise ParameterError(f"fps must be 10-60, got {fps}")
    if not (32 <= width <= 3840 and 32 <= height <= 2160):
        raise ParameterError(f"picture size {width}x{height} out of range")
    if condition not in CONDITIONS:
        raise ParameterError(f"condition must be one of {', '.join(CONDITIONS)}, got "
                             f"{condition!r}")
    dim = condition == "dim"
    if dim:
        crf = max(crf, 31)
    path = Path(path)
    duration = float(minutes) * 60.0
    if portrait:
        width, height = min(width, height), max(width, height)
    width -= width % 2
    height -= height % 2
    eeg_path = None
    if eeg is not None and spasms is not None:
        raise ParameterError("give spasms or eeg, not both (the EEG simulation places spasms)")
    if eeg is not None:
        from hypsa.simulate import simulate_to_edf
        from hypsa.simulate.writer import events_tsv_path

        eeg_path = simulate_to_edf(eeg, float(round(duration)), hypsarrhythmia="classic",
                                   n_clusters=max(n_clusters, 1), spasms_per_cluster=(4, 12),
                                   seed=seed, chunk_s=60.0)
        spasms = pd.read_csv(events_tsv_path(eeg_path), sep="\t")
        spasms = spasms[spasms["eventType"] == SPASM_EVENT].reset_index(drop=True)
        spasms["cluster"] = np.cumsum(np.r_[True, np.diff(spasms["onset"]) > 120.0]) - 1 \
            if len(spasms) else []
    events, params = plan_video(duration, n_clusters=n_clusters, spasms=spasms,
                                handheld=handheld, seed=seed,
                                **({"per_cluster": (5, 15), "interval": (5.0, 30.0)} if dim
                                   else {}))
    vfr = handheld if variable_fps is None else variable_fps
    rng = np.random.default_rng([seed, 303])
    painter = _Painter(width, height, params, rng)
    pose = _Pose(events, params, seed)
    if dim:
        cam = {"pan": _Smooth(rng, 4, 0.05, 0.3), "shake": _Smooth(rng, 3, 1.5, 4.0, k=3),
               "shake_gain": 1.5}
    else:
        cam = {"pan": _Smooth(rng, 4, 0.02, 0.15), "shake": _Smooth(rng, 3, 3.0, 8.0, k=3)}
    grain = np.random.default_rng([seed, 404])
    room = float(grain.uniform(0.45, 0.65))
    grain_sd = float(grain.uniform(4.0, 8.0))
    rf = events[events["trial_type"] == "camera_reframe"]
    reframes = [(float(o), float(d), float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)))
                for o, d in zip(rf["onset"], rf["duration"], strict=True)]
    # cumulative reframing offsets: each jump stays (the phone was pointed elsewhere)
    by = {k: g for k, g in events.groupby("trial_type")}

    arr = {k: (g["onset"].to_numpy(float), g["duration"].to_numpy(float)) for k, g in by.items()}

    def active(kind, t):
        g = arr.get(kind)
        if g is None:
            return None
        i = int(np.searchsorted(g[0], t, side="right")) - 1
        if i < 0 or t > g[0][i] + g[1][i]:
            return None
        return {"onset": g[0][i], "duration": g[1][i]}

    light_steps = by.get("light_change", pd.DataFrame(columns=["onset", "duration"]))
    gains = rng.uniform(0.7, 1.3, len(light_steps))
    l_on = light_steps["onset"].to_numpy(float)
    l_du = light_steps["duration"].to_numpy(float)
    container = av.open(str(path), "w")
    container.metadata["creation_time"] = START.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    stream = container.add_stream("libx264", rate=int(round(fps)))
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    stream.options = {"crf": str(int(crf)), "preset": "veryfast"}
    tb = 90000
    stream.codec_context.time_base = __import__("fractions").Fraction(1, tb)
    t = 0.0
    last_pts = -1
    while t < duration:
        q = pose.at(t)
        hand = None
        h_row = active("hand_passing", t)
        if h_row is None:
            h_row = active("handling", t)
        if h_row is not None:
            x = (t - h_row["onset"]) / max(h_row["duration"], 1e-3)
            side = int(h_row["onset"] * 7) % 4
            mw, mh = painter.mw, painter.mh
            edges = [(0, mh * 0.3), (mw, mh * 0.7), (mw * 0.3, 0), (mw * 0.7, mh)]
            ex, ey = edges[side]
            reach = math.sin(math.pi * x)
            hx = ex + (mw / 2 - ex) * reach * 0.9
            hy = ey + (mh / 2 - ey) * reach * 0.9
            hand = (hx, hy, (ex, ey))
        shadow = None
        s_row = active("shadow", t)
        if s_row is not None:
            x = (t - s_row["onset"]) / max(s_row["duration"], 1e-3)
            shadow = (painter.mw * (x * 1.4 - 0.2), painter.mh * 0.5)
        world = painter.draw(q, hand, shadow)
        m = _camera_matrix(t, width, height, painter.mw, painter.mh, cam, handheld, reframes)
        frame = cv2.warpAffine(world, m, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT)
        gain = 1.0
        i = int(np.searchsorted(l_on, t, side="right")) - 1
        if i >= 0:  # each switch holds until the next
            prev_g = gains[i - 1] if i > 0 else 1.0
            gain = prev_g + (gains[i] - prev_g) * float(_ramp((t - l_on[i]) / max(l_du[i], 1e-3)))
        if dim:  # a dim room: less light, less contrast, and the sensor's grain in every frame
            f = frame.astype(np.float32) * (gain * room) + 12.0
            f += grain.normal(0.0, grain_sd, f.shape[:2]).astype(np.float32)[..., None]
            frame = np.clip(f, 0, 255).astype(np.uint8)
        elif gain != 1.0:
            frame = np.clip(frame.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        pts = int(round(t * tb))
        if pts <= last_pts:
            pts = last_pts + 1
        vf.pts = pts
        vf.time_base = stream.codec_context.time_base
        last_pts = pts
        for pkt in stream.encode(vf):
            container.mux(pkt)
        dt = 1.0 / fps
        if vfr:
            dt *= float(rng.uniform(0.8, 1.25))
            if rng.random() < 0.01:
                dt *= 2.0  # a dropped frame
        t += dt
    for pkt in stream.encode():
        container.mux(pkt)
    container.close()
    truth = events.copy()
    truth["cluster"] = truth["cluster"].astype("Int64").astype(object).where(
        truth["cluster"].notna(), "n/a") if "cluster" in truth else "n/a"
    truth["kind"] = truth["kind"].fillna("n/a") if "kind" in truth else "n/a"
    truth["symmetric"] = truth["symmetric"].astype(object).where(truth["symmetric"].notna(),
                                                               "n/a")
    out = truth[["onset", "duration", "trial_type", "eventType", "cluster", "kind",
                 "symmetric"]].copy()
    out["onset"] = out["onset"].round(4)
    out["duration"] = out["duration"].round(4)
    out["recordingDuration"] = round(duration, 3)
    out.to_csv(truth_path(path), sep="\t", index=False)
    params = {**params, "width": width, "height": height, "fps": fps, "variable_fps": vfr,
              "crf": crf, "minutes": minutes, "creation_time": START.isoformat(),
              "condition": condition}
    return VideoSimulation(path, events, eeg_path, params)


#: Ways of drawing the footage (:func:`simulate_video`'s ``condition``).
CONDITIONS = ("standard", "dim")


def truth_path(video: str | Path) -> Path:
    """``<stem>_events.tsv`` beside a simulated clip."""
    video = Path(video)
    return video.with_name(video.stem + "_events.tsv")


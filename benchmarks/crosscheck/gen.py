"""Cross-check generator: infant-like test EEG built on real children's backgrounds.

An independent construction of test recordings for hypsa.  It neither imports nor follows
hypsa's own simulator (``hypsa.simulate``): every synthetic component is defined below from the
clinical description (``../shared/docs/clinical-background.md``, next to the repository), and
the morphology of every event is randomised over wide ranges.  Running hypsa on these recordings
(see ``run_eval.py``) shows how its detectors carry over beyond the simulator they were
developed on.

Every tunable number lives in ``PARAMS``.  A tuple ``(lo, hi)`` means "draw uniformly per
recording/event"; a probability is named ``p_*``.  The real recordings are read from
``../shared/data/real/children_19ch`` (next to the repository) unless the environment variable
``HYPSA_REAL_DIR`` (or ``--real-dir``) names another folder.

Make one recording (written under ``benchmarks/_work/crosscheck/single`` by default)::

    python benchmarks/crosscheck/gen.py --form classic --seed 0 --minutes 10

The full evaluation (build, analyse, score) is ``run_eval.py``::

    python benchmarks/crosscheck/run_eval.py --n 96 --seed 2 --minutes 10,20

Model in one paragraph
----------------------
Real 19-channel school-age EEG (128 Hz, referential, 50 Hz mains, blinks) is
concatenated (1-s cross-fades) to the wanted length, the mains band is split off
(so that attenuations act on the brain signal only and mains stays constant),
the brain part is scaled up (infant EEG is higher voltage).  Synthetic sources
are placed on an idealised spherical 10-20 head (BESA angles); a source at
unit vector ``s`` reaches electrode ``e`` with gain ``floor + (1-floor) *
exp(-d^2 / 2 sigma^2)`` with ``d`` the great-circle angle (radians).  All
amplitudes are *referential* µV at the maximal electrode unless said otherwise
(bipolar-longitudinal values are measured and recorded in the truth as well).

Hypsarrhythmia = K independent delta/theta sources whose positions jump every few
seconds (cross-faded) and whose envelopes fluctuate log-normally (chaotic,
asynchronous, very high voltage; calibrated so the median bipolar 1-s
peak-to-peak of the slow part hits a drawn target), plus spikes / sharp waves
drawn from a pool of foci that die and are re-born at new places.  Five modified
variants alter this (synchrony, asymmetry, consistent focus, attenuation
episodes, slow-dominant).  Negatives: background alone, NREM-like synchronous
high-voltage delta with K-complexes/spindles, one consistent spike focus.

Spasm = optional spindle-like fast burst -> optional generalised high-voltage
slow wave (one waveform x spatial gain map, vertex max by default, optional
polarity flip) -> optional electrodecrement (brain signal multiplied by a depth
factor with smooth ramps) with optional low-voltage fast activity; at least one
of slow wave / decrement is present.  Spasms come in clusters.  At 256 Hz an
optional "EMG Deltoid" channel carries a diamond-shaped 20-120 Hz burst per
spasm (plus non-spasm movement bursts as distractors).

Truth onset of a spasm = start of its earliest EEG component (fast burst start, slow-wave start,
or the half-way point of the decrement's down-ramp).  Truth duration runs to the end of the
decrement's up-ramp (the EEG change), not the motor duration (the EMG burst duration is recorded
separately as emg_dur).
"""
from __future__ import annotations

import glob
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt

REPO = Path(__file__).resolve().parents[2]              # the repository
DEFAULT_REAL_DIR = (Path(__file__).resolve().parents[3]
                    / "shared" / "data" / "real" / "children_19ch")
REAL_DIR_ENV = "HYPSA_REAL_DIR"                         # overrides DEFAULT_REAL_DIR
WORK_DIR = REPO / "benchmarks" / "_work" / "crosscheck"  # git-ignored outputs

# --------------------------------------------------------------------------------------
# ALL generator parameters (documented).  (lo, hi) = uniform draw.
# --------------------------------------------------------------------------------------
PARAMS: dict = {
    # ---- recording ----------------------------------------------------------------
    "real_dir": os.environ.get(REAL_DIR_ENV) or str(DEFAULT_REAL_DIR),   # real backgrounds (EDF)
    "duration_min": (10.0, 20.0),        # recording length (minutes); run_eval can override
    "p_fs_256": 0.5,                     # P(file written at 256 Hz), else 128 Hz
    "crossfade_s": 1.0,                  # cross-fade between concatenated real files
    "trim_edges_s": 2.0,                 # dropped at start/end of each real file
    "physical_range_uv": 3000.0,         # EDF physical range +-; signal clipped just inside
    "label_styles": ["EEG {}", "EEG {}-REF", "{}"],   # channel label spelling, drawn per file
    "p_modern_names": 0.3,               # rename T3/T4/T5/T6 -> T7/T8/P7/P8
    "mains_band_hz": (48.0, 52.0),       # split off, kept unscaled / un-attenuated
    # ---- infant-like background ---------------------------------------------------
    # Real files already give ~105 µV median 1-s p-p on C3-P3 (0.5-30 Hz), so x2 crosses
    # the 200 µV "high amplitude" line on its own.  Range kept wide on purpose.
    "bg_scale": (1.0, 2.5),
    # ---- hypsarrhythmia: slow part ------------------------------------------------
    "hyps_n_slow_sources": (6, 12),
    "hyps_slow_sigma_rad": (0.35, 0.8),    # spatial width of each slow source
    "hyps_slow_hop_s": (1.5, 6.0),         # a source jumps to a new place this often
    "hyps_slow_band_hz": (0.5, 7.0),       # band-limited 1/f^alpha noise
    "hyps_slow_alpha": (1.0, 2.0),
    "hyps_env_sigma": (0.4, 0.8),          # log-normal envelope spread (chaos in time)
    "hyps_env_tau_s": (0.7, 2.5),          # envelope correlation time
    # target: median over bipolar (double banana) channels of median 1-s p-p of the slow part
    "hyps_slow_bipolar_pp_uv": (150.0, 330.0),
    # ---- hypsarrhythmia: spikes ---------------------------------------------------
    "hyps_spike_rate_hz": (2.0, 6.0),      # all foci together, classic
    "hyps_n_foci_active": (5, 12),         # foci alive at one time
    "hyps_focus_life_s": (10.0, 90.0),     # a focus lives this long, then re-born elsewhere
    "spike_sigma_rad": (0.25, 0.45),       # spatial width of a spike field
    "spike_amp_uv": (100.0, 400.0),
    "p_sharp_wave": 0.4,                   # else spike
    "spike_dur_ms": (20.0, 70.0),
    "sharp_dur_ms": (70.0, 200.0),
    "p_aftergoing_slow": 0.6,
    "aftergoing_slow_ms": (150.0, 400.0),
    "aftergoing_rel_amp": (0.3, 0.8),
    "p_spike_positive": 0.15,              # surface-positive (else surface-negative)
    # ---- modified variants --------------------------------------------------------
    "sync_fraction": (0.4, 0.8),           # "synchronous": share of mirrored sources/spikes
    "sync_jitter_ms": (0.0, 15.0),
    "asym_weak_side_gain": (0.25, 0.6),    # 'asymmetric': hyps on one hemisphere x this
    "focus_share": (0.3, 0.6),             # 'focus': share of spikes from the consistent focus
    "focus_amp_gain": (1.0, 1.5),
    "atten_rate_per_min": (2.0, 6.0),      # 'attenuation': episodes
    "atten_dur_s": (1.0, 8.0),
    "atten_depth": (0.1, 0.3),             # whole brain signal x depth
    "slowdom_spike_rate_hz": (0.05, 0.3),  # 'slow': few spikes
    "slowdom_slow_bipolar_pp_uv": (230.0, 420.0),
    "hyps_fade_in_cluster": (0.5, 1.0),    # hyps amplitude during a spasm cluster (fades)
    # ---- negatives ----------------------------------------------------------------
    "sleep_bg_extra_scale": (0.5, 0.8),    # background damped in sleep
    "sleep_delta_pp_uv": (100.0, 250.0),   # median 1-s p-p, main delta source, at max (ref.)
    "sleep_delta_sigma_rad": (0.6, 1.0),   # fronto-central maximum, clear antero-posterior gradient
    "sleep_delta_floor": (0.05, 0.25),
    "sleep_regional_sources": (2, 4),      # extra bilateral-regional delta sources, partly coherent
    "sleep_regional_rel_amp": (0.3, 0.6),
    "sleep_regional_coherence": (0.3, 0.8),  # share of variance common with the main delta
    "sleep_kcomplex_per_min": (1.0, 5.0),
    "sleep_kcomplex_amp_uv": (100.0, 300.0),
    "sleep_spindle_per_min": (2.0, 8.0),
    "sleep_spindle_amp_uv": (10.0, 40.0),
    "singlefocus_rate_hz": (0.2, 1.5),
    "singlefocus_amp_uv": (100.0, 300.0),
    # ---- spasms -------------------------------------------------------------------
    "p_spasms_on_hyps": 0.75,              # recording has spasm clusters (hyps forms)
    "p_spasms_on_negative": 0.35,          # ... (negative forms: spasms on normal background)
    "n_clusters": (1, 3),                  # integer draw, reduced to fit
    "spasms_per_cluster": (3, 30),
    "isi_s": (5.0, 40.0),                  # inter-spasm interval inside a cluster
    "inter_cluster_gap_s": (180.0, 420.0), # last spasm -> next cluster's first spasm
    "edge_margin_s": (20.0, 40.0),
    "p_fast_burst": 0.5,
    "fast_hz": (15.0, 30.0),
    "fast_dur_s": (0.2, 0.5),
    "fast_amp_uv": (10.0, 60.0),
    "fast_lead_s": (0.0, 0.3),             # burst starts this long before the slow wave
    "p_slow_wave": 0.85,
    "slow_dur_s": (0.5, 1.5),
    "slow_amp_uv": (150.0, 500.0),         # referential peak at the maximal electrode
    "slow_shapes": ["mono", "biphasic", "skewed"],
    "p_vertex_max": 0.6,                   # gain-map centre at Cz, else near a random electrode
    "slow_sigma_rad": (0.6, 1.2),
    "slow_floor": (0.0, 0.4),
    "p_vertex_positive": 0.7,              # polarity (positive at max) else flipped
    "p_decrement": 0.8,
    "dec_depth": (0.1, 0.5),               # brain signal x depth
    "dec_dur_s": (1.0, 5.0),
    "dec_ramp_s": (0.2, 0.5),
    "dec_overlap_s": (0.0, 0.3),           # decrement starts this long before slow wave ends
    "p_lvfa": 0.5,                         # low-voltage fast activity inside the decrement
    "lvfa_hz": (15.0, 30.0),
    "lvfa_amp_uv": (5.0, 20.0),
    # ---- EMG (256 Hz files only) --------------------------------------------------
    "p_emg_at_256": 0.7,
    "emg_label": "EMG Deltoid",
    "emg_band_hz": (20.0, 120.0),          # upper edge below Nyquist of 256 Hz (150 requested)
    "emg_noise_uv": (1.0, 5.0),
    "emg_spasm_dur_s": (0.4, 2.5),
    "p_emg_long": 0.14,                    # 14 % of spasms 3-7 s (EMG series in the clinical notes)
    "emg_long_dur_s": (3.0, 7.0),
    "emg_spasm_amp_uv": (50.0, 500.0),
    "emg_onset_jitter_s": (-0.2, 0.3),
    "p_emg_missing_spasm": 0.05,           # subtle spasm: no EMG
    "emg_distractor_per_h": (0.0, 30.0),   # non-spasm movement (irregular, tonic, 1-8 s)
    "emg_distractor_dur_s": (1.0, 8.0),
    "emg_distractor_amp_uv": (20.0, 200.0),
}

HYPS_FORMS = ["classic", "synchronous", "asymmetric", "focus", "attenuation", "slow"]
NEG_FORMS = ["background", "sleep_slow", "single_focus"]

# Idealised spherical 10-20 positions (BESA theta/phi, degrees).
_BESA = {
    "Fp1": (-92, -72), "Fp2": (92, 72), "F7": (-92, -36), "F3": (-60, -51), "Fz": (46, 90),
    "F4": (60, 51), "F8": (92, 36), "T3": (-92, 0), "C3": (-46, 0), "Cz": (0, 0), "C4": (46, 0),
    "T4": (92, 0), "T5": (-92, 36), "P3": (-60, 51), "Pz": (46, -90), "P4": (60, -51),
    "T6": (92, -36), "O1": (-92, 72), "O2": (92, -72),
}
DOUBLE_BANANA = [
    ("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
    ("Fz", "Cz"), ("Cz", "Pz"),
]
MODERN = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}


def _unit(theta, phi):
    t, p = np.deg2rad(theta), np.deg2rad(phi)
    return np.array([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)])


def positions(names):
    return np.stack([_unit(*_BESA[n]) for n in names])


def gain(pos, src, sigma, floor=0.0):
    src = src / np.linalg.norm(src)
    d = np.arccos(np.clip(pos @ src, -1, 1))
    return floor + (1 - floor) * np.exp(-d ** 2 / (2 * sigma ** 2))


def mirror(v):
    return v * np.array([-1.0, 1.0, 1.0])


def random_focus(rng, pos, jitter=0.2):
    """A random place on the electrode cap (an electrode perturbed)."""
    v = pos[rng.integers(len(pos))] + rng.normal(0, jitter, 3)
    return v / np.linalg.norm(v)


def U(rng, lohi):
    lo, hi = lohi
    if isinstance(lo, int) and isinstance(hi, int):
        return int(rng.integers(lo, hi + 1))
    return float(rng.uniform(lo, hi))


# --------------------------------------------------------------------------------------
# real background
# --------------------------------------------------------------------------------------
def use_real_dir(path=None, P=PARAMS):
    """Point the generator at the real recordings (``path``, else the current setting).

    The choice is also exported as ``HYPSA_REAL_DIR`` so that worker processes see it.  Exits
    with a one-line message when the folder holds no EDF files.
    """
    if path is not None:
        P["real_dir"] = str(Path(path).expanduser().resolve())
    os.environ[REAL_DIR_ENV] = P["real_dir"]
    if not glob.glob(os.path.join(P["real_dir"], "*.edf")):
        sys.exit(f"cross-check: no real recordings (*.edf) in {P['real_dir']}; "
                 f"set {REAL_DIR_ENV} or pass --real-dir")
    return P["real_dir"]


def _read_real(path):
    import mne
    raw = mne.io.read_raw_edf(path, preload=True, verbose=False)
    names = [c.replace("EEG ", "").strip() for c in raw.ch_names]
    return names, raw.get_data() * 1e6, float(raw.info["sfreq"])


def real_background(rng, duration_s, P=PARAMS):
    files = sorted(glob.glob(os.path.join(P["real_dir"], "*.edf")))
    order = rng.permutation(len(files))
    fs0 = 128.0
    xf = int(P["crossfade_s"] * fs0)
    trim = int(P["trim_edges_s"] * fs0)
    need = int(duration_s * fs0)
    out, used, names0 = None, [], None
    for i in order:
        names, x, fs = _read_real(files[i])
        assert fs == fs0
        if names0 is None:
            names0 = names
        x = x[[names.index(n) for n in names0]]
        x = x[:, trim:-trim] - np.median(x, axis=1, keepdims=True)
        used.append(os.path.basename(files[i]))
        if out is None:
            out = x
        else:
            w = np.linspace(0, 1, xf)
            mid = out[:, -xf:] * (1 - w) + x[:, :xf] * w
            out = np.concatenate([out[:, :-xf], mid, x[:, xf:]], axis=1)
        if out.shape[1] >= need:
            break
    return names0, out[:, :need], fs0, used


# --------------------------------------------------------------------------------------
# signal building blocks
# --------------------------------------------------------------------------------------
def bandnoise(rng, n, fs, lo, hi, alpha=0.0):
    """Unit-variance noise, spectrum 1/f^alpha inside [lo, hi]."""
    X = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / fs)
    m = (f > 0) & (f >= lo) & (f <= hi)
    if not m.any():
        return np.zeros(n)
    w = np.zeros_like(f)
    w[m] = 1.0 / np.maximum(f[m], 1e-3) ** (alpha / 2)
    y = np.fft.irfft(X * w, n)
    return y / (y.std() + 1e-12)


def smooth_noise(rng, n, fs, tau):
    return bandnoise(rng, n, fs, 0.0, 1.0 / (2 * np.pi * tau), 0.0)


def spike_waveform(rng, fs, P=PARAMS):
    """Surface-negative spike/sharp wave (+ optional after-going slow wave), unit peak."""
    sharp = rng.random() < P["p_sharp_wave"]
    dur = U(rng, P["sharp_dur_ms"] if sharp else P["spike_dur_ms"]) / 1000
    n = max(int(dur * fs), 3)
    rise = max(int(n * rng.uniform(0.3, 0.45)), 1)
    w = np.concatenate([np.linspace(0, 1, rise, endpoint=False),
                        np.linspace(1, -0.25, n - rise)])
    h = np.hanning(max(3, int(0.008 * fs)))
    w = np.convolve(w, h / h.sum(), "same")
    parts = [w]
    if rng.random() < P["p_aftergoing_slow"]:
        m = int(U(rng, P["aftergoing_slow_ms"]) / 1000 * fs)
        parts.append(U(rng, P["aftergoing_rel_amp"]) * np.sin(np.linspace(0, np.pi, m)))
    w = np.concatenate(parts)
    w = w / np.abs(w).max()
    sign = 1.0 if rng.random() < P["p_spike_positive"] else -1.0
    return sign * w, ("sharp" if sharp else "spike")


def add_event(x, t0, wave, g):
    """x[:, t0:t0+len] += g[:,None] * wave, clipped to bounds."""
    n = x.shape[1]
    a, b = t0, t0 + len(wave)
    if b <= 0 or a >= n:
        return
    wa, wb = max(0, -a), len(wave) - max(0, b - n)
    x[:, max(a, 0):min(b, n)] += g[:, None] * wave[None, wa:wb]


def bipolar(x, names):
    idx = {n: i for i, n in enumerate(names)}
    return np.stack([x[idx[a]] - x[idx[b]] for a, b in DOUBLE_BANANA])


def pp_1s(x, fs):
    n = int(fs)
    k = x.shape[-1] // n
    y = x[..., :k * n].reshape(x.shape[0], k, n)
    return y.max(-1) - y.min(-1)        # (channels, seconds)


def envelope_ramp(n, fs, segs, ramp_s):
    """Multiplicative envelope: 1 outside, `depth` inside each (start, dur, depth).

    Cosine ramps of `ramp_s` lead in and out of every segment.
    """
    env = np.ones(n)
    for st, du, depth in segs:
        r = max(int(ramp_s * fs), 1)
        a, b = int(st * fs), int((st + du) * fs)
        seg = np.full(max(b - a + 2 * r, 1), depth)
        cos = 0.5 * (1 + np.cos(np.linspace(0, np.pi, r)))     # 1 -> 0
        seg[:r] = depth + (1 - depth) * cos
        seg[-r:] = depth + (1 - depth) * cos[::-1]
        lo = a - r
        s0, s1 = max(lo, 0), min(lo + len(seg), n)
        if s1 > s0:
            env[s0:s1] = np.minimum(env[s0:s1], seg[s0 - lo:s1 - lo])
    return env


# --------------------------------------------------------------------------------------
# hypsarrhythmia
# --------------------------------------------------------------------------------------
def make_hyps(rng, form, names, n, fs, P=PARAMS):
    pos = positions(names)
    info: dict = {"form": form}
    sync_frac = U(rng, P["sync_fraction"]) if form == "synchronous" else 0.0
    # ---- slow, chaotic part
    K = U(rng, P["hyps_n_slow_sources"])
    slow = np.zeros((len(names), n))
    for _k in range(K):
        sig = bandnoise(rng, n, fs, *P["hyps_slow_band_hz"], alpha=U(rng, P["hyps_slow_alpha"]))
        env = np.exp(U(rng, P["hyps_env_sigma"])
                     * smooth_noise(rng, n, fs, U(rng, P["hyps_env_tau_s"])))
        sig = sig * env
        bilateral = rng.random() < sync_frac
        # positions hop; per-channel gain interpolated between hop centres
        hop = U(rng, P["hyps_slow_hop_s"])
        centres = np.arange(0, n / fs + hop, hop)
        sigma = U(rng, P["hyps_slow_sigma_rad"])
        G = []
        for _c in centres:
            s = random_focus(rng, pos, 0.3)
            g = gain(pos, s, sigma)
            if bilateral:
                g = np.maximum(g, gain(pos, mirror(s), sigma))
            G.append(g)
        G = np.array(G)                                   # (hops, ch)
        t = np.arange(n) / fs
        for c in range(len(names)):
            slow[c] += sig * np.interp(t, centres, G[:, c])
    info["n_slow_sources"] = K
    # calibrate the slow part on the bipolar montage
    target = U(rng, P["slowdom_slow_bipolar_pp_uv"] if form == "slow"
               else P["hyps_slow_bipolar_pp_uv"])
    cur = np.median(np.median(pp_1s(bipolar(slow, names), fs), axis=1))
    slow *= target / cur
    info["slow_bipolar_pp_target_uv"] = target
    # ---- spikes
    spikes = np.zeros_like(slow)
    rate = U(rng, P["slowdom_spike_rate_hz"] if form == "slow" else P["hyps_spike_rate_hz"])
    n_act = U(rng, P["hyps_n_foci_active"])
    T = n / fs
    foci = []                                            # [pos, t_birth, t_death, id]
    fid = 0

    def new_focus(t):
        nonlocal fid
        fid += 1
        return [random_focus(rng, pos, 0.2), t, t + U(rng, P["hyps_focus_life_s"]), fid]

    foci = [new_focus(-rng.uniform(0, 60)) for _ in range(n_act)]
    fixed = random_focus(rng, pos, 0.1) if form == "focus" else None
    share = U(rng, P["focus_share"]) if form == "focus" else 0.0
    famp = U(rng, P["focus_amp_gain"]) if form == "focus" else 1.0
    times = np.cumsum(rng.exponential(1 / rate, int(rate * T * 1.5) + 10))
    times = times[times < T - 0.5]
    rows = []
    for t in times:
        foci = [f if f[2] > t else new_focus(t) for f in foci]
        if fixed is not None and rng.random() < share:
            src, f_id, amp = fixed, 0, U(rng, P["spike_amp_uv"]) * famp
        else:
            f = foci[rng.integers(len(foci))]
            src, f_id, amp = f[0], f[3], U(rng, P["spike_amp_uv"])
        w, kind = spike_waveform(rng, fs, P)
        sigma = U(rng, P["spike_sigma_rad"])
        g = gain(pos, src, sigma)
        add_event(spikes, int(t * fs), amp * w, g)
        if rng.random() < sync_frac:
            j = int(U(rng, P["sync_jitter_ms"]) / 1000 * fs)
            add_event(spikes, int(t * fs) + j, amp * w, gain(pos, mirror(src), sigma))
        rows.append((t, f_id, int(np.argmax(g))))
    info.update(spike_rate_hz=rate, n_spikes=len(rows), n_foci_active=n_act,
                n_foci_total=fid + (1 if fixed is not None else 0),
                spikes=[[round(float(r[0]), 3), names[r[2]]] for r in rows])  # (time, max channel)
    # fraction of 1-s bins with >= 3 distinct foci (the BASED 'definite' criterion, from truth)
    if rows:
        sec = np.array([int(r[0]) for r in rows])
        fo = np.array([r[1] for r in rows])
        cnt = [len(set(fo[sec == s])) for s in range(int(T))]
        info["frac_bins_ge3_foci"] = float(np.mean(np.array(cnt) >= 3))
        info["frac_bins_any_spike"] = float(np.mean(np.array(cnt) >= 1))
    hyps = slow + spikes
    if form == "asymmetric":
        weak = U(rng, P["asym_weak_side_gain"])
        side = rng.choice([-1, 1])
        x = pos[:, 0] * side                     # >0 = strong side
        gch = np.where(x > 0.2, 1.0, np.where(x < -0.2, weak, 0.5 * (1 + weak)))
        hyps *= gch[:, None]
        info.update(asym_weak_gain=weak, strong_side="right" if side > 0 else "left")
    if form == "focus":
        info["consistent_focus_nearest"] = names[int(np.argmax(pos @ fixed))]
        info["focus_share"] = share
    info["sync_fraction"] = sync_frac
    return hyps, info


def make_sleep(rng, names, n, fs, P=PARAMS):
    pos = positions(names)
    cz = _unit(0, 0)
    fz = _unit(46, 90)
    w_ = rng.uniform(0.3, 1.0)
    ctr = w_ * fz + (1 - w_) * cz
    g = gain(pos, ctr, U(rng, P["sleep_delta_sigma_rad"]), U(rng, P["sleep_delta_floor"]))
    d = bandnoise(rng, n, fs, 0.5, 2.5, alpha=1.0)
    env = np.exp(0.3 * smooth_noise(rng, n, fs, 3.0))
    d = d * env
    pp = np.percentile(pp_1s(d[None], fs)[0], 50)
    d *= U(rng, P["sleep_delta_pp_uv"]) / pp
    x = g[:, None] * d[None]
    # regional, bilaterally symmetric, partly coherent delta (sleep slow waves are not one
    # common-mode signal)
    for _r in range(U(rng, P["sleep_regional_sources"])):
        c = U(rng, P["sleep_regional_coherence"])
        own = bandnoise(rng, n, fs, 0.5, 3.0, alpha=1.0) * d.std() * env
        dr = np.sqrt(c) * d + np.sqrt(1 - c) * own
        src = random_focus(rng, pos, 0.3)
        sg = rng.uniform(0.4, 0.7)
        gr = np.maximum(gain(pos, src, sg), gain(pos, mirror(src), sg))
        x += U(rng, P["sleep_regional_rel_amp"]) * gr[:, None] * dr[None]
    T = n / fs
    nk = rng.poisson(U(rng, P["sleep_kcomplex_per_min"]) * T / 60)
    for t in rng.uniform(1, T - 2, nk):
        m = int(rng.uniform(0.5, 1.0) * fs)
        tt = np.linspace(0, 1, m)
        w = -np.sin(np.pi * tt * 2) * np.hanning(m)         # sharp negative then positive
        add_event(x, int(t * fs), U(rng, P["sleep_kcomplex_amp_uv"]) * w / np.abs(w).max(),
                  gain(pos, cz, 0.9, 0.2))
    ns = rng.poisson(U(rng, P["sleep_spindle_per_min"]) * T / 60)
    for t in rng.uniform(1, T - 2, ns):
        m = int(rng.uniform(0.5, 1.5) * fs)
        w = np.sin(2 * np.pi * rng.uniform(12, 14) * np.arange(m) / fs) * np.hanning(m)
        add_event(x, int(t * fs), U(rng, P["sleep_spindle_amp_uv"]) * w, gain(pos, cz, 0.7, 0.1))
    return x, {"form": "sleep_slow", "n_kcomplex": int(nk), "n_spindle": int(ns)}


def make_single_focus(rng, names, n, fs, P=PARAMS):
    pos = positions(names)
    src = random_focus(rng, pos, 0.1)
    rate = U(rng, P["singlefocus_rate_hz"])
    T = n / fs
    x = np.zeros((len(names), n))
    times = np.cumsum(rng.exponential(1 / rate, int(rate * T * 1.5) + 10))
    times = times[times < T - 0.5]
    sigma = U(rng, P["spike_sigma_rad"])
    for t in times:
        w, _ = spike_waveform(rng, fs, P)
        add_event(x, int(t * fs), U(rng, P["singlefocus_amp_uv"]) * w, gain(pos, src, sigma))
    peak = names[int(np.argmax(gain(pos, src, sigma)))]
    return x, {"form": "single_focus", "rate_hz": rate, "n_spikes": len(times),
               "focus_nearest": names[int(np.argmax(pos @ src))],
               "spikes": [[round(float(t), 3), peak] for t in times]}  # (time, max channel)


# --------------------------------------------------------------------------------------
# spasms
# --------------------------------------------------------------------------------------
def plan_clusters(rng, T, P=PARAMS):
    """Onset times grouped into clusters that fit inside T seconds."""
    margin = U(rng, P["edge_margin_s"])
    nc = U(rng, P["n_clusters"])
    for _attempt in range(200):
        clusters = []
        for _c in range(nc):
            k = U(rng, P["spasms_per_cluster"])
            isis = rng.uniform(*P["isi_s"], k - 1)
            clusters.append(np.concatenate([[0.0], np.cumsum(isis)]))
        gaps = [U(rng, P["inter_cluster_gap_s"]) for _ in range(nc - 1)]
        span = sum(c[-1] for c in clusters) + sum(gaps) + 8.0
        if span <= T - 2 * margin:
            t0 = rng.uniform(margin, T - margin - span)
            out = []
            for ci, c in enumerate(clusters):
                out.append(t0 + c)
                t0 = t0 + c[-1] + (gaps[ci] if ci < nc - 1 else 0)
            return out
        # shrink: fewer spasms, or fewer clusters
        if rng.random() < 0.5 and nc > 1:
            nc -= 1
    return [margin + np.cumsum(rng.uniform(*P["isi_s"], 3))]


def make_spasm(rng, t_nominal, names, fs, emg_on, P=PARAMS):
    """Return spasm description (times relative to recording)."""
    pos = positions(names)
    has_slow = rng.random() < P["p_slow_wave"]
    has_dec = rng.random() < P["p_decrement"]
    if not has_slow and not has_dec:
        has_slow = True if rng.random() < 0.5 else False
        has_dec = not has_slow
    has_fast = rng.random() < P["p_fast_burst"]
    sp: dict = {"slow": has_slow, "decrement": has_dec, "fast": has_fast}
    t = t_nominal
    comps_start, comps_end = [], []
    if has_fast:
        sp["fast_hz"] = U(rng, P["fast_hz"])
        sp["fast_dur"] = U(rng, P["fast_dur_s"])
        sp["fast_amp"] = U(rng, P["fast_amp_uv"])
        sp["fast_t"] = t - (U(rng, P["fast_lead_s"]) if has_slow else 0.0)
        comps_start.append(sp["fast_t"])
        comps_end.append(sp["fast_t"] + sp["fast_dur"])
    if has_slow:
        sp["slow_t"] = t
        sp["slow_dur"] = U(rng, P["slow_dur_s"])
        sp["slow_amp"] = U(rng, P["slow_amp_uv"])
        sp["slow_shape"] = str(rng.choice(P["slow_shapes"]))
        if rng.random() < P["p_vertex_max"]:
            ctr, sp["slow_centre"] = _unit(0, 0), "Cz"
        else:
            ctr = random_focus(rng, pos, 0.15)
            sp["slow_centre"] = names[int(np.argmax(pos @ ctr))]
        sp["slow_sigma"] = U(rng, P["slow_sigma_rad"])
        sp["slow_floor"] = U(rng, P["slow_floor"])
        sp["slow_gain"] = gain(pos, ctr, sp["slow_sigma"], sp["slow_floor"])
        sp["slow_polarity"] = 1.0 if rng.random() < P["p_vertex_positive"] else -1.0
        comps_start.append(t)
        comps_end.append(t + sp["slow_dur"])
    if has_dec:
        sp["dec_t"] = (t + sp["slow_dur"] - U(rng, P["dec_overlap_s"])) if has_slow else t
        sp["dec_dur"] = U(rng, P["dec_dur_s"])
        sp["dec_depth"] = U(rng, P["dec_depth"])
        sp["dec_ramp"] = U(rng, P["dec_ramp_s"])
        sp["lvfa"] = rng.random() < P["p_lvfa"]
        if sp["lvfa"]:
            sp["lvfa_hz"] = U(rng, P["lvfa_hz"])
            sp["lvfa_amp"] = U(rng, P["lvfa_amp_uv"])
        comps_start.append(sp["dec_t"] - sp["dec_ramp"] / 2)   # half-way down the ramp
        comps_end.append(sp["dec_t"] + sp["dec_dur"] + sp["dec_ramp"])
    sp["onset"] = float(min(comps_start))
    sp["offset"] = float(max(comps_end))
    sp["emg"] = bool(emg_on and rng.random() >= P["p_emg_missing_spasm"])
    if sp["emg"]:
        long = rng.random() < P["p_emg_long"]
        sp["emg_dur"] = U(rng, P["emg_long_dur_s"] if long else P["emg_spasm_dur_s"])
        sp["emg_amp"] = U(rng, P["emg_spasm_amp_uv"])
        sp["emg_t"] = sp["onset"] + U(rng, P["emg_onset_jitter_s"])
    return sp


def slow_wave_shape(shape, m):
    tt = np.linspace(0, 1, m)
    if shape == "mono":
        w = np.sin(np.pi * tt) ** 1.5
    elif shape == "biphasic":
        w = np.sin(2 * np.pi * tt) * np.hanning(m) ** 0.5
        w = np.where(w > 0, w, 0.5 * w)
    else:  # skewed: fast rise, slow fall
        w = np.where(tt < 0.3, np.sin(np.pi * tt / 0.6), np.cos(np.pi * (tt - 0.3) / 1.4))
        w = w * np.hanning(m) ** 0.2
    return w / np.abs(w).max()


def render_spasms(spasms, brain_env, add, emg, rng, fs, bip_fn):
    """Write spasm components: add -> additive array; brain_env multiplicative envelope."""
    n = add.shape[1]
    dec_segs = []
    for sp in spasms:
        if sp["fast"]:
            m = int(sp["fast_dur"] * fs)
            w = np.sin(2 * np.pi * sp["fast_hz"] * np.arange(m) / fs
                       + rng.uniform(0, 2 * np.pi)) * np.hanning(m)
            g = sp.get("slow_gain")
            if g is None:
                g = np.ones(add.shape[0])
            g = g / g.max()
            add_event(add, int(sp["fast_t"] * fs), sp["fast_amp"] * w, g)
        if sp["slow"]:
            m = int(sp["slow_dur"] * fs)
            w = sp["slow_polarity"] * sp["slow_amp"] * slow_wave_shape(sp["slow_shape"], m)
            tmp = sp["slow_gain"][:, None] * w[None]
            sp["slow_bipolar_pp_uv"] = float((bip_fn(tmp).max(1) - bip_fn(tmp).min(1)).max())
            add_event(add, int(sp["slow_t"] * fs), w, sp["slow_gain"])
        if sp["decrement"]:
            dec_segs.append((sp["dec_t"], sp["dec_dur"], sp["dec_depth"]))
            if sp.get("lvfa"):
                m = int(sp["dec_dur"] * fs)
                w = (bandnoise(rng, m, fs, sp["lvfa_hz"] - 3, sp["lvfa_hz"] + 3)
                     * np.hanning(m) ** 0.3)
                w = w / np.abs(w).max() * sp["lvfa_amp"]
                add_event(add, int(sp["dec_t"] * fs), w, np.ones(add.shape[0]))
        if emg is not None and sp["emg"]:
            m = int(sp["emg_dur"] * fs)
            w = bandnoise(rng, m, fs, *PARAMS["emg_band_hz"])
            diamond = 1 - np.abs(np.linspace(-1, 1, m))
            w = sp["emg_amp"] * w * diamond / 3.0
            a = int(sp["emg_t"] * fs)
            s0, s1 = max(a, 0), min(a + m, n)
            emg[s0:s1] += w[s0 - a:s1 - a]
    if dec_segs:
        ramp = float(np.mean([sp["dec_ramp"] for sp in spasms if sp["decrement"]]))
        brain_env *= envelope_ramp(n, fs, dec_segs, ramp)
    return spasms


# --------------------------------------------------------------------------------------
# one recording
# --------------------------------------------------------------------------------------
@dataclass
class Truth:
    stem: str
    form: str
    hyps_present: bool
    fs: float
    duration_s: float
    emg: bool
    spasms: list = field(default_factory=list)
    clusters: int = 0
    info: dict = field(default_factory=dict)


def _bandsplit(x, fs, band):
    sos = butter(4, band, "bandpass", fs=fs, output="sos")
    mains = sosfiltfilt(sos, x, axis=1)
    return x - mains, mains


def make_recording(seed, form, out_dir, duration_s=None, spasms=None, fs=None, P=PARAMS):
    """Build one recording, write <out_dir>/<stem>.edf + truth; return Truth.

    form: one of HYPS_FORMS or NEG_FORMS.  spasms: True/False/None (None = draw).
    fs: 128/256/None (None = draw).
    """
    rng = np.random.default_rng(seed)
    if duration_s is None:
        duration_s = 60 * U(rng, P["duration_min"])
    duration_s = float(int(duration_s))
    if fs is None:
        fs = 256.0 if rng.random() < P["p_fs_256"] else 128.0
    hyps = form in HYPS_FORMS
    if spasms is None:
        spasms = rng.random() < (P["p_spasms_on_hyps"] if hyps else P["p_spasms_on_negative"])
    names, bg, fs0, used = real_background(rng, duration_s, P)
    brain, mains = _bandsplit(bg, fs0, P["mains_band_hz"])
    if fs != fs0:
        brain = resample_poly(brain, int(fs // fs0), 1, axis=1)
        mains = resample_poly(mains, int(fs // fs0), 1, axis=1)
    n = brain.shape[1]
    scale = U(rng, P["bg_scale"])
    brain = brain * scale
    info: dict = {"bg_scale": scale, "real_files": used}
    bip = lambda x: bipolar(x, names)  # noqa: E731
    info["bg_bipolar_pp_median_uv"] = float(np.median(pp_1s(bip(brain), fs)))
    # pathological / negative layer (part of the brain signal: attenuations act on it)
    if hyps:
        layer, li = make_hyps(rng, form, names, n, fs, P)
    elif form == "sleep_slow":
        brain *= U(rng, P["sleep_bg_extra_scale"])
        layer, li = make_sleep(rng, names, n, fs, P)
    elif form == "single_focus":
        layer, li = make_single_focus(rng, names, n, fs, P)
    else:
        layer, li = np.zeros_like(brain), {"form": "background"}
    info.update(li)
    T = n / fs
    env = np.ones(n)                       # multiplicative envelope on the brain signal
    atten_eps = []
    if form == "attenuation":
        rate = U(rng, P["atten_rate_per_min"])
        k = rng.poisson(rate * T / 60)
        for t in np.sort(rng.uniform(2, T - 10, k)):
            atten_eps.append((float(t), U(rng, P["atten_dur_s"]), U(rng, P["atten_depth"])))
        env *= envelope_ramp(n, fs, atten_eps, 0.3)
        info["attenuation_episodes"] = atten_eps
    # spasms
    emg_on = fs == 256.0 and rng.random() < P["p_emg_at_256"]
    emg = None
    if emg_on:
        emg = bandnoise(rng, n, fs, *P["emg_band_hz"]) * U(rng, P["emg_noise_uv"])
    sps, nclu = [], 0
    add = np.zeros_like(brain)
    layer_env = np.ones(n)
    if spasms:
        clusters = plan_clusters(rng, T, P)
        nclu = len(clusters)
        for ci, c in enumerate(clusters):
            if hyps:
                fade = U(rng, P["hyps_fade_in_cluster"])
                layer_env *= envelope_ramp(n, fs, [(c[0] - 5, c[-1] - c[0] + 10, fade)], 5.0)
            for t in c:
                sp = make_spasm(rng, float(t), names, fs, emg_on, P)
                sp["cluster"] = ci
                sps.append(sp)
        render_spasms(sps, env, add, emg, rng, fs, bip)
    if emg is not None:
        kd = rng.poisson(U(rng, P["emg_distractor_per_h"]) * T / 3600)
        dis = []
        for t in rng.uniform(5, T - 10, kd):
            m = int(U(rng, P["emg_distractor_dur_s"]) * fs)
            e = np.exp(0.8 * smooth_noise(rng, m, fs, 0.3)) * np.hanning(m) ** 0.2
            w = (bandnoise(rng, m, fs, *P["emg_band_hz"]) * e / e.max()
                 * U(rng, P["emg_distractor_amp_uv"]) / 3)
            a = int(t * fs)
            emg[a:a + m] += w[: max(0, min(m, n - a))]
            dis.append(float(t))
        info["emg_distractor_onsets"] = dis
    sig = (brain + layer * layer_env[None]) * env[None] + add + mains
    # QC on the final EEG (0.5-30 Hz bipolar): how often a channel is > 200 µV p-p
    sos = butter(4, [0.5, 30], "bandpass", fs=fs, output="sos")
    bp = pp_1s(sosfiltfilt(sos, bip(sig), axis=1), fs)
    info["final_bipolar_pp_median_uv"] = float(np.median(bp))
    info["frac_s_any_bipolar_gt200"] = float(np.mean(bp.max(0) > 200))
    info["n_bipolar_ch_median_gt200_in_5min_max"] = int(
        max(np.sum(np.median(bp[:, i:i + 300], axis=1) > 200)
            for i in range(0, max(bp.shape[1] - 299, 1), 60)))
    lim = P["physical_range_uv"] * 0.999
    info["clipped_fraction"] = float(np.mean(np.abs(sig) > lim))
    sig = np.clip(sig, -lim, lim)
    # labels
    style = str(rng.choice(P["label_styles"]))
    modern = rng.random() < P["p_modern_names"]
    labels = [style.format(MODERN.get(c, c) if modern else c) for c in names]
    stem = f"{form}_{'sp' if sps else 'nosp'}_{int(fs)}hz_s{seed}"
    os.makedirs(out_dir, exist_ok=True)
    write_edf(os.path.join(out_dir, stem + ".edf"), sig, labels, fs,
              emg=emg, emg_label=P["emg_label"], prange=P["physical_range_uv"])
    info.update(label_style=style, modern_names=modern)
    truth = Truth(stem=stem, form=form, hyps_present=hyps, fs=fs, duration_s=T, emg=emg_on,
                  spasms=sps, clusters=nclu, info=info)
    save_truth(truth, out_dir)
    return truth


def write_edf(path, sig, labels, fs, emg=None, emg_label="EMG Deltoid", prange=3000.0):
    from edfio import Edf, EdfSignal
    sigs = [EdfSignal(s.astype(np.float64), fs, label=lab, physical_dimension="uV",
                      physical_range=(-prange, prange), transducer_type="AgAgCl electrode")
            for s, lab in zip(sig, labels, strict=False)]
    if emg is not None:
        e = np.clip(emg, -prange * 0.999, prange * 0.999)
        sigs.append(EdfSignal(e, fs, label=emg_label, physical_dimension="uV",
                              physical_range=(-prange, prange)))
    Edf(sigs, data_record_duration=1.0).write(path)


SPASM_COLS = ["onset", "duration", "cluster", "slow", "slow_amp", "slow_bipolar_pp_uv", "slow_dur",
              "slow_shape", "slow_centre", "slow_polarity", "fast", "fast_amp", "decrement",
              "dec_depth", "dec_dur", "lvfa", "emg", "emg_amp", "emg_dur"]


def save_truth(tr: Truth, out_dir):
    import csv
    with open(os.path.join(out_dir, tr.stem + ".spasms.tsv"), "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(SPASM_COLS)
        for sp in tr.spasms:
            row = dict(sp, duration=sp["offset"] - sp["onset"])
            w.writerow([_fmt(row.get(c, "n/a")) for c in SPASM_COLS])
    d = {k: v for k, v in tr.__dict__.items() if k != "spasms"}
    d["n_spasms"] = len(tr.spasms)
    d["spasms"] = [{k: (_fmt(v) if not isinstance(v, np.ndarray) else None) for k, v in sp.items()
                    if k != "slow_gain"} for sp in tr.spasms]
    with open(os.path.join(out_dir, tr.stem + ".truth.json"), "w") as fh:
        json.dump(d, fh, indent=1, default=_fmt)


def _fmt(v):
    if isinstance(v, (np.floating, float)):
        return round(float(v), 4)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(
        description="make one cross-check test recording (EDF + truth) on a real background")
    ap.add_argument("--form", default="classic", choices=HYPS_FORMS + NEG_FORMS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=None,
                    help="length in minutes (default: drawn from PARAMS['duration_min'])")
    ap.add_argument("--out", default=str(WORK_DIR / "single"),
                    help="output folder (default: %(default)s)")
    ap.add_argument("--real-dir", default=None,
                    help=f"folder of real 19-channel EDF recordings (default: ${REAL_DIR_ENV} "
                         f"or {DEFAULT_REAL_DIR})")
    a = ap.parse_args()
    use_real_dir(a.real_dir)
    tr = make_recording(a.seed, a.form, a.out, None if a.minutes is None else a.minutes * 60)
    print(tr.stem, tr.hyps_present, len(tr.spasms), tr.clusters,
          json.dumps(tr.info, default=_fmt)[:800])

"""hypsa's own reading of each bench recording, cached: its hypsarrhythmia verdict and its
attenuation episodes per minute, as :func:`hypsa.analyze` gives them.

``run.py`` reads a held-out recording at the model's second threshold where hypsa does not call
it hypsarrhythmic (what :func:`hypsa.analyze` does, :func:`hypsa.spasm_recording.reread`);
``attenuated.py`` splits the recordings by their attenuation episodes. The analyses are cached
in ``benchmarks/_work/generalize/analyses.parquet`` (about 2 s a recording on 2 cores the first
time). The verdict does not depend on the recording-level reading (the grades are built before
it), so a change of that reading does not call for new analyses; a change of the grading or of
the per-window spasm decision does (delete the file).
"""

from __future__ import annotations

import json
import warnings

import data as D
import pandas as pd

CACHE = D.WORK / "analyses.parquet"
COLUMNS = ["recording", "verdict", "per_min"]


def source(recording: str):
    """The recording as the bench stored it (an EDF path, or ``hypsa.simulate``'s own)."""
    gen, rid = recording.split("/")
    folder = D.WORK / "recordings" / gen / rid
    if gen == "simulate":
        m = json.loads((folder / "meta.json").read_text())
        spec = D.Spec("simulate", rid, m["background"], m["seed"], m["emg"], m["minutes"],
                      m.get("spasms", True), m.get("gain", 1.0))
        return D._build_simulate(spec)[0]
    return next(folder.glob("*.edf"))


def analyse(recording: str) -> dict:
    """One recording under :func:`hypsa.analyze`: its verdict and attenuations per minute."""
    from hypsa import analyze

    warnings.simplefilter("ignore")
    a = analyze(source(recording))
    return {"recording": recording, "verdict": a.verdict,
            "per_min": float(a.summary_["spasms"]["attenuations_per_min"])}


def analyses(recordings: list[str], jobs: int = 2) -> pd.DataFrame:
    """:func:`analyse` of every recording (cached), one row each."""
    have = pd.read_parquet(CACHE) if CACHE.exists() else pd.DataFrame(columns=COLUMNS)
    todo = [r for r in recordings if r not in set(have["recording"])]
    if todo:
        rows = []
        with D.pool(jobs, 8) as workers:
            for i, row in enumerate(workers.imap_unordered(analyse, todo, chunksize=1)):
                rows.append(row)
                if (i + 1) % 20 == 0 or i + 1 == len(todo):
                    print(f"  analysed {i + 1}/{len(todo)}", flush=True)
                    have = pd.concat([have, pd.DataFrame(rows)], ignore_index=True)
                    rows = []
                    have.to_parquet(CACHE)
    return have[have["recording"].isin(recordings)].reset_index(drop=True)

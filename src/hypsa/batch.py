"""Analyse a whole cohort on Dask: a folder of EEG files or a BIDS dataset.

``run_batch(root, out)`` finds the recordings under ``root`` (with mne-bids when ``root`` holds a
``dataset_description.json``, else every EEG file below it), sends their *paths* to Dask workers
(a :class:`distributed.LocalCluster` of single-threaded processes, or an existing cluster), and
writes the outputs of each recording as BIDS derivatives under ``<out>/hypsa/``:

* ``sub-XX[/ses-YY]/eeg/<stem>.summary.json, .epochs.tsv, .grades.tsv, .events.tsv`` for a BIDS
  dataset, ``<relative path without suffix>/<stem>.*`` for a plain folder;
* ``errors.tsv``: one line per recording that failed;
* ``cohort.parquet`` and ``cohort.csv``: one row per recording;
* ``cohort.png``: grade histogram and spasm-rate distribution;
* ``dataset_description.json`` of the derivative dataset.

Every recording's ``<stem>.summary.json`` is written last and atomically (temporary file, then
:func:`os.replace`), so it marks the recording done: a resumed run skips it, and a crash loses
only the recordings in flight.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hypsa import __version__
from hypsa.errors import FileAccessError, InputError, ParameterError
from hypsa.metadata import read_metadata
from hypsa.verdict import hypsarrhythmia_verdict, is_present

__all__ = ["BatchItem", "find_recordings", "run_batch", "cohort_row", "SINGLE_THREAD_ENV"]

#: Subfolder of ``out`` holding the derivative dataset.
PIPELINE = "hypsa"

#: File suffixes taken as EEG recordings in a plain folder.
EEG_SUFFIXES = (".edf", ".bdf", ".vhdr", ".set", ".fif", ".eeg", ".cnt", ".gdf", ".eeghdf")
#: Double suffixes taken as EEG recordings too (eeghdf).
EEG_DOUBLE_SUFFIXES = (".eeg.h5",)

#: Extensions of BIDS EEG recordings (``*_eeg.<ext>``).
BIDS_EXTENSIONS = [".edf", ".bdf", ".vhdr", ".set", ".fif"]

#: One BLAS/OpenMP thread per worker process: parallelism comes from the workers.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}

#: Columns of the cohort table, in order.
COHORT_COLUMNS = [
    "file", "subject", "session", "task", "run", "status", "duration_s", "recorded_s",
    "analysed_s", "excluded_s", "verdict", "based_score", "based_score_unflagged",
    "probability", "present",
    "spasm_count", "per_hour", "n_clusters", "movement_channel", "attenuated_background",
    "clusters_on_waking", "bad_channels", "error", "output",
]  # fmt: skip


@dataclass(frozen=True)
class BatchItem:
    """One recording of the batch and where its outputs go.

    Attributes
    ----------
    path : Path
        The recording (absolute).
    rel : str
        Its path relative to the batch root (the ``file`` column of the cohort table).
    out_dir : Path
        Folder of its outputs.
    stem : str
        Output file stem (``<stem>.summary.json`` ...).
    subject, session, task, run : str or None
        BIDS entities (None for a plain folder).
    """

    path: Path
    rel: str
    out_dir: Path
    stem: str
    subject: str | None = None
    session: str | None = None
    task: str | None = None
    run: str | None = None

    @property
    def marker(self) -> Path:
        """The ``<stem>.summary.json`` whose presence means the recording is done."""
        return self.out_dir / f"{self.stem}.summary.json"


# --------------------------------------------------------------------------------------------
# discovery


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def is_bids(root: str | Path) -> bool:
    """Whether ``root`` is a BIDS dataset (holds a ``dataset_description.json``)."""
    return (Path(root) / "dataset_description.json").is_file()


def _under(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _find_bids(root: Path, deriv: Path, exclude: Path | None) -> list[BatchItem]:
    import mne_bids

    subjects = mne_bids.get_entity_vals(root, "subject")
    if not subjects:
        return []
    found = mne_bids.find_matching_paths(root, subjects=subjects, datatypes="eeg",
                                         suffixes="eeg", extensions=BIDS_EXTENSIONS,
                                         ignore_json=True, ignore_nosub=True)
    items: list[BatchItem] = []
    seen: set[Path] = set()
    for bp in found:
        p = Path(bp.fpath).resolve()
        rel = p.relative_to(root)
        if p in seen or not p.is_file() or _under(p, exclude) \
                or rel.parts[0] in ("derivatives", "sourcedata"):
            continue
        seen.add(p)
        sub = f"sub-{bp.subject}"
        folder = deriv / sub / (f"ses-{bp.session}" if bp.session else "") / "eeg"
        items.append(BatchItem(p, str(rel), folder, _stem(p), bp.subject, bp.session, bp.task,
                               bp.run))
    return sorted(items, key=lambda it: it.rel)


def _find_plain(root: Path, deriv: Path, exclude: Path | None) -> list[BatchItem]:
    files = sorted(q for q in root.rglob("*")
                   if (q.suffix.lower() in EEG_SUFFIXES
                       or q.name.lower().endswith(EEG_DOUBLE_SUFFIXES)) and q.is_file()
                   and not any(part.startswith(".") for part in q.relative_to(root).parts)
                   and not _under(q, exclude))
    # a BrainVision recording is its .vhdr; its binary .eeg beside it is not a second file
    vhdr = {q.with_suffix("") for q in files if q.suffix.lower() == ".vhdr"}
    files = [q for q in files if not (q.suffix.lower() == ".eeg" and q.with_suffix("") in vhdr)]
    keys = [q.relative_to(root).with_suffix("") for q in files]
    dup = {k for k, n in Counter(keys).items() if n > 1}
    items = []
    for q, k in zip(files, keys, strict=True):
        if k in dup:  # rec.edf and rec.bdf side by side: keep them apart
            k = k.with_name(q.name.replace(".", "_"))
        items.append(BatchItem(q.resolve(), str(q.relative_to(root)), deriv / k, _stem(q)))
    return items


def find_recordings(root: str | Path, out: str | Path) -> list[BatchItem]:
    """List the recordings of a folder or BIDS dataset and where each one's outputs go.

    Parameters
    ----------
    root : str or Path
        A folder of EEG files (searched recursively) or a BIDS dataset.
    out : str or Path
        Output folder of the batch; the derivative dataset is ``<out>/hypsa``. Files under
        ``out`` are never taken as inputs.

    Returns
    -------
    list of BatchItem
        Sorted by path; empty when nothing was found.
    """
    root = Path(root)
    if not root.exists():
        raise FileAccessError(root, "no such folder")
    if not root.is_dir():
        raise InputError(root, "batch needs a folder of EEG files or a BIDS dataset")
    root = root.resolve()
    deriv = Path(out).resolve() / PIPELINE
    exclude = Path(out).resolve()
    if exclude == root or _under(root, exclude):
        exclude = deriv  # out == root: skip only the derivative folder
    if is_bids(root):
        return _find_bids(root, deriv, exclude)
    return _find_plain(root, deriv, exclude)


# --------------------------------------------------------------------------------------------
# one recording (runs on a worker)


def _one_line(exc: BaseException, path: Path) -> str:
    if isinstance(exc, InputError):
        msg = str(exc)
    elif isinstance(exc, OSError):
        msg = f"{path}: {exc.strerror or exc}"
    else:
        msg = f"{path}: {type(exc).__name__}: {exc}"
    return " ".join(msg.split())


def _limit_threads() -> Any:
    """Limit BLAS/OpenMP pools of this process to one thread (when threadpoolctl is there)."""
    os.environ.update(SINGLE_THREAD_ENV)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's usual stacks
        return None
    return threadpool_limits(1)


def process_item(item: BatchItem, report: bool = False, params: Any = None) -> dict[str, Any]:
    """Analyse one recording and write its outputs atomically (the worker's task).

    The outputs are written to a private staging folder inside ``item.out_dir`` and moved into
    place with :func:`os.replace`, ``<stem>.summary.json`` last: a recording whose summary
    exists is complete. Never raises for a bad recording: the error is returned.

    Parameters
    ----------
    item : BatchItem
        The recording.
    report : bool
        Also write ``<stem>.report.html``.
    params : hypsa.analysis.AnalysisParams, optional
        Analysis parameters (defaults when None).

    Returns
    -------
    dict
        ``{"rel": ..., "status": "analysed" | "failed", "error": str | None}``.
    """
    from hypsa.analysis import analyze

    _limit_threads()
    out = item.out_dir
    stage: Path | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob(f".partial-{item.stem}-*"):  # left by a crashed run
            shutil.rmtree(old, ignore_errors=True)
        res = analyze(item.path, params=params, n_jobs=1)
        res.stem = item.stem
        # age, medication, indication from <stem>.meta.json or the BIDS tables (hypsa.metadata)
        res.summary_["metadata"] = read_metadata(item.path)
        stage = out / f".partial-{item.stem}-{uuid.uuid4().hex[:8]}"
        paths = res.save(stage)
        if report:
            from hypsa.report import write_report

            paths["report"] = Path(write_report(res, stage, source=item.path))
        summary = paths.pop("summary")
        for p in paths.values():
            os.replace(p, out / Path(p).name)
        os.replace(summary, item.marker)  # the "done" marker, last
        return {"rel": item.rel, "status": "analysed", "error": None}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the cohort
        return {"rel": item.rel, "status": "failed", "error": _one_line(exc, item.path)}
    finally:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        with suppress(OSError):  # no empty folder for a recording that failed
            out.rmdir()


# --------------------------------------------------------------------------------------------
# cohort table, figure, derivative description


def cohort_row(item: BatchItem, status: str, error: str | None = None) -> dict[str, Any]:
    """One row of the cohort table, read from the recording's saved summary.

    Parameters
    ----------
    item : BatchItem
        The recording.
    status : str
        ``"analysed"``, ``"skipped"`` (done by an earlier run) or ``"failed"``.
    error : str, optional
        The one-line error of a failed recording.

    Returns
    -------
    dict
        Keyed by :data:`COHORT_COLUMNS`.
    """
    row: dict[str, Any] = dict.fromkeys(COHORT_COLUMNS)
    row.update(file=item.rel, subject=item.subject, session=item.session, task=item.task,
               run=item.run, status=status, error=error, output=str(item.out_dir))
    if status != "failed" and item.marker.is_file():
        s = json.loads(item.marker.read_text())
        h, sp, q = s["hypsarrhythmia"], s["spasms"], s["quality"]
        row.update(duration_s=s["duration_s"], recorded_s=s["recorded_s"],
                   analysed_s=s["analysed_s"], excluded_s=s["excluded_s"],
                   verdict=hypsarrhythmia_verdict(h)["verdict"],
                   based_score=h["based_score"], probability=h["probability"],
                   # the grade without the foci flagged for review (empty: none flagged)
                   based_score_unflagged=((h.get("evidence") or {}).get("graded_epoch")
                                          or {}).get("grade_unflagged"),
                   present=is_present(h), spasm_count=sp["count"], per_hour=sp["per_hour"],
                   n_clusters=sp["n_clusters"],
                   # EEG alone (empty) counts are a lower bound; EMG or video, much less so
                   movement_channel=sp.get("movement_channel"),
                   # frequent attenuation episodes: where the EEG alone is weakest
                   attenuated_background=sp.get("attenuated_background"),
                   # known only where the recording has sleep-stage annotations
                   clusters_on_waking=(sp.get("sleep_wake") or {}).get("clusters_on_waking"),
                   bad_channels=",".join(q["bad_channels"]))
    return row


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COHORT_COLUMNS)
    for c in ("based_score", "based_score_unflagged", "spasm_count", "n_clusters",
              "clusters_on_waking"):
        df[c] = df[c].astype("Int64")
    for c in ("present", "attenuated_background"):
        df[c] = df[c].astype("boolean")
    for c in ("duration_s", "recorded_s", "analysed_s", "excluded_s", "probability", "per_hour"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("file", "subject", "session", "task", "run", "status", "verdict",
              "movement_channel", "bad_channels", "error", "output"):
        df[c] = df[c].astype("string")
    return df


def cohort_figure(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the cohort figure: BASED grade histogram and spasm-rate distribution.

    Parameters
    ----------
    df : DataFrame
        The cohort table.
    path : str or Path
        Target ``.png``.

    Returns
    -------
    Path
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    ok = df[df["status"] != "failed"]
    fig = Figure(figsize=(9, 3.4))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    for ax in (ax1, ax2):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    grades = ok["based_score"].dropna().astype(int).to_numpy()
    counts = np.bincount(grades, minlength=6)[:6] if grades.size else np.zeros(6, int)
    colors = ["#4c9a2a"] * 4 + ["#c0392b"] * 2
    ax1.bar(np.arange(6), counts, color=colors)
    ax1.set_xticks(np.arange(6))
    ax1.set_xlabel("BASED grade (worst epoch)")
    ax1.set_ylabel("recordings")
    ax1.set_title(f"Hypsarrhythmia grade (n={grades.size}, {int(ok['based_score'].isna().sum())}"
                  " not graded)", fontsize=9)
    rate = ok["per_hour"].dropna().to_numpy(dtype=float)
    if rate.size:
        ax2.hist(rate, bins=min(20, max(5, rate.size)), color="#2c7fb8")
        ax2.axvline(float(np.median(rate)), color="k", ls="--", lw=1,
                    label=f"median {np.median(rate):.1f}/h")
        ax2.legend(fontsize=8)
    ax2.set_xlabel("spasms per hour")
    ax2.set_ylabel("recordings")
    ax2.set_title("Spasm rate", fontsize=9)
    n_failed = int((df["status"] == "failed").sum())
    fig.suptitle(f"hypsa cohort: {len(ok)} recordings analysed"
                 + (f", {n_failed} failed" if n_failed else ""), fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    return path


def dataset_description(deriv: Path, root: Path) -> Path:
    """Write the derivative's BIDS ``dataset_description.json``; return its path."""
    desc: dict[str, Any] = {
        "Name": "hypsa: hypsarrhythmia grading and spasm detection",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{
            "Name": "hypsa",
            "Version": __version__,
            "Description": "BASED hypsarrhythmia grade, epileptic spasms and clusters per "
                           "recording (hypsa batch).",
        }],
    }
    src = root / "dataset_description.json"
    if src.is_file():
        try:
            name = json.loads(src.read_text()).get("Name")
        except (ValueError, OSError):
            name = None
        desc["SourceDatasets"] = [{"URL": src.parent.resolve().as_uri(),
                                   **({"Name": name} if name else {})}]
    p = deriv / "dataset_description.json"
    _atomic_write(p, json.dumps(desc, indent=2))
    return p


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# the cluster


@contextmanager
def _client(workers: int, scheduler: str | None) -> Iterator[Any]:
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s") as client:
            # workers of an existing cluster: limit threads for the tasks they run from now on
            client.run(_limit_threads_quiet)
            yield client
        return
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    environ.update(SINGLE_THREAD_ENV)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=None, env=dict(SINGLE_THREAD_ENV),
                         # no fixed port: concurrent batches must not collide on 8787
                         scheduler_kwargs={"dashboard_address": ":0"},
                         silence_logs=40) as cluster, Client(cluster) as client:
        yield client


def _limit_threads_quiet() -> None:
    _limit_threads()


def run_batch(
    root: str | Path,
    out: str | Path,
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = True,
    progress: bool = True,
    report: bool = False,
    params: Any = None,
) -> pd.DataFrame:
    """Analyse every recording of a folder or BIDS dataset on Dask and build the cohort table.

    Parameters
    ----------
    root : str or Path
        A folder of EEG files (recursively) or a BIDS dataset (``dataset_description.json`` at
        its top; the ``*_eeg.*`` recordings are found with mne-bids).
    out : str or Path
        Output folder; everything goes to ``<out>/hypsa/``.
    workers : int
        Worker processes of the local Dask cluster (one thread each). Ignored with
        ``scheduler``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``) to use instead of a local
        cluster. Its workers must see ``root`` and ``out`` at the same paths.
    resume : bool
        Skip recordings whose ``<stem>.summary.json`` already exists (default). With False,
        every recording is analysed again.
    progress : bool
        Show a progress bar.
    report : bool
        Also write each recording's HTML report.
    params : hypsa.analysis.AnalysisParams, optional
        Analysis parameters for every recording (defaults when None). Each ``summary.json``
        records the spasm operating point and cluster gap it was analysed with; ``resume``
        skips recordings already done whatever their parameters.

    Returns
    -------
    DataFrame
        The cohort table (one row per recording, columns :data:`COHORT_COLUMNS`). ``df.attrs``
        holds ``paths`` (``cohort_csv``, ``cohort_parquet``, ``figure``, ``errors``,
        ``dataset_description``, ``derivatives``) and the counts ``analysed``, ``skipped`` and
        ``failed``.
    """
    if not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    root = Path(root)
    items = find_recordings(root, out)
    if not items:
        raise InputError(root, "no EEG recording found (" + (
            "no sub-*/[ses-*/]eeg/*_eeg.* file in this BIDS dataset" if is_bids(root)
            else ", ".join(EEG_SUFFIXES)) + ")")
    deriv = Path(out).resolve() / PIPELINE
    deriv.mkdir(parents=True, exist_ok=True)
    done = [it for it in items if resume and it.marker.is_file()]
    for it in done:  # a run killed between the done marker and its cleanup leaves staging
        for old in it.out_dir.glob(f".partial-{it.stem}-*"):
            shutil.rmtree(old, ignore_errors=True)
    todo = [it for it in items if not (resume and it.marker.is_file())]
    results: dict[str, dict[str, Any]] = {it.rel: {"status": "skipped", "error": None}
                                          for it in done}
    if todo:
        results.update(_dispatch(todo, workers, scheduler, progress, report, params))
    rows = [cohort_row(it, **results[it.rel]) for it in items]
    df = _frame(rows)
    paths = {
        "derivatives": deriv,
        "cohort_csv": deriv / "cohort.csv",
        "cohort_parquet": deriv / "cohort.parquet",
        "errors": deriv / "errors.tsv",
        "figure": deriv / "cohort.png",
    }
    df.to_csv(paths["cohort_csv"], index=False)
    df.to_parquet(paths["cohort_parquet"], index=False)
    err = df.loc[df["status"] == "failed", ["file", "error"]]
    err.to_csv(paths["errors"], sep="\t", index=False)
    cohort_figure(df, paths["figure"])
    paths["dataset_description"] = dataset_description(deriv, root)
    df.attrs["paths"] = paths
    for k in ("analysed", "skipped", "failed"):
        df.attrs[k] = int((df["status"] == k).sum())
    return df


def _dispatch(todo: list[BatchItem], workers: int, scheduler: str | None, progress: bool,
              report: bool, params: Any = None) -> dict[str, dict[str, Any]]:
    """Run the recordings on the cluster; return ``{rel: {"status", "error"}}``."""
    from distributed import as_completed
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    out: dict[str, dict[str, Any]] = {}
    n = min(workers, len(todo))
    with _client(n, scheduler) as client, Progress(
            TextColumn("hypsa batch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TimeRemainingColumn(), disable=not progress, transient=True) as bar:
        task = bar.add_task("recordings", total=len(todo))
        futures = {client.submit(process_item, it, report, params, key=f"hypsa-{i}-{it.stem}",
                                 pure=False): it for i, it in enumerate(todo)}
        for fut in as_completed(futures):
            it = futures[fut]
            try:
                r = fut.result()
                out[it.rel] = {"status": r["status"], "error": r["error"]}
            except Exception as exc:  # noqa: BLE001 - worker died (memory, signal)
                out[it.rel] = {"status": "failed", "error": _one_line(exc, it.path)}
            fut.release()
            bar.advance(task)
    return out


def summary_lines(df: pd.DataFrame) -> list[str]:
    """A few lines telling what a batch did and where its outputs are."""
    a = df.attrs
    p = a.get("paths", {})
    lines = [f"{len(df)} recording(s): {a.get('analysed', 0)} analysed, "
             f"{a.get('skipped', 0)} skipped (done earlier), {a.get('failed', 0)} failed"]
    for key, label in (("cohort_parquet", "cohort table"), ("cohort_csv", "cohort table (CSV)"),
                       ("figure", "cohort figure"), ("errors", "errors"),
                       ("dataset_description", "derivative"), ("derivatives", "outputs")):
        if key in p:
            lines.append(f"  {label + ':':<22}{p[key]}")
    return lines

"""The ``hypsa`` command line: thin shells over the functions a Python user calls.

Every command turns a :class:`hypsa.errors.HypsaError` into one line on stderr and exit status 2.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import typer

from hypsa import __version__
from hypsa.errors import HypsaError, ParameterError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="hypsa: hypsarrhythmia grading and epileptic-spasm detection in infant EEG "
    "(supports, does not replace, expert review).",
)


def fail(message: str, code: int = 2) -> None:
    """Print ``hypsa: error: <message>`` on one line to stderr and exit with ``code``."""
    typer.echo(f"hypsa: error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Turn hypsa errors (and OS errors) into the one-line message and exit status 2."""
    try:
        yield
    except HypsaError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"hypsa {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """hypsa command line."""


# --- commands -------------------------------------------------------------------------------
# (io commands: info, anonymize) -- owned by hypsa.io
# (simulate) -- owned by hypsa.simulate
# (analyze, demo, evaluate, export-annotations) -- owned by hypsa.analysis

EEG_SUFFIXES = (".edf", ".bdf", ".vhdr", ".set", ".fif", ".eeg", ".cnt", ".gdf", ".eeghdf",
                ".eeg.h5")


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to the EEG files inside them (recursively)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.name.lower().endswith(EEG_SUFFIXES)
                           and not q.name.startswith("."))
            if not found:
                fail(f"{p}: folder holds no EEG file ({', '.join(EEG_SUFFIXES)})")
            out.extend(found)
        else:
            out.append(p)
    return out


def _progress(quiet: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(),
                    disable=quiet, transient=True)


def analyze_files(files: list[Path], out: Path, *, jobs: int = 1, quiet: bool = False,
                  report: bool = True, params=None,
                  hypnogram=None, movement=None,
                  metadata: dict | None = None,
                  report_kw: dict | None = None) -> tuple[list[dict], list[str]]:
    """Analyse files one after the other; a bad file is reported and the others still run.

    ``report_kw`` goes to :func:`hypsa.report.write_report` (``video``, ``frames``,
    ``blur_faces``).

    ``params`` (:class:`hypsa.analysis.AnalysisParams`, default when None) applies to every file.
    ``hypnogram`` (a table from :func:`hypsa.vigilance.read_hypnogram`; one file only) replaces
    the sleep stages in the recording's annotations.

    Returns
    -------
    done : list of dict
        Per analysed file, the paths written and the summary.
    errors : list of str
        One line per file that failed.
    """
    from hypsa.analysis import analyze

    done, errors = [], []
    with _progress(quiet) as prog:
        for f in files:
            task = prog.add_task(f.name, total=None)

            def cb(i: int, n: int, task=task) -> None:
                prog.update(task, completed=i, total=n)

            try:
                source: object = f
                if hypnogram is not None:
                    import pandas as pd

                    from hypsa.io import read
                    from hypsa.vigilance import stage_rows

                    source = read(f)
                    # the table replaces any stages the file carries
                    own = source.annotations
                    own = own[~stage_rows(own)]
                    source.annotations = pd.concat([own, hypnogram], ignore_index=True).sort_values(
                        "onset", kind="stable").reset_index(drop=True)
                res = analyze(source, params=params, n_jobs=jobs, progress=cb,
                              movement=movement)
                # age, medication, indication: given, or beside the recording (hypsa.metadata)
                from hypsa.metadata import read_metadata

                res.summary_["metadata"] = read_metadata(f, metadata)
                paths = res.save(out)
                if report:
                    try:
                        from hypsa.report import write_report
                    except ImportError:
                        pass
                    else:
                        paths["report"] = write_report(res, out, source=f, **(report_kw or {}))
                done.append({"file": f, "paths": paths, "analysis": res})
            except HypsaError as exc:
                errors.append(str(exc))
            except OSError as exc:
                errors.append(f"{f}: {exc.strerror or exc}")
            finally:
                prog.remove_task(task)
    return done, errors


def _analysis_params(spasm_threshold: float | None, cluster_gap: float | None):
    """AnalysisParams with the spasm operating point and cluster gap given on the command line
    (checked by :class:`hypsa.spasms.SpasmParams`; the error names the option)."""
    from dataclasses import replace

    from hypsa.analysis import AnalysisParams

    params = AnalysisParams()
    spasms = params.spasms
    for flag, field, value in (("--spasm-threshold", "min_confidence", spasm_threshold),
                               ("--cluster-gap", "cluster_gap_s", cluster_gap)):
        if value is not None:
            try:
                spasms = replace(spasms, **{field: float(value)})
            except ParameterError as exc:
                raise ParameterError(f"{flag}: {exc}") from None
    return replace(params, spasms=spasms)


# options shared by analyze and batch
_SPASM_THRESHOLD = typer.Option(
    None, "--spasm-threshold", metavar="SCORE",
    help="Pattern score (0-1) an event needs to count as a spasm. Default: the fitted operating "
         "point. Lower finds more spasms and more false ones; docs/validation.md gives the "
         "trade-off.")
_CLUSTER_GAP = typer.Option(
    None, "--cluster-gap", metavar="SECONDS",
    help="Spasms less than this apart belong to one cluster (default 120).")


@app.command()
def analyze(
    paths: list[Path] = typer.Argument(..., help="EEG files or folders."),
    out: Path = typer.Option(Path("hypsa-out"), "--out", "-o", help="Output folder."),
    jobs: int = typer.Option(-1, "--jobs", "-j",
                             help="Worker processes per file (-1 = all cores; 1 = serial)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write the HTML report."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    spasm_threshold: float = _SPASM_THRESHOLD,
    cluster_gap: float = _CLUSTER_GAP,
    hypnogram: Path = typer.Option(
        None, "--hypnogram", metavar="TSV",
        help="Sleep stages of the (one) recording: a table with onset (s), optional duration "
             "(s) and stage (W, N1-N3, R, ...); it replaces any stages in the file's "
             "annotations. Each spasm cluster is then placed in the sleep-wake cycle (on "
             "waking or not)."),
    model: Path = typer.Option(
        None, "--model", metavar="SITE_MODEL",
        help="A site model folder (hypsa calibrate) that decides the spasms instead of the "
             "shipped threshold; summary.json and the report name it."),
    video: list[Path] = typer.Option(
        None, "--video", metavar="CLIP",
        help="Video of the (one) recording (repeat for several clips): its body movement "
             "joins the EEG in the spasm detector like a deltoid EMG, and each clip's "
             "<clip>.video_events.tsv / .video.json / .video.html are written."),
    video_offset: list[float] = typer.Option(
        None, "--video-offset", metavar="SECONDS",
        help="Seconds from the recording's start to the clip's first frame (one per --video, "
             "in order); without it the clocks (recording start, video creation time) place "
             "the clip."),
    no_frames: bool = typer.Option(
        False, "--no-frames", help="With --video: the report and the clip pages show no "
        "frames of the video (de-identification); its movement is still used."),
    blur_faces: bool = typer.Option(
        False, "--blur-faces", help="With --video: blur skin-coloured areas (faces) in the "
        "frames shown."),
    age_weeks: float = typer.Option(
        None, "--age-weeks", metavar="WEEKS", help="Age at the recording (weeks), for the "
        "report; applies to every file given (else <stem>.meta.json or BIDS tables)."),
    corrected_age_weeks: float = typer.Option(
        None, "--corrected-age-weeks", metavar="WEEKS",
        help="Age corrected for prematurity at the recording (weeks)."),
    medication: str = typer.Option(
        None, "--medication", metavar="TEXT",
        help="Medication and dose at the time of the recording, e.g. 'vigabatrin 100 "
             "mg/kg/day'."),
    indication: str = typer.Option(None, "--indication", metavar="TEXT",
                                   help="Why the recording was made."),
) -> None:
    """Grade hypsarrhythmia, detect spasms and write <stem>.summary.json, .epochs.tsv,
    .grades.tsv, .events.tsv (and .report.html) for each file."""
    with guard():
        params = _analysis_params(spasm_threshold, cluster_gap)
        if model is not None:
            if spasm_threshold is not None:
                raise ParameterError("--spasm-threshold and --model: the site model sets its "
                                     "own threshold; give one of them")
            from hypsa.study.calibrate import load_site_model

            params = load_site_model(model).params(params)
        files = _expand(paths)
        if hypnogram is not None and len(files) != 1:
            raise ParameterError(f"--hypnogram goes with one recording, not {len(files)}")
        stages = None
        if hypnogram is not None:
            from hypsa.vigilance import read_hypnogram

            stages = read_hypnogram(hypnogram)  # a bad table stops here, before any analysis
        movement = None
        if video:
            movement = _video_movement(files, video, video_offset, out, quiet,
                                       frames=not no_frames, blur_faces=blur_faces)
        elif video_offset:
            raise ParameterError("--video-offset goes with --video")
        report_kw = {"frames": not no_frames, "blur_faces": blur_faces}
        if movement is not None:  # the report shows each spasm's frames from these clips
            report_kw["video"] = [(c, m["offset_s"]) for c, m in zip(video, movement.clips,
                                                                      strict=True)]
        given = {"age_weeks": age_weeks, "corrected_age_weeks": corrected_age_weeks,
                 "medication": medication, "indication": indication}
        from hypsa.metadata import read_metadata

        read_metadata(None, given)  # an implausible age stops here, before any analysis
        done, errors = analyze_files(files, out, jobs=jobs, quiet=quiet, report=report,
                                     params=params, hypnogram=stages, movement=movement,
                                     metadata=given, report_kw=report_kw)
    for d in done:
        if not quiet:
            typer.echo(d["analysis"].summary())
            for c in (movement.clips if movement is not None else []):
                typer.echo(f"  video {c['statement']}")
            typer.echo(f"  -> {d['paths']['summary'].parent}/{d['analysis'].stem}.*\n")
    for e in errors:
        typer.echo(f"hypsa: error: {' '.join(e.split())}", err=True)
    if errors:
        raise typer.Exit(2)


def _video_movement(files: list[Path], clips: list[Path], offsets: list[float] | None,
                    out: Path, quiet: bool, *, frames: bool = True, blur_faces: bool = False):
    """Measure the clips of ``hypsa analyze --video``, write their own outputs, and return
    their movement on the recording's timeline."""
    if len(files) != 1:
        raise ParameterError(f"--video goes with one recording, not {len(files)}")
    from hypsa.video import EventParams, VideoResult
    from hypsa.video.align import movement_for
    from hypsa.video.events import clusters_table, detect_events

    if not quiet:
        typer.echo(f"Measuring movement in {len(clips)} video(s) ...")
    mv = movement_for(files[0], list(clips), list(offsets or []))
    for track, c in zip(mv.tracks, mv.clips, strict=True):
        ev = detect_events(track, EventParams())
        res = VideoResult(track, ev, clusters_table(ev), {}, {"alignment": c})
        res.save(out, frames=frames, blur_faces=blur_faces)
    return mv


@app.command()
def demo(
    out: Path = typer.Option(Path("hypsa-demo"), "--out", "-o", help="Output folder."),
    hours: float = typer.Option(1.0, "--hours", help="Length of the simulated recording."),
    seed: int = typer.Option(7, "--seed"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Simulate an hour of hypsarrhythmic infant EEG with spasm clusters, analyse it and print
    where the report is."""
    from hypsa.simulate import simulate

    with guard():
        out.mkdir(parents=True, exist_ok=True)
        if not quiet:
            typer.echo(f"Simulating {hours:g} h of infant EEG with hypsarrhythmia and spasm "
                       "clusters ...")
        sim = simulate(hours * 3600, hypsarrhythmia="classic", n_clusters=3, emg=True, seed=seed)
        edf = sim.write_edf(out / "demo_infant.edf")
        if not quiet:
            typer.echo(f"  recording: {edf}  (truth: {edf.with_name(edf.stem + '_events.tsv')})")
        done, errors = analyze_files([edf], out, jobs=-1, quiet=quiet)
        if errors:
            fail(errors[0])
    d = done[0]
    if not quiet:
        typer.echo(d["analysis"].summary())
        from hypsa.evaluate import evaluate_files

        sc = evaluate_files(edf.with_name(edf.stem + "_events.tsv"), d["paths"]["events"])
        s = sc["spasm"]
        typer.echo(f"Against the simulator's truth: {s.tp}/{s.n_ref} spasms found, "
                   f"{s.fp} false detection(s).")
    typer.echo(f"Outputs in {out.resolve()}")
    if "report" in d["paths"]:
        typer.echo(f"Report: {Path(d['paths']['report']).resolve()}")


@app.command()
def evaluate(
    ref: Path = typer.Argument(..., help="Reference events.tsv (or a folder of them)."),
    hyp: Path = typer.Argument(..., help="Detected events.tsv (or a folder of them)."),
    duration: float = typer.Option(None, "--duration", help="Recording duration (s), if the "
                                   "reference lacks recordingDuration."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Event-based sensitivity, precision, F1 and false detections per hour (timescoring), per
    spasm and per cluster."""
    import json

    import pandas as pd

    from hypsa.evaluate import evaluate_files, evaluate_folders

    with guard():
        if ref.is_dir() or hyp.is_dir():
            df = evaluate_folders(ref, hyp)
        else:
            sc = evaluate_files(ref, hyp, duration)
            df = pd.DataFrame([{"recording": ref.name, **s.to_dict()} for s in sc.values()])
    if as_json:
        typer.echo(json.dumps(df.to_dict(orient="records"), indent=2))
    else:
        cols = ["recording", "level", "n_ref", "n_hyp", "tp", "fp", "sensitivity", "precision",
                "f1", "fp_per_hour"]
        typer.echo(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


@app.command("export-annotations")
def export_annotations_cmd(
    recording: Path = typer.Argument(..., help="The analysed recording."),
    events: Path = typer.Argument(..., help="Its <stem>.events.tsv from `hypsa analyze`."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .edf with the spasms annotated."),
) -> None:
    """Write an EDF+ copy (or an annotation-only EDF+) with the detected spasms as annotations,
    for EDFbrowser or MNE's browser."""
    from hypsa.export import export_annotations, read_events

    with guard():
        p = export_annotations(recording, read_events(events), out)
    typer.echo(f"Annotated EDF+: {p}")



# --- io commands: info, anonymize (owned by hypsa.io) ---------------------------------------
@app.command()
def info(
    file: Path = typer.Argument(..., help="EEG file (EDF, EDF+, BDF, BrainVision, FIF ...)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Describe a recording: format, segments and gaps, channels, annotations, montage, dead
    channels."""
    import json

    from hypsa.io import read

    with guard():
        d = read(file).describe()
    if as_json:
        typer.echo(json.dumps(d, indent=2, ensure_ascii=False, default=str))
        return
    mont = d["montage"]
    lines = [
        f"file:        {d['file']}",
        f"format:      {d['format']}",
        f"start:       {d['start_time'] or 'unknown'}",
        f"duration:    {d['duration_s']:.2f} s ({d['recorded_s']:.2f} s recorded, "
        f"{len(d['segments'])} segment(s), {len(d['gaps'])} gap(s))",
    ]
    for g in d["gaps"][:10]:
        lines.append(f"  gap at {g['onset_s']:.3f} s lasting {g['duration_s']:.3f} s")
    lines.append(f"channels:    {len(d['channels'])} (EEG rate {d['sfreq']:g} Hz)")
    for c in d["channels"]:
        lines.append(f"  {c['name']:<12} {c['label']!r:<22} {c['kind']:<5} {c['sfreq']:g} Hz")
    ann = d["annotations"]
    lines.append(f"annotations: {ann['count']}")
    for a in ann["first"]:
        lines.append(f"  {a['onset']:10.3f} s  {a['duration']:7.3f} s  {a['description']}")
    missing = ", ".join(mont["standard_19_missing"]) or "none"
    lines.append(
        f"montage:     {mont['standard_19_found']}/19 standard 10-20 channels (missing: {missing});"
        f" double banana {'complete' if mont['double_banana_complete'] else 'incomplete'}"
    )
    flat = d["dead_or_flat"] or {}
    lines.append(f"dead/flat:   {len(flat) or 'none'}")
    for name, why in flat.items():
        lines.append(f"  {name}: {why}")
    typer.echo("\n".join(lines))


@app.command()
def anonymize(
    src: Path = typer.Argument(..., help="EDF/EDF+/BDF file to de-identify (not modified)."),
    dst: Path = typer.Argument(..., help="Output file (must differ from the input)."),
    keep_age: bool = typer.Option(False, "--keep-age", help="Keep the age in months."),
    shift_days: int = typer.Option(0, "--shift-days", help="Move the start date by this many "
                                   "days (negative: earlier); default: kept."),
) -> None:
    """Write a copy without patient name, ID and birth date, nor the recording's admin code,
    technician and equipment (signals bit-identical; start date kept unless shifted)."""
    from hypsa.io import anonymize as _anonymize

    with guard():
        out = _anonymize(src, dst, keep_age_months=keep_age, shift_days=shift_days)
    typer.echo(f"Anonymized copy: {out}")


@app.command()
def simulate(
    out: str = typer.Argument(..., help="Output EDF file (<stem>_events.tsv is written beside)."),
    hours: float = typer.Option(1.0, "--hours", help="Duration in hours (whole seconds)."),
    clusters: int = typer.Option(3, "--clusters", help="Number of spasm clusters."),
    hypsarrhythmia: str = typer.Option("classic", "--hypsarrhythmia",
                                       help="classic | modified | none"),
    variant: str | None = typer.Option(
        None, "--variant",
        help="modified form: attenuation|asymmetry|focus|synchronous|slow|fragmented"),
    background: str = typer.Option(
        "normal", "--background",
        help="with --hypsarrhythmia none: normal|sleep_slow|single_focus|burst_suppression"),
    emg: bool = typer.Option(True, "--emg/--no-emg", help="Add a deltoid EMG channel."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    mains: float = typer.Option(50.0, "--mains", help="Mains frequency: 50, 60 or 0 (none)."),
    spasm_variety: str = typer.Option(
        "classic", "--spasm-variety",
        help="classic (generalized 200-500 uV wave, 1-3 s decrement) | wide (wave 0.8-4x the "
             "local background, any field and polarity, 0.5-6 s decrement, incomplete forms; "
             "events.tsv gets a form column)"),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Simulate an infant EEG with known hypsarrhythmia and spasms, streamed to EDF+."""
    from pathlib import Path

    from hypsa.simulate import simulate_to_edf
    from hypsa.simulate.writer import events_tsv_path

    with guard():
        if mains not in (0, 50, 60):
            raise ParameterError(f"--mains must be 50, 60 or 0, got {mains:g}")
        kwargs = dict(hypsarrhythmia=hypsarrhythmia, variant=variant, background=background,
                      n_clusters=clusters, emg=emg, seed=seed, mains_hz=mains or None,
                      spasm_variety=spasm_variety)
        duration = float(round(hours * 3600.0))
        if quiet:
            path = simulate_to_edf(out, duration, **kwargs)
        else:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("simulating", total=duration)
                path = simulate_to_edf(
                    out, duration, progress=lambda done, _total: bar.update(task, completed=done),
                    **kwargs)
        typer.echo(f"EDF: {Path(path)}")
        typer.echo(f"events: {events_tsv_path(Path(path))}")


# --- report, response (owned by hypsa.report / hypsa.response) -----------------------------
@app.command("report")
def report_cmd(
    target: Path = typer.Argument(..., help="Output folder of `hypsa analyze`, or one "
                                  "<stem>.summary.json in it."),
    stem: str = typer.Option(None, "--stem", help="Which recording of the folder (default: "
                             "the only one)."),
    source: Path = typer.Option(None, "--source", help="The analysed EEG, for the snippets."),
    pdf: bool = typer.Option(False, "--pdf", help="Also write <stem>.report.pdf."),
    video: list[Path] = typer.Option(
        None, "--video", metavar="CLIP", help="The clip(s) the recording was analysed with, "
        "for the frames of each spasm (default: as named in the summary, or beside --source)."),
    no_frames: bool = typer.Option(False, "--no-frames",
                                   help="No frames of the video (de-identification)."),
    blur_faces: bool = typer.Option(False, "--blur-faces",
                                    help="Blur skin-coloured areas (faces) in the frames."),
) -> None:
    """Re-build the HTML report (and optionally a PDF) from saved analysis outputs."""
    from hypsa.errors import InputError
    from hypsa.report import write_pdf, write_report
    from hypsa.results import load

    with guard():
        if target.is_file():
            if not target.name.endswith(".summary.json"):
                raise InputError(target, "expected a <stem>.summary.json or an output folder")
            folder, stems = target.parent, [target.name[: -len(".summary.json")]]
        elif target.is_dir():
            folder = target
            stems = sorted(p.name[: -len(".summary.json")] for p in target.glob("*.summary.json"))
        else:
            raise InputError(target, "no such file or folder")
        if stem:
            stems = [stem]
        if not stems:
            raise InputError(folder, "no <stem>.summary.json here; run `hypsa analyze` first")
        if len(stems) > 1:
            raise InputError(folder, f"holds {len(stems)} analyses ({', '.join(stems[:5])}"
                             f"{' ...' if len(stems) > 5 else ''}); choose one with --stem")
        res = load(folder, stems[0])
        vkw: dict = {"frames": not no_frames, "blur_faces": blur_faces}
        if video:
            from hypsa.report.video import clips_from_summary

            found, _ = clips_from_summary(res, source, list(video))
            named = {n for _, _, _, n in found}
            for v in video:
                if v.name not in named:
                    raise ParameterError(f"--video {v}: not a clip this recording was "
                                         "analysed with (see video in its summary.json)")
            vkw["video"] = [(p, off) for p, off, _, _ in found]
        html = write_report(res, folder, source=source, **vkw)
        typer.echo(f"Report: {html}")
        if pdf:
            pdf_path = write_pdf(res, folder / f"{res.stem}.report.pdf", source=source, **vkw)
            typer.echo(f"PDF: {pdf_path}")


@app.command("response")
def response_cmd(
    visits: Path = typer.Argument(..., help="VISITS.csv: date, kind (recording|treatment), "
                                  "recording, label, event, drug, dose (docs/response.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    diary: Path = typer.Option(None, "--diary", help="Caregiver diary CSV: date, time, spasms."),
    treatments: Path = typer.Option(None, "--treatments", help="Treatment events CSV: date, "
                                    "event (start|stop|change), drug, dose."),
    definition: str = typer.Option("west-delphi", "--definition", help="Response definition: "
                                   "west-delphi, ukiss, iciss or nisc."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes per recording."),
    reports: bool = typer.Option(True, "--reports/--no-reports", help="Also write each "
                                 "visit's HTML report."),
) -> None:
    """Follow treatment response across serial recordings; write response.json and
    response.html."""
    from hypsa.response import response as _response

    with guard():
        doc = _response(visits, out, diary=diary, treatments=treatments, definition=definition,
                        n_jobs=jobs, reports=reports)
    typer.echo(f"{doc['definition']['name']}: {doc['outcome']}"
               + (f" at {doc['response_visit']['date']} (day {doc['response_visit']['day']})"
                  if doc["response_visit"] else ""))
    if doc["relapse"]:
        typer.echo(f"relapse from {doc['relapse']['date']} (day {doc['relapse']['day']})")
    for m in doc.get("missing") or []:
        typer.echo(f"missing: {m}")
    for fl in doc.get("flags") or []:
        typer.echo(f"flag: {fl}")
    for v in doc["visits"]:
        typer.echo(f"  {v['date']} day {v['day']}: {v['status']} — hypsarrhythmia "
                   f"{str(v['hypsarrhythmia']).replace('_', ' ')} (BASED {v['based_grade']}), "
                   f"{v['spasms']} EEG events"
                   + ("" if v.get("reviewed") else " (not reviewed)"))
    typer.echo(f"Outputs: {out / 'response.json'}, {out / 'response.html'}")


# --- batch (owned by hypsa.batch) -----------------------------------------------------------
@app.command("batch")
def batch_cmd(
    root: Path = typer.Argument(..., help="Folder of EEG files (recursive) or a BIDS dataset."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (derivatives go to "
                             "<out>/hypsa/)."),
    workers: int = typer.Option(2, "--workers", "-w", help="Worker processes of the local Dask "
                                "cluster (one thread each)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Address of a running Dask "
                                  "scheduler (tcp://host:8786) instead of a local cluster."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Skip recordings already "
                                "done (their <stem>.summary.json exists)."),
    report: bool = typer.Option(False, "--report/--no-report", help="Also write each "
                                "recording's HTML report."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    spasm_threshold: float = _SPASM_THRESHOLD,
    cluster_gap: float = _CLUSTER_GAP,
) -> None:
    """Analyse a whole cohort on Dask; write BIDS derivatives, cohort.parquet/.csv, errors.tsv
    and cohort.png under <out>/hypsa/. Re-running resumes where a crash stopped."""
    from hypsa.batch import run_batch, summary_lines
    from hypsa.extras import require_extra

    with guard():
        require_extra("batch", "hypsa batch")
        params = _analysis_params(spasm_threshold, cluster_gap)
        df = run_batch(root, out, workers=workers, scheduler=scheduler, resume=resume,
                       progress=not quiet, report=report, params=params)
    typer.echo("\n".join(summary_lines(df)))
    for e in df.loc[df["status"] == "failed", "error"]:
        typer.echo(f"hypsa: error: {' '.join(str(e).split())}", err=True)
    if df.attrs.get("failed"):
        raise typer.Exit(2)


# --- web: serve, worker (owned by hypsa.web) ------------------------------------------------
@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Data folder (default: "
                                  "$HYPSA_DATA_DIR or the platform's user data folder)."),
    create_admin: str = typer.Option(None, "--create-admin", metavar="USER",
                                     help="Create this admin account first (password from "
                                     "$HYPSA_ADMIN_PASSWORD or a prompt)."),
    worker: bool = typer.Option(True, "--worker/--no-worker",
                                help="Also run the analysis worker as a child process."),
    forwarded_allow_ips: str = typer.Option(
        None, "--forwarded-allow-ips", metavar="ADDRS",
        help="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are trusted (default: $HYPSA_FORWARDED_ALLOW_IPS, or none). "
        "Session cookies are then Secure."),
) -> None:
    """Run the clinic web app: upload, analyse, review, follow patients (docs/web.md).

    SIGTERM or SIGINT (Ctrl-C) stops the server and its worker together."""
    import os

    from hypsa.extras import require_extra

    with guard():
        require_extra("web", "hypsa serve")
    from hypsa.web.app import ensure_admin
    from hypsa.web.server import is_loopback
    from hypsa.web.server import serve as _serve
    from hypsa.web.settings import Settings

    with guard():
        settings = Settings(data_dir=data_dir) if data_dir else Settings()
        if forwarded_allow_ips is not None:
            settings.forwarded_allow_ips = forwarded_allow_ips.strip()
        if not os.environ.get("HYPSA_COOKIE_SECURE") and (
                not is_loopback(host) or settings.forwarded_allow_ips):
            settings.cookie_secure = True
        admin = create_admin or os.environ.get("HYPSA_ADMIN_USER")
        if admin:
            pw = os.environ.get("HYPSA_ADMIN_PASSWORD")
            if not pw and create_admin:
                pw = typer.prompt(f"Password for {admin}", hide_input=True,
                                  confirmation_prompt=True)
            if not pw:
                fail("HYPSA_ADMIN_USER needs HYPSA_ADMIN_PASSWORD")
            if ensure_admin(settings, admin, pw):
                typer.echo(f"Created admin account {admin!r}.")
        typer.echo(f"hypsa web app on http://{host}:{port}/ (data: {settings.data_dir})")
        _serve(settings, host=host, port=port, with_worker=worker)


@app.command()
def worker(
    data_dir: Path = typer.Option(None, "--data-dir", help="Data folder (as for serve)."),
) -> None:
    """Run one analysis worker: claims queued jobs from the database until stopped."""
    import logging

    from hypsa.extras import require_extra

    with guard():
        require_extra("web", "hypsa worker")
    from hypsa.web.jobs import run_worker
    from hypsa.web.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    with guard():
        run_worker(Settings(data_dir=data_dir) if data_dir else Settings())


users_app = typer.Typer(no_args_is_help=True, help="Accounts of the web app: list, add, reset a "
                        "password, activate, deactivate (owned by hypsa.web).")
app.add_typer(users_app, name="users")
_DATA_OPT = typer.Option(None, "--data-dir", help="Data folder (as for serve).")


def _web_settings(data_dir: Path | None):
    from hypsa.extras import require_extra

    with guard():
        require_extra("web", "hypsa users")
    from hypsa.web.settings import Settings

    return Settings(data_dir=data_dir) if data_dir else Settings()


def _new_password(username: str) -> str:
    import os

    pw = os.environ.get("HYPSA_NEW_PASSWORD")
    return pw or typer.prompt(f"New password for {username}", hide_input=True,
                              confirmation_prompt=True)


@users_app.command("list")
def users_list(data_dir: Path = _DATA_OPT) -> None:
    """List every account."""
    from hypsa.web.accounts import list_users

    settings = _web_settings(data_dir)
    with guard():
        for u in list_users(settings):
            changed = u["password_changed_at"]
            typer.echo(f"{u['username']}\t{u['role']}\t{'active' if u['active'] else 'inactive'}"
                       f"\tpassword changed {changed:%Y-%m-%d %H:%M} UTC" if changed else
                       f"{u['username']}\t{u['role']}\t"
                       f"{'active' if u['active'] else 'inactive'}")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="User name (unique regardless of case)."),
    role: str = typer.Option("reviewer", "--role", help="reviewer or admin."),
    data_dir: Path = _DATA_OPT,
) -> None:
    """Create an account (password from $HYPSA_NEW_PASSWORD or a prompt)."""
    from hypsa.web.accounts import add_user

    settings = _web_settings(data_dir)
    with guard():
        add_user(settings, username, _new_password(username), role)
    typer.echo(f"Created {role} {username!r}.")


@users_app.command("passwd")
def users_passwd(
    username: str = typer.Argument(..., help="The account."),
    data_dir: Path = _DATA_OPT,
) -> None:
    """Reset an account's password (from $HYPSA_NEW_PASSWORD or a prompt); its sessions end."""
    from hypsa.web.accounts import reset_password

    settings = _web_settings(data_dir)
    with guard():
        n = reset_password(settings, username, _new_password(username))
    typer.echo(f"Password of {username!r} reset; {n} session(s) ended.")


@users_app.command("deactivate")
def users_deactivate(username: str = typer.Argument(..., help="The account."),
                     data_dir: Path = _DATA_OPT) -> None:
    """Deactivate an account; its sessions end at once."""
    from hypsa.web.accounts import set_active

    settings = _web_settings(data_dir)
    with guard():
        n = set_active(settings, username, False)
    typer.echo(f"Deactivated {username!r}; {n} session(s) ended.")


@users_app.command("activate")
def users_activate(username: str = typer.Argument(..., help="The account."),
                   data_dir: Path = _DATA_OPT) -> None:
    """Activate an account again."""
    from hypsa.web.accounts import set_active

    settings = _web_settings(data_dir)
    with guard():
        set_active(settings, username, True)
    typer.echo(f"Activated {username!r}.")


# (study agreement, calibrate) -- owned by hypsa.study
study_app = typer.Typer(no_args_is_help=True, help="Reader studies: agreement between readers "
                        "and hypsa.")
app.add_typer(study_app, name="study")


@study_app.command("agreement")
def study_agreement(
    study: Path = typer.Argument(..., help="Study folder: recordings.tsv, scores.tsv, "
                                 "events.tsv (and hypsa/, hypsa's output for the recordings)."),
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (default: "
                             "STUDY/agreement)."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates of each interval."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
) -> None:
    """Kappa, Fleiss, Krippendorff, event-level and count agreement between the readers and
    hypsa: agreement.html, agreement.json and one CSV per table."""
    from hypsa.extras import require_extra

    with guard():
        require_extra("study", "hypsa study agreement")
        from hypsa.study.agreement import agreement, read_study
        from hypsa.study.report import write_report

        res = agreement(read_study(study), n_boot=n_boot, seed=seed)
        paths = write_report(res, out or study / "agreement", title=study.resolve().name)
    for line in res.summary_lines():
        typer.echo(line)
    typer.echo(f"  -> {paths['html']}")


@app.command()
def calibrate(
    reviewed: Path = typer.Argument(..., help="Folder of reviewed recordings: each EEG file "
                                    "with <stem>.reviewed.tsv or <stem>_events.tsv beside it."),
    out: Path = typer.Option(..., "--out", "-o", help="Site model folder to write."),
    max_fd: float = typer.Option(1.0, "--max-fd-per-hour", help="False detections per hour "
                                 "the site threshold may allow."),
    refit: bool = typer.Option(None, "--refit/--no-refit", help="Refit the model on the "
                               "features too (default: when enough reviewed events)."),
    name: str = typer.Option(None, "--name", help="The model's name in every output."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes per recording."),
) -> None:
    """Refit the spasm decision on a site's reviewed recordings (cross-validated by patient)
    and write a site model with its card; refused, with the numbers, when it does worse out
    of fold than the shipped model."""
    from hypsa.extras import require_extra

    with guard():
        require_extra("study", "hypsa calibrate")
        from hypsa.study.calibrate import CalibrationRefused, calibrate_folder

        try:
            m = calibrate_folder(reviewed, out, max_fd_per_hour=max_fd, refit=refit, name=name,
                                 n_jobs=jobs)
        except CalibrationRefused as exc:
            fail(f"{out}: {exc} (card.md written, no model)")
    typer.echo(m.card["verdict"])
    typer.echo(f"  -> {out}/site_model.json, {out}/card.md")


# --- video commands: video, simulate-video (owned by hypsa.video) ----------------------------
def _region(text: str | None) -> tuple[int, int, int, int] | None:
    if text is None:
        return None
    try:
        v = tuple(int(float(p)) for p in text.split(","))
    except ValueError:
        v = ()
    if len(v) != 4 or v[2] <= 0 or v[3] <= 0 or v[0] < 0 or v[1] < 0:
        raise ParameterError(f"--region: expected x,y,w,h in pixels (w, h > 0), got {text!r}")
    return v  # type: ignore[return-value]


@app.command("video")
def video_cmd(
    clip: Path = typer.Argument(..., help="Video file (mp4, mov, avi, mkv, webm; phone or "
                                "video-EEG camera)."),
    out: Path = typer.Option(Path("hypsa-out"), "--out", "-o", help="Output folder."),
    no_frames: bool = typer.Option(False, "--no-frames",
                                   help="The page shows the movement trace only, no frames."),
    blur_faces: bool = typer.Option(False, "--blur-faces",
                                    help="Blur skin-coloured areas (faces) in the frames shown."),
    region: str = typer.Option(None, "--region", metavar="X,Y,W,H",
                               help="The child's region in pixels (default: found "
                                    "automatically)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    """Measure body movement in a video and find sudden symmetric movements and their clusters;
    write <stem>.video_events.tsv, .video.json and .video.html (never a diagnosis)."""
    with guard():
        box = _region(region)
        if clip.is_dir() or (clip.exists() and clip.suffix.lower() not in
                             (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".3gp")):
            from hypsa.errors import UnsupportedFormatError

            raise UnsupportedFormatError(clip, "not a video file (mp4, mov, m4v, avi, mkv, "
                                         "webm, 3gp)")
        from hypsa.video import analyze_video

        res = analyze_video(clip, region=box)
        paths = res.save(out, frames=not no_frames, blur_faces=blur_faces)
    if not quiet:
        typer.echo(res.statement())
        from hypsa.video import footage_quality

        for note in footage_quality(res.track)["notes"]:
            typer.echo(f"  About this video: {note}")
        typer.echo(f"  -> {paths['summary'].parent}/{res.stem}.video.*")


@app.command("simulate-video")
def simulate_video_cmd(
    out: Path = typer.Argument(..., help="Target .mp4 (truth beside it as <stem>_events.tsv)."),
    minutes: float = typer.Option(1.0, "--minutes", help="Length in minutes."),
    handheld: bool = typer.Option(False, "--handheld",
                                  help="Hand-held phone: pan, shake, reframing, variable rate."),
    portrait: bool = typer.Option(False, "--portrait", help="Phone portrait framing."),
    clusters: int = typer.Option(2, "--clusters",
                                 help="Spasm clusters (0: ordinary movement only)."),
    size: str = typer.Option("640x360", "--size", metavar="WxH", help="Picture size."),
    fps: float = typer.Option(30.0, "--fps", help="Frame rate."),
    eeg: Path = typer.Option(None, "--eeg", metavar="OUT.edf",
                             help="Also write a simulated hypsarrhythmic EEG with the same "
                                  "spasms on the same timeline."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Simulate a video of an infant (ordinary movements, spasm clusters, camera and light
    nuisances) with known truth."""
    with guard():
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise ParameterError(f"--size: expected WxH, got {size!r}") from None
        from hypsa.video.simulate import simulate_video, truth_path

        sim = simulate_video(out, minutes, width=w, height=h, fps=fps, handheld=handheld,
                             portrait=portrait, n_clusters=clusters, eeg=eeg, seed=seed)
    typer.echo(f"video: {sim.video}  ({len(sim.spasms)} spasms; truth: {truth_path(sim.video)})")
    if sim.eeg is not None:
        typer.echo(f"EEG:   {sim.eeg}")

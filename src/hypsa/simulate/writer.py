"""Writing simulations: EDF+C (signals + annotations) and the BIDS/SzCORE ``*_events.tsv``.

Two paths write the same file layout (1-s data records, 16-bit samples, physical range ±3276.8 µV
i.e. 0.1 µV resolution, one "EDF Annotations" signal):

* :func:`write_edf_whole` uses edfio on an in-memory array;
* :class:`StreamingEdfWriter` writes the header and the int16 records itself with numpy, chunk by
  chunk, so that a 24-h recording never sits whole in memory (edfio cannot append records).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from hypsa.errors import ParameterError

__all__ = [
    "PHYS_MAX",
    "StreamingEdfWriter",
    "annotation_table",
    "events_tsv_path",
    "write_edf_whole",
    "write_events_tsv",
]

PHYS_MAX = 3276.7
PHYS_MIN = -3276.8


def events_tsv_path(edf_path: Path) -> Path:
    """``<dir>/<stem>_events.tsv`` beside the EDF (a trailing ``_eeg`` in the stem is dropped)."""
    stem = edf_path.stem
    if stem.endswith("_eeg"):
        stem = stem[:-4]
    return edf_path.with_name(f"{stem}_events.tsv")


def annotation_table(
    events: pd.DataFrame,
    clusters: pd.DataFrame,
    states: pd.DataFrame,
    artifacts: pd.DataFrame | None,
) -> pd.DataFrame:
    """Annotations written into the EDF: onset, duration, description (sorted by onset).

    Descriptions: ``sz_gen_m_spasms`` per spasm, ``spasm cluster <k> (<count> spasms)``,
    ``state: <wake|nrem|rem>`` per state bout, ``artifact: <kind> <channel>`` per artifact.
    """
    parts = [
        pd.DataFrame(
            {
                "onset": events["onset"],
                "duration": events["duration"],
                "description": events["eventType"],
            }
        ),
        pd.DataFrame(
            {
                "onset": clusters["onset"],
                "duration": clusters["offset"] - clusters["onset"],
                "description": [
                    f"spasm cluster {c} ({k} spasms)"
                    for c, k in zip(clusters["cluster"], clusters["count"], strict=True)
                ],
            }
        ),
        pd.DataFrame(
            {
                "onset": states["onset"],
                "duration": states["duration"],
                "description": "state: " + states["state"].astype(str),
            }
        ),
    ]
    if artifacts is not None and len(artifacts):
        parts.append(
            pd.DataFrame(
                {
                    "onset": artifacts["onset"],
                    "duration": artifacts["duration"],
                    "description": "artifact: "
                    + artifacts["kind"].astype(str)
                    + " "
                    + artifacts["channel"].astype(str),
                }
            )
        )
    df = pd.concat([p for p in parts if len(p)], ignore_index=True)
    if df.empty:
        return pd.DataFrame(columns=["onset", "duration", "description"])
    return df.sort_values("onset", kind="stable").reset_index(drop=True)


def write_events_tsv(
    path: Path, events: pd.DataFrame, start_time: datetime, duration_s: float
) -> Path:
    """Write the SzCORE/BIDS events file; a recording without spasms gets one ``bckg`` row.

    Events of the wide drawing (a ``form`` column) add a ``form`` column to the file.
    """
    cols = [
        "onset",
        "duration",
        "eventType",
        "trial_type",
        "confidence",
        "channels",
        "dateTime",
        "recordingDuration",
    ]
    if len(events):
        df = pd.DataFrame(
            {
                "onset": events["onset"].round(4),
                "duration": events["duration"].round(4),
                "eventType": events["eventType"],
                "trial_type": events["trial_type"],
            }
        )
    else:
        df = pd.DataFrame(
            {
                "onset": [0.0],
                "duration": [duration_s],
                "eventType": ["bckg"],
                "trial_type": ["bckg"],
            }
        )
    df["confidence"] = 1
    df["channels"] = "all"
    df["dateTime"] = [
        (start_time + timedelta(seconds=float(o))).strftime("%Y-%m-%d %H:%M:%S")
        for o in df["onset"]
    ]
    df["recordingDuration"] = round(float(duration_s), 4)
    if "form" in events.columns:  # wide drawing: complete / wave_only / decrement_only
        cols.append("form")
        df["form"] = events["form"].to_numpy() if len(events) else ["bckg"]
    df[cols].to_csv(path, sep="\t", index=False)
    return path


def _check_sfreq(sfreq: float) -> int:
    if abs(sfreq - round(sfreq)) > 1e-9:
        raise ParameterError(f"EDF writing needs an integer sampling rate, got {sfreq}")
    return int(round(sfreq))


def write_edf_whole(
    path: Path,
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    start_time: datetime,
    annotations: pd.DataFrame,
) -> Path:
    """Write an in-memory recording as EDF+C with edfio (1-s records, whole seconds needed)."""
    from edfio import Edf, EdfAnnotation, EdfSignal, Recording

    fs = _check_sfreq(sfreq)
    if data.shape[1] % fs:
        raise ParameterError("EDF writing needs a whole number of seconds of data")
    signals = [
        EdfSignal(
            np.clip(data[i].astype(np.float64), PHYS_MIN, PHYS_MAX),
            fs,
            label=name,
            transducer_type="AgAgCl electrode" if typ == "eeg" else "surface EMG deltoid",
            physical_dimension="uV",
            physical_range=(PHYS_MIN, PHYS_MAX),
        )
        for i, (name, typ) in enumerate(zip(ch_names, ch_types, strict=True))
    ]
    annots = [
        EdfAnnotation(round(float(o), 4), round(float(d), 4), str(s))
        for o, d, s in annotations[["onset", "duration", "description"]].itertuples(index=False)
    ]
    edf = Edf(
        signals,
        recording=Recording(startdate=start_time.date()),
        starttime=start_time.time().replace(microsecond=0),
        data_record_duration=1,
        annotations=annots,
    )
    edf.write(path)
    return path


def _field(value: object, width: int) -> bytes:
    s = str(value)
    if len(s) > width:
        raise ParameterError(f"EDF header field too long: {s!r}")
    return s.ljust(width).encode("ascii")


def _num(x: float, width: int = 8) -> str:
    s = f"{x:g}"
    if len(s) > width:
        s = f"{x:.{width}g}"[:width]
    return s


def _tal(onset: float, duration: float, text: str) -> bytes:
    return f"+{onset:.4f}\x15{duration:.4f}\x14{text}\x14\x00".encode()


class StreamingEdfWriter:
    """Write EDF+C record by record: header first, then :meth:`write` chunks of whole seconds.

    All annotations are known in advance (the simulation plans them) and are placed in the data
    record of their onset second, spilling into later records when one record's budget is full.
    """

    def __init__(
        self,
        path: Path,
        n_seconds: int,
        sfreq: float,
        ch_names: Sequence[str],
        ch_types: Sequence[str],
        start_time: datetime,
        annotations: pd.DataFrame,
    ) -> None:
        self.fs = _check_sfreq(sfreq)
        self.path, self.n_rec = Path(path), int(n_seconds)
        self.n_ch = len(ch_names)
        self._tals = self._distribute(annotations)
        self._rec = 0
        self._fh = open(self.path, "wb")
        self._fh.write(self._header(ch_names, ch_types, start_time))

    def _distribute(self, ann: pd.DataFrame) -> list[bytes]:
        items = [
            (min(int(o), self.n_rec - 1), _tal(o, d, str(s)))
            for o, d, s in ann[["onset", "duration", "description"]].itertuples(index=False)
        ]
        keep = [len(f"+{r}\x14\x14\x00") for r in range(self.n_rec)]
        biggest = max((len(b) for _, b in items), default=0)
        total = sum(len(b) for _, b in items)
        budget = max(60, 30 + biggest, 30 + int(np.ceil(total / max(self.n_rec, 1))) + 1)
        while True:
            recs: list[list[bytes]] = [[] for _ in range(self.n_rec)]
            used = list(keep)
            queue = sorted(items, key=lambda x: x[0])
            qi = 0
            pending: list[bytes] = []
            for r in range(self.n_rec):
                while qi < len(queue) and queue[qi][0] <= r:
                    pending.append(queue[qi][1])
                    qi += 1
                while pending and used[r] + len(pending[0]) <= budget:
                    b = pending.pop(0)
                    recs[r].append(b)
                    used[r] += len(b)
            if not pending:
                break
            budget = int(budget * 1.5) + 2
        self.ann_bytes = budget + (budget % 2)
        out = []
        for r in range(self.n_rec):
            raw = f"+{r}\x14\x14\x00".encode() + b"".join(recs[r])
            out.append(raw.ljust(self.ann_bytes, b"\x00"))
        return out

    def _header(self, ch_names: Sequence[str], ch_types: Sequence[str], start: datetime) -> bytes:
        ns = self.n_ch + 1
        months = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
        sd = f"{start.day:02d}-{months[start.month - 1]}-{start.year}"
        h = b"".join(
            [
                _field("0", 8),
                _field("X X X X", 80),
                _field(f"Startdate {sd} X X X", 80),
                _field(start.strftime("%d.%m.%y"), 8),
                _field(start.strftime("%H.%M.%S"), 8),
                _field(256 * (ns + 1), 8),
                _field("EDF+C", 44),
                _field(self.n_rec, 8),
                _field(1, 8),
                _field(ns, 4),
            ]
        )
        labels = list(ch_names) + ["EDF Annotations"]
        trans = ["AgAgCl electrode" if t == "eeg" else "surface EMG deltoid" for t in ch_types]
        cols = [
            [_field(x, 16) for x in labels],
            [_field(x, 80) for x in trans + [""]],
            [_field(x, 8) for x in ["uV"] * self.n_ch + [""]],
            [_field(x, 8) for x in [_num(PHYS_MIN)] * self.n_ch + ["-1"]],
            [_field(x, 8) for x in [_num(PHYS_MAX)] * self.n_ch + ["1"]],
            [_field(x, 8) for x in ["-32768"] * ns],
            [_field(x, 8) for x in ["32767"] * ns],
            [_field(x, 80) for x in [""] * ns],
            [_field(x, 8) for x in [self.fs] * self.n_ch + [self.ann_bytes // 2]],
            [_field(x, 32) for x in [""] * ns],
        ]
        return h + b"".join(b"".join(c) for c in cols)

    def write(self, chunk: np.ndarray) -> None:
        """Append (n_channels, k * sfreq) samples in µV as ``k`` data records."""
        n_rec = chunk.shape[1] // self.fs
        if chunk.shape[1] != n_rec * self.fs or self._rec + n_rec > self.n_rec:
            raise ParameterError("chunks must hold whole seconds and not exceed the recording")
        scale = (PHYS_MAX - PHYS_MIN) / 65535.0
        dig = np.round((np.clip(chunk, PHYS_MIN, PHYS_MAX) - PHYS_MIN) / scale - 32768.0)
        dig = np.clip(dig, -32768, 32767).astype("<i2")
        recs = dig.reshape(self.n_ch, n_rec, self.fs).transpose(1, 0, 2).reshape(n_rec, -1)
        ann = np.frombuffer(b"".join(self._tals[self._rec : self._rec + n_rec]), dtype="<i2")
        block = np.concatenate([recs, ann.reshape(n_rec, -1)], axis=1)
        self._fh.write(block.tobytes())
        self._rec += n_rec

    def close(self) -> None:
        """Close the file; raises if fewer records were written than announced."""
        self._fh.close()
        if self._rec != self.n_rec:
            raise ParameterError(f"wrote {self._rec} of {self.n_rec} data records")

"""Recording metadata: given options, the sidecar beside the recording, BIDS tables; precedence
and plausibility."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypsa.errors import InputError
from hypsa.metadata import describe_age, read_metadata, sidecar_path


def test_sidecar_and_given_options(tmp_path: Path) -> None:
    rec = tmp_path / "infant.edf"
    rec.write_bytes(b"")
    assert sidecar_path(rec) == tmp_path / "infant.meta.json"
    assert read_metadata(rec) == {"sources": {}}
    sidecar_path(rec).write_text(json.dumps({"age_weeks": 30, "medication": "ACTH 150 U/m2",
                                             "other": 1}))
    m = read_metadata(rec, {"medication": "vigabatrin 100 mg/kg/day", "indication": None})
    assert m["medication"] == "vigabatrin 100 mg/kg/day" and m["sources"]["medication"] == "given"
    assert m["age_weeks"] == 30 and m["sources"]["age_weeks"] == "sidecar infant.meta.json"
    assert "indication" not in m and "other" not in m
    assert describe_age({"age_weeks": 30, "corrected_age_weeks": 26}) == (
        "30 weeks (corrected 26 weeks)")
    assert describe_age({}) == "not given"


@pytest.mark.parametrize("bad", ['{"age_weeks": "soon"}', '[1, 2]', "{not json"])
def test_a_bad_sidecar_names_the_file(tmp_path: Path, bad: str) -> None:
    rec = tmp_path / "x.edf"
    sidecar_path(rec).write_text(bad)
    with pytest.raises(InputError, match="x.meta.json"):
        read_metadata(rec)
    with pytest.raises(InputError, match="plausible"):
        read_metadata(None, {"corrected_age_weeks": -3})


def test_bids_scans_and_participants(tmp_path: Path) -> None:
    eeg = tmp_path / "sub-01" / "ses-02" / "eeg"
    eeg.mkdir(parents=True)
    rec = eeg / "sub-01_ses-02_task-sleep_eeg.edf"
    rec.write_bytes(b"")
    (tmp_path / "participants.tsv").write_text("participant_id\tage\tsex\nsub-01\t0.5\tF\n")
    (tmp_path / "participants.json").write_text(json.dumps({"age": {"Units": "years"}}))
    m = read_metadata(rec)
    assert m["age_weeks"] == pytest.approx(26.09, abs=0.01)
    assert m["sources"]["age_weeks"] == "BIDS participants.tsv"
    (tmp_path / "sub-01" / "ses-02" / "sub-01_ses-02_scans.tsv").write_text(
        "filename\tacq_time\tcorrected_age_weeks\tmedication\n"
        f"eeg/{rec.name}\t2024-01-01T09:00:00\t22\tprednisolone 40 mg/day\n")
    m = read_metadata(rec, {"age_weeks": 27})
    assert m["age_weeks"] == 27 and m["sources"]["age_weeks"] == "given"
    assert m["corrected_age_weeks"] == 22 and m["sources"]["medication"] == "BIDS scans.tsv"

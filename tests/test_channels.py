"""Channel-name normalisation, kinds and montages."""

from __future__ import annotations

import numpy as np
import pytest

from hypsa.channels import (
    DOUBLE_BANANA,
    POSITIONS,
    STANDARD_19,
    average_reference,
    bipolar,
    hemisphere,
    is_eeg_name,
    normalize_label,
)
from hypsa.errors import ParameterError


@pytest.mark.parametrize(
    "label",
    ["EEG Fp1-REF", "EEG FP1-REF", "Fp1-Ref", "FP1-LE", "FP1-AVG", "Fp1", "fp1", "FP1-A1",
     "EEG Fp1", "Fp1.", " EEG  FP1 - REF "],
)  # fmt: skip
def test_fp1_variants(label: str) -> None:
    assert normalize_label(label) == ("Fp1", "eeg")


@pytest.mark.parametrize(
    ("label", "name"),
    [("EEG T3-REF", "T7"), ("T4", "T8"), ("EEG T5-Ref", "P7"), ("T6-LE", "P8"),
     ("EEG Fz", "Fz"), ("CZ", "Cz"), ("EEG PZ-REF", "Pz"), ("EEG A1-Ref", "A1"), ("M2", "M2"),
     ("FPZ", "Fpz"), ("oz", "Oz"), ("Fc5.", "FC5"), ("EEG T8-Ref", "T8")],
)  # fmt: skip
def test_aliases_and_case(label: str, name: str) -> None:
    assert normalize_label(label) == (name, "eeg")


@pytest.mark.parametrize(
    ("label", "kind"),
    [("EMG", "emg"), ("Left Deltoid", "emg"), ("DELT R", "emg"), ("EMG chin", "emg"),
     ("ECG EKG-Ref", "ecg"), ("EKG", "ecg"), ("EEG EKG1-REF", "ecg"), ("ECG", "ecg"),
     ("EOG", "eog"), ("EEG LOC-REF", "eog"), ("ROC", "eog"), ("EOG left", "eog"),
     ("Resp", "resp"), ("EEG Effort-Ref", "resp"), ("Thorax", "resp"), ("Abdo", "resp"),
     ("POL E", "misc"), ("PHOTIC-REF", "misc"), ("Status", "misc"), ("acc1", "misc"),
     ("SaO2 X9", "misc"), ("Block", "misc")],
)  # fmt: skip
def test_kinds(label: str, kind: str) -> None:
    assert normalize_label(label)[1] == kind


def test_non_eeg_names_are_cleaned() -> None:
    assert normalize_label("ECG EKG-Ref") == ("EKG", "ecg")
    assert normalize_label("EEG Effort-Ref") == ("Effort", "resp")
    assert normalize_label("POL $A1") == ("$A1", "misc")


def test_bipolar_label() -> None:
    assert normalize_label("EEG Fp1-F7") == ("Fp1-F7", "eeg")
    assert normalize_label("T3-T5") == ("T7-P7", "eeg")


def test_constants() -> None:
    assert len(STANDARD_19) == 19 and len(set(STANDARD_19)) == 19
    assert STANDARD_19[:3] == ("Fp1", "Fp2", "F7")
    assert len(DOUBLE_BANANA) == 18
    assert {c for pair in DOUBLE_BANANA for c in pair} <= set(STANDARD_19)
    assert set(POSITIONS) == set(STANDARD_19)
    assert all(is_eeg_name(n) for n in STANDARD_19)


def test_positions_sides() -> None:
    for name, (x, _) in POSITIONS.items():
        side = hemisphere(name)
        assert side == ("left" if x < 0 else "right" if x > 0 else "mid")


def test_hemisphere() -> None:
    assert hemisphere("T3") == "left"
    assert hemisphere("EEG T4-REF") == "right"
    assert hemisphere("Cz") == "mid"
    assert hemisphere("A1") == "left"
    with pytest.raises(ParameterError):
        hemisphere("ECG")


def test_bipolar_numerics() -> None:
    rng = np.random.default_rng(0)
    names = list(STANDARD_19)
    data = rng.normal(size=(19, 100))
    out, out_names = bipolar(data, names)
    assert out.shape == (18, 100)
    assert out_names[0] == "Fp1-F7"
    i, j = names.index("Fp1"), names.index("F7")
    np.testing.assert_allclose(out[0], data[i] - data[j])
    # vendor spellings and missing channels
    vendor = [f"EEG {n.replace('T7', 'T3').upper()}-REF" for n in names if n != "O2"]
    data2 = np.delete(data, names.index("O2"), axis=0)
    out2, names2 = bipolar(data2, vendor)
    assert len(names2) == 16 and "P4-O2" not in names2 and "F7-T7" in names2
    np.testing.assert_allclose(out2[names2.index("F7-T7")], data[j] - data[names.index("T7")])


def test_bipolar_none_found() -> None:
    out, names = bipolar(np.zeros((2, 5)), ["ECG", "EMG"])
    assert out.shape == (0, 5) and names == []
    with pytest.raises(ParameterError):
        bipolar(np.zeros((3, 5)), ["Fp1", "F7"])


def test_average_reference() -> None:
    data = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0], [5.0, 6.0, 100.0]])
    out = average_reference(data)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[0], [-2.0, -2.0, -33.0])
    ex = average_reference(data, exclude=[2])
    np.testing.assert_allclose(ex[0], [-1.0, -1.0, -1.0])
    np.testing.assert_allclose(ex[2], [3.0, 3.0, 96.0])
    assert data[0, 0] == 1.0  # input untouched
    with pytest.raises(ParameterError):
        average_reference(data, exclude=[0, 1, 2])
    with pytest.raises(ParameterError):
        average_reference(data, exclude=[5])

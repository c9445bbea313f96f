"""One hypsarrhythmia verdict per recording, and the BASED grade's label beside it.

The verdict is a function of the grade result alone (the ``hypsarrhythmia`` block of
``summary.json``): ``"present"``, ``"absent"`` or ``"not_assessable"``, with ``verdict_rule``, the
rule that decided it, in words. Everything that shows a verdict (the text summary, the report, the
treatment response, the batch cohort table, the web app) reads it from here, so no two places can
disagree. The BASED grade (0-5) and its label are printed separately; the label describes the grade
and never says "hypsarrhythmia" or "not hypsarrhythmia" on its own, so it cannot contradict the
verdict (the slow-wave form of modified hypsarrhythmia is a grade 3 *and* a verdict "present").

The hypsarrhythmia ``probability`` of ``summary.json`` is a pre-specified logistic score that was
never fitted to or calibrated on labelled recordings; :data:`SCORE_LABEL` says so wherever it is
shown.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESENT", "ABSENT", "NOT_ASSESSABLE", "PRESENT_FROM", "GRADE_LABELS",
           "SCORE_LABEL", "hypsarrhythmia_verdict", "grade_label", "verdict_text", "is_present"]

PRESENT = "present"
ABSENT = "absent"
NOT_ASSESSABLE = "not_assessable"

#: BASED grades at or above this are hypsarrhythmia (Mytinger et al. 2021).
PRESENT_FROM = 4

#: What each BASED grade means (Mytinger et al. 2021), without a verdict in it.
GRADE_LABELS: dict[int, str] = {
    0: "normal",
    1: "non-epileptiform abnormality",
    2: "epileptiform: 1-2 spike foci, no high amplitude",
    3: "epileptiform: >= 3 spike foci without high amplitude, or 1-2 foci with high amplitude",
    4: "BASED hypsarrhythmia grade: >= 3 foci with high amplitude, or paroxysmal attenuations",
    5: "BASED hypsarrhythmia grade: >= 3 foci with spikes in >= 50 % of 1-s bins",
}

#: How the ``probability`` field must be read.
SCORE_LABEL = ("hypsarrhythmia score (0-1): a pre-specified logistic score of the graded epoch, "
               "not fitted or calibrated on labelled recordings; not a probability")

_WORDS = {PRESENT: "PRESENT", ABSENT: "absent", NOT_ASSESSABLE: "not assessable"}


def _slow_form(hyp: dict) -> bool:
    ge = ((hyp.get("evidence") or {}).get("graded_epoch") or {})
    return bool(ge.get("slow_variant"))


def hypsarrhythmia_verdict(hyp: dict | None) -> dict[str, Any]:
    """The verdict of a grade result.

    Parameters
    ----------
    hyp : dict or None
        The ``hypsarrhythmia`` block of ``summary.json`` (``based_score``, ``present``,
        ``evidence.graded_epoch.slow_variant``, ``evidence.epochs_graded``). A block that already
        holds ``verdict`` (written by :meth:`hypsa.results.Analysis.build`) is returned as is.

    Returns
    -------
    dict
        ``verdict`` (``"present"``, ``"absent"``, ``"not_assessable"``), ``verdict_rule`` (the
        rule that decided it), ``grade_label`` (what the BASED grade means; None when not graded)
        and ``probability_label`` (:data:`SCORE_LABEL`).
    """
    hyp = hyp or {}
    if hyp.get("verdict") in (PRESENT, ABSENT, NOT_ASSESSABLE):
        # a stored verdict stands (a reviewer may have set it); its rule is kept when it still
        # belongs to it, and the grade label always follows the grade shown
        fresh = _decide({k: v for k, v in hyp.items() if k not in ("verdict", "verdict_rule")})
        rule = hyp.get("verdict_rule") or ""
        if "review" not in rule.lower():
            rule = fresh["verdict_rule"] if hyp["verdict"] == fresh["verdict"] else (
                f"set on review (the rule on BASED grade {hyp.get('based_score')} alone gives "
                f"{fresh['verdict'].replace('_', ' ')})")
        return {"verdict": hyp["verdict"], "verdict_rule": rule,
                "grade_label": grade_label(hyp),
                "probability_label": hyp.get("probability_label", SCORE_LABEL)}
    return _decide(hyp)


def _decide(hyp: dict) -> dict[str, Any]:
    grade = hyp.get("based_score")
    ev = hyp.get("evidence") or {}
    n = ev.get("epochs_graded")
    where = f" of {n} graded 5-minute epoch(s)" if n else ""
    not_assessed = [str(x) for x in ((ev.get("montage") or {}).get("not_assessed") or [])]
    if grade is None:
        verdict = NOT_ASSESSABLE
        why = next((c for c in ev.get("criteria_met") or [] if str(c).startswith("not graded")),
                   None)
        rule = (f"{why}" if why else "no 5-minute epoch had enough usable (artifact-free) EEG "
                "to be graded") + " on the BASED scale"
    elif int(grade) >= PRESENT_FROM:
        verdict = PRESENT
        rule = (f"BASED grade {int(grade)} (>= {PRESENT_FROM}) on the most epileptic{where}; "
                "BASED grades 4-5 are hypsarrhythmia (Mytinger et al. 2021)")
    elif _slow_form(hyp) or (hyp.get("present") and int(grade) == 3):
        verdict = PRESENT
        rule = ("BASED grade 3 with the slow-wave form of modified hypsarrhythmia: diffuse very "
                "high voltage in a disorganised background with few spikes (Hrachovy, Frost & "
                "Kellaway 1984), which BASED does not reach grade 4 for")
    elif not_assessed:
        verdict = NOT_ASSESSABLE
        rule = (f"highest BASED grade {int(grade)} (< {PRESENT_FROM}){where}, but the recorded "
                "montage cannot assess every BASED criterion (" + "; ".join(not_assessed)
                + "), so hypsarrhythmia cannot be called absent")
    else:
        verdict = ABSENT
        rule = (f"highest BASED grade {int(grade)} (< {PRESENT_FROM}){where}, and no epoch "
                "with the slow-wave form of modified hypsarrhythmia; absent from the graded "
                "EEG, which may not hold every sleep-wake state")
    return {"verdict": verdict, "verdict_rule": rule, "grade_label": grade_label(hyp),
            "probability_label": SCORE_LABEL}


def grade_label(hyp: dict | None) -> str | None:
    """What the BASED grade of a grade result means (None when not graded)."""
    hyp = hyp or {}
    grade = hyp.get("based_score")
    if grade is None:
        return None
    text = GRADE_LABELS.get(int(grade), "")
    if int(grade) == 3 and _slow_form(hyp):
        text += "; with the slow-wave form of modified hypsarrhythmia"
    return text


def is_present(hyp: dict | None) -> bool:
    """Whether the verdict is ``"present"``."""
    return hypsarrhythmia_verdict(hyp)["verdict"] == PRESENT


def verdict_text(hyp: dict | None) -> str:
    """One line: ``Hypsarrhythmia PRESENT`` / ``absent`` / ``not assessable``."""
    return f"Hypsarrhythmia {_WORDS[hypsarrhythmia_verdict(hyp)['verdict']]}"

"""Tests for the take-home project's data, clock and contract double (mlcourse.takehome)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from mlcourse import layout, takehome
from mlcourse.takehome import BUGS, ID, NO_SERVICE_COLUMNS, REWORDED, TARGET, clean_double

# -- the data ---------------------------------------------------------------------------


def test_the_data_is_modeldata_wa_churn():
    frame = takehome.load_churn()
    assert frame.shape == (7043, 21)
    assert list(frame.columns[:2]) == [ID, TARGET]
    assert set(frame[TARGET]) == {"Yes", "No"}
    assert (frame[TARGET] == "Yes").sum() == 1869
    missing = frame["total_charges"].isna()
    assert missing.sum() == 11 and (frame.loc[missing, "tenure"] == 0).all()
    assert frame[ID].tolist() == list(range(1, 7044))
    assert set(takehome.FLAGS + takehome.NUMBERS + takehome.CATEGORIES) | {ID, TARGET} == set(
        frame.columns
    )


def test_load_churn_gives_a_fresh_copy():
    frame = takehome.load_churn()
    frame.loc[frame.index[0], "tenure"] = -1
    assert takehome.load_churn()["tenure"].iloc[0] != -1


def test_the_split_is_fixed_stratified_and_complete():
    train, holdout = takehome.training_frame(), takehome.holdout_frame()
    assert (len(train), len(holdout)) == (5282, 1761)
    assert set(train.index).isdisjoint(holdout.index)
    assert sorted([*train[ID], *holdout[ID]]) == list(range(1, 7044))
    assert ((train[TARGET] == "Yes").sum(), (holdout[TARGET] == "Yes").sum()) == (1402, 467)
    assert train.equals(takehome.training_frame())
    assert train.index[:3].tolist() == takehome.training_frame().index[:3].tolist()
    assert train["total_charges"].isna().sum() == 9


def test_as_text_export_is_the_ibm_files_form():
    train = takehome.training_frame()
    text = takehome.as_text_export(train)
    assert text["total_charges"].dtype == object
    missing = train["total_charges"].isna()
    assert set(text.loc[missing, "total_charges"]) == {" "}
    back = pd.to_numeric(text.loc[~missing, "total_charges"])
    assert np.allclose(back, train.loc[~missing, "total_charges"])
    assert train["total_charges"].dtype == float  # the input is left as it was


# -- the clock --------------------------------------------------------------------------


def _workspace(tmp_path):
    marker = layout.marker(tmp_path)
    marker.mkdir()
    layout.manifest_path(tmp_path).write_text(json.dumps({"files": {}}), encoding="utf-8")
    return tmp_path


def test_the_clock_keeps_its_first_start_in_the_workspace(tmp_path):
    ws = _workspace(tmp_path)
    first = takehome.start_clock(workspace=ws, now=1000.0)
    assert first.started == 1000.0 and first.kept_in
    again = takehome.start_clock(workspace=ws, now=5000.0)
    assert again.started == 1000.0
    assert again.summary(now=1000.0 + 3 * 3600 + 25 * 60) == "3 h 25 min since the clock started"
    fresh = takehome.start_clock(workspace=ws, restart=True, now=9000.0)
    assert fresh.started == 9000.0
    assert takehome.start_clock(workspace=ws, now=9500.0).started == 9000.0


def test_the_clock_outside_a_workspace_lives_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clock = takehome.start_clock(now=42.0)
    assert clock.started == 42.0 and clock.kept_in == ""
    assert clock.elapsed_hours(now=42.0 + 1800) == pytest.approx(0.5)
    assert clock.elapsed_hours(now=0.0) == 0.0


def test_a_damaged_or_future_clock_file_starts_over(tmp_path):
    ws = _workspace(tmp_path)
    path = layout.marker(ws) / takehome.CLOCK_FILE
    path.write_text("not json", encoding="utf-8")
    assert takehome.start_clock(workspace=ws, now=10.0).started == 10.0
    path.write_text(json.dumps({"started": 99_999.0}), encoding="utf-8")
    assert takehome.start_clock(workspace=ws, now=20.0).started == 20.0


# -- the contract double ----------------------------------------------------------------


def _export() -> pd.DataFrame:
    """Four customers, set up so that every promise of the contract shows."""
    frame = takehome.training_frame().iloc[:4].copy()
    frame["tenure"] = [0, 10, 5, 2]
    frame["monthly_charges"] = [50.0, 20.0, 30.0, 40.0]
    frame["total_charges"] = [np.nan, np.nan, 150.5, 80.0]
    frame["multiple_lines"] = ["No phone service", "Yes", "No", "No"]
    frame["online_backup"] = ["No internet service", "Yes", "No", "No internet service"]
    return frame


WANT_TOTALS = [0.0, 200.0, 150.5, 80.0]


@pytest.mark.parametrize("bug", [None, REWORDED])
def test_the_correct_doubles_keep_the_contract(bug):
    clean = clean_double(bug)
    raw = _export()
    before = raw.copy()
    out = clean(raw)
    assert raw.equals(before)
    assert list(out.columns) == [c for c in raw.columns if c not in (ID, TARGET)]
    assert list(out.index) == list(raw.index)
    assert out["total_charges"].dtype == float
    assert out["total_charges"].tolist() == WANT_TOTALS
    assert out["multiple_lines"].tolist() == ["No", "Yes", "No", "No"]
    assert out["online_backup"].tolist() == ["No", "Yes", "No", "No"]
    assert clean(raw.drop(columns=TARGET))["total_charges"].tolist() == WANT_TOTALS
    text = raw.assign(total_charges=[" ", "", " 150.50 ", "80"])
    assert clean(text)["total_charges"].tolist() == WANT_TOTALS
    mixed = raw.assign(total_charges=pd.Series([None, np.nan, "150.5", 80.0], index=raw.index))
    assert clean(mixed)["total_charges"].tolist() == WANT_TOTALS
    with pytest.raises(ValueError, match="total_charges"):
        clean(raw.assign(total_charges=[" ", "", "1,50", "80"]))


def test_the_reworded_double_differs_only_where_the_contract_allows():
    raw = _export()
    plain, reworded = clean_double()(raw), clean_double(REWORDED)(raw)
    assert str(reworded["multiple_lines"].dtype) == "string"
    assert reworded.astype(object).equals(plain.astype(object))
    messages = []
    for clean in (clean_double(), clean_double(REWORDED)):
        with pytest.raises(ValueError) as info:
            clean(raw.assign(total_charges=["x", "", "1", "2"]))
        messages.append(str(info.value))
    assert messages[0] != messages[1]


def test_the_double_cleans_the_whole_training_frame():
    train = takehome.training_frame()
    out = clean_double()(train)
    assert out.shape == (5282, 19)
    assert out["total_charges"].notna().all()
    assert (out.loc[train["total_charges"].isna(), "total_charges"] == 0.0).all()
    for column in NO_SERVICE_COLUMNS:
        assert not out[column].isin(["No internet service", "No phone service"]).any()
    assert clean_double()(takehome.as_text_export(train)).equals(out)


def _probe(clean) -> str | None:
    """The first promise ``clean`` breaks on the probes, or None."""
    raw = _export()
    before = raw.copy()
    try:
        out = clean(raw)
    except Exception as exc:  # noqa: BLE001
        return f"raised {exc!r}"
    if not raw.equals(before):
        return "changed its input"
    if list(out.columns) != [c for c in raw.columns if c not in (ID, TARGET)]:
        return "columns"
    if list(out.index) != list(raw.index):
        return "index"
    totals = out["total_charges"].tolist()
    if not all(isinstance(v, float) and not math.isnan(v) for v in totals) or totals != WANT_TOTALS:
        return "totals"
    if out["multiple_lines"].tolist() != ["No", "Yes", "No", "No"]:
        return "no phone service"
    if out["online_backup"].tolist() != ["No", "Yes", "No", "No"]:
        return "no internet service"
    try:
        clean(raw.drop(columns=TARGET))
    except Exception:  # noqa: BLE001
        return "needs the target"
    try:
        text = clean(raw.assign(total_charges=[" ", "", "150.5", "80"]))
    except Exception:  # noqa: BLE001
        return "blank text"
    if text["total_charges"].tolist() != WANT_TOTALS:
        return "text totals"
    try:
        clean(raw.assign(total_charges=[" ", "", "abc", "80"]))
    except ValueError:
        return None
    return "unreadable text accepted"


def test_the_probes_pass_on_the_correct_doubles():
    assert _probe(clean_double()) is None
    assert _probe(clean_double(REWORDED)) is None


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_every_planted_bug_breaks_a_promise(bug):
    assert _probe(clean_double(bug)) is not None, BUGS[bug]


def test_an_unknown_bug_is_refused():
    with pytest.raises(ValueError, match="unknown bug"):
        clean_double("typo")

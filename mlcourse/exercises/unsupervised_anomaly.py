"""Checks for ``02_frameworks/unsupervised_anomaly.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks use, never a solution or a hidden test.
"""

from __future__ import annotations

import numpy as np

from mlcourse.check import choice, number, problem


def blobs(n: int = 120, k: int = 4, d: int = 2, seed: int = 0) -> np.ndarray:
    """``n`` points in ``d`` dimensions around ``k`` random centres (a fixture)."""
    gen = np.random.default_rng(seed)
    centres = gen.uniform(-8, 8, size=(k, d))
    return centres[gen.integers(k, size=n)] + gen.normal(size=(n, d))


def moons(n: int = 200, seed: int = 0) -> np.ndarray:
    """scikit-learn's two interleaved half circles, with a little noise (a fixture)."""
    from sklearn.datasets import make_moons

    return make_moons(n, noise=0.07, random_state=seed)[0]


def _rows_of(got, X) -> bool:
    """Whether every row of ``got`` is a row of ``X``."""
    got = np.asarray(got, dtype=float)
    return all(np.any(np.all(np.isclose(X, row), axis=1)) for row in got)


# -- 1. k-means ---------------------------------------------------------------------------


@problem(
    "kmeans_plusplus",
    hints=(
        "Pick the first centre uniformly at random; after that, a point is likely to be "
        "picked in proportion to how far it is from the centres already chosen, squared.",
        "Keep, for every point, its squared distance to the nearest centre chosen so far. "
        "Turn those distances into probabilities that sum to one, draw the next index with "
        "the seeded generator, then update the distances with the new centre.",
        "Draw the first index with the generator's integers method and each later one with "
        "its choice method and the p keyword; the running minimum of two distance arrays "
        "is one NumPy call.",
    ),
)
def _kmeans_plusplus(t):
    X = np.array([[0.0], [0.0], [0.0], [10.0]])
    got = t.call("kmeans_plusplus", X, 2, seed=0)
    t.shape(got, (2, 1), nudge="Return the k centres as the rows of a (k, d) array.")
    for seed in range(5):
        centres = t.call("kmeans_plusplus", X, 2, seed=seed)
        t.close(
            np.sort(centres[:, 0]),
            [0.0, 10.0],
            case=f"three points at 0 and one at 10, seed {seed}",
            nudge="After the first centre, a point already chosen (distance 0) must have "
            "probability 0, and the far point all of it.",
        )
    eight = np.array(
        [
            [0.0, 0.0],
            [1.0, 0.0],
            [0.0, 1.0],
            [4.0, 4.0],
            [5.0, 4.0],
            [9.0, 0.0],
            [8.0, 1.0],
            [2.0, 6.0],
        ]
    )
    for seed, want in [
        (5, [[9.0, 0.0], [2.0, 6.0], [1.0, 0.0]]),
        (7, [[2.0, 6.0], [8.0, 1.0], [0.0, 1.0]]),
    ]:
        t.close(
            t.call("kmeans_plusplus", eight, 3, seed=seed),
            want,
            case=f"eight points, k = 3, seed {seed}",
            nudge="Draw exactly as the task says: one generator; integers for the first centre; "
            "choice with p for the others, p proportional to the SQUARED distance to the "
            "NEAREST centre chosen so far.",
        )
    data = blobs(60, 3, seed=1)
    got = t.call("kmeans_plusplus", data, 3, seed=4)
    t.true(_rows_of(got, data), "a centre is not one of the data points", "Centres are rows of X.")
    again = t.call("kmeans_plusplus", data, 3, seed=4)
    t.close(again, got, what="a second call with the same seed", nudge="Use the seed.")
    firsts = {tuple(t.call("kmeans_plusplus", data, 1, seed=s)[0]) for s in range(6)}
    t.true(
        len(firsts) > 1,
        "six different seeds all picked the same first centre",
        "Draw from np.random.default_rng(seed), not from a fixed index.",
    )
    ints = t.call("kmeans_plusplus", np.array([[0, 1], [5, 5], [9, 2]]), 2, seed=0)
    t.dtype(ints, "f", nudge="Return float centres, even for integer data.")
    t.raises(ValueError, "kmeans_plusplus", X, 5, nudge="k larger than the number of points.")
    t.raises(ValueError, "kmeans_plusplus", X, 0, nudge="k = 0 asks for no centres at all.")


@problem(
    "lloyd",
    hints=(
        "Lloyd's algorithm alternates two steps that can only lower the total squared "
        "distance: give each point to its nearest centre, then move each centre to the "
        "mean of its points. It stops when the assignment no longer changes.",
        "Start from a float copy of the given centres and assign every point. Then repeat "
        "at most max_iter times: move each centre that has points to their mean, assign "
        "again, and stop if no label changed. Finish with the labels and squared distances "
        "of the final centres.",
        "Broadcasting the points against the centres gives an (n, k) array of squared "
        "distances; its argmin along the centres' axis is the assignment, its min the "
        "distances. A centre without points keeps its place.",
    ),
)
def _lloyd(t):
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    got = t.call("lloyd", X, np.array([[0.0], [1.0]]))
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"lloyd returned {type(got).__name__}",
        "Return a tuple (centres, labels, inertia).",
    )
    centres, labels, inertia = got
    t.shape(centres, (2, 1))
    t.close(
        centres,
        [[0.5], [10.5]],
        wrong={
            "You stopped after one update: repeat until the labels stop changing.": [
                [0.0],
                [22.0 / 3.0],
            ]
        },
        nudge="Each centre moves to the mean of the points assigned to it.",
    )
    t.equal(labels.tolist(), [0, 0, 1, 1], what="labels")
    t.dtype(labels, "iu", nudge="Labels are integer cluster numbers.")
    t.true(
        type(inertia) is float,
        f"the inertia is a {type(inertia).__name__}",
        "Return the inertia as a Python float.",
    )
    t.close(
        inertia,
        1.0,
        what="inertia",
        wrong={
            "Inertia is the SUM of squared distances, not their mean.": 0.25,
            "Inertia uses SQUARED distances.": 2.0,
        },
    )
    empty = t.call("lloyd", np.array([[0.0], [1.0]]), np.array([[0.0], [1.0], [50.0]]))
    t.close(
        empty[0],
        [[0.0], [1.0], [50.0]],
        case="a centre that no point is closest to",
        nudge="A centre with no points has no mean: leave it where it is.",
    )


@problem(
    "silhouette",
    hints=(
        "A point is well clustered when it is, on average, closer to its own cluster than "
        "to the nearest other cluster; the silhouette compares those two averages.",
        "For each point: the mean distance to the OTHER members of its cluster, and the "
        "smallest, over the other clusters, of the mean distance to their members. Their "
        "difference over the larger of the two is the point's value; average over points.",
        "A point alone in its cluster scores 0 by convention. Check the number of distinct "
        "labels first: between 2 and n - 1.",
    ),
)
def _silhouette(t):
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    got = t.call("silhouette", X, np.array([0, 0, 1, 1]))
    t.true(type(got) is float, f"the score is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        (9.5 / 10.5 + 8.5 / 9.5) / 2,
        wrong={
            "The mean distance to your own cluster leaves the point itself out.": (
                10.0 / 10.5 + 9.0 / 9.5
            )
            / 2
        },
        nudge="Own cluster: the mean distance to the others in it; other cluster: the "
        "nearest one, by mean distance.",
    )
    from sklearn.metrics import silhouette_score

    three = np.array([[0.0], [1.0], [5.0], [6.0], [20.0], [22.0]])
    groups = np.array([0, 0, 1, 1, 2, 2])
    t.close(
        t.call("silhouette", three, groups),
        silhouette_score(three, groups),
        case="three clusters, against scikit-learn",
        nudge="b(i) is the mean distance to the NEAREST other cluster, not to all other points.",
    )
    lone = t.call("silhouette", np.array([[0.0], [1.0], [5.0]]), np.array([0, 0, 1]))
    t.close(
        lone,
        (0.8 + 0.75 + 0.0) / 3,
        case="a cluster with a single point",
        nudge="A point alone in its cluster scores 0.",
    )
    t.raises(
        ValueError,
        "silhouette",
        X,
        np.array([3, 3, 3, 3]),
        nudge="One cluster has no 'other cluster': raise a ValueError.",
    )


# -- 2. agglomerative clustering ------------------------------------------------------------


@problem(
    "lance_williams",
    hints=(
        "When two clusters merge, the distance from any other cluster to the merged one "
        "can be computed from the old distances and the cluster sizes, without going back "
        "to the points.",
        "Single linkage keeps the smaller of the two old distances, complete the larger, "
        "average their size-weighted mean. Ward combines the squared distances with weights "
        "that involve all three sizes, subtracts a term for the distance between the two "
        "merged clusters, and takes a square root.",
        "Use NumPy's element-wise minimum, maximum and square root so that the function "
        "works on whole arrays of distances and sizes at once. An unknown method is a "
        "ValueError.",
    ),
)
def _lance_williams(t):
    args = (2.0, 5.0, 3.0, 1, 2, 3)
    t.close(t.call("lance_williams", *args, "single"), 2.0, case="single linkage")
    t.close(t.call("lance_williams", *args, "complete"), 5.0, case="complete linkage")
    t.close(
        t.call("lance_williams", *args, "average"),
        4.0,
        case="average linkage",
        wrong={
            "Weight each distance by the size of ITS cluster (n_i with d_ki).": 3.0,
            "Weight the two distances by their cluster sizes, not equally.": 3.5,
        },
    )
    t.close(
        t.call("lance_williams", *args, "ward"),
        np.sqrt(19.0),
        case="Ward linkage",
        wrong={"Ward's update ends with a square root.": 19.0},
    )
    many = t.call(
        "lance_williams",
        np.array([1.0, 4.0]),
        np.array([3.0, 2.0]),
        2.0,
        1,
        1,
        np.array([1, 4]),
        "single",
    )
    t.close(many, [1.0, 2.0], case="arrays of distances", nudge="Work element by element.")
    t.raises(ValueError, "lance_williams", *args, "median", nudge="Reject unknown methods.")


@problem(
    "agglomerative",
    hints=(
        "Start with every point in its own cluster and repeatedly merge the two closest "
        "clusters; a linkage says what the distance between two clusters is.",
        "Keep a matrix of cluster distances with infinity on the diagonal. At each of the "
        "n - 1 steps, find the smallest entry, record the merge (the two cluster ids, the "
        "distance, the new size), overwrite one of the two rows and columns with the "
        "updated distances from your lance_williams, and blank out the other with infinity.",
        "SciPy numbers the original points 0 to n - 1 and the cluster made at step s as "
        "n + s; it lists the smaller id first. Track which id each row of the matrix holds, "
        "and the size of each cluster.",
    ),
)
def _agglomerative(t):
    from scipy.cluster.hierarchy import linkage

    X = np.array([[0.0], [1.0], [5.0], [11.0]])
    got = t.call("agglomerative", X, "single")
    t.shape(got, (3, 4), nudge="One row per merge, n - 1 in all, with four columns.")
    single = [[0, 1, 1, 2], [2, 4, 4, 3], [3, 5, 6, 4]]
    for step, row in enumerate(single):
        t.close(
            got[step],
            row,
            what=f"row {step} of Z",
            case="single linkage on the points 0, 1, 5, 11",
            nudge="Row s: [smaller id, larger id, distance, size]; the cluster made at step s "
            "is called n + s (here 4, 5, 6).",
        )
    complete = t.call("agglomerative", X, "complete")
    t.shape(complete, (3, 4))
    for step, row in enumerate([[0, 1, 1, 2], [2, 4, 5, 3], [3, 5, 11, 4]]):
        t.close(
            complete[step],
            row,
            what=f"row {step} of Z",
            case="complete linkage on the points 0, 1, 5, 11",
            nudge="Complete linkage: the distance between clusters is their FARTHEST pair.",
        )
    pts = blobs(12, 3, seed=5)
    t.close(
        t.call("agglomerative", pts, "ward"),
        linkage(pts, "ward"),
        case="Ward linkage on 12 points, against SciPy",
    )


# -- 3. DBSCAN --------------------------------------------------------------------------------

SLOW_DBSCAN = (
    "Seven points should take no time: does your queue keep growing? Mark a point as "
    "labelled when you first reach it, so that it is never queued twice."
)


def _same_labels(t, got, want, case, wrong=None, nudge=None):
    """Labels equal to ``want``; the message shows both lists (they are short)."""
    got = [int(v) for v in np.asarray(got).ravel()]
    for message, value in (wrong or {}).items():
        if got == value:
            nudge = message
    t.true(got == want, f"your labels are {got}, expected {want}, for {case}", nudge)


@problem(
    "dbscan",
    hints=(
        "A dense point has enough neighbours within a radius; clusters are what you can "
        "reach by hopping from dense point to dense point, and points that no dense point "
        "reaches are noise.",
        "Find each point's neighbours (itself included, distance at most eps) and mark the "
        "core points. Go through the core points in order; each one not yet labelled starts "
        "a new cluster, which grows through the neighbours of its core points. A border "
        "point keeps the first cluster that reached it.",
        "A list that you append to while looping over it works as a queue. Label a point "
        "when you first reach it, and only push it on the queue when it is a core point.",
    ),
)
def _dbscan(t):
    line = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0], [30.0]])
    got = t.call("dbscan", line, 1.0, 2, time_limit=2, slow_nudge=SLOW_DBSCAN)
    t.shape(got, (7,))
    t.dtype(got, "i", nudge="Labels are integers, -1 for noise.")
    _same_labels(
        t,
        got,
        [0, 0, 0, 1, 1, 1, -1],
        "eps = 1 on 0, 1, 2, 10, 11, 12, 30 (gaps of exactly eps)",
        wrong={"A neighbour at distance exactly eps counts (at most eps).": [-1] * 7},
        nudge="Clusters are numbered 0, 1, ... in the order they are found; noise is -1.",
    )
    _same_labels(
        t,
        t.call("dbscan", line, 1.0, 3, time_limit=2, slow_nudge=SLOW_DBSCAN),
        [0, 0, 0, 1, 1, 1, -1],
        "min_samples = 3: the middle points are core, the ends are border points",
        wrong={"min_samples counts the point itself.": [-1] * 7},
        nudge="Border points join the cluster of a core point they neighbour.",
    )
    bridge = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 3.0, 3.25, 3.5, 3.75, 4.0, 2.0])[:, None]
    _same_labels(
        t,
        t.call("dbscan", bridge, 1.0, 4, time_limit=2, slow_nudge=SLOW_DBSCAN),
        [0] * 5 + [1] * 5 + [0],
        "a border point (at 2) that both clusters reach",
        nudge="A border point keeps the first cluster that reached it, and a cluster grows "
        "only through its core points.",
    )


# -- 4. embeddings ------------------------------------------------------------------------


@problem(
    "knn_preservation",
    hints=(
        "An embedding that keeps local structure keeps each point's nearest neighbours; "
        "measure how many of them survive.",
        "Find each point's k nearest neighbours (itself left out) in the original space and "
        "in the embedding, count how many of the first set are in the second, divide by k "
        "and average over the points.",
    ),
)
def _knn_preservation(t):
    high = np.array([[0.0], [1.0], [3.0], [7.0], [8.0]])
    low = np.array([[0.0], [1.0], [7.0], [3.0], [8.0]])
    got = t.call("knn_preservation", high, low, 1)
    t.true(type(got) is float, f"the score is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        0.4,
        wrong={"A point is not its own neighbour: leave it out.": 1.0},
        nudge="With k = 1, points 0 and 1 keep their nearest neighbour, the other three lose it.",
    )
    t.close(t.call("knn_preservation", high, high * 3 - 1, 2), 1.0, case="a rescaled copy")
    t.raises(
        ValueError, "knn_preservation", high, low, 5, nudge="k must be below the number of points."
    )
    t.raises(ValueError, "knn_preservation", high, low[:4], 1, nudge="Both need the same rows.")


# -- 5. anomaly detection -------------------------------------------------------------------


@problem(
    "robust_z",
    hints=(
        "The median and the median absolute deviation describe the bulk of the data, and "
        "a few extreme values cannot drag them the way they drag the mean and the standard "
        "deviation.",
        "For each column: subtract the median, take the median of the absolute deviations, "
        "scale it by the constant that makes it match a standard deviation for normal data, "
        "and divide. A column whose deviation is zero cannot be scaled: raise an error.",
    ),
)
def _robust_z(t):
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    got = t.call("robust_z", x)
    t.shape(got, (5,))
    t.close(
        got,
        (x - 3.0) / 1.4826,
        rtol=1e-5,
        wrong={
            "Scale the MAD by 1.4826 so that it matches a standard deviation.": x - 3.0,
            "That is the classic z-score (mean and standard deviation), which the outlier drags.": (
                x - x.mean()
            )
            / x.std(),
        },
    )
    table = np.array([[1, -10], [2, -20], [3, -30], [50, -40]])
    want = np.column_stack(
        [(table[:, 0] - 2.5) / (1.4826 * 1.0), (table[:, 1] + 25) / (1.4826 * 10)]
    )
    t.close(
        t.call("robust_z", table),
        want,
        rtol=1e-5,
        case="two integer columns, one negative",
        nudge="Work column by column (axis 0), in floats.",
    )
    t.raises(
        ValueError,
        "robust_z",
        np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]),
        nudge="The second column is constant: its MAD is 0, so raise a ValueError.",
    )


@problem(
    "mahalanobis",
    hints=(
        "The Mahalanobis distance measures how far a point is from the centre in units of "
        "the data's own spread, along every direction, correlations included.",
        "Subtract the mean from every row; for each centred row, solve the linear system "
        "with the covariance matrix instead of inverting it, take the dot product of the "
        "row with that solution, and the square root.",
    ),
)
def _mahalanobis(t):
    from scipy.spatial.distance import mahalanobis as reference

    cov = np.array([[4.0, 0.0], [0.0, 1.0]])
    pts = np.array([[3.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    got = t.call("mahalanobis", pts, np.array([1.0, 1.0]), cov)
    t.shape(got, (3,), nudge="One distance per row of X.")
    t.close(
        got,
        [1.0, 1.0, 0.0],
        wrong={
            "Multiply by the INVERSE covariance (solve), not by the covariance.": [4.0, 1.0, 0.0]
        },
        nudge="A step of 2 along a direction with standard deviation 2 is a distance of 1.",
    )
    corr = np.array([[2.0, 1.2], [1.2, 1.0]])
    many = np.array([[0.5, -1.0], [2.0, 2.0], [-1.0, 0.0]])
    t.close(
        t.call("mahalanobis", many, np.zeros(2), corr),
        [reference(row, np.zeros(2), np.linalg.inv(corr)) for row in many],
        case="correlated features, against SciPy",
        wrong={
            "That is the SQUARED distance: take the square root.": [
                reference(row, np.zeros(2), np.linalg.inv(corr)) ** 2 for row in many
            ],
            "Use the whole covariance matrix: the correlation between the features matters.": (
                np.sqrt((many**2 / np.diag(corr)).sum(axis=1))
            ),
        },
    )


@problem(
    "precision_at_budget",
    hints=(
        "A team can only look at so many alerts; what matters is how many of the alerts it "
        "does look at are real.",
        "Work out how many alerts the budget allows, take the highest-scoring rows (ties "
        "broken by row order), and return the share of them that are truly positive.",
        "A stable sort of the negated scores keeps tied rows in their original order. "
        "Check the inputs first: a budget outside (0, 1] or a NaN score is an error.",
    ),
)
def _precision_at_budget(t):
    scores = np.array([0.9, 0.1, 0.8, 0.3, 0.7])
    y = np.array([1, 0, 0, 0, 1])
    got = t.call("precision_at_budget", scores, y, 0.4)
    t.true(type(got) is float, f"the precision is a {type(got).__name__}", "Return a Python float.")
    t.close(
        got,
        0.5,
        wrong={"Alert on the HIGHEST scores: the top of the ranking.": 0.0},
        nudge="A budget of 0.4 on 5 rows is 2 alerts: rows 0 and 2.",
    )
    t.close(t.call("precision_at_budget", scores, y, 0.6), 2 / 3, case="a budget of 3 alerts")
    t.close(
        t.call("precision_at_budget", scores, y, 0.76),
        0.5,
        case="a budget of 0.76 on 5 rows (3.8, so 4 alerts)",
        wrong={"Round budget times n to the nearest whole number: 3.8 is 4 alerts, not 3.": 2 / 3},
    )
    t.close(
        t.call("precision_at_budget", [1.0, 1.0, 1.0, 0.0], [False, True, True, False], 0.25),
        0.0,
        case="tied scores (the earlier row goes first)",
    )
    t.raises(ValueError, "precision_at_budget", scores, y, 0.0, nudge="A budget of 0 alerts.")
    t.raises(ValueError, "precision_at_budget", scores, y, 1.5, nudge="A budget above 1.")
    t.raises(
        ValueError,
        "precision_at_budget",
        np.array([0.9, np.nan, 0.8, 0.3, 0.7]),
        y,
        0.4,
        nudge="A NaN score cannot be ranked.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_accuracy_trap",
    hints=(
        "A detector that never raises an alert is right about every normal row.",
        "Divide the number of normal rows by the number of rows.",
    ),
)
number(
    "q_recall_at_budget",
    hints=(
        "Recall is the share of all the positives that the alerts catch.",
        "Count the true positives among the alerts, then divide by all the positives in the data.",
    ),
)
choice(
    "q_linkage_chain",
    options="abcd",
    hints=(
        "Think of which rule lets a single close pair join two otherwise distant groups.",
        "Compare what each linkage looks at: the closest pair, the farthest pair, all pairs, "
        "or the growth of the within-cluster spread.",
    ),
)
choice(
    "q_tsne_reading",
    options="abcd",
    hints=(
        "t-SNE is built to keep neighbourhoods, not long distances.",
        "Ask which statements depend on distances between far-apart groups or on the "
        "sizes of groups in the picture.",
    ),
)
choice(
    "q_kmeans_moons",
    options="abcd",
    hints=(
        "Every point goes to its nearest centre, so the boundary between two clusters is "
        "where the two centres are equally far.",
        "What shape is the set of points closer to one centre than to another?",
    ),
)
choice(
    "q_dbscan_eps",
    options="abcd",
    hints=(
        "Core points have min_samples neighbours within eps; the distance to a point's "
        "farthest such neighbour says how dense its neighbourhood is.",
        "Sort those distances over all points and look for where they start to shoot up.",
    ),
)

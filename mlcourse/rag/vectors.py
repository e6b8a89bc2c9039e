"""MiniLM embeddings of a list of texts, cached on disk by content hash.

Embedding a few hundred passages with MiniLM takes seconds on a laptop and
much longer on a shared two-core machine, so :func:`embed` stores the result
beside the course's data cache (``<data cache>/rag/``), named by a sha256 of
the texts and of the model's weights: the same texts with the same model are
embedded once, and any change of text, order or model gives a new file.

When the data cache is read-only (the grader's sandbox), a writable
temporary folder is used instead, so the function never fails for want of a
cache: it only gets slower.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from mlcourse.data import cache_dir
from mlcourse.rag.corpus import content_hash


def _folders() -> list[Path]:
    return [cache_dir() / "rag", Path(tempfile.gettempdir()) / "mlcourse-rag"]


def cache_path(texts, folder: Path | None = None) -> Path:
    """Where the embeddings of ``texts`` are (or would be) stored."""
    from mlcourse.embeddings import WEIGHTS_SHA256

    key = content_hash([WEIGHTS_SHA256, *texts])[:20]
    return (folder or _folders()[0]) / f"minilm-{key}.npy"


def _load(path: Path, n: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vectors.shape != (n, 384) or not np.isfinite(vectors).all():
        return None  # a truncated or foreign file: recompute
    return vectors


def embed(texts, batch_size: int = 16) -> np.ndarray:
    """Unit-length MiniLM embeddings of ``texts``, float32, shape ``(len(texts), 384)``.

    Small batches (16) keep the peak memory of a cold run near 0.9 GB instead of
    1.2 GB (batch 64) on the corpus, at about the same speed on two cores.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("embed needs at least one text")
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("embed takes a list of strings")
    for folder in _folders():
        cached = _load(cache_path(texts, folder), len(texts))
        if cached is not None:
            return cached
    from mlcourse.embeddings import encode

    vectors = np.asarray(encode(texts, batch_size=batch_size), dtype=np.float32)
    for folder in _folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = cache_path(texts, folder)
            partial = folder / f".{target.name}.{uuid.uuid4().hex}.tmp.npy"
            np.save(partial, vectors)
            os.replace(partial, target)  # atomic: never half a file under the real name
            break
        except OSError:
            continue
    return vectors

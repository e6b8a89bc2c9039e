"""The digits model artifact: verification and loading.

An artifact is a folder holding two files::

    model.pt        the DigitsResNet's state_dict (torch.save; loaded with
                    weights_only=True, so no pickled code runs)
    metadata.json   kind, version, architecture, temperature, data checksum
                    and split, test metrics (accuracy, NLL and ECE before and
                    after temperature scaling), training date, library
                    versions and the sha256 of model.pt

:func:`load_classifier` refuses anything incomplete or inconsistent (missing
file, bad JSON, sha256 mismatch, weights that do not fit the architecture, a
model that fails its smoke test on scikit-learn's digits), so a service never
runs a half-loaded model. The sha256 detects corruption, not tampering.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse import artifacts
from mlcourse.artifacts import METADATA_FILE, ArtifactError, Schema  # noqa: F401 - re-exported
from mlcourse.vision import CLASSES, IMAGE_SIZE, KIND

MODEL_FILE = "model.pt"
#: Version of the metadata layout; bumped when it changes incompatibly.
SCHEMA_VERSION = 1
REQUIRED_KEYS = (
    "schema_version",
    "kind",
    "version",
    "model_file",
    "model_sha256",
    "trained_at",
    "architecture",
    "temperature",
    "classes",
    "data",
    "metrics",
    "libraries",
)
SCHEMA = Schema(SCHEMA_VERSION, (KIND,), REQUIRED_KEYS)
#: The loaded model must classify at least this share of all 1,797 digits correctly.
SMOKE_ACCURACY = 0.9


def read_metadata(artifact_dir: str | Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` and the model file's sha256 (without loading the model).

    Raises:
        ArtifactError: If the folder or a file is missing, the JSON is malformed,
            a required key is missing or wrong, or the model file's sha256 does not match.
    """
    meta, meta_path = artifacts.read_metadata(artifact_dir, SCHEMA)
    if meta["classes"] != list(CLASSES):
        raise ArtifactError(f"{meta_path}: classes must be {list(CLASSES)}")
    temperature = meta["temperature"]
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature <= 0
    ):
        raise ArtifactError(
            f"{meta_path}: temperature must be a positive number, got {temperature!r}"
        )
    width = (
        (meta["architecture"] or {}).get("width")
        if isinstance(meta["architecture"], dict)
        else None
    )
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 256:
        raise ArtifactError(f"{meta_path}: architecture.width must be an integer in 1..256")
    return meta


class DigitClassifier:
    """A loaded, verified digits model, with its temperature.

    ``predict_proba(images)`` takes ``(N, 8, 8)`` digits in 0..16 and returns
    calibrated probabilities ``(N, 10)`` (softmax of logits / temperature).
    Calls are serialised with a lock: torch runs one forward at a time here.
    """

    def __init__(self, metadata: dict[str, Any], model) -> None:
        self.metadata = metadata
        self.version: str = str(metadata["version"])
        self.temperature: float = float(metadata["temperature"])
        self.model = model.eval()
        self._lock = threading.Lock()

    def logits(self, images: np.ndarray) -> np.ndarray:
        import torch

        from mlcourse.vision.model import to_tensor

        x = to_tensor(images)
        if tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(f"expected images of shape (N, 8, 8), got {tuple(images.shape)}")
        with self._lock, torch.no_grad():
            return self.model(x).double().numpy()

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        from mlcourse.vision.model import softmax

        return softmax(self.logits(images), self.temperature)


def load_classifier(artifact_dir: str | Path) -> DigitClassifier:
    """Verify an artifact folder, load its weights and smoke-test the model.

    Raises:
        ArtifactError: With a message naming the file and the problem.
    """
    import torch
    from sklearn.datasets import load_digits

    from mlcourse.vision.model import DigitsResNet

    folder = Path(artifact_dir)
    meta = read_metadata(folder)
    model_path = folder / meta["model_file"]
    try:
        state = torch.load(model_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling can fail in many ways
        raise ArtifactError(
            f"{model_path} cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None
    model = DigitsResNet(int(meta["architecture"]["width"]))
    try:
        model.load_state_dict(state, strict=True)
    except Exception as exc:
        raise ArtifactError(
            f"{model_path} does not fit a DigitsResNet of width "
            f"{meta['architecture']['width']} ({type(exc).__name__}: {str(exc)[:300]})"
        ) from None
    # One intra-op thread: requests are serialised, and a second torch thread
    # only fights the event loop for the other core.
    torch.set_num_threads(int(os.environ.get("MLCOURSE_TORCH_THREADS", "1")))
    classifier = DigitClassifier(meta, model)
    data = load_digits()
    try:
        probs = classifier.predict_proba(data.images)
    except Exception as exc:
        raise ArtifactError(
            f"{model_path} loaded but cannot predict ({type(exc).__name__}: {exc})"
        ) from None
    if not np.isfinite(probs).all() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise ArtifactError(f"{model_path}: smoke test failed (probabilities are not finite)")
    accuracy = float(np.mean(probs.argmax(axis=1) == data.target))
    if accuracy < SMOKE_ACCURACY:
        raise ArtifactError(
            f"{model_path}: smoke test failed: the model classifies only {accuracy:.1%} of "
            f"scikit-learn's digits correctly (at least {SMOKE_ACCURACY:.0%} expected)"
        )
    return classifier


__all__ = [
    "METADATA_FILE",
    "MODEL_FILE",
    "SCHEMA_VERSION",
    "ArtifactError",
    "DigitClassifier",
    "load_classifier",
    "read_metadata",
]

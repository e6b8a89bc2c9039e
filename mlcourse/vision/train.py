"""Train the digits ResNet and write a versioned artifact folder.

``python -m mlcourse.vision train --out DIR``

* Data: scikit-learn's hand-written digits (1,797 grey 8 x 8 images, values
  0..16, from the UCI "Optical Recognition of Handwritten Digits" set; shipped
  inside scikit-learn, nothing is downloaded). One fixed stratified split,
  seed 0: 60 % training, 20 % calibration (temperature scaling), 20 % test.
* Model: :class:`~mlcourse.vision.model.DigitsResNet`, trained with Adam, a
  cosine learning-rate schedule and random affine augmentation.
* Calibration: the temperature is fitted on the calibration split; the test
  split gives accuracy, NLL and ECE before and after it.
* The artifact (``model.pt``, a ``state_dict`` saved with ``torch.save``, and
  ``metadata.json``) is written into a temporary folder next to ``DIR`` and
  renamed into place once complete, so ``DIR`` is never half-written.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from mlcourse import artifacts
from mlcourse.vision import CLASSES, IMAGE_SIZE, KIND
from mlcourse.vision.artifact import METADATA_FILE, MODEL_FILE, SCHEMA_VERSION

SEED = 0
SPLIT = {"train": 0.6, "calibration": 0.2, "test": 0.2}
EPOCHS = 20
BATCH_SIZE = 64
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
WIDTH = 16
N_BINS = 10


class TrainError(Exception):
    """Training could not run or its output could not be written; the message says why."""


@dataclass(frozen=True)
class Split:
    """The fixed split of the digits: images ``(N, 8, 8)`` in 0..16 and labels, per part."""

    train_images: np.ndarray
    train_labels: np.ndarray
    cal_images: np.ndarray
    cal_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def digits_checksum(images: np.ndarray, labels: np.ndarray) -> str:
    """The sha256 of the digits' pixels and labels (so an artifact names its exact data)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(images, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


def load_split(seed: int = SEED) -> Split:
    """scikit-learn's digits, split 60/20/20 (stratified, ``seed``)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    index = np.arange(len(data.target))
    rest, test = train_test_split(
        index, test_size=SPLIT["test"], random_state=seed, stratify=data.target
    )
    share = SPLIT["calibration"] / (1.0 - SPLIT["test"])
    train, cal = train_test_split(
        rest, test_size=share, random_state=seed, stratify=data.target[rest]
    )
    images, labels = data.images, data.target
    return Split(images[train], labels[train], images[cal], labels[cal], images[test], labels[test])


def fit(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = EPOCHS,
    seed: int = SEED,
    augment: bool = True,
    width: int = WIDTH,
    lr: float = LEARNING_RATE,
    weight_decay: float = WEIGHT_DECAY,
    batch_size: int = BATCH_SIZE,
    threads: int | None = 1,
    on_epoch=None,
):
    """Train a fresh :class:`DigitsResNet` on ``images`` (N, 8, 8) 0..16; return it in eval mode.

    Seeded: the same arguments give the same weights on the same machine and
    thread count. ``threads`` intra-op threads are used while training (the
    network is too small to gain from more; None leaves torch's setting).
    ``on_epoch(epoch, mean_loss)`` is called after each epoch.
    """
    import torch

    from mlcourse.vision.model import DigitsResNet, random_affine, to_tensor

    if epochs < 1:
        raise TrainError(f"epochs must be at least 1, got {epochs}")
    x = to_tensor(images)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = DigitsResNet(width)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=steps, pct_start=0.2
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    saved_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for start in range(0, len(x), batch_size):
                batch = order[start : start + batch_size]
                xb, yb = x[batch], y[batch]
                if augment:
                    xb = random_affine(xb, generator)
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.item() * len(batch)
            if on_epoch is not None:
                on_epoch(epoch, total / len(x))
    finally:
        torch.set_num_threads(saved_threads)
    return model.eval()


def logits_of(model, images: np.ndarray) -> np.ndarray:
    """The model's logits (N, 10) for images (N, 8, 8) in 0..16, in eval mode."""
    import torch

    from mlcourse.vision.model import to_tensor

    model.eval()
    with torch.no_grad():
        return model(to_tensor(images)).double().numpy()


def calibration_metrics(
    cal_logits: np.ndarray,
    cal_labels: np.ndarray,
    test_logits: np.ndarray,
    test_labels: np.ndarray,
    n_bins: int = N_BINS,
) -> dict[str, Any]:
    """Temperature fitted on the calibration logits; test accuracy, NLL and ECE before and after."""
    from mlcourse.vision.model import (
        expected_calibration_error,
        fit_temperature,
        softmax,
        temperature_nll,
    )

    temperature = fit_temperature(cal_logits, cal_labels)
    before = softmax(test_logits)
    after = softmax(test_logits, temperature)
    return {
        "accuracy": round(float(np.mean(before.argmax(1) == test_labels)), 4),
        "temperature": temperature,
        "nll_before": round(temperature_nll(test_logits, test_labels, 1.0), 4),
        "nll_after": round(temperature_nll(test_logits, test_labels, temperature), 4),
        "ece_before": round(expected_calibration_error(before, test_labels, n_bins), 4),
        "ece_after": round(expected_calibration_error(after, test_labels, n_bins), 4),
        "ece_bins": n_bins,
        "n_test": int(len(test_labels)),
    }


def write_artifact(
    out: str | Path,
    model,
    temperature: float,
    metrics: dict[str, Any],
    *,
    force: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``model`` (a DigitsResNet) and its metadata to the artifact folder ``out``."""
    import torch

    from mlcourse import __version__
    from mlcourse.data import sha256_file

    out = artifacts.check_target(
        out, force=force, error=TrainError, advice="choose another --out or pass --force"
    )
    trained_at = datetime.now(UTC)
    with artifacts.staged(
        out, force=force, error=TrainError, advice="choose another --out or pass --force"
    ) as tmp:
        model_path = tmp / MODEL_FILE
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        torch.save(state, model_path)
        model_sha = sha256_file(model_path)
        version = f"{KIND}-{trained_at:%Y%m%d-%H%M%S}-{model_sha[:8]}"
        meta: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "version": version,
            "model_file": MODEL_FILE,
            "model_sha256": model_sha,
            "trained_at": trained_at.isoformat(timespec="seconds"),
            "architecture": {
                "name": "DigitsResNet",
                "width": int(model.width),
                "parameters": int(sum(p.numel() for p in model.parameters())),
            },
            "input": {
                "shape": [1, IMAGE_SIZE, IMAGE_SIZE],
                "scale": "scikit-learn digits' 0..16 pixel counts divided by 16",
                "preprocess": "mlcourse.vision.preprocess.preprocess_image",
            },
            "classes": list(CLASSES),
            "temperature": float(temperature),
            "data": {"dataset": "unspecified"},
            "metrics": metrics,
            "libraries": artifacts.versions(
                ["mlcourse", "torch", "numpy", "scikit-learn", "pillow"]
            ),
            "mlcourse_version": __version__,
            **(extra or {}),
        }
        artifacts.write_metadata(tmp, meta)
    return meta


def train(
    out: str | Path,
    *,
    force: bool = False,
    epochs: int = EPOCHS,
    seed: int = SEED,
    on_epoch=None,
) -> dict[str, Any]:
    """Train on the fixed split and write the artifact to ``out``; return its metadata.

    Raises:
        TrainError: For an existing ``out`` without ``force`` or bad settings.
    """
    import sklearn

    out_path = Path(out).expanduser().resolve()
    if out_path.exists() and not force and (not out_path.is_dir() or any(out_path.iterdir())):
        raise TrainError(f"{out_path} already exists; choose another --out or pass --force")
    started = time.perf_counter()
    split = load_split(seed)
    model = fit(split.train_images, split.train_labels, epochs=epochs, seed=seed, on_epoch=on_epoch)
    metrics = calibration_metrics(
        logits_of(model, split.cal_images),
        split.cal_labels,
        logits_of(model, split.test_images),
        split.test_labels,
    )
    from sklearn.datasets import load_digits

    data = load_digits()
    extra = {
        "training_seconds": round(time.perf_counter() - started, 1),
        "training": {
            "epochs": epochs,
            "batch_size": BATCH_SIZE,
            "optimizer": "Adam",
            "learning_rate": LEARNING_RATE,
            "schedule": "OneCycleLR",
            "weight_decay": WEIGHT_DECAY,
            "augmentation": "random_affine(max_angle=12, scale=(0.9, 1.1), max_shift=1)",
            "seed": seed,
        },
        "data": {
            "dataset": "sklearn.datasets.load_digits",
            "source": "UCI Optical Recognition of Handwritten Digits (test part), "
            "shipped with scikit-learn",
            "scikit-learn": sklearn.__version__,
            "checksum": digits_checksum(data.images, data.target),
            "split": {
                **SPLIT,
                "seed": seed,
                "stratify": "label",
                "n_train": int(len(split.train_labels)),
                "n_calibration": int(len(split.cal_labels)),
                "n_test": int(len(split.test_labels)),
            },
        },
    }
    return write_artifact(
        out_path, model, metrics["temperature"], metrics, force=force, extra=extra
    )


__all__ = [
    "METADATA_FILE",
    "MODEL_FILE",
    "SCHEMA_VERSION",
    "Split",
    "TrainError",
    "calibration_metrics",
    "fit",
    "load_split",
    "logits_of",
    "train",
    "write_artifact",
]

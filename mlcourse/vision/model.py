"""The digits network, its training augmentation, and calibration tools.

* :class:`ResidualBlock` and :class:`DigitsResNet`: a small residual CNN with
  batch norm for 8 x 8 grey images (about 20,000 parameters).
* :func:`random_affine`: the training augmentation, a random rotation, scaling
  and shift of each image of a batch (``affine_grid`` + ``grid_sample``).
* :func:`expected_calibration_error`, :func:`reliability_table`,
  :func:`temperature_nll` and :func:`fit_temperature`: how far the model's
  confidence is from its accuracy, and the one-parameter fix.

Images enter the network as float32 tensors of shape ``(N, 1, 8, 8)`` with
values in [0, 1]: scikit-learn's 0..16 pixel counts divided by 16
(:data:`PIXEL_SCALE`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: scikit-learn's digits count "on" pixels in 4 x 4 blocks: values 0..16.
PIXEL_SCALE = 16.0
#: Temperatures searched by :func:`fit_temperature`.
T_MIN, T_MAX = 0.05, 20.0


class ResidualBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus a shortcut, then ReLU (He et al., 2016).

    The shortcut is the identity when the shape is kept, else a 1 x 1
    convolution with the block's stride and a batch norm (a projection).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class DigitsResNet(nn.Module):
    """stem, two residual blocks (the second halves the resolution), global pool, linear.

    ``(N, 1, 8, 8)`` in [0, 1] -> ``(N, 10)`` logits. ``width`` is the stem's
    channel count; the second block doubles it.
    """

    def __init__(self, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.width = width
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        self.block1 = ResidualBlock(width, width)
        self.block2 = ResidualBlock(width, 2 * width, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature maps, ``(N, 2 * width, 4, 4)`` (what Grad-CAM looks at)."""
        return self.block2(self.block1(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """Digits as the network reads them: (N, 8, 8) in 0..16 -> float32 (N, 1, 8, 8) in [0, 1]."""
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {array.shape}")
    return torch.from_numpy(array / PIXEL_SCALE).unsqueeze(1)


def random_affine(
    x: torch.Tensor,
    generator: torch.Generator,
    max_angle: float = 12.0,
    scale: tuple[float, float] = (0.9, 1.1),
    max_shift: float = 1.0,
) -> torch.Tensor:
    """Each image of ``x`` (N, C, H, W) rotated, scaled and shifted at random, about its centre.

    Angles are uniform in +-``max_angle`` degrees, scales in ``scale``,
    shifts in +-``max_shift`` pixels along each axis; bilinear sampling, zeros
    outside. Label-preserving for digits (a flip would not be).
    """
    n, _, height, width = x.shape
    draw = torch.rand(n, 4, generator=generator)
    angle = torch.deg2rad((2 * draw[:, 0] - 1) * max_angle)
    factor = scale[0] + (scale[1] - scale[0]) * draw[:, 1]
    # grid_sample maps output to input: the inverse of "scale, rotate, then shift".
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    shift_x = (2 * draw[:, 2] - 1) * max_shift * 2 / (width - 1)
    shift_y = (2 * draw[:, 3] - 1) * max_shift * 2 / (height - 1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin, cos
    theta[:, 0, 2] = -(cos * shift_x - sin * shift_y)
    theta[:, 1, 2] = -(sin * shift_x + cos * shift_y)
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


# -- calibration --------------------------------------------------------------------------


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, computed stably."""
    z = np.asarray(logits, dtype=float) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def reliability_table(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> dict:
    """Per confidence bin: edges, count, accuracy and mean confidence (NaN for empty bins).

    Bin ``b`` holds the examples whose confidence (highest probability) lies in
    ``(edges[b], edges[b + 1]]``, with ``edges = linspace(0, 1, n_bins + 1)``.
    """
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) != len(labels) or len(labels) == 0:
        raise ValueError("need probabilities (N, K) and N labels, N > 0")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore"):
        accuracy = np.bincount(which, weights=correct, minlength=n_bins) / count
        mean_conf = np.bincount(which, weights=confidence, minlength=n_bins) / count
    return {"edges": edges, "count": count, "accuracy": accuracy, "confidence": mean_conf}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """The count-weighted mean gap between accuracy and confidence over the bins."""
    table = reliability_table(probs, labels, n_bins)
    used = table["count"] > 0
    gaps = np.abs(table["accuracy"][used] - table["confidence"][used])
    return float(np.sum(table["count"][used] * gaps) / np.sum(table["count"]))


def temperature_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    if not temperature > 0:
        raise ValueError(f"the temperature must be positive, got {temperature}")
    z = np.asarray(logits, dtype=float) / temperature
    top = z.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    picked = z[np.arange(len(z)), np.asarray(labels, dtype=int)]
    return float(np.mean(log_norm - picked))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [T_MIN, T_MAX] that minimises :func:`temperature_nll`.

    The NLL is smooth in log T; a bounded scalar search on log T finds it.
    """
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: temperature_nll(logits, labels, math.exp(log_t)),
        bounds=(math.log(T_MIN), math.log(T_MAX)),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(min(max(math.exp(result.x), T_MIN), T_MAX))


__all__ = [
    "PIXEL_SCALE",
    "DigitsResNet",
    "ResidualBlock",
    "expected_calibration_error",
    "fit_temperature",
    "random_affine",
    "reliability_table",
    "softmax",
    "temperature_nll",
    "to_tensor",
]

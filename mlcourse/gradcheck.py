"""Gradient checking: finite differences against an analytic gradient.

The course builds a central difference in ``calculus_optimization``; later
notebooks (backprop, PyTorch) check their hand-written backward passes with
these two tested helpers instead of re-typing them:

* :func:`numerical_grad`: the central-difference gradient of a scalar
  function at an array, one coordinate at a time;
* :func:`rel_error`: the largest element-wise relative difference between
  two arrays, the number a gradient check reports.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_grad", "rel_error"]


def numerical_grad(f: Callable[[np.ndarray], float], x, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` may be any array-like (a list, a matrix); ``f`` receives a float
    array of the same shape and the result has that shape too. ``x`` itself
    is never modified. The truncation error is of order ``h**2``.
    """
    if h <= 0:
        raise ValueError(f"the step h must be positive, got {h}")
    point = np.array(x, dtype=float)
    shape = point.shape
    flat = point.reshape(-1)
    out = np.empty(flat.size)
    for k in range(flat.size):
        step = np.zeros(flat.size)
        step[k] = h
        up = float(f((flat + step).reshape(shape)))
        down = float(f((flat - step).reshape(shape)))
        out[k] = (up - down) / (2.0 * h)
    return out.reshape(shape)


def rel_error(a, b) -> float:
    """max |a - b| / (|a| + |b|), element-wise; 0 where both are exactly 0."""
    first = np.asarray(a, dtype=float)
    second = np.asarray(b, dtype=float)
    if first.shape != second.shape:
        raise ValueError(f"shapes differ: {first.shape} vs {second.shape}")
    if first.size == 0:
        return 0.0
    scale = np.abs(first) + np.abs(second)
    gap = np.abs(first - second)
    ratio = np.divide(gap, scale, out=np.zeros_like(gap), where=scale > 0)
    return float(ratio.max())

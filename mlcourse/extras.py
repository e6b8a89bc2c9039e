"""The optional parts of the course: which notebooks need which extra, and a clear message.

``pip install -e .`` installs what most notebooks use. A few heavy libraries
come as extras (``pip install -e ".[umap]"`` and so on; ``.[dev]`` and Binder
install them all). A notebook that needs one says so in its setup cell::

    from mlcourse.extras import require
    require("edge")        # onnx, onnxruntime, onnxscript

which raises :class:`MissingExtra`, an ``ImportError`` with the command that
fixes it, instead of a bare ``ModuleNotFoundError`` half-way down the notebook.
``mlcourse doctor`` lists the extras that are missing and the notebooks that
need them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

__all__ = ["EXTRAS", "Extra", "MissingExtra", "missing", "require"]


@dataclass(frozen=True)
class Extra:
    name: str
    modules: tuple[str, ...]  # what the notebooks import
    notebooks: tuple[str, ...]  # course-relative
    size: str  # installed, measured


EXTRAS = {
    "umap": Extra("umap", ("umap",), ("02_frameworks/unsupervised_anomaly.ipynb",), "about 215 MB"),
    "mlops": Extra("mlops", ("mlflow",), ("03_specialize/mlops_lifecycle.ipynb",), "about 290 MB"),
    "edge": Extra(
        "edge",
        ("onnx", "onnxruntime", "onnxscript"),
        ("03_specialize/edge_ai.ipynb",),
        "about 120 MB",
    ),
}


class MissingExtra(ImportError):
    """A notebook needs an extra that is not installed."""


def missing(name: str) -> list[str]:
    """The modules of extra ``name`` that cannot be imported."""
    extra = EXTRAS[name]
    return [m for m in extra.modules if importlib.util.find_spec(m) is None]


def require(name: str) -> None:
    """Raise :class:`MissingExtra`, saying how to install it, if extra ``name`` is missing."""
    if name not in EXTRAS:
        raise KeyError(f"unknown extra {name!r}; the extras are {sorted(EXTRAS)}")
    absent = missing(name)
    if absent:
        extra = EXTRAS[name]
        raise MissingExtra(
            f"this notebook needs the course's {name!r} extra ({', '.join(absent)} "
            f"missing; {extra.size}). In the course's folder, run: "
            f'pip install -e ".[{name}]"   then restart the kernel.'
        )

"""Pinned environments: the exact versions a model was trained with.

A model file is only half of a model: it loads and predicts the same only with
the library versions it was saved with. :func:`pinned` reads the installed
versions (``importlib.metadata``) and writes them as pip requirements,
``name==version``, for MLflow's ``pip_requirements`` or a Dockerfile.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def pinned(*packages: str) -> list[str]:
    """``name==version`` for each installed package, in the order given."""
    out = []
    for name in packages:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a package name is a non-empty string, not {name!r}")
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            raise ValueError(f"{name} is not installed, so it cannot be pinned") from None
    return out

"""Versioned model artifacts on disk, shared by the course's three services.

An artifact is a folder holding one model file and ``metadata.json`` (schema
version, kind, version string, the model file's name and sha256, training
date, data, metrics, library versions). The sentiment service, the movie
recommender and the digits app each add their own fields and checks; what
they share lives here:

* :func:`check_target` and :func:`staged`: write into a temporary folder
  beside the target, fsync, then rename it into place (atomic when the target
  is new; with ``force`` an existing artifact is swapped out, and put back if
  the swap fails). A crash never leaves a half-written artifact.
* :func:`write_metadata` and :func:`versions`.
* :func:`read_metadata`: read and verify ``metadata.json`` and the model
  file's sha256 without loading the model, with a clear :class:`ArtifactError`
  for every way a folder can be unusable.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

__all__ = [
    "METADATA_FILE",
    "ArtifactError",
    "Schema",
    "check_target",
    "read_metadata",
    "staged",
    "versions",
    "write_metadata",
]

METADATA_FILE = "metadata.json"


class ArtifactError(Exception):
    """An artifact folder is missing, incomplete, corrupt or unusable; the message says why."""


# -- writing --------------------------------------------------------------------------------


def check_target(out: str | Path, *, force: bool, error: type[Exception], advice: str) -> Path:
    """``out`` as an absolute path; ``error(advice)`` if it exists and ``force`` is off.

    An empty folder counts as free. Call it before the (slow) training, so that
    a taken folder is reported at once.
    """
    out = Path(out).expanduser().resolve()
    if out.exists() and not force and (not out.is_dir() or any(out.iterdir())):
        raise error(f"{out} already exists; {advice}")
    return out


def _place(tmp: Path, out: Path, force: bool, error: type[Exception], advice: str) -> None:
    """Move the finished folder ``tmp`` to ``out`` with renames (atomic when ``out`` is new)."""
    if out.exists() and out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.replace(tmp, out)
        return
    if not force:
        raise error(f"{out} already exists; {advice}")
    backup = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.replace(out, backup)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(backup, out)
        raise
    if backup.is_dir():
        shutil.rmtree(backup, ignore_errors=True)
    else:
        backup.unlink(missing_ok=True)


@contextmanager
def staged(out: Path, *, force: bool, error: type[Exception], advice: str) -> Iterator[Path]:
    """A temporary folder beside ``out``; when the block ends cleanly, it becomes ``out``.

    Every file written into it is fsynced before the rename. On an exception
    (or a taken ``out`` without ``force``) the temporary folder is removed and
    ``out`` is left as it was.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        for path in tmp.iterdir():
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        os.chmod(tmp, 0o755)
        _place(tmp, out, force, error, advice)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_metadata(folder: Path, meta: dict[str, Any]) -> Path:
    path = folder / METADATA_FILE
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return path


def versions(names: Iterable[str]) -> dict[str, str]:
    """Python's version and each named distribution's ("not installed" if absent)."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """What one service's ``metadata.json`` must hold."""

    version: int  # the schema_version this code reads
    kinds: tuple[str, ...]  # the model kinds it knows
    required: tuple[str, ...]  # keys that must be present


def read_metadata(artifact_dir: str | Path, schema: Schema) -> tuple[dict[str, Any], Path]:
    """Read and check ``metadata.json`` and the model file's sha256 (without loading it).

    Returns the metadata and its path (for a caller's own checks' messages).

    Raises:
        ArtifactError: If the folder or a file is missing, the JSON is malformed,
            a required key is missing, the schema or kind is unknown, the model
            file's name is not a plain name, or its sha256 does not match.
    """
    from mlcourse.data import sha256_file

    folder = Path(artifact_dir)
    if not folder.is_dir():
        raise ArtifactError(f"model artifact folder {folder} does not exist (train one first)")
    meta_path = folder / METADATA_FILE
    try:
        text = meta_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ArtifactError(f"{meta_path} is missing: not a model artifact folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{meta_path} cannot be read: {exc}") from None
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise ArtifactError(
            f"{meta_path} cannot be read: it is not valid JSON ({exc}), the artifact is corrupt"
        ) from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{meta_path} must hold a JSON object: the artifact is corrupt")
    missing = [key for key in schema.required if key not in meta]
    if missing:
        raise ArtifactError(f"{meta_path} lacks {', '.join(missing)}: the artifact is corrupt")
    if meta["schema_version"] != schema.version:
        raise ArtifactError(
            f"{meta_path}: schema_version {meta['schema_version']!r} is not supported "
            f"(this code reads {schema.version}); retrain the model"
        )
    if meta["kind"] not in schema.kinds:
        raise ArtifactError(
            f"{meta_path}: unknown model kind {meta['kind']!r} (known: {', '.join(schema.kinds)})"
        )
    name = meta["model_file"]
    if not isinstance(name, str) or not name or Path(name).name != name:
        raise ArtifactError(f"{meta_path}: model_file must be a plain file name, got {name!r}")
    model_path = folder / name
    if not model_path.is_file():
        raise ArtifactError(f"{model_path} is missing: the artifact is incomplete")
    actual = sha256_file(model_path)
    if actual != meta["model_sha256"]:
        raise ArtifactError(
            f"{model_path}: sha256 mismatch, refusing to load a corrupt model.\n"
            f"  expected {meta['model_sha256']}\n  actual   {actual}"
        )
    return meta, meta_path

"""The learner's workspace: student notebooks that are never overwritten once edited.

``mlcourse start`` calls :func:`sync`. The workspace keeps a manifest
(``.mlcourse/manifest.json``) with the sha256 of every file as the course
wrote it. On each sync, for every student notebook of the course:

* **new**: not in the workspace yet, so it is written;
* **unchanged**: the learner's file is byte for byte what the course wrote and
  the course has not changed it: nothing to do;
* **updated**: the learner never touched it but the course has a newer
  version: it is replaced;
* **kept**: the learner changed it (edited, ran or saved it): it is never
  overwritten. If the course has a newer version, the report says so;
* **restored**: the learner deleted it: it comes back.

Every write is atomic (a temporary file, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mlcourse import paths
from mlcourse.notebook import read_notebook
from mlcourse.release import student_version

MANIFEST = Path(".mlcourse") / "manifest.json"
DEFAULT_WORKSPACE = Path("mlcourse-work")


@dataclass
class SyncReport:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_with_update: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no half-written file can ever be seen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def student_files(course: Path | None = None) -> dict[str, bytes]:
    """Every file a learner gets, by workspace-relative path.

    Student versions of the notebooks in every assignment folder, plus the
    landing notebooks at the top of ``course/`` (these have no exercises).
    Mistake fixtures are maintainers' files and are not included.
    """
    course = course or paths.course_dir()
    files: dict[str, bytes] = {}
    for src in sorted(course.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in src.parts:
            continue
        nb = student_version(read_notebook(src))
        text = nbformat.writes(nb) + "\n"
        files[src.relative_to(course).as_posix()] = text.encode("utf-8")
    return files


def _load_manifest(workspace: Path) -> dict[str, str]:
    path = workspace / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("files", {}).items()}
    except (json.JSONDecodeError, AttributeError):
        # A damaged manifest must not cost the learner's work: treat every
        # existing file as edited (kept), which is always safe.
        return {}


def sync(workspace: Path, files: dict[str, bytes] | None = None) -> SyncReport:
    """Bring ``workspace`` up to date with the course without losing any edit."""
    workspace = Path(workspace)
    files = student_files() if files is None else files
    manifest = _load_manifest(workspace)
    report = SyncReport()
    for rel, data in files.items():
        target = workspace / rel
        new_hash = _sha256(data)
        written_hash = manifest.get(rel)
        if not target.exists():
            atomic_write(target, data)
            (report.restored if written_hash else report.new).append(rel)
            manifest[rel] = new_hash
            continue
        current = _sha256(target.read_bytes())
        if written_hash is not None and current == written_hash:
            if current == new_hash:
                report.unchanged.append(rel)
            else:
                atomic_write(target, data)
                manifest[rel] = new_hash
                report.updated.append(rel)
        elif current == new_hash:
            manifest[rel] = new_hash  # identical to the course's version
            report.unchanged.append(rel)
        else:
            report.kept.append(rel)
            if written_hash != new_hash:
                report.kept_with_update.append(rel)
    payload = json.dumps({"files": manifest}, indent=1, sort_keys=True).encode()
    atomic_write(workspace / MANIFEST, payload)
    write_reveal(workspace)
    return report


def write_reveal(workspace: Path, course: Path | None = None) -> list[str]:
    """Write the worked solutions and quiz keys for self-study into the workspace.

    One ``.mlcourse/reveal/<stem>.json`` per notebook with exercises (see
    :mod:`mlcourse.check.reveal`); never part of a release. Returns the stems.
    """
    from mlcourse.check import reveal
    from mlcourse.notebook import parse

    course = course or paths.course_dir()
    written = []
    for src in sorted(course.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in src.parts:
            continue
        cnb = parse(src)
        if not cnb.exercises or cnb.legacy:
            continue
        data = json.dumps(reveal.build(cnb), indent=1, ensure_ascii=False).encode("utf-8")
        atomic_write(reveal.store_path(workspace, src.stem), data)
        written.append(src.stem)
    return written

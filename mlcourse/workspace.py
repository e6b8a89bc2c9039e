"""The learner's workspace: student notebooks that take course updates without losing work.

``mlcourse start`` and ``mlcourse update`` call :func:`sync`. For every
student notebook of the course:

* **new**: not in the workspace yet, so it is written;
* **unchanged**: nothing to do;
* **updated**: the learner never touched it and the course has a newer
  version: it is replaced;
* **merged**: the learner worked in it and the course has a newer version:
  the update is merged in cell by cell (:mod:`mlcourse.merge`), after a backup
  copy of the learner's file is kept in ``.mlcourse/backups/``;
* **kept**: the learner worked in it and the course has not changed;
* **restored**: the learner deleted it: it comes back;
* **unreadable**: the learner's file cannot be read as a notebook (a truncated
  save, say): it is left exactly as it is, and the report says how to recover.

The workspace layout is :mod:`mlcourse.layout`'s. Every write is atomic (a
temporary file, then ``os.replace``) with the usual file permissions.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mlcourse import layout, paths
from mlcourse.merge import MergeReport, merge
from mlcourse.notebook import NotebookError, read_notebook
from mlcourse.release import student_version

MANIFEST = Path(layout.MLCOURSE_DIR) / layout.MANIFEST_FILE
DEFAULT_WORKSPACE = layout.DEFAULT_WORKSPACE
RESTORE_HINT = "mlcourse update --restore {rel}"


class WorkspaceError(Exception):
    """The workspace cannot be used (a bad path, no permission); the message says why."""


@dataclass
class SyncReport:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    merged: dict[str, MergeReport] = field(default_factory=dict)
    backups: dict[str, str] = field(default_factory=dict)  # rel -> backup path
    restored: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # rel -> why

    @property
    def kept_with_update(self) -> list[str]:  # the earlier name, for callers
        return list(self.merged)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no half-written file can ever be seen.

    The file gets the usual permissions (0666 minus the umask), like any file
    the learner makes, not the private 0600 of a temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _text(nb) -> bytes:
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def student_files(course: Path | None = None) -> dict[str, bytes]:
    """Every file a learner gets, by workspace-relative path.

    Student versions of the notebooks in every assignment folder, plus the
    landing notebooks at the top of ``course/`` (these have no exercises).
    Maintainers' files (mistakes, mutation records) are not included.
    """
    course = course or paths.course_dir()
    files: dict[str, bytes] = {}
    for src in sorted(course.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in src.parts:
            continue
        files[src.relative_to(course).as_posix()] = _text(student_version(read_notebook(src)))
    return files


def check_workspace_path(workspace: Path) -> Path:
    """The workspace folder, made if need be; a clear error if that cannot be done."""
    workspace = Path(workspace).expanduser()
    try:
        if workspace.exists() and not workspace.is_dir():
            raise WorkspaceError(f"{workspace} is a file, not a folder: choose another --workspace")
        workspace.mkdir(parents=True, exist_ok=True)
        probe = workspace / ".mlcourse-write-test"
        probe.write_text("")
        probe.unlink()
    except WorkspaceError:
        raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WorkspaceError(
            f"cannot use {workspace} as your workspace ({reason}); choose a folder you can "
            "write to, for example --workspace ~/mlcourse-work"
        ) from None
    return workspace


def _load_manifest(workspace: Path) -> tuple[dict[str, str], dict[str, bool]]:
    files = layout.read_manifest(workspace)
    try:
        data = json.loads(layout.manifest_path(workspace).read_text(encoding="utf-8"))
        pristine = {str(k): bool(v) for k, v in (data.get("pristine") or {}).items()}
    except (OSError, ValueError, AttributeError):
        pristine = {}
    return files, pristine


def _save_manifest(workspace: Path, files: dict[str, str], pristine: dict[str, bool]) -> None:
    payload = {"files": files, "pristine": pristine, "written": time.time()}
    atomic_write(
        layout.manifest_path(workspace), json.dumps(payload, indent=1, sort_keys=True).encode()
    )


def _backup(workspace: Path, rel: str, data: bytes) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = layout.backup_dir(workspace) / f"{rel.replace('/', '__')}.{stamp}.ipynb"
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{rel.replace('/', '__')}.{stamp}-{n}.ipynb")
    atomic_write(target, data)
    return target


def _read_base(workspace: Path, rel: str):
    try:
        return nbformat.reads(layout.base_path(workspace, rel).read_text(encoding="utf-8"), 4)
    except (OSError, ValueError, nbformat.reader.NotJSONError):
        return None


def sync(workspace: Path, files: dict[str, bytes] | None = None) -> SyncReport:
    """Bring ``workspace`` up to date with the course without losing any work."""
    workspace = check_workspace_path(workspace)
    files = student_files() if files is None else files
    manifest, pristine = _load_manifest(workspace)
    report = SyncReport()
    for rel, data in files.items():
        target = workspace / rel
        new_hash = _sha256(data)
        written = manifest.get(rel)
        base_path = layout.base_path(workspace, rel)
        if not target.exists():
            atomic_write(target, data)
            atomic_write(base_path, data)
            (report.restored if written else report.new).append(rel)
            manifest[rel], pristine[rel] = new_hash, True
            continue
        current_bytes = target.read_bytes()
        current = _sha256(current_bytes)
        base_bytes = base_path.read_bytes() if base_path.exists() else None
        untouched = written is not None and current == written and pristine.get(rel, True)
        if current == new_hash:
            manifest[rel], pristine[rel] = new_hash, True
            atomic_write(base_path, data)
            report.unchanged.append(rel)
            continue
        if untouched:
            atomic_write(target, data)
            atomic_write(base_path, data)
            manifest[rel], pristine[rel] = new_hash, True
            report.updated.append(rel)
            continue
        if base_bytes is not None and _sha256(base_bytes) == new_hash:
            report.kept.append(rel)  # the learner's work, and nothing new from the course
            continue
        try:
            mine = read_notebook(target)
        except NotebookError as exc:
            report.unreadable[rel] = str(exc).replace(str(target), rel)
            continue
        base = _read_base(workspace, rel)
        merged, details = merge(mine, base, nbformat.reads(data.decode("utf-8"), as_version=4))
        backup = _backup(workspace, rel, current_bytes)
        out = _text(merged)
        atomic_write(target, out)
        atomic_write(base_path, data)
        manifest[rel], pristine[rel] = _sha256(out), False
        report.merged[rel] = details
        report.backups[rel] = str(backup.relative_to(workspace))
    _save_manifest(workspace, manifest, pristine)
    write_reveal(workspace)
    return report


def restore(workspace: Path, rel: str, files: dict[str, bytes] | None = None) -> Path:
    """Put the course's version of ``rel`` back, after moving the learner's file to backups."""
    workspace = check_workspace_path(workspace)
    files = student_files() if files is None else files
    if rel not in files:
        raise WorkspaceError(f"{rel} is not a notebook of the course")
    target = workspace / rel
    backup = _backup(workspace, rel, target.read_bytes()) if target.exists() else None
    atomic_write(target, files[rel])
    atomic_write(layout.base_path(workspace, rel), files[rel])
    manifest, pristine = _load_manifest(workspace)
    manifest[rel], pristine[rel] = _sha256(files[rel]), True
    _save_manifest(workspace, manifest, pristine)
    return backup or target


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
        if not cnb.exercises:
            continue
        data = json.dumps(reveal.build(cnb), indent=1, ensure_ascii=False).encode("utf-8")
        atomic_write(reveal.store_path(workspace, src.stem), data)
        written.append(src.stem)
    return written

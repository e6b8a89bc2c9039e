"""The learner's workspace layout, owned here and nowhere else.

A workspace is a folder made by ``mlcourse start`` (``./mlcourse-work`` by
default) that holds the student notebooks, and a hidden ``.mlcourse/`` folder:

=========================  ===================================================
``manifest.json``          the marker of a workspace, and the sha256 of every
                           file as the course last wrote it
``base/<notebook>``        the course's version each notebook was last
                           written from: the base of a three-way merge
``backups/``               a copy of a learner's notebook before an update
                           changed it
``reveal/<stem>.json``     worked solutions and quiz keys, for self-study
``progress.jsonl``         the event log (:mod:`mlcourse.check.events`)
``results.jsonl``          the figures the learner's projects reached
                           (:mod:`mlcourse.results`)
``drill.json``             the interview drill's Leitner boxes
                           (:mod:`mlcourse.drill`)
=========================  ===================================================

This module imports nothing heavy: a learner's kernel uses it.
"""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_WORKSPACE = Path("mlcourse-work")
MLCOURSE_DIR = ".mlcourse"
MANIFEST_FILE = "manifest.json"
LOG_FILE = "progress.jsonl"
RESULTS_FILE = "results.jsonl"
DRILL_FILE = "drill.json"
REVEAL_DIR = "reveal"
BASE_DIR = "base"
BACKUP_DIR = "backups"


def marker(workspace: Path) -> Path:
    return Path(workspace) / MLCOURSE_DIR


def manifest_path(workspace: Path) -> Path:
    return marker(workspace) / MANIFEST_FILE


def log_path(workspace: Path) -> Path:
    return marker(workspace) / LOG_FILE


def results_path(workspace: Path) -> Path:
    return marker(workspace) / RESULTS_FILE


def drill_path(workspace: Path) -> Path:
    return marker(workspace) / DRILL_FILE


def reveal_path(workspace: Path, stem: str) -> Path:
    return marker(workspace) / REVEAL_DIR / f"{stem}.json"


def base_path(workspace: Path, rel: str) -> Path:
    return marker(workspace) / BASE_DIR / rel


def backup_dir(workspace: Path) -> Path:
    return marker(workspace) / BACKUP_DIR


def is_workspace(folder: Path) -> bool:
    return manifest_path(folder).is_file()


def find_workspace(start: Path | str | None = None) -> Path | None:
    """The workspace containing ``start`` (default: the current folder), if any."""
    here = Path(start) if start is not None else Path.cwd()
    try:
        here = here.resolve()
    except OSError:
        return None
    for folder in (here, *here.parents):
        if is_workspace(folder):
            return folder
    return None


def read_manifest(workspace: Path) -> dict[str, str]:
    """File -> sha256 as the course wrote it; an empty dict if missing or damaged.

    A damaged manifest must never cost a learner's work: every existing file
    then counts as edited, which is always safe.
    """
    try:
        data = json.loads(manifest_path(workspace).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return {}


def is_visible(rel: Path) -> bool:
    """A workspace file a learner works on (not checkpoints, not ``.mlcourse``)."""
    return not any(part.startswith(".") for part in rel.parts)

"""Reading submissions: the layout check, and only regular files, never through a link.

nbgrader's layout is ``DIR/<student_id>/<ASSIGNMENT>/<notebook>.ipynb`` (plus
any data files, and nbgrader's ``timestamp.txt``). A folder in another layout
is an instructor's mistake, reported before anything is graded. Within a
submission, only regular files are taken; a symbolic link, a device or a FIFO
is refused (and never opened), which makes the student's notebooks
``invalid`` with a clear detail.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mlcourse.grading.model import MAX_SUBMISSION_BYTES, GradingError

LAYOUT = "DIR/<student>/<ASSIGNMENT>/<notebook>.ipynb"
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__"}


@dataclass
class Submission:
    """One student's files, read safely."""

    student: str
    files: dict[str, bytes] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # "path (a symbolic link)"
    too_large: bool = False
    timestamp: datetime | None = None

    def fingerprint(self, notebooks: list[str]) -> str:
        digest = hashlib.sha256()
        for name in notebooks:
            digest.update(name.encode())
            digest.update(self.files.get(f"{name}.ipynb", b"<missing>"))
        for path in sorted(self.files):
            if not path.endswith(".ipynb"):
                digest.update(path.encode() + b"\0" + self.files[path])
        for entry in self.refused:
            digest.update(b"refused:" + entry.encode())
        return digest.hexdigest()


def _kind(mode: int) -> str | None:
    """None for a regular file or folder, else what it is."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes, opened without following a link (O_NOFOLLOW)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_timestamp(text: str) -> datetime | None:
    """nbgrader's ``timestamp.txt`` ("2026-12-01 10:00:00.000000 UTC"), or None."""
    text = text.strip().removesuffix("UTC").strip()
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_submission(folder: Path, student: str) -> Submission:
    """Every regular file below ``folder`` (the student's assignment folder)."""
    sub = Submission(student)
    total = 0
    top = os.lstat(folder)
    if _kind(top.st_mode) or not stat.S_ISDIR(top.st_mode):
        sub.refused.append(f"{folder.name} ({_kind(top.st_mode) or 'not a folder'})")
        return sub
    for root, dirs, names in os.walk(folder, followlinks=False):
        here = Path(root)
        for name in list(dirs):
            path = here / name
            kind = _kind(os.lstat(path).st_mode)
            if kind:  # a link to a folder: refused, and not walked
                sub.refused.append(f"{path.relative_to(folder).as_posix()} ({kind})")
                dirs.remove(name)
            elif name in SKIP_DIRS:
                dirs.remove(name)
        for name in names:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            kind = _kind(os.lstat(path).st_mode)
            if kind:
                sub.refused.append(f"{rel} ({kind})")
                continue
            try:
                data = _read_regular(path)
            except OSError as exc:
                sub.refused.append(f"{rel} ({exc.strerror or exc})")
                continue
            total += len(data)
            if total > MAX_SUBMISSION_BYTES:
                sub.too_large = True
                return sub
            if rel == "timestamp.txt":
                sub.timestamp = parse_timestamp(data.decode("utf-8", "replace"))
            sub.files[rel] = data
    return sub


def students(submissions: Path, assignment: str, notebooks: list[str]) -> list[str]:
    """The student folders of a submissions folder in nbgrader's layout.

    Raises :class:`GradingError` (exit 2) when the folder is missing, empty, or
    not in the layout, naming what was found.
    """
    if not submissions.is_dir():
        raise GradingError(f"{submissions}: no such folder of submissions", code=2)
    found = sorted(
        p for p in submissions.iterdir() if not p.name.startswith(".") and p.name not in SKIP_DIRS
    )
    folders = [p for p in found if p.is_dir() and not p.is_symlink()]
    stray = [p for p in found if p not in folders]
    if not folders:
        what = (
            "it is empty"
            if not found
            else "it holds no student folders, only " + ", ".join(p.name for p in found[:5])
        )
        raise GradingError(
            f"{submissions}: no submissions to grade ({what}); the expected layout is {LAYOUT}",
            code=2,
        )
    misplaced: list[str] = []
    wrong: list[str] = []
    for folder in folders:
        inner = folder / assignment
        if inner.is_dir() and not inner.is_symlink():
            continue
        notebooks_here = sorted(
            q.relative_to(submissions).as_posix() for q in folder.glob("*.ipynb")
        )
        if notebooks_here:
            misplaced.extend(notebooks_here)
        else:
            others = sorted(q.name for q in folder.iterdir())[:3]
            wrong.append(f"{folder.name}/ (holds {', '.join(others) or 'nothing'})")
    if misplaced or (wrong and len(wrong) == len(folders)):
        lines = [f"{submissions} is not in nbgrader's layout {LAYOUT} (ASSIGNMENT = {assignment}):"]
        if misplaced:
            shown = ", ".join(misplaced[:8]) + (" ..." if len(misplaced) > 8 else "")
            lines.append(
                f"  {len(misplaced)} notebook(s) sit directly in a student's folder: {shown}; "
                f"move each into <student>/{assignment}/"
            )
        for entry in wrong[:8]:
            lines.append(f"  no {assignment}/ folder in {entry}")
        raise GradingError("\n".join(lines), code=2)
    if stray:
        names = ", ".join(p.name for p in stray[:5])
        raise GradingError(
            f"{submissions} holds files or links beside the student folders ({names}); "
            f"the expected layout is {LAYOUT}",
            code=2,
        )
    return [f.name for f in folders]

"""What a notebook needs in the cache before it runs: data sets, the small GPT, RAG vectors.

The gate and the grader both warm the cache first, outside any timed or
sandboxed run: a data set comes from the mirror or its archive once, and the
course's small GPT (:mod:`mlcourse.gpt`) is trained once, instead of inside
the first notebook that needs it (or inside every read-only grading sandbox),
and the MiniLM vectors of the RAG notebook's documents are computed once.
What a notebook needs is read from its text and its checks module's, so the
trusted side counts too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Needs", "needs", "warm"]

GPT_MARKERS = ("small_gpt", "mlcourse.gpt", "from mlcourse import gpt")
RAG_MARKERS = ("mlcourse.rag", "from mlcourse import rag")


@dataclass
class Needs:
    data: list[str] = field(default_factory=list)  # registered data set names
    gpt: bool = False  # the course's small GPT
    rag: bool = False  # the RAG notebook's document and question vectors


def _text(sources: list[Path]) -> str:
    from mlcourse.check.problems import exercises_dirs

    text = "".join(Path(p).read_text(encoding="utf-8") for p in sources)
    for source in sources:
        for folder in exercises_dirs():
            module = folder / f"{Path(source).stem}.py"
            if module.exists():
                text += module.read_text(encoding="utf-8")
    return text


def needs(sources: list[Path]) -> Needs:
    """The data sets and models the notebooks or their checks load."""
    from mlcourse import data

    text = _text(sources)
    return Needs(
        data=[name for name in data.REGISTRY if f"load_{name}" in text or f'"{name}"' in text],
        gpt=any(marker in text for marker in GPT_MARKERS),
        rag=any(marker in text for marker in RAG_MARKERS),
    )


def warm(sources: list[Path]) -> Needs:
    """Fetch and verify what ``sources`` need, building the small GPT if it is missing."""
    from mlcourse import data

    wanted = needs(sources)
    for name in wanted.data:
        data.fetch(name)
    if wanted.gpt:
        from mlcourse.gpt import small_gpt

        small_gpt(progress=False)
    if wanted.rag:
        from mlcourse import rag

        rag.warm()
    return wanted

"""The course's text corpus: the Python documentation that every Python installation ships.

``pydoc_data/topics.py`` is part of the standard library: it holds the text
``help("for")`` prints, 79 topics of the Python Language Reference (the
statements, the expressions, the data model, string formatting, the
debugger...), about 465,000 characters of real technical English with code
examples. It is on every machine that runs the course, the grader's sandbox
included (the standard library is mounted there read-only), so nothing is
downloaded, and it is the Python Software Foundation's documentation, which
may be redistributed.

Why this corpus rather than the others at hand:

* the standard library's *source code* is mostly code, and a small model
  trained on it writes Python, not prose;
* the *docstrings* of the installed scientific packages change with every
  package version and mix reStructuredText tables, doctests and parameter
  lists;
* no package installed here ships a free-text data set (scikit-learn's text
  sets, such as 20 newsgroups, are downloads).

The topics overlap (``compound`` contains ``if``, ``for`` and ``while``;
``if`` and ``else`` are the same text), so the corpus keeps each paragraph
once, at its first appearance in topic order. A paragraph belongs to the
validation split when the sha256 of its text ends in a multiple of ten (one in
ten, chosen by content, so the split does not move when topics are added or
reordered), and never to both splits.

The text depends on the Python version (3.11.7 here): :func:`corpus` reports its
sha256, and everything built from it is keyed by that hash.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

#: Every ``VAL_EVERY``-th paragraph (by content hash) is held out for validation.
VAL_EVERY = 10
#: Separator between paragraphs in the joined texts.
PARAGRAPH_SEP = "\n\n"

_BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Corpus:
    """The deduplicated corpus and its two splits.

    Attributes:
        name: a short name for the corpus.
        text: every kept paragraph, in topic order, joined by blank lines.
        train_text: the training paragraphs, joined the same way.
        val_text: the validation paragraphs.
        paragraphs: the kept paragraphs, in order.
        is_val: for each paragraph, whether it is held out.
        sha256: the sha256 of ``text`` (UTF-8): the corpus's identity.
        source: where the text came from.
    """

    name: str
    text: str
    train_text: str
    val_text: str
    paragraphs: tuple[str, ...]
    is_val: tuple[bool, ...]
    sha256: str
    source: str

    def __repr__(self) -> str:
        return (
            f"Corpus({self.name!r}: {len(self.paragraphs)} paragraphs, {len(self.text):,} "
            f"characters, {len(self.val_text):,} held out, sha256 {self.sha256[:12]}...)"
        )


def documents() -> dict[str, str]:
    """The help topics as they are, ``{topic: text}`` sorted by topic (not deduplicated).

    Useful as a document collection (retrieval, search): each topic is one
    document with a name.
    """
    from pydoc_data import topics

    return {key: topics.topics[key].strip() for key in sorted(topics.topics)}


def _paragraphs(docs: dict[str, str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for text in docs.values():
        for para in _BLANK_LINES.split(text.replace("\r\n", "\n")):
            para = para.strip("\n").rstrip()
            if not para.strip() or para in seen:
                continue
            seen.add(para)
            kept.append(para)
    return kept


def _held_out(paragraph: str) -> bool:
    return int(hashlib.sha256(paragraph.encode("utf-8")).hexdigest(), 16) % VAL_EVERY == 0


@lru_cache(maxsize=1)
def corpus() -> Corpus:
    """The Python documentation corpus, deduplicated and split (computed once per process)."""
    from pydoc_data import topics

    paragraphs = _paragraphs(documents())
    is_val = tuple(_held_out(p) for p in paragraphs)
    text = PARAGRAPH_SEP.join(paragraphs)
    return Corpus(
        name="python-docs-topics",
        text=text,
        train_text=PARAGRAPH_SEP.join(p for p, v in zip(paragraphs, is_val) if not v),
        val_text=PARAGRAPH_SEP.join(p for p, v in zip(paragraphs, is_val) if v),
        paragraphs=tuple(paragraphs),
        is_val=is_val,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=f"{topics.__file__} (Python {sys.version.split()[0]})",
    )

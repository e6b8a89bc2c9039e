"""Retrieval-augmented generation and tool-calling agents, offline.

* :mod:`mlcourse.rag.corpus`: the documents (scikit-learn's and pandas'
  docstrings, as installed) and a content hash;
* :mod:`mlcourse.rag.vectors`: MiniLM embeddings cached by content hash;
* :mod:`mlcourse.rag.questions`: the hand-labelled evaluation questions;
* :mod:`mlcourse.rag.agent`: tools, policies (the small GPT, or any
  OpenAI-compatible LLM) and the agent evaluation harness;
* here: the tokenizer shared by BM25 implementations, a BM25 search with
  ``bm25s`` for the agent's search tool, and a heuristic prompt-injection flag.
"""

from __future__ import annotations

import re

from mlcourse.rag.corpus import Document, content_hash, documents
from mlcourse.rag.questions import DEMO_QUESTIONS, INJECTED_DOCUMENT, QUESTIONS, UNANSWERABLE
from mlcourse.rag.vectors import embed

__all__ = [
    "DEMO_QUESTIONS",
    "INJECTED_DOCUMENT",
    "QUESTIONS",
    "UNANSWERABLE",
    "Document",
    "Bm25Search",
    "content_hash",
    "documents",
    "embed",
    "flag_injection",
    "corpus_texts",
    "tokenize",
    "warm",
]

#: Words too common to say anything about a document's topic.
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i if in into is it its of on or "
    "such that the their then there these this to was what when which with without you "
    "your".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric words without stop words (``l2``, ``k``, ``means`` stay)."""
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes a string, got {type(text).__name__}")
    return [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]


class Bm25Search:
    """BM25 over passages with the ``bm25s`` library: ``search(query, k)`` returns ids."""

    def __init__(self, ids: list[str], texts: list[str]):
        import bm25s

        if len(ids) != len(texts) or not ids:
            raise ValueError("Bm25Search needs as many ids as texts, at least one")
        self.ids = list(ids)
        self.retriever = bm25s.BM25(method="lucene")
        self.retriever.index([tokenize(t) for t in texts], show_progress=False)

    def scores(self, query: str):
        return self.retriever.get_scores(tokenize(query))

    def search(self, query: str, k: int = 3) -> list[str]:
        import numpy as np

        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.ids[i] for i in order]


_INJECTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above) instructions|disregard .{0,30}"
    r"instructions|you are now|system prompt|call the \w+ tool|delete_document",
    re.IGNORECASE,
)


def flag_injection(text: str) -> bool:
    """A heuristic: does ``text`` contain a known instruction-override phrase?

    A filter like this catches the copy-pasted attacks and nothing clever:
    paraphrase, another language or base64 get through. It is a tripwire, not
    a defence; the defence is that retrieved text never gets the authority to
    act (destructive tools need a human).
    """
    return bool(_INJECTION.search(text))


def corpus_texts(docs=None) -> list[str]:
    """The text embedded for each document: its title (dotted name), a colon, its text."""
    return [f"{d.id}: {d.text}" for d in (docs if docs is not None else documents())]


def warm() -> None:
    """Embed everything ``rag_and_agents.ipynb`` embeds, so that its run reads the cache.

    The corpus, the labelled and unanswerable questions, each demo question and
    the injected document, each as the notebook passes them to :func:`embed`
    (the cache is keyed by the exact list).
    """
    embed(corpus_texts())
    embed([q for q, _ in QUESTIONS])
    embed(list(UNANSWERABLE))
    embed([INJECTED_DOCUMENT])
    for question in DEMO_QUESTIONS:
        embed([question])

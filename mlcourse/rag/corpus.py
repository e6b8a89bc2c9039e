"""The document collection: docstrings of scikit-learn and pandas, as installed.

Nothing is downloaded: the text is read with :func:`inspect.getdoc` from the
packages in the environment, so it is the documentation of the very versions
the learner runs. Each document is one public object (a class or a function),
identified by its dotted name (``sklearn.linear_model.Ridge``,
``pandas.DataFrame.merge``). Only the opening of each docstring is kept (the
summary, the description and the first parameters, up to ``max_words``
words), and the sections that are mostly code or cross-references
(``Examples``, ``See Also``, ``References``) are dropped: this keeps the corpus
a few hundred documents, small enough for MiniLM to embed in seconds.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from dataclasses import dataclass
from functools import lru_cache

#: The scikit-learn modules whose public objects (``__all__``) become documents.
SKLEARN_MODULES = (
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.tree",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.preprocessing",
    "sklearn.model_selection",
    "sklearn.metrics",
    "sklearn.neighbors",
    "sklearn.svm",
    "sklearn.impute",
    "sklearn.pipeline",
    "sklearn.feature_extraction.text",
    "sklearn.naive_bayes",
    "sklearn.compose",
)
#: pandas top-level functions kept as documents.
PANDAS_FUNCTIONS = (
    "read_csv",
    "read_json",
    "read_parquet",
    "read_sql",
    "merge",
    "merge_asof",
    "concat",
    "pivot_table",
    "crosstab",
    "get_dummies",
    "cut",
    "qcut",
    "to_datetime",
    "to_numeric",
    "date_range",
    "melt",
    "wide_to_long",
    "unique",
    "factorize",
    "isna",
)
#: The DataFrame methods kept as documents (the everyday ones).
DATAFRAME_METHODS = (
    "agg",
    "apply",
    "assign",
    "astype",
    "corr",
    "count",
    "cummax",
    "cumsum",
    "describe",
    "diff",
    "drop",
    "drop_duplicates",
    "dropna",
    "duplicated",
    "explode",
    "fillna",
    "filter",
    "groupby",
    "head",
    "idxmax",
    "info",
    "interpolate",
    "isin",
    "join",
    "map",
    "mask",
    "melt",
    "memory_usage",
    "merge",
    "nlargest",
    "nunique",
    "pct_change",
    "pipe",
    "pivot",
    "pivot_table",
    "query",
    "rank",
    "reindex",
    "rename",
    "replace",
    "resample",
    "reset_index",
    "rolling",
    "sample",
    "select_dtypes",
    "set_index",
    "shift",
    "sort_index",
    "sort_values",
    "stack",
    "to_csv",
    "to_dict",
    "to_numpy",
    "to_parquet",
    "transform",
    "unstack",
    "value_counts",
    "where",
)
_DROP_SECTIONS = ("Examples", "See Also", "References")
_UNDERLINE = re.compile(r"^\s*[-=~]{3,}\s*$")


@dataclass(frozen=True)
class Document:
    """One object's documentation: ``id`` (dotted name), ``source`` (package) and ``text``."""

    id: str
    source: str
    text: str


def clean_docstring(doc: str, max_words: int) -> str:
    """The docstring without dropped sections and underlines, cut to ``max_words`` words."""
    kept: list[str] = []
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        underlined = i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1])
        if underlined and line.strip() in _DROP_SECTIONS:
            break
        if _UNDERLINE.match(line) or line.strip().startswith((".. ", "Read more in")):
            continue
        kept.append(line.strip())
    words = " ".join(kept).split()
    return " ".join(words[:max_words])


def _public_objects():
    for module_name in SKLEARN_MODULES:
        module = importlib.import_module(module_name)
        for name in sorted(getattr(module, "__all__", ())):
            try:
                obj = getattr(module, name)
            except (AttributeError, ImportError):  # experimental objects need an opt-in import
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and submodules are not documented objects
            yield f"{module_name}.{name}", "scikit-learn", obj
    import pandas as pd

    for name in PANDAS_FUNCTIONS:
        yield f"pandas.{name}", "pandas", getattr(pd, name)
    for name in DATAFRAME_METHODS:
        yield f"pandas.DataFrame.{name}", "pandas", getattr(pd.DataFrame, name)


@lru_cache(maxsize=4)
def _documents(max_words: int) -> tuple[Document, ...]:
    seen: set[str] = set()
    docs = []
    for doc_id, source, obj in _public_objects():
        text = clean_docstring(inspect.getdoc(obj) or "", max_words)
        if len(text.split()) < 8 or "deprecated" in text[:200].lower() or text in seen:
            continue  # empty, deprecated, or an alias of a document already kept
        seen.add(text)
        docs.append(Document(doc_id, source, text))
    return tuple(docs)


def documents(max_words: int = 90) -> list[Document]:
    """The collection, in a fixed order: scikit-learn's objects, then pandas'."""
    if max_words < 8:
        raise ValueError(f"max_words must be at least 8, got {max_words}")
    return list(_documents(max_words))


def content_hash(texts) -> str:
    """A sha256 of a list of texts (order matters), for caching what is computed from them."""
    h = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()

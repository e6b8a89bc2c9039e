"""The reference sentiment service: train a versioned model artifact, serve it over HTTP.

* :mod:`mlcourse.service.train` trains a TF-IDF or MiniLM sentiment classifier on
  the UCI Sentiment Labelled Sentences and writes a versioned artifact folder.
* :mod:`mlcourse.service.artifact` verifies and loads such a folder.
* :mod:`mlcourse.service.app` serves it with FastAPI (``create_app(artifact_dir)``).
* :mod:`mlcourse.service.cli` is the ``mlcourse service`` command group.

This module stays light (no FastAPI, scikit-learn or torch import) so that
``mlcourse --help`` stays fast.
"""

from __future__ import annotations

#: Model kinds the service can train and serve.
KINDS = ("tfidf", "minilm")
#: Environment variable naming the artifact folder served by ``mlcourse.service.app:app``.
MODEL_DIR_ENV = "MLCOURSE_MODEL_DIR"
#: Longest text accepted, in characters (Python ``str`` length).
MAX_TEXT_CHARS = 5_000
#: Most texts accepted by ``POST /predict/batch``.
MAX_BATCH = 256
#: Largest request body accepted, in bytes (413 above it).
MAX_BODY_BYTES = 8 * 1024 * 1024

__all__ = ["KINDS", "MAX_BATCH", "MAX_BODY_BYTES", "MAX_TEXT_CHARS", "MODEL_DIR_ENV"]

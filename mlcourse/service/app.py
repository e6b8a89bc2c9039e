"""The sentiment service's FastAPI application.

``create_app(artifact_dir)`` builds an app serving one model artifact (see
:mod:`mlcourse.service.artifact`); ``app`` at module level serves the artifact
named by ``$MLCOURSE_MODEL_DIR``, for ``uvicorn mlcourse.service.app:app``.

Endpoints: ``POST /predict``, ``POST /predict/batch``, ``GET /health``,
``GET /model``; the OpenAPI schema is at ``/openapi.json`` and ``/docs``.

Guarantees:

* The model is loaded and smoke-tested in the lifespan: a missing or corrupt
  artifact makes startup fail (uvicorn exits non-zero), so the service never
  answers with a half-loaded model.
* Bad input gets a 4xx with a message saying what is wrong: 400 malformed
  JSON, 413 body over :data:`~mlcourse.service.MAX_BODY_BYTES`, 415 not JSON,
  422 anything the schema refuses (empty or whitespace-only text, more than
  :data:`~mlcourse.service.MAX_TEXT_CHARS` characters, a non-string, ``null``,
  an empty batch or one over :data:`~mlcourse.service.MAX_BATCH` texts).
* An unexpected error gives a JSON 500 with the request id, and is logged.
* One JSON log line per request on the ``mlcourse.service.access`` logger.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from mlcourse import __version__, jsonlog
from mlcourse.service import MAX_BATCH, MAX_BODY_BYTES, MAX_TEXT_CHARS, MODEL_DIR_ENV
from mlcourse.service.artifact import ArtifactError, Predictor, load_predictor

logger = logging.getLogger("mlcourse.service")
access_logger = logging.getLogger("mlcourse.service.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Per-request log fields; the endpoint adds to the dict the middleware created.
_log_fields: ContextVar[dict[str, Any] | None] = ContextVar("mlcourse_log_fields", default=None)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_JSON_ENDPOINTS = frozenset({"/predict", "/predict/batch"})
#: A TF-IDF batch with at most this many characters in all is scored on the event loop.
INLINE_BATCH_CHARS = 50_000


# -- logging ---------------------------------------------------------------------


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``mlcourse.service`` logs to stderr as JSON lines (idempotent)."""
    jsonlog.configure(logger, level)


# -- schemas ---------------------------------------------------------------------


#: "Contains a character that is not whitespace", spelled so that Python's ``re`` and
#: ECMA-262 (JSON Schema's regex dialect, used by clients and fuzzers) agree: their
#: ``\s`` differ on U+001C-U+001F, U+0085 (Python only) and U+FEFF (ECMA only).
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


def _valid_unicode(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "text must be valid Unicode: lone surrogate escapes such as \\ud800 are not allowed"
        ) from None
    return text


Text = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        pattern=NOT_BLANK,
        description=(
            f"The text to classify: 1 to {MAX_TEXT_CHARS:,} characters, at least one of them "
            "not whitespace. (The MiniLM model reads only the first 256 word pieces.)"
        ),
    ),
    AfterValidator(_valid_unicode),
]

_STRICT = ConfigDict(extra="forbid", regex_engine="python-re")


class PredictRequest(BaseModel):
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [{"text": "The battery lasts all day and the screen is gorgeous."}]
        },
    )
    text: Text


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {"texts": ["Loved every minute of it.", "The food was cold and the staff rude."]}
            ]
        },
    )
    texts: list[Text] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"1 to {MAX_BATCH} texts, each obeying the same rules as /predict's text.",
    )


Label = Literal["positive", "negative"]


class Prediction(BaseModel):
    label: Label = Field(description="The predicted sentiment.")
    probability: float = Field(
        ge=0.5, le=1.0, description="The model's probability for the predicted label."
    )
    positive_probability: float = Field(ge=0.0, le=1.0, description="P(positive).")


class PredictResponse(Prediction):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "positive",
                    "probability": 0.97,
                    "positive_probability": 0.97,
                    "model_version": "tfidf-20250101-120000-1a2b3c4d",
                }
            ]
        }
    )
    model_version: str


class BatchResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "predictions": [
                        {"label": "positive", "probability": 0.95, "positive_probability": 0.95},
                        {"label": "negative", "probability": 0.9, "positive_probability": 0.1},
                    ],
                    "count": 2,
                    "model_version": "tfidf-20250101-120000-1a2b3c4d",
                }
            ]
        }
    )
    predictions: list[Prediction]
    count: int
    model_version: str


class HealthResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "live": True,
                    "ready": True,
                    "model_kind": "tfidf",
                    "model_version": "tfidf-20250101-120000-1a2b3c4d",
                    "uptime_seconds": 12.5,
                }
            ]
        }
    )
    status: Literal["ok", "unavailable"]
    live: bool = Field(description="The process answers (always true when you get a reply).")
    ready: bool = Field(description="A verified model is loaded and predictions will succeed.")
    model_kind: str | None
    model_version: str | None
    uptime_seconds: float


class ModelInfo(BaseModel):
    """The artifact's metadata.json (more keys may be present)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "kind": "tfidf",
                    "version": "tfidf-20250101-120000-1a2b3c4d",
                    "trained_at": "2025-01-01T12:00:00+00:00",
                    "model_sha256": "1a2b3c4d...",
                    "metrics": {"accuracy": 0.838, "f1": 0.839, "n": 600},
                    "data": {"dataset": "sentiment", "members_sha256": {"...": "..."}},
                    "libraries": {"scikit-learn": "1.9.1"},
                }
            ]
        },
    )
    kind: str
    version: str
    trained_at: str
    model_sha256: str
    metrics: dict[str, Any]
    data: dict[str, Any]
    libraries: dict[str, str]


class ErrorResponse(BaseModel):
    detail: str = Field(description="What is wrong, in one sentence.")
    message: str | None = None
    request_id: str | None = Field(None, description="Also in the X-Request-ID header.")


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON body."},
    413: {"model": ErrorResponse, "description": f"Body larger than {MAX_BODY_BYTES:,} bytes."},
    415: {"model": ErrorResponse, "description": "Content-Type is not application/json."},
    503: {"model": ErrorResponse, "description": "No model loaded."},
}


# -- responses -------------------------------------------------------------------


def _json(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response. ASCII-escaped so any string (even a lone surrogate) encodes."""
    body = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return Response(body, status_code, headers=headers, media_type="application/json")


def _fast_json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _prediction(p_positive: float) -> dict[str, Any]:
    positive = p_positive > 0.5
    return {
        "label": "positive" if positive else "negative",
        "probability": p_positive if positive else 1.0 - p_positive,
        "positive_probability": p_positive,
    }


def _error_summary(errors: list[dict[str, Any]]) -> tuple[int, Any, str]:
    """Status, ``detail`` (the cleaned error list, no echoed input) and a one-line message.

    Malformed JSON becomes a 400 whose ``detail`` is the message itself.
    """
    if any(e.get("type") == "json_invalid" for e in errors):
        error = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        position = error.get("loc", ("body", "?"))[-1]
        message = f"malformed JSON body: {reason} (at character {position})"
        return 400, message, message
    cleaned = []
    parts = []
    for e in errors:
        loc = [str(x) if not isinstance(x, int) else x for x in e.get("loc", ())]
        msg = str(e.get("msg", "invalid value"))
        etype = str(e.get("type", "value_error"))
        if etype == "string_pattern_mismatch":
            msg = "String must contain at least one non-whitespace character"
        elif etype == "missing" and loc == ["body"]:
            msg = 'A JSON object body is required, e.g. {"text": "..."}'
        cleaned.append({"loc": loc, "msg": msg, "type": etype})
        where = ".".join(str(x) for x in loc[1:] if x != "body") or "body"
        parts.append(f"{where}: {msg}")
    return 422, cleaned, "; ".join(parts[:5]) + (" ..." if len(parts) > 5 else "")


# -- middleware ------------------------------------------------------------------


class RequestMiddleware:
    """Request id, content-type check, JSON access log, last-resort 500 handler.

    A plain ASGI middleware (``BaseHTTPMiddleware`` costs several times more).
    """

    def __init__(self, app: ASGIApp, model_version: Callable[[], str | None]) -> None:
        self.app = app
        self.model_version = model_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = None
        content_type = None
        content_length = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
        if request_id is None:
            request_id = uuid.uuid4().hex
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
        }
        token = _log_fields.set(fields)
        status = 500
        response_started = False
        rid_header = (b"x-request-id", request_id.encode("ascii"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            if content_length.isdigit() and int(content_length) > MAX_BODY_BYTES:
                detail = f"request body larger than {MAX_BODY_BYTES:,} bytes"
                await _json({"detail": detail, "request_id": request_id}, 413)(
                    scope, receive, send_wrapper
                )
                return
            if scope["method"] == "POST" and scope["path"] in _JSON_ENDPOINTS:
                if not _is_json(content_type):
                    shown = content_type or "missing"
                    await _json(
                        {
                            "detail": f"Content-Type must be application/json (got {shown})",
                            "request_id": request_id,
                        },
                        415,
                    )(scope, receive, send_wrapper)
                    return
            if not content_length and scope["method"] in ("POST", "PUT", "PATCH"):
                receive = _limited(receive)
            await self.app(scope, receive, send_wrapper)
        except Exception:
            fields["error"] = True
            logger.exception(
                "unhandled error",
                extra={"fields": {"request_id": request_id, "path": fields["path"]}},
            )
            if not response_started:
                await _json({"detail": "Internal server error", "request_id": request_id}, 500)(
                    scope, receive, send_wrapper
                )
        finally:
            _log_fields.reset(token)
            fields["status"] = status
            fields["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
            if "model_version" not in fields:
                fields["model_version"] = self.model_version()
            access_logger.info("request", extra={"fields": fields})


def _limited(receive: Receive) -> Receive:
    """Wrap ``receive`` to refuse a body without Content-Length (chunked) over the limit."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413, f"request body larger than {MAX_BODY_BYTES:,} bytes")
        return message

    return limited_receive


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# -- the app ---------------------------------------------------------------------


class _State:
    predictor: Predictor | None = None
    started: float = time.monotonic()


def create_app(artifact_dir: str | Path | None = None) -> FastAPI:
    """Build the service for the artifact in ``artifact_dir`` (default: ``$MLCOURSE_MODEL_DIR``).

    Nothing is loaded until startup (the ASGI lifespan); if the artifact is
    missing or corrupt, startup raises :class:`ArtifactError` and the server
    does not start.
    """
    configure_logging()
    state = _State()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # Our middleware logs every request as JSON; uvicorn's access log would duplicate it.
        logging.getLogger("uvicorn.access").disabled = True
        folder = artifact_dir if artifact_dir is not None else os.environ.get(MODEL_DIR_ENV)
        if not folder:
            message = f"no model configured: set {MODEL_DIR_ENV} to a model artifact folder"
            logger.error(message)
            raise ArtifactError(message)
        try:
            predictor = await run_in_threadpool(load_predictor, folder)
        except ArtifactError as exc:
            logger.error(f"cannot start, the model artifact is unusable: {exc}")
            raise
        state.predictor = predictor
        state.started = time.monotonic()
        logger.info(
            "model loaded",
            extra={
                "fields": {
                    "model_kind": predictor.kind,
                    "model_version": predictor.version,
                    "artifact": str(Path(folder).resolve()),
                }
            },
        )
        try:
            yield
        finally:
            state.predictor = None

    app = FastAPI(
        title="mlcourse sentiment service",
        version=__version__,
        description=(
            "Classifies English review sentences as positive or negative with the model in "
            "one verified artifact (TF-IDF + logistic regression, or MiniLM embeddings + "
            f"logistic regression).\n\nLimits: texts of 1 to {MAX_TEXT_CHARS:,} characters "
            f"(not only whitespace), batches of 1 to {MAX_BATCH} texts, bodies up to "
            f"{MAX_BODY_BYTES // (1024 * 1024)} MiB. Every response carries an "
            "`X-Request-ID` header (yours, if you send a valid one)."
        ),
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry hooks cost a few percent per request even when
        # no provider is configured; this service logs its own JSON lines instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )

    def current_version() -> str | None:
        return state.predictor.version if state.predictor is not None else None

    app.add_middleware(RequestMiddleware, model_version=current_version)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        status, detail, message = _error_summary(list(exc.errors()))
        fields = _log_fields.get()
        request_id = fields.get("request_id") if fields else None
        return _json(
            {"detail": detail, "message": message, "request_id": request_id}, status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        fields = _log_fields.get()
        request_id = fields.get("request_id") if fields else None
        return _json(
            {"detail": exc.detail, "request_id": request_id},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    def loaded() -> Predictor:
        predictor = state.predictor
        if predictor is None:
            raise HTTPException(503, "no model is loaded (the service is starting or stopping)")
        return predictor

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses=_ERRORS,
        summary="Classify one text",
        tags=["predict"],
    )
    async def predict(body: PredictRequest) -> Response:
        """The sentiment of one text: label, its probability, and the model version."""
        predictor = loaded()
        if predictor.inline:
            p_positive = predictor.predict_one(body.text)
        else:
            p_positive = await run_in_threadpool(predictor.predict_one, body.text)
        result = _prediction(p_positive)
        result["model_version"] = predictor.version
        fields = _log_fields.get()
        if fields is not None:
            fields["label"] = result["label"]
            fields["model_version"] = predictor.version
        return _fast_json(result)

    @app.post(
        "/predict/batch",
        response_model=BatchResponse,
        responses=_ERRORS,
        summary=f"Classify 1 to {MAX_BATCH} texts",
        tags=["predict"],
    )
    async def predict_batch(body: BatchRequest) -> Response:
        """The sentiment of each text, in order (at most MAX_BATCH texts per request)."""
        predictor = loaded()
        texts = body.texts
        # Cheap work stays on the event loop; long batches go to a thread so that
        # /health and other requests are not held up behind them.
        if predictor.inline and sum(map(len, texts)) <= INLINE_BATCH_CHARS:
            probabilities = predictor.predict_many(texts)
        else:
            probabilities = await run_in_threadpool(predictor.predict_many, texts)
        fields = _log_fields.get()
        if fields is not None:
            fields["batch_size"] = len(texts)
            fields["model_version"] = predictor.version
        return _fast_json(
            {
                "predictions": [_prediction(p) for p in probabilities],
                "count": len(texts),
                "model_version": predictor.version,
            }
        )

    @app.get(
        "/health",
        response_model=HealthResponse,
        responses={503: {"model": HealthResponse, "description": "Alive but not ready."}},
        summary="Liveness and readiness",
        tags=["ops"],
    )
    async def health() -> Response:
        """200 when a verified model is loaded (ready), 503 when alive but not ready."""
        predictor = state.predictor
        ready = predictor is not None
        content = {
            "status": "ok" if ready else "unavailable",
            "live": True,
            "ready": ready,
            "model_kind": predictor.kind if predictor else None,
            "model_version": predictor.version if predictor else None,
            "uptime_seconds": round(time.monotonic() - state.started, 3),
        }
        return _json(content, 200 if ready else 503)

    @app.get(
        "/model",
        response_model=ModelInfo,
        responses={503: {"model": ErrorResponse, "description": "No model loaded."}},
        summary="The served model's metadata",
        tags=["ops"],
    )
    async def model_info() -> Response:
        """The artifact's metadata: kind, version, data checksums, held-out metrics, ..."""
        return _json(loaded().metadata)

    return app


#: The app uvicorn serves: ``MLCOURSE_MODEL_DIR=DIR uvicorn mlcourse.service.app:app``.
app = create_app()

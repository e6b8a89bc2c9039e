"""The digits web app: FastAPI, one verified model artifact, a page to draw on.

``create_app(artifact_dir)`` builds the app; ``app`` at module level serves the
artifact named by ``$MLCOURSE_VISION_MODEL_DIR``, for
``uvicorn mlcourse.vision.app:app``.

Endpoints:

* ``POST /predict``: the body is the image's bytes, with ``Content-Type:
  image/png`` or ``image/jpeg``. The answer: the predicted ``label``, its
  ``confidence``, all ten calibrated ``probabilities``, the 8 x 8 ``input``
  the model saw, and the ``model_version``.
* ``GET /``: the page (:mod:`mlcourse.vision.page`).
* ``GET /health`` (200 ready, 503 not ready) and ``GET /model`` (the metadata).

Guarantees:

* The model is loaded and smoke-tested in the lifespan: a missing or corrupt
  artifact makes startup fail, so the app never serves a half-loaded model.
* Bad input gets a 4xx JSON answer ``{"detail": ..., "request_id": ...}``:
  415 for a Content-Type other than PNG or JPEG (or bytes of the other
  format), 413 for a body over :data:`~mlcourse.vision.MAX_BODY_BYTES`
  (announced or streamed), 400 for an empty body or bytes that do not decode,
  422 for an image that decodes but cannot be used (blank, or more than
  :data:`~mlcourse.vision.MAX_PIXELS` pixels), 404/405 for other routes. An
  unexpected error is a JSON 500 with the request id, and is logged.
* Every response carries ``X-Request-ID`` (the client's, if valid).
* One JSON log line per request on the ``mlcourse.vision.access`` logger.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from mlcourse import __version__, jsonlog
from mlcourse.vision import MAX_BODY_BYTES, MEDIA_TYPES, MODEL_DIR_ENV
from mlcourse.vision.artifact import ArtifactError, DigitClassifier, load_classifier
from mlcourse.vision.page import CSP, PAGE
from mlcourse.vision.preprocess import ImageError, preprocess_image

logger = logging.getLogger("mlcourse.vision")
access_logger = logging.getLogger("mlcourse.vision.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def configure_logging(level: int = logging.INFO) -> None:
    """Send ``mlcourse.vision`` logs to stderr as JSON lines (idempotent)."""
    jsonlog.configure(logger, level)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return Response(body, status, headers=headers, media_type="application/json")


def media_type_of(content_type: str | None) -> str | None:
    """``"image/png"`` from ``"IMAGE/PNG; q=1"``; None when there is none."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


class _TooLarge(Exception):
    pass


class RequestMiddleware:
    """Request id, early 413 on a large Content-Length, JSON access log, last-resort 500."""

    def __init__(self, app, model_version) -> None:
        self.app = app
        self.model_version = model_version

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = None
        length = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
            elif name == b"content-length":
                length = value
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
        }
        scope["state"]["log_fields"] = fields
        status = 500
        started_response = False
        rid = (b"x-request-id", request_id.encode("ascii"))

        async def send_wrapper(message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message["headers"] = [*message.get("headers", ()), rid]
            await send(message)

        try:
            if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                code = 413 if length.isdigit() else 400
                detail = (
                    f"request body larger than {MAX_BODY_BYTES:,} bytes"
                    if code == 413
                    else "malformed Content-Length header"
                )
                await _json({"detail": detail, "request_id": request_id}, code)(
                    scope, receive, send_wrapper
                )
                return
            await self.app(scope, receive, send_wrapper)
        except Exception:
            fields["error"] = True
            logger.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if not started_response:
                await _json({"detail": "Internal server error", "request_id": request_id}, 500)(
                    scope, receive, send_wrapper
                )
        finally:
            fields["status"] = status
            fields["latency_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
            fields.setdefault("model_version", self.model_version())
            access_logger.info("request", extra={"fields": fields})


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with a 413 as soon as it grows past ``limit`` bytes."""
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body larger than {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def _fields(request: Request) -> dict[str, Any]:
    return request.scope.get("state", {}).get("log_fields", {})


class _State:
    classifier: DigitClassifier | None = None
    started: float = time.monotonic()


def create_app(artifact_dir: str | Path | None = None) -> FastAPI:
    """Build the app for the artifact in ``artifact_dir`` (default: ``$MLCOURSE_VISION_MODEL_DIR``).

    Nothing is loaded until startup (the ASGI lifespan); if the artifact is
    missing or corrupt, startup raises :class:`ArtifactError`.
    """
    configure_logging()
    state = _State()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        logging.getLogger("uvicorn.access").disabled = True
        folder = artifact_dir if artifact_dir is not None else os.environ.get(MODEL_DIR_ENV)
        if not folder:
            message = f"no model configured: set {MODEL_DIR_ENV} to a model artifact folder"
            logger.error(message)
            raise ArtifactError(message)
        try:
            classifier = await run_in_threadpool(load_classifier, folder)
        except ArtifactError as exc:
            logger.error(f"cannot start, the model artifact is unusable: {exc}")
            raise
        state.classifier = classifier
        state.started = time.monotonic()
        logger.info(
            "model loaded",
            extra={
                "fields": {
                    "model_version": classifier.version,
                    "artifact": str(Path(folder).resolve()),
                }
            },
        )
        try:
            yield
        finally:
            state.classifier = None

    accepted = " or ".join(MEDIA_TYPES)
    app = FastAPI(
        title="mlcourse digits app",
        version=__version__,
        description=(
            "Recognises one hand-written digit in an uploaded image with a small residual CNN "
            "trained on scikit-learn's digits, with temperature-scaled probabilities.\n\n"
            f"`POST /predict` takes the image's bytes as the body ({accepted}, at most "
            f"{MAX_BODY_BYTES // (1024 * 1024)} MiB). `GET /` is a page to draw or upload a "
            "digit. Every response carries an `X-Request-ID` header."
        ),
        lifespan=lifespan,
    )

    def current_version() -> str | None:
        return state.classifier.version if state.classifier is not None else None

    app.add_middleware(RequestMiddleware, model_version=current_version)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _json(
            {"detail": exc.detail, "request_id": _request_id(request)},
            exc.status_code,
            getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return _json({"detail": errors, "request_id": _request_id(request)}, 422)

    def loaded() -> DigitClassifier:
        if state.classifier is None:
            raise HTTPException(503, "no model is loaded (the app is starting or stopping)")
        return state.classifier

    @app.post(
        "/predict",
        summary="Recognise the digit in a PNG or JPEG image",
        tags=["predict"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES
                },
            }
        },
        responses={
            400: {"description": "Empty body, or bytes that do not decode."},
            413: {"description": f"Body larger than {MAX_BODY_BYTES:,} bytes."},
            415: {"description": f"Content-Type is not {accepted}, or the bytes are the other."},
            422: {"description": "A blank image, or one with too many pixels."},
        },
    )
    async def predict(request: Request) -> Response:
        """The digit, its probability, all ten probabilities and the 8 x 8 input the model saw."""
        classifier = loaded()
        media_type = media_type_of(request.headers.get("content-type"))
        if media_type not in MEDIA_TYPES:
            shown = media_type or "missing"
            hint = (
                " (send the file's bytes as the body, not a form)"
                if shown.startswith("multipart/")
                else ""
            )
            raise HTTPException(415, f"Content-Type must be {accepted}, not {shown}{hint}")
        body = await read_body(request)
        try:
            pixels = await run_in_threadpool(preprocess_image, body, media_type)
        except ImageError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        probs = (await run_in_threadpool(classifier.predict_proba, pixels[None]))[0]
        label = int(probs.argmax())
        fields = _fields(request)
        fields.update(label=label, model_version=classifier.version, bytes=len(body))
        return _json(
            {
                "label": label,
                "confidence": float(probs[label]),
                "probabilities": [float(p) for p in probs],
                "input": [[round(float(v), 3) for v in row] for row in pixels],
                "model_version": classifier.version,
            }
        )

    @app.get("/", response_class=HTMLResponse, summary="The page to draw or upload a digit")
    async def page() -> Response:
        return HTMLResponse(
            PAGE,
            headers={
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    @app.get("/health", summary="Liveness and readiness", tags=["ops"])
    async def health() -> Response:
        """200 when a verified model is loaded (ready), 503 when alive but not ready."""
        classifier = state.classifier
        ready = classifier is not None
        content = {
            "status": "ok" if ready else "unavailable",
            "live": True,
            "ready": ready,
            "model_version": classifier.version if classifier else None,
            "uptime_seconds": round(time.monotonic() - state.started, 3),
        }
        return _json(content, 200 if ready else 503)

    @app.get("/model", summary="The served model's metadata", tags=["ops"])
    async def model_info() -> Response:
        """The artifact's metadata: version, data checksum and split, test metrics, ..."""
        return _json(loaded().metadata)

    return app


#: The app uvicorn serves: ``MLCOURSE_VISION_MODEL_DIR=DIR uvicorn mlcourse.vision.app:app``.
app = create_app()

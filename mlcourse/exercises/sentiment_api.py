"""Checks for ``03_specialize/sentiment_api.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share, never a solution or a hidden test. The fixtures:

* stand-in models (:class:`FakeModel`, :class:`CountingModel`) and a small
  reference model trained the notebook's way (:func:`reference_model`);
* the apps the checks drive: a tiny app to time (:func:`timing_test_app`),
  and a **contract double** (:func:`contract_app`), the service of exercise 4
  written from scratch with Starlette, without pydantic or FastAPI, and able
  to carry one planted bug at a time. The learner's tests of exercise 5 are
  graded against it;
* a driver that sends requests and collects the access log
  (:func:`timed_requests`).
"""

import json
import logging
import math
import time
from functools import lru_cache, partial

import numpy as np

from mlcourse.check import choice, number, problem

MAX_TEXT_CHARS = 1000
MAX_BATCH = 32
MODEL_VERSION = "tfidf-logreg-1.0"
VALIDATION_ERROR = "pydantic_core._pydantic_core.ValidationError"
DUMP = "mlcourse.check.convert:pydantic_dump"
HTTP = "mlcourse.check.drivers:http"
HERE = "mlcourse.exercises.sentiment_api"
ACCESS_LOGGER = "sentiment_api.access"

# -- stand-in models ------------------------------------------------------------------


def positive_column(classes) -> int:
    """Where class 1 ("positive") sits among a model's classes."""
    return int(np.flatnonzero(np.asarray(classes) == 1)[0])


class FakeModel:
    """A stand-in for a fitted classifier whose answers are known in advance.

    ``p_positive`` is P(positive) for every text, or a dict giving it per
    text. ``classes`` is the column order of ``predict_proba``, as in
    scikit-learn's ``classes_``. Like a real model, ``predict_proba`` wants a
    list of texts, not one string.
    """

    def __init__(self, p_positive, classes=(0, 1)):
        self.classes_ = np.array(classes)
        self.p_positive = p_positive

    def _p(self, text):
        if isinstance(self.p_positive, dict):
            return float(self.p_positive[text])
        return float(self.p_positive)

    def predict_proba(self, texts):
        if isinstance(texts, str):
            raise TypeError("predict_proba expects a list of texts, not one string")
        column = positive_column(self.classes_)
        rows = np.empty((len(texts), 2))
        for i, text in enumerate(texts):
            p = self._p(text)
            rows[i, column], rows[i, 1 - column] = p, 1.0 - p
        return rows


class CountingModel:
    """Wraps a model and counts its ``predict_proba`` calls (and the batch sizes)."""

    def __init__(self, model):
        self.model = model
        self.classes_ = model.classes_
        self.calls = 0
        self.sizes = []

    def predict_proba(self, texts):
        self.calls += 1
        self.sizes.append(len(texts))
        return self.model.predict_proba(texts)


@lru_cache(maxsize=1)
def _split():
    from sklearn.model_selection import train_test_split

    from mlcourse.data import load_sentiment

    reviews = load_sentiment()
    strata = reviews["source"] + "/" + reviews["label"].astype(str)
    return train_test_split(reviews, test_size=0.2, random_state=0, stratify=strata)


@lru_cache(maxsize=1)
def reference_model():
    """A TF-IDF + logistic regression pipeline trained like the notebook's (deterministic)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train, _ = _split()
    model = make_pipeline(
        TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=5.0, max_iter=1000)
    )
    return model.fit(train["text"].tolist(), train["label"].to_numpy())


def held_out(start: int, stop: int) -> list[str]:
    """Held-out sentences number ``start`` to ``stop`` of the split."""
    _, test = _split()
    return [str(s) for s in test["text"].iloc[start:stop]]


def p_positive(texts) -> np.ndarray:
    """The reference model's P(positive) for each text, computed by the checks."""
    model = reference_model()
    return model.predict_proba(list(texts))[:, positive_column(model.classes_)]


def verdicts(texts) -> list[tuple[str, float]]:
    """(label, probability of that label) per text, a tie at 0.5 counting as positive."""
    out = []
    for p in p_positive(texts):
        out.append(("positive", float(p)) if p >= 0.5 else ("negative", float(1.0 - p)))
    return out


# -- apps the checks drive ----------------------------------------------------------------


def timing_test_app():
    """A tiny FastAPI app: GET /slow takes about 60 ms, GET /fast none, POST /greet validates."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Greeting(BaseModel):
        name: str

    app = FastAPI()

    @app.get("/slow")
    def slow():
        time.sleep(0.06)
        return {"done": True}

    @app.get("/fast")
    def fast():
        return {"done": True}

    @app.post("/greet")
    def greet(greeting: Greeting):
        return {"message": f"Hello, {greeting.name}"}

    return app


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def timed_requests(app, requests: list[dict]) -> list[dict]:
    """Send ``requests`` to ``app``; per request its status, headers, wall time and log lines.

    The log lines are the messages the ``sentiment_api.access`` logger
    received while the request ran.
    """
    from fastapi.testclient import TestClient

    logger = logging.getLogger(ACCESS_LOGGER)
    handler = _ListHandler()
    logger.addHandler(handler)
    answers = []
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            for req in requests:
                kwargs = {k: req[k] for k in ("json", "content", "headers", "params") if k in req}
                seen = len(handler.messages)
                started = time.perf_counter()
                response = client.request(req.get("method", "GET"), req["url"], **kwargs)
                wall_ms = (time.perf_counter() - started) * 1000.0
                answers.append(
                    {
                        "status": response.status_code,
                        "headers": {k.lower(): v for k, v in response.headers.items()},
                        "wall_ms": wall_ms,
                        "logs": handler.messages[seen:],
                    }
                )
    finally:
        logger.removeHandler(handler)
    return answers


#: The bugs :func:`contract_app` can plant, one at a time (the list of exercise 5).
BUGS = {
    "p_positive": "returns P(positive) next to a negative label on /predict",
    "batch_p_positive": "returns P(positive) next to a negative label on /predict/batch",
    "swapped": "swaps the labels on /predict/batch",
    "batch_over": "accepts MAX_BATCH + 1 texts",
    "batch_under": "refuses a batch of exactly MAX_BATCH texts",
    "no_strip": "accepts whitespace-only text",
    "text_over": "accepts a text of MAX_TEXT_CHARS + 1 characters",
    "text_under": "refuses a text of exactly MAX_TEXT_CHARS characters",
    "crash_on_empty": "crashes (500) on an empty text",
    "status_200": "answers validation errors with status 200",
    "echo": "echoes the input in its 422 message",
    "vague": "answers a 422 whose message does not name the field at fault",
    "no_415": "answers a non-JSON body with 422 instead of 415",
    "reversed": "returns batch predictions in reverse order",
    "health": "reports the wrong model version on /health",
}


def contract_app(model, bug=None, model_version=MODEL_VERSION):
    """The service of exercise 4, from scratch on Starlette, optionally with one planted bug.

    It follows the contract the exercise states (routes, limits, status codes,
    error bodies), validating by hand like the notebook's
    ``validate_text_payload``; ``bug`` is a key of :data:`BUGS`.
    """
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if bug is not None and bug not in BUGS and bug != "reworded":
        raise ValueError(f"unknown bug {bug!r}")
    most_chars = MAX_TEXT_CHARS + (bug == "text_over") - (bug == "text_under")
    fewest_chars = 0 if bug == "crash_on_empty" else 1
    most_texts = MAX_BATCH + (bug == "batch_over") - (bug == "batch_under")
    column = positive_column(model.classes_)

    def text_problem(value, where):
        if not isinstance(value, str):
            return None, (where, "Input should be a valid string", value)
        kept = value if bug == "no_strip" else value.strip()
        if len(kept) < fewest_chars:
            return None, (where, "String should have at least 1 character", value)
        if len(kept) > most_chars:
            return None, (where, f"String should have at most {most_chars} characters", value)
        return kept, None

    def fields(payload, wanted):
        if not isinstance(payload, dict):
            return [("body", "Input should be a valid dictionary or object", payload)]
        found = [
            (key, "Extra inputs are not permitted", payload[key])
            for key in payload
            if key != wanted
        ]
        if wanted not in payload:
            found.append((wanted, "Field required", payload))
        return found

    def refuse(problems):
        parts = []
        for where, message, value in problems:
            part = "invalid request" if bug == "vague" else f"{where}: {message}"
            if bug == "reworded":
                part = f"refused, {where} is not valid ({message})"
            if bug == "echo":
                part += f" (you sent {value!r})"
            parts.append(part)
        body = dict(error="validation_error", message="; ".join(parts))
        return JSONResponse(body, status_code=200 if bug == "status_200" else 422)

    async def read_json(request):
        """(payload, None) or (None, the error response)."""
        declared = request.headers.get("Content-Type") or ""
        media = declared.lower().partition(";")[0].strip()
        if media != "application/json" and bug != "no_415":
            note = "this endpoint reads JSON only: declare the body as application/json"
            return None, JSONResponse(dict(error="unsupported_media_type", message=note), 415)
        raw = await request.body()
        try:
            return json.loads(raw), None
        except ValueError:
            return None, refuse([("body", "JSON decode error", raw.decode("utf-8", "replace"))])

    def answer(p, route):
        if bug == "swapped" and route == "/predict/batch":
            label, prob = ("negative", p) if p >= 0.5 else ("positive", 1.0 - p)
        elif bug == ("p_positive" if route == "/predict" else "batch_p_positive"):
            label, prob = ("positive" if p >= 0.5 else "negative"), p
        else:
            label, prob = ("positive", p) if p >= 0.5 else ("negative", 1.0 - p)
        return dict(label=label, probability=prob, model_version=model_version)

    async def health(request):
        version = "0.0-wrong" if bug == "health" else model_version
        return JSONResponse(dict(status="ok", model_version=version))

    async def predict(request):
        payload, error = await read_json(request)
        if error is not None:
            return error
        problems = fields(payload, "text")
        if problems:
            return refuse(problems)
        kept, problem = text_problem(payload["text"], "text")
        if problem:
            return refuse([problem])
        if not kept:
            raise ValueError("cannot classify an empty text")
        p = float(model.predict_proba([kept])[0, column])
        return JSONResponse(answer(p, "/predict"))

    async def predict_batch(request):
        payload, error = await read_json(request)
        if error is not None:
            return error
        problems = fields(payload, "texts")
        if problems:
            return refuse(problems)
        texts = payload["texts"]
        if not isinstance(texts, list):
            return refuse([("texts", "Input should be a valid list", texts)])
        if not 1 <= len(texts) <= most_texts:
            return refuse([("texts", f"List should have 1 to {most_texts} items", texts)])
        cleaned = []
        for i, value in enumerate(texts):
            text, problem = text_problem(value, f"texts.{i}")
            if problem:
                problems.append(problem)
            cleaned.append(text)
        if problems:
            return refuse(problems)
        if not all(cleaned):
            raise ValueError("cannot classify an empty text")
        scores = model.predict_proba(cleaned)[:, column]
        predictions = [answer(float(p), "/predict/batch") for p in scores]
        if bug == "reversed":
            predictions.reverse()
        return JSONResponse({"predictions": predictions})

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/predict", predict, methods=["POST"]),
        Route("/predict/batch", predict_batch, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def app_factory(bug=None):
    """What exercise 5's tests receive: a function of a model that builds the contract double.

    ``bug`` is a key of :data:`BUGS`, None for the correct app, or
    ``"reworded"`` for a correct app whose messages use other words.
    """
    return partial(contract_app, bug=bug)


def run_tests(tests, factory, model) -> dict:
    """Run a learner's test function on ``factory``: whether it passed, and its error, as data."""
    try:
        tests(factory, model)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a test counts as catching the bug
        return {"passed": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {"passed": True, "error": ""}


# -- exercise 1 -------------------------------------------------------------------------


@problem(
    "schemas",
    hints=(
        "A schema states its limits declaratively, so that they are checked before any of "
        "your code runs and show up in the documentation; surrounding whitespace is removed "
        "before the length is counted, and a strict string accepts nothing but a string.",
        "Make one reusable annotated string type carrying four constraints: strip the "
        "whitespace, a minimum and a maximum length, strict mode. Use it for the text "
        "field, and forbid extra fields in the model's configuration. For the response, a "
        "literal type gives the two labels, and a field with lower and upper bounds the "
        "probability.",
        "Look at the Review example of section 3: the same building blocks (Annotated, "
        "StringConstraints, Field, Literal, ConfigDict) with other limits.",
    ),
)
def _schemas(t):
    ok = t.call("PredictRequest.model_validate", {"text": "  Great phone!  "}, convert=DUMP)
    t.equal(
        ok,
        {"text": "Great phone!"},
        wrong={"Strip the surrounding whitespace.": {"text": "  Great phone!  "}},
        what="the validated request",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictRequest.model_validate",
        {"text": "   "},
        nudge="Whitespace-only text must be refused: strip first, then require 1 character.",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictRequest.model_validate",
        {"text": "z" * (MAX_TEXT_CHARS + 1)},
        nudge="A text of MAX_TEXT_CHARS + 1 characters must be refused.",
    )
    longest = t.call("PredictRequest.model_validate", {"text": "z" * MAX_TEXT_CHARS}, convert=DUMP)
    t.equal(
        len(longest.get("text", "")),
        MAX_TEXT_CHARS,
        what="the length of a text of exactly MAX_TEXT_CHARS characters",
        nudge="'At most MAX_TEXT_CHARS' includes MAX_TEXT_CHARS itself.",
    )
    for bad, nudge in [
        (123, "A number is not a text: do not convert it."),
        (None, "null is not a text."),
        (b"good", "Bytes must be refused too: make the string strict."),
    ]:
        t.raises(
            VALIDATION_ERROR,
            "PredictRequest.model_validate",
            {"text": bad},
            nudge=nudge,
            case=f"text={bad!r}",
        )
    t.raises(
        VALIDATION_ERROR,
        "PredictRequest.model_validate",
        {"text": "fine", "language": "en"},
        nudge="Unknown fields must be refused.",
    )
    schema = t.call("PredictRequest.model_json_schema")
    text_schema = schema.get("properties", {}).get("text", {}) if isinstance(schema, dict) else {}
    t.equal(
        text_schema.get("maxLength"),
        MAX_TEXT_CHARS,
        nudge="Declare the limit as a constraint so that it appears in the JSON schema "
        "(a hand-written validator is invisible to the docs).",
        what="the schema's maxLength for text",
    )
    good = t.call(
        "PredictResponse.model_validate",
        {"label": "negative", "probability": 0.75, "model_version": "v1"},
        convert=DUMP,
    )
    t.equal(good, {"label": "negative", "probability": 0.75, "model_version": "v1"})
    t.raises(
        VALIDATION_ERROR,
        "PredictResponse.model_validate",
        {"label": "neutral", "probability": 0.5, "model_version": "v1"},
        nudge="label must be exactly 'positive' or 'negative'.",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictResponse.model_validate",
        {"label": "positive", "probability": 1.5, "model_version": "v1"},
        nudge="A probability above 1 must be refused.",
    )


# -- exercise 2 -------------------------------------------------------------------------


@problem(
    "predict_one",
    hints=(
        "The columns of the probability matrix follow the model's own list of classes, and "
        "the probability to report is the one of the label you report.",
        "Ask the model for the probabilities of a one-element list, find the position of "
        "the positive class among the model's classes, read P(positive) there, and derive "
        "the label and its probability from it (a tie counts as positive).",
        "The index method of a Python list finds a value's position; the other label's "
        "probability is one minus P(positive). Return a tuple whose second item is a plain "
        "float.",
    ),
)
def _predict_one(t):
    got = t.call("predict_one", t.build(f"{HERE}:FakeModel", 0.7), "nice")
    t.true(
        isinstance(got, tuple) and len(got) == 2,
        f"predict_one returned {type(got).__name__}",
        "Return a tuple (label, probability).",
    )
    label, prob = got
    t.equal(label, "positive", what="the label", nudge="P(positive) = 0.7 means 'positive'.")
    t.true(
        type(prob) is float,
        f"the probability is a {type(prob).__name__}",
        "Return a plain Python float, not a NumPy number.",
    )
    t.close(prob, 0.7, what="the probability")
    label, prob = t.call("predict_one", t.build(f"{HERE}:FakeModel", 0.2), "meh")
    t.equal(
        label,
        "negative",
        case="P(positive) = 0.2",
        wrong={"Your label mapping is swapped: the positive class is POSITIVE_CLASS.": "positive"},
        what="the label",
    )
    t.close(
        prob,
        0.8,
        case="P(positive) = 0.2",
        wrong={"You returned P(positive); return the probability of the predicted label.": 0.2},
        what="the probability",
    )
    flipped = t.build(f"{HERE}:FakeModel", 0.9, classes=(1, 0))
    t.equal(
        t.call("predict_one", flipped, "great"),
        ("positive", 0.9),
        case="a model whose classes_ are [1, 0]",
        nudge="Find the positive column with model.classes_; do not assume it is column 1.",
    )
    text = "I love this phone, it works great."
    label, prob = t.call("predict_one", t.build(f"{HERE}:reference_model"), text)
    want_label, want_prob = verdicts([text])[0]
    t.equal(label, want_label, what="a trained model's label for a glowing review")
    t.close(prob, want_prob, what="a trained model's probability for a glowing review")


# -- exercise 3 -------------------------------------------------------------------------


@problem(
    "batch",
    hints=(
        "A batch limit is part of the contract, so it belongs in the schema, exact on both "
        "sides; every item obeys the single text's rules; and the whole point of a batch is "
        "one model call for all the texts.",
        "Give the texts field a list of your reusable text type, with a minimum and a "
        "maximum number of items, and forbid extra fields. In the function, call the model "
        "once on the whole list, then turn each row into a label and probability exactly as "
        "for a single text.",
        "The same Field that bounds a string's length bounds a list's number of items. The "
        "positive column is found once, before looping over the rows.",
    ),
)
def _batch(t):
    full = t.call("PredictBatchRequest.model_validate", {"texts": ["ok"] * MAX_BATCH}, convert=DUMP)
    t.equal(
        len(full.get("texts", [])),
        MAX_BATCH,
        what="the number of texts kept from a batch of exactly MAX_BATCH",
        nudge="'At most MAX_BATCH' includes MAX_BATCH itself: check the limit for an off-by-one.",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictBatchRequest.model_validate",
        {"texts": ["ok"] * (MAX_BATCH + 1)},
        nudge="MAX_BATCH + 1 texts must be refused: the limit is exactly MAX_BATCH.",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictBatchRequest.model_validate",
        {"texts": []},
        nudge="An empty batch must be refused.",
    )
    got = t.call("PredictBatchRequest.model_validate", {"texts": [" fine ", "good"]}, convert=DUMP)
    t.equal(
        got,
        {"texts": ["fine", "good"]},
        nudge="Each text must follow PredictRequest's rules, stripping included.",
        what="the validated request",
    )
    t.raises(
        VALIDATION_ERROR,
        "PredictBatchRequest.model_validate",
        {"texts": ["good", "   "]},
        nudge="Each item needs the same rules as PredictRequest.text: reuse your text type.",
    )
    schema = t.call("PredictBatchRequest.model_json_schema")
    texts_schema = schema.get("properties", {}).get("texts", {}) if isinstance(schema, dict) else {}
    t.equal(
        texts_schema.get("maxItems"),
        MAX_BATCH,
        what="the schema's maxItems",
        nudge="Declare the batch limit as a constraint of the field.",
    )
    texts = held_out(0, 10)
    counting = t.build(f"{HERE}:CountingModel", t.build(f"{HERE}:reference_model"))
    got = t.call("predict_batch", counting, texts)
    t.type(got, list, nudge="Return a list of (label, probability) tuples.")
    t.equal(len(got), 10, what="the number of predictions for 10 texts")
    calls = t.value(counting.calls)
    t.true(
        calls == 1,
        f"predict_proba was called {calls} times for a batch of 10",
        "Call predict_proba once on the whole list, not once per text.",
    )
    want = verdicts(texts)
    t.equal([g[0] for g in got], [w[0] for w in want], what="the labels, in order")
    t.close([g[1] for g in got], [w[1] for w in want], what="the probabilities, in order")


# -- exercise 4 -------------------------------------------------------------------------


def error_problem(answer: dict, status: int, error: str) -> str | None:
    """What is wrong with an error answer of the http driver, or None if it is as specified."""
    if answer.get("status") != status:
        shown = str(answer.get("json", answer.get("text")))[:120]
        return f"status {answer.get('status')} (expected {status}); body {shown}"
    body = answer.get("json")
    if not isinstance(body, dict) or body.get("error") != error:
        return f'the body should have "error": "{error}", got {str(body)[:120]}'
    if not isinstance(body.get("message"), str) or not body["message"]:
        return f'the body has no "message" string: {str(body)[:120]}'
    return None


@problem(
    "create_app",
    hints=(
        "An app factory builds a fresh app around the model it is given; the schemas refuse "
        "bad bodies before your routes run, and one exception handler turns every refusal "
        "into the service's own error format, choosing the status from what was wrong.",
        "Inside the factory, define the three routes as closures over the model, with the "
        "response models on the POST routes. Register a handler for the request validation "
        "error: if the request's content type is not JSON answer 415, otherwise 422 with a "
        "message built from each error's location (without the leading body) and message, "
        "never its input.",
        "The handler receives the request and the exception: the exception's errors method "
        "lists dicts with loc, msg and type, and the request's headers hold the content "
        "type, possibly followed by a semicolon and a charset.",
    ),
)
def _create_app(t):
    model = t.build(f"{HERE}:reference_model")
    app = t.call("create_app", model, keep=True)
    t.instance(app, "fastapi:FastAPI", nudge="Return the FastAPI app.")
    text = "The battery lasts forever, great phone."
    health, single, blank, plain, batch = t.call(
        HTTP,
        app,
        [
            {"method": "GET", "url": "/health"},
            {"method": "POST", "url": "/predict", "json": {"text": text}},
            {"method": "POST", "url": "/predict", "json": {"text": "   "}},
            {
                "method": "POST",
                "url": "/predict",
                "content": json.dumps({"text": "fine"}),
                "headers": {"Content-Type": "text/plain"},
            },
            {
                "method": "POST",
                "url": "/predict/batch",
                "json": {"texts": ["Loved it", "  Hated it  "]},
            },
        ],
    )
    t.equal(
        (health["status"], health.get("json")),
        (200, {"status": "ok", "model_version": MODEL_VERSION}),
        what="GET /health (status, body)",
    )
    t.equal(single["status"], 200, what="the status of a valid POST /predict")
    body = single.get("json") or {}
    want_label, want_prob = verdicts([text])[0]
    t.equal(
        (body.get("label"), body.get("model_version")),
        (want_label, MODEL_VERSION),
        what="(label, model_version) of POST /predict",
    )
    t.close(body.get("probability"), want_prob, what="the probability of POST /predict")
    t.true(
        blank["status"] < 500,
        f"whitespace-only text gave a server error {blank['status']}",
        "Let the PredictRequest schema refuse it before your code runs: a 5xx blames the server.",
    )
    problem_text = error_problem(blank, 422, "validation_error")
    t.true(
        problem_text is None, f"whitespace-only text: {problem_text}", "See the error format above."
    )
    t.true(
        blank["json"]["message"].startswith("text: "),
        f"the 422 message {blank['json']['message'][:80]!r} does not start with the field 'text'",
        "Build each problem from the error's loc (without the leading 'body') and its msg.",
    )
    problem_text = error_problem(plain, 415, "unsupported_media_type")
    t.true(
        problem_text is None,
        f"a text/plain body: {problem_text}",
        "In the validation handler, look at the request's content-type header.",
    )
    spec = t.call(app.openapi)
    answer_schema = (
        spec.get("paths", {})
        .get("/predict", {})
        .get("post", {})
        .get("responses", {})
        .get("200", {})
    )
    ref = answer_schema.get("content", {}).get("application/json", {}).get("schema", {})
    t.true(
        str(ref.get("$ref", "")).endswith("/PredictResponse"),
        "the docs do not describe the 200 answer of POST /predict with PredictResponse",
        "Declare response_model=PredictResponse on the route.",
    )
    t.equal(batch["status"], 200, what="the status of a valid batch")
    predictions = (batch.get("json") or {}).get("predictions", [])
    want = verdicts(["Loved it", "Hated it"])
    t.equal([p.get("label") for p in predictions], [w[0] for w in want], what="the batch labels")
    t.close(
        [p.get("probability") for p in predictions],
        [w[1] for w in want],
        what="the batch probabilities",
    )


# -- exercise 5 -------------------------------------------------------------------------


@problem(
    "api_tests",
    hints=(
        "A test is only as good as the bugs it catches: a happy status code says nothing "
        "about the body, and a limit is only tested when both of its sides are.",
        "Go through the list of bugs one by one and write, for each, the request that "
        "exposes it and an assertion on the status and on the body: compare labels and "
        "probabilities with your predict_one, probe each limit at the limit and one past it, "
        "check the error bodies, the batch order and the health answer.",
        "Mix clearly positive and clearly negative texts, so that swapped labels, a wrong "
        "probability and a reversed batch all show; put a recognisable word in an invalid "
        "request and assert that it does not come back.",
    ),
)
def _api_tests(t):
    model = t.build(f"{HERE}:reference_model")
    tests = t.ref("run_my_tests")
    result = t.call(f"{HERE}:run_tests", tests, t.build(f"{HERE}:app_factory"), model)
    t.true(
        result["passed"],
        f"your tests fail on a correct app: {result['error']}",
        "A test must pass on every app that meets the specification: assert what it "
        "promises, not details of your own implementation.",
    )
    for bug in ("swapped", "status_200"):
        result = t.call(f"{HERE}:run_tests", tests, t.build(f"{HERE}:app_factory", bug), model)
        t.true(
            not result["passed"],
            "your tests PASS on a broken app",
            "Assert on the body and the exact status, not only that a request succeeds.",
            case=f"an app that {BUGS[bug]}",
        )


# -- exercise 6 -------------------------------------------------------------------------


@problem(
    "timing",
    hints=(
        "A middleware wraps the whole handling of a request, so the clock is read once "
        "before handing the request on and once after the response comes back; a unit in a "
        "header's name is a promise, and a structured log line is one JSON object.",
        "Register an HTTP middleware on the app: read the high-resolution clock, await the "
        "next handler, compute the elapsed milliseconds, put them in the response header as "
        "a string, and log one JSON object with the method, the URL path, the status code "
        "and the duration. Return the app.",
        "The app's middleware decorator takes the string http; the response's headers behave "
        "like a dict; the request's url has a path attribute; json.dumps makes the log line.",
    ),
)
def _timing(t):
    app = t.build(f"{HERE}:timing_test_app")
    returned = t.call("add_timing", app, keep=True)
    t.true(t.same(returned, app), "add_timing did not return the app it was given", "Return app.")
    (slow,) = t.call(
        f"{HERE}:timed_requests", app, [{"method": "GET", "url": "/slow", "params": {"q": "1"}}]
    )
    header = slow["headers"].get("x-process-time-ms")
    t.true(header is not None, f"no X-Process-Time-ms header; headers: {slow['headers']}")
    try:
        ms = float(header)
    except ValueError:
        ms = math.nan
    t.true(
        ms >= 55,
        f"X-Process-Time-ms is {header} for a route that sleeps 60 ms",
        "Milliseconds, not seconds, measured around the call of the next handler.",
    )
    t.true(
        ms <= slow["wall_ms"] + 1,
        f"X-Process-Time-ms is {header}, more than the {slow['wall_ms']:.1f} ms the request took",
    )
    t.equal(len(slow["logs"]), 1, what="the number of log lines for one request")
    try:
        line = json.loads(slow["logs"][0])
    except ValueError:
        line = None
    t.true(
        isinstance(line, dict),
        f"the log line is not a JSON object: {slow['logs'][0][:100]!r}",
        "Log json.dumps of a dict, not an f-string.",
    )
    t.equal(
        {k: line.get(k) for k in ("method", "path", "status")},
        {"method": "GET", "path": "/slow", "status": 200},
        what="the logged method, path and status",
    )
    duration = line.get("duration_ms")
    t.true(
        isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 55,
        f"duration_ms is {duration!r} for a 60 ms request",
        "Log the duration in milliseconds, as a number.",
    )


# -- the quiz ---------------------------------------------------------------------------

choice(
    "q_lax_bytes",
    options="abcd",
    hints=(
        "Lax mode converts an input only when the conversion cannot lose or invent "
        "information in the common case.",
        "Of the four inputs, only one is already text in another encoding.",
    ),
)
number(
    "q_requests",
    hints=(
        "Each request carries at most the batch limit of texts.",
        "Divide the number of reviews by the batch limit and round up.",
    ),
)
choice(
    "q_tail",
    options="abcd",
    hints=(
        "A percentile is the value below which that share of the requests falls.",
        "Work out what share of the requests is slow, then which of the numbers is the "
        "first to land among them.",
    ),
)
number(
    "q_unit",
    hints=(
        "A header that promises milliseconds but holds seconds is off by a constant factor.",
        "Convert the number the dashboard shows from seconds to milliseconds.",
    ),
)
choice(
    "q_response_model",
    options="abcd",
    hints=(
        "A response model is a promise the server makes, so a broken promise is the "
        "server's fault, not the client's.",
        "Ask which class of status codes blames the server.",
    ),
)

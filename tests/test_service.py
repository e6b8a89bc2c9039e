"""Tests for the reference sentiment service (mlcourse.service).

A TF-IDF artifact (about 5 s) and a MiniLM artifact (about 30 s) are trained once
per session into a temporary folder from the local data mirror
(``$MLCOURSE_DATA_MIRROR`` if set, else ``<workspace>/shared/data``), into a
temporary cache. The app is exercised in-process with FastAPI's TestClient, then
served by a real uvicorn on loopback, and fuzzed with schemathesis.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from mlcourse import data
from mlcourse.jsonlog import JsonLines
from mlcourse.service import MAX_BATCH, MAX_BODY_BYTES, MAX_TEXT_CHARS, MODEL_DIR_ENV
from mlcourse.service.app import access_logger, create_app, logger
from mlcourse.service.artifact import (
    METADATA_FILE,
    ArtifactError,
    TfidfPredictor,
    load_predictor,
    read_metadata,
    sha256_file,
)
from mlcourse.service.cli import service
from mlcourse.service.train import TrainError, load_split, train

REPO = Path(__file__).resolve().parents[1]
_MIRROR_AT_START = os.environ.get(data.MIRROR_ENV, "").strip()
MIRROR = _MIRROR_AT_START or str(REPO.parent / "shared" / "data")

POSITIVE = "Absolutely wonderful, I loved every minute of it. Highly recommended!"
NEGATIVE = "Terrible product, it broke after one day. A total waste of money."


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def service_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the data loader at the mirror (unless already set) and at a fresh cache."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get(data.MIRROR_ENV, "").strip():
            mp.setenv(data.MIRROR_ENV, MIRROR)
        mp.setenv(data.CACHE_ENV, str(tmp_path_factory.mktemp("service-cache")))
        yield


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tfidf_artifact(service_env: None, models_dir: Path) -> Path:
    out = models_dir / "tfidf"
    train("tfidf", out)
    return out


@pytest.fixture(scope="session")
def minilm_artifact(service_env: None, models_dir: Path) -> Path:
    out = models_dir / "minilm"
    train("minilm", out)
    return out


@pytest.fixture(scope="module")
def client(tfidf_artifact: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tfidf_artifact)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def minilm_client(minilm_artifact: Path) -> Iterator[TestClient]:
    with TestClient(create_app(minilm_artifact)) as test_client:
        yield test_client


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def service_logs() -> Iterator[_Records]:
    handler = _Records()
    logger.addHandler(handler)  # access_logger propagates to logger
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def copy_artifact(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


# -- training and artifacts ------------------------------------------------------


def test_tfidf_artifact_metadata(tfidf_artifact: Path) -> None:
    meta = read_metadata(tfidf_artifact)
    assert meta["kind"] == "tfidf"
    assert meta["version"].startswith("tfidf-")
    assert meta["model_sha256"] == sha256_file(tfidf_artifact / meta["model_file"])
    assert meta["data"]["members_sha256"] == data.REGISTRY["sentiment"].members
    assert meta["data"]["split"] == {
        "test_size": 0.2,
        "seed": 42,
        "stratify": "label+source",
        "n_train": 2400,
        "n_test": 600,
    }
    metrics = meta["metrics"]
    assert metrics["n"] == 600
    assert 0.80 <= metrics["accuracy"] <= 0.88, metrics
    assert 0.80 <= metrics["f1"] <= 0.88, metrics
    assert {"scikit-learn", "numpy", "python"} <= set(meta["libraries"])
    assert meta["trained_at"].endswith("+00:00")
    # nothing left over from the atomic write
    assert sorted(p.name for p in tfidf_artifact.parent.iterdir() if p.name.startswith(".")) == []


def test_minilm_artifact_beats_tfidf_and_vader(minilm_artifact: Path, tfidf_artifact: Path) -> None:
    meta = read_metadata(minilm_artifact)
    metrics = meta["metrics"]
    assert meta["kind"] == "minilm"
    assert meta["encoder"]["weights_sha256"].startswith("53aa5117")
    assert metrics["accuracy"] >= 0.88, metrics
    assert metrics["accuracy"] > metrics["baseline_vader_accuracy"] + 0.05, metrics
    assert metrics["accuracy"] > read_metadata(tfidf_artifact)["metrics"]["accuracy"]
    assert {"torch", "sentence-transformers"} <= set(meta["libraries"])


def test_train_refuses_to_overwrite_and_force_replaces(service_env: None, tmp_path: Path) -> None:
    out = tmp_path / "model"
    first = train("tfidf", out)
    with pytest.raises(TrainError, match="already exists"):
        train("tfidf", out)
    second = train("tfidf", out, force=True)
    assert read_metadata(out)["version"] == second["version"]
    assert first["model_sha256"] == second["model_sha256"]  # deterministic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with pytest.raises(TrainError, match="unknown model kind"):
        train("bert", tmp_path / "other")


def test_fast_path_matches_sklearn(tfidf_artifact: Path) -> None:
    predictor = load_predictor(tfidf_artifact)
    assert isinstance(predictor, TfidfPredictor)
    texts = load_split().test_texts + ["", "zzzz unknown words only", "a " * 3000, "É ü 😀 ünïcode"]
    reference = predictor.predict_many_sklearn(texts)
    fast = predictor.predict_many(texts)
    single = [predictor.predict_one(t) for t in texts]
    assert max(abs(a - b) for a, b in zip(reference, fast)) < 1e-9
    assert fast == single
    vectorizer = predictor.pipeline[0]
    analyzer = vectorizer.build_analyzer()
    for text in texts:
        assert sorted(predictor.terms(text)) == sorted(analyzer(text))


# -- endpoints -------------------------------------------------------------------


def test_predict(client: TestClient, tfidf_artifact: Path) -> None:
    version = read_metadata(tfidf_artifact)["version"]
    good = client.post("/predict", json={"text": POSITIVE})
    bad = client.post("/predict", json={"text": NEGATIVE})
    assert good.status_code == bad.status_code == 200
    assert good.headers["content-type"] == "application/json"
    assert good.json()["label"] == "positive"
    assert bad.json()["label"] == "negative"
    for body in (good.json(), bad.json()):
        assert set(body) == {"label", "probability", "positive_probability", "model_version"}
        assert 0.5 <= body["probability"] <= 1.0
        assert body["model_version"] == version
    assert bad.json()["probability"] == pytest.approx(1 - bad.json()["positive_probability"])


def test_predict_batch_keeps_order(client: TestClient) -> None:
    texts = [POSITIVE, NEGATIVE] * 10
    response = client.post("/predict/batch", json={"texts": texts})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 20
    assert [p["label"] for p in body["predictions"]] == ["positive", "negative"] * 10
    single = client.post("/predict", json={"text": NEGATIVE}).json()
    assert body["predictions"][1]["positive_probability"] == pytest.approx(
        single["positive_probability"], abs=1e-9
    )
    full = client.post("/predict/batch", json={"texts": ["fine"] * MAX_BATCH})
    assert full.status_code == 200 and full.json()["count"] == MAX_BATCH


def test_health_and_model(client: TestClient, tfidf_artifact: Path) -> None:
    meta = read_metadata(tfidf_artifact)
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() | {"uptime_seconds": 0} == {
        "status": "ok",
        "live": True,
        "ready": True,
        "model_kind": "tfidf",
        "model_version": meta["version"],
        "uptime_seconds": 0,
    }
    model = client.get("/model")
    assert model.status_code == 200
    assert model.json() == meta


def test_openapi_documents_limits_and_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    text = components["PredictRequest"]["properties"]["text"]
    assert text["maxLength"] == MAX_TEXT_CHARS and text["minLength"] == 1
    assert components["BatchRequest"]["properties"]["texts"]["maxItems"] == MAX_BATCH
    for name in ("PredictRequest", "BatchRequest", "PredictResponse", "BatchResponse"):
        assert components[name].get("examples"), name
    responses = schema["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422"} <= set(responses)
    assert client.get("/docs").status_code == 200


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    mine = client.post("/predict", json={"text": "ok"}, headers={"X-Request-ID": "abc-123"})
    assert mine.headers["x-request-id"] == "abc-123"
    made = client.post("/predict", json={"text": "ok"}, headers={"X-Request-ID": "bad id\x7f"})
    assert len(made.headers["x-request-id"]) == 32


JSON = {"content-type": "application/json"}
BAD_INPUTS = [
    # (id, body bytes, headers, expected status, words the message must contain)
    ("empty text", b'{"text": ""}', JSON, 422, "at least 1 character"),
    ("whitespace only", b'{"text": " \\n\\t\\u00a0 "}', JSON, 422, "non-whitespace"),
    ("odd whitespace", b'{"text": "\\u001d\\u0085\\ufeff\\u3000"}', JSON, 422, "non-whitespace"),
    ("too long", json.dumps({"text": "a" * (MAX_TEXT_CHARS + 1)}).encode(), JSON, 422, "at most"),
    ("number", b'{"text": 42}', JSON, 422, "valid string"),
    ("boolean", b'{"text": true}', JSON, 422, "valid string"),
    ("list", b'{"text": ["hi"]}', JSON, 422, "valid string"),
    ("null text", b'{"text": null}', JSON, 422, "valid string"),
    ("null body", b"null", JSON, 422, "valid dictionary"),
    ("missing field", b"{}", JSON, 422, "Field required"),
    ("extra field", b'{"text": "hi", "lang": "en"}', JSON, 422, "Extra inputs"),
    ("empty body", b"", JSON, 422, "JSON object body is required"),
    ("malformed JSON", b'{"text": "hi"', JSON, 400, "malformed JSON"),
    ("not JSON at all", b"hello", JSON, 400, "malformed JSON"),
    ("lone surrogate", b'{"text": "\\ud800"}', JSON, 422, "valid string"),
    ("text/plain", b'{"text": "hi"}', {"content-type": "text/plain"}, 415, "application/json"),
    ("form", b"text=hi", {"content-type": "application/x-www-form-urlencoded"}, 415, "got"),
    ("no content type", b'{"text": "hi"}', {}, 415, "missing"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_to_predict(
    client: TestClient, body: bytes, headers: dict, status: int, words: str
) -> None:
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == status, response.text
    payload = response.json()
    message = payload.get("message") or payload["detail"]
    assert words in message, payload
    assert payload["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("texts", "words"),
    [
        ([], "at least 1 item"),
        (["ok"] * (MAX_BATCH + 1), f"at most {MAX_BATCH} items"),
        (["ok", ""], "texts.1: String should have at least 1 character"),
        (["ok", "   "], "texts.1: String must contain at least one non-whitespace"),
        (["ok", None], "texts.1: Input should be a valid string"),
        ("ok", "valid list"),
        (None, "valid list"),
    ],
    ids=["empty", "over limit", "empty text", "blank text", "null text", "string", "null"],
)
def test_bad_input_to_batch(client: TestClient, texts: object, words: str) -> None:
    response = client.post("/predict/batch", json={"texts": texts})
    assert response.status_code == 422, response.text
    assert words in response.json()["message"]


def test_body_over_limit_is_413(client: TestClient) -> None:
    big = b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post("/predict", content=big, headers=JSON)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]

    def chunked() -> Iterator[bytes]:  # no Content-Length
        yield b'{"texts": ["'
        for _ in range(9):
            yield b"a" * (1 << 20)
        yield b'"]}'

    response = client.post("/predict/batch", content=chunked(), headers=JSON)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
    assert client.put("/predict", json={"text": "x"}).status_code == 405


def test_unexpected_error_is_json_500_with_request_id_and_logged(
    tfidf_artifact: Path, service_logs: _Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: TfidfPredictor, text: str) -> float:
        raise RuntimeError("simulated failure")

    with TestClient(create_app(tfidf_artifact)) as test_client:
        monkeypatch.setattr(TfidfPredictor, "predict_one", boom)
        response = test_client.post("/predict", json={"text": "hi"})
    assert response.status_code == 500
    body = response.json()
    assert body == {"detail": "Internal server error", "request_id": body["request_id"]}
    assert body["request_id"] == response.headers["x-request-id"]
    errors = [r for r in service_logs.records if r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info and "simulated failure" in str(errors[0].exc_info[1])
    assert errors[0].fields["request_id"] == body["request_id"]  # type: ignore[attr-defined]
    line = json.loads(JsonLines().format(errors[0]))
    assert "RuntimeError: simulated failure" in line["exc"]


def test_one_json_log_line_per_request(client: TestClient, service_logs: _Records) -> None:
    client.post("/predict", json={"text": POSITIVE})
    client.post("/predict/batch", json={"texts": ["a b", "c d", "e f"]})
    client.post("/predict", json={"text": ""})
    client.get("/health")
    lines = [
        json.loads(JsonLines().format(r))
        for r in service_logs.records
        if r.name == access_logger.name
    ]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/predict", 200),
        ("POST", "/predict/batch", 200),
        ("POST", "/predict", 422),
        ("GET", "/health", 200),
    ]
    assert lines[0]["label"] == "positive" and lines[1]["batch_size"] == 3
    for line in lines:
        assert line["latency_ms"] >= 0 and line["model_version"].startswith("tfidf-")
        assert len(line["request_id"]) == 32 and line["level"] == "info"
    assert "text" not in json.dumps(lines).replace('"text"', "")  # no request text logged


def test_not_started_app_is_not_ready(tfidf_artifact: Path) -> None:
    test_client = TestClient(create_app(tfidf_artifact))  # no `with`: lifespan never runs
    health = test_client.get("/health")
    assert health.status_code == 503 and health.json()["ready"] is False
    assert test_client.post("/predict", json={"text": "hi"}).status_code == 503


# -- startup failures ------------------------------------------------------------


def _corrupt(kind: str, folder: Path) -> None:
    meta_path = folder / METADATA_FILE
    meta = json.loads(meta_path.read_text())
    model = folder / meta["model_file"]
    if kind == "no folder":
        shutil.rmtree(folder)
    elif kind == "no metadata":
        meta_path.unlink()
    elif kind == "bad json":
        meta_path.write_text("{not json")
    elif kind == "missing key":
        del meta["model_sha256"]
        meta_path.write_text(json.dumps(meta))
    elif kind == "unknown kind":
        meta["kind"] = "gpt"
        meta_path.write_text(json.dumps(meta))
    elif kind == "no model":
        model.unlink()
    elif kind == "flipped byte":
        raw = bytearray(model.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        model.write_bytes(bytes(raw))
    elif kind == "unloadable":
        model.write_bytes(b"this is not a joblib file")
        meta["model_sha256"] = sha256_file(model)
        meta_path.write_text(json.dumps(meta))
    elif kind == "wrong model type":
        import joblib

        joblib.dump({"not": "a model"}, model)
        meta["model_sha256"] = sha256_file(model)
        meta_path.write_text(json.dumps(meta))
    elif kind == "path traversal":
        meta["model_file"] = "../model.joblib"
        meta_path.write_text(json.dumps(meta))
    else:  # pragma: no cover
        raise AssertionError(kind)


CORRUPTIONS = {
    "no folder": "does not exist",
    "no metadata": "metadata.json is missing",
    "bad json": "not valid JSON",
    "missing key": "lacks model_sha256",
    "unknown kind": "unknown model kind",
    "no model": "is missing",
    "flipped byte": "sha256 mismatch",
    "unloadable": "cannot be loaded",
    "wrong model type": "must hold a Pipeline",
    "path traversal": "plain file name",
}


@pytest.mark.parametrize(("kind", "words"), CORRUPTIONS.items(), ids=list(CORRUPTIONS))
def test_startup_refuses_broken_artifact(
    tfidf_artifact: Path, tmp_path: Path, kind: str, words: str
) -> None:
    folder = copy_artifact(tfidf_artifact, tmp_path / "artifact")
    _corrupt(kind, folder)
    with pytest.raises(ArtifactError, match=words):
        with TestClient(create_app(folder)):
            pass  # pragma: no cover


def test_startup_without_model_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    with pytest.raises(ArtifactError, match=MODEL_DIR_ENV):
        with TestClient(create_app()):
            pass  # pragma: no cover


def test_minilm_artifact_needs_matching_encoder(minilm_artifact: Path, tmp_path: Path) -> None:
    folder = copy_artifact(minilm_artifact, tmp_path / "artifact")
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["encoder"]["weights_sha256"] = "0" * 64
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="encoder weights"):
        load_predictor(folder)


# -- MiniLM ----------------------------------------------------------------------


def test_minilm_endpoints(minilm_client: TestClient, minilm_artifact: Path) -> None:
    version = read_metadata(minilm_artifact)["version"]
    assert minilm_client.get("/health").json()["model_kind"] == "minilm"
    good = minilm_client.post("/predict", json={"text": POSITIVE}).json()
    bad = minilm_client.post("/predict", json={"text": NEGATIVE}).json()
    assert (good["label"], bad["label"]) == ("positive", "negative")
    assert good["model_version"] == version and version.startswith("minilm-")
    batch = minilm_client.post("/predict/batch", json={"texts": [POSITIVE, NEGATIVE]}).json()
    assert [p["label"] for p in batch["predictions"]] == ["positive", "negative"]
    assert batch["predictions"][0]["positive_probability"] == pytest.approx(
        good["positive_probability"], abs=1e-4
    )
    long_text = minilm_client.post("/predict", json={"text": "good " * 999})
    assert long_text.status_code == 200
    assert minilm_client.post("/predict", json={"text": "  "}).status_code == 422


# -- CLI -------------------------------------------------------------------------


def test_cli_help_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["--help"], ["train", "--help"], ["serve", "--help"]):
        result = runner.invoke(service, args)
        assert result.exit_code == 0 and "Usage" in result.output
    result = runner.invoke(service, ["serve", "--model-dir", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = runner.invoke(service, ["train", "--kind", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2


def test_cli_train(service_env: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(service, ["train", "--kind", "tfidf", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "held-out  accuracy 0.8" in result.output and "VADER" in result.output
    assert read_metadata(tmp_path / "m")["kind"] == "tfidf"


# -- a real uvicorn on loopback --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_uvicorn(model_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, MODEL_DIR_ENV: str(model_dir)}
    command = [sys.executable, "-m", "uvicorn", "mlcourse.service.app:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(command, env=env, stdout=stderr, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def live_server(tfidf_artifact: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    proc, url = _start_uvicorn(tfidf_artifact, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not become ready:\n{log.read_text()}")
            time.sleep(0.2)
        yield url, log
    finally:
        _stop(proc)


def test_live_server(live_server: tuple[str, Path]) -> None:
    url, log = live_server
    with httpx.Client(base_url=url, timeout=10) as http:
        good = http.post("/predict", json={"text": POSITIVE})
        assert good.status_code == 200 and good.json()["label"] == "positive"
        batch = http.post("/predict/batch", json={"texts": [POSITIVE, NEGATIVE]})
        assert [p["label"] for p in batch.json()["predictions"]] == ["positive", "negative"]
        assert http.get("/model").json()["kind"] == "tfidf"
        malformed = http.post("/predict", content=b"{oops", headers=JSON)
        assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["message"]
        wrong_type = http.post("/predict", content=b"hi", headers={"content-type": "text/plain"})
        assert wrong_type.status_code == 415
        too_long = http.post("/predict", json={"text": "x" * (MAX_TEXT_CHARS + 1)})
        assert too_long.status_code == 422
        request_id = http.post("/predict", json={"text": "ok"}).headers["x-request-id"]
    time.sleep(0.3)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    requests = [x for x in lines if x.get("msg") == "request"]
    assert any(x["request_id"] == request_id and x["status"] == 200 for x in requests)
    assert {x["status"] for x in requests} >= {200, 400, 415, 422}
    assert "POST /predict HTTP/1.1" not in log.read_text()  # uvicorn's access log is off


def test_live_server_refuses_corrupt_artifact(tfidf_artifact: Path, tmp_path: Path) -> None:
    folder = copy_artifact(tfidf_artifact, tmp_path / "artifact")
    _corrupt("flipped byte", folder)
    proc, _url = _start_uvicorn(folder, tmp_path / "server.log")
    try:
        returncode = proc.wait(timeout=90)
    finally:
        _stop(proc)
    output = (tmp_path / "server.log").read_text()
    assert returncode != 0, output
    assert "sha256 mismatch" in output and "Application startup failed" in output


# -- schemathesis fuzzing --------------------------------------------------------


@pytest.fixture(scope="module")
def api_schema(tfidf_artifact: Path):
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(tfidf_artifact))


# schemathesis' own pytest integration (schema.parametrize / from_fixture) breaks on
# pytest 9.2 (it sets Node._nodeid), so the strategies are driven with hypothesis here.
FUZZ = [
    ("POST", "/predict", "positive"),
    ("POST", "/predict", "negative"),
    ("POST", "/predict/batch", "positive"),
    ("POST", "/predict/batch", "negative"),
    ("GET", "/health", "positive"),
    ("GET", "/model", "positive"),
]


@pytest.mark.parametrize(("method", "path", "mode"), FUZZ, ids=[" ".join(f) for f in FUZZ])
def test_fuzz_openapi_no_server_errors(api_schema, method: str, path: str, mode: str) -> None:
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))

    @given(case=strategy)
    @settings(
        max_examples=60 if method == "POST" else 5,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        case.validate_response(response)

    run()

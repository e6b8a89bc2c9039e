"""Tests for mlcourse.mlops: a real MLflow server, the housing example, the Dockerfile checker.

The tracking server is the real ``mlflow server`` (SQLite store, artifact folder),
started once for the module in a temporary folder, used through MLflow's own client
(runs, a logged model, the registry and an alias, loading by registry URI), and
stopped; nothing is mocked. Its start time is printed (``pytest -s``).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import numpy as np
import pandas as pd
import pytest

from mlcourse.mlops import (
    OFFLINE_ENV,
    ServerError,
    TrackingServer,
    current,
    ensure_server,
    free_port,
    pinned,
)
from mlcourse.mlops.dockerfile import RULES, final_command, healthcheck_command, lint, parse
from mlcourse.mlops.housing import (
    FEATURES,
    NUMERIC,
    OCEAN_CATEGORIES,
    TARGET,
    add_features,
    price_model,
    regions,
    rmse,
    simulate_month,
    south_share,
    split,
    within_20pct,
)

# -- the tracking server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    started = time.perf_counter()
    with TrackingServer() as running:
        print(
            f"\nmlflow server healthy after {running.start_seconds:.1f} s "
            f"(wall {time.perf_counter() - started:.1f} s)"
        )
        yield running
    assert not running.running


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_offline_environment():
    import mlflow.telemetry.utils as telemetry

    for key, value in OFFLINE_ENV.items():
        assert os.environ.get(key) == value or key == "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"
    assert telemetry.is_telemetry_disabled()


def test_server_is_healthy_and_owns_its_folder(server):
    assert server.healthy()
    assert server.start_seconds is not None and server.start_seconds > 0
    assert server.uri == f"http://127.0.0.1:{server.port}"
    assert (server.root / "mlflow.db").exists()
    assert server.artifacts.is_dir()
    assert "--backend-store-uri" in server.command()
    assert current() is server
    assert ensure_server() is server  # reused, not a second server


def test_tracking_registry_and_alias_round_trip(server):
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    y = np.array([1.0, 3.0, 5.0, 7.0])
    mlflow.set_tracking_uri(server.uri)
    mlflow.set_experiment("tests")
    with mlflow.start_run() as run:
        model = LinearRegression().fit(X, y)
        mlflow.log_params({"fit_intercept": True})
        mlflow.log_metric("rmse", 0.0)
        mlflow.sklearn.log_model(
            model,
            name="model",
            pip_requirements=pinned("scikit-learn"),
            serialization_format="cloudpickle",
        )
    client = MlflowClient(server.uri)
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"fit_intercept": "True"}
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "tests-model").version
    client.set_registered_model_alias("tests-model", "champion", version)
    loaded = mlflow.pyfunc.load_model("models:/tests-model@champion")
    np.testing.assert_allclose(loaded.predict(pd.DataFrame({"x": [10.0]})), [21.0])
    assert client.get_model_version_by_alias("tests-model", "champion").run_id == run.info.run_id
    # The model files are in the server's artifact folder, not in the working directory.
    assert any(server.artifacts.rglob("MLmodel"))


def test_stop_ends_the_process_group_and_removes_the_folder():
    with TrackingServer() as server:
        pid, port, root = server._proc.pid, server.port, server.root
        assert _port_open(port)
    assert not server.running
    assert not _port_open(port)
    assert not root.exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing of the group is left
    server.stop()  # stopping twice is fine


def test_a_server_that_dies_while_starting_is_reported(tmp_path, monkeypatch):
    broken = TrackingServer(tmp_path)
    monkeypatch.setattr(
        broken,
        "command",
        lambda: [sys.executable, "-c", "import sys; print('cannot start'); sys.exit(3)"],
    )
    with pytest.raises(ServerError, match="exited with code 3") as info:
        broken.start()
    assert "cannot start" in str(info.value)
    broken.stop()
    assert tmp_path.exists()  # a folder the caller gave is not removed


def test_a_server_that_never_answers_times_out(tmp_path, monkeypatch):
    silent = TrackingServer(tmp_path, start_timeout=1.0)
    monkeypatch.setattr(
        silent, "command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    with pytest.raises(ServerError, match="did not answer"):
        silent.start()
    assert not silent.running


def test_unstarted_server_and_free_port():
    server = TrackingServer()
    with pytest.raises(ServerError):
        _ = server.uri
    with pytest.raises(ServerError):
        server.wait()
    assert not server.healthy()
    assert 1024 < free_port() < 65536
    assert "not started" in repr(server)


def test_stop_after_sigterm_is_ignored(tmp_path, monkeypatch):
    """A process that ignores SIGTERM is killed after the timeout."""
    stubborn = TrackingServer(tmp_path)
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    monkeypatch.setattr(stubborn, "command", lambda: [sys.executable, "-c", code])
    stubborn.start(wait=False)
    pid = stubborn._proc.pid
    time.sleep(0.5)
    started = time.perf_counter()
    stubborn.stop(timeout=1.0)
    assert time.perf_counter() - started < 10
    assert stubborn._proc.returncode == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


# -- pinned environments ------------------------------------------------------------------


def test_pinned_requirements():
    import sklearn

    assert pinned("scikit-learn", "numpy") == [
        f"scikit-learn=={sklearn.__version__}",
        f"numpy=={np.__version__}",
    ]
    with pytest.raises(ValueError, match="not installed"):
        pinned("no-such-package-here")
    with pytest.raises(ValueError):
        pinned("")


# -- the housing example ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def housing():
    from mlcourse.data import load_housing

    return load_housing()


def test_regions_and_features(housing):
    north, south = regions(housing)
    assert len(north) + len(south) < len(housing)  # the band between is left out
    assert north["latitude"].min() >= 36.0 and south["latitude"].max() < 35.0
    assert set(north.index).isdisjoint(south.index)
    assert set(FEATURES) <= set(north.columns) and TARGET in north
    np.testing.assert_allclose(north[TARGET], north["median_house_value"] / 1e5)
    assert set(NUMERIC) == set(FEATURES) - {"ocean_proximity"}
    assert set(housing["ocean_proximity"]) == set(OCEAN_CATEGORIES)
    with pytest.raises(ValueError, match="census columns"):
        add_features(housing.drop(columns="households"))


def test_split_is_seeded_and_complete(housing):
    parts = split(housing, (0.6, 0.2, 0.2), seed=3)
    assert [len(p) for p in parts] == [12384, 4128, 4128]
    assert sorted(np.concatenate([p.index for p in parts])) == sorted(housing.index)
    again = split(housing, (0.6, 0.2, 0.2), seed=3)
    assert all(a.index.equals(b.index) for a, b in zip(parts, again))
    assert not split(housing, (0.6, 0.2, 0.2), seed=4)[0].index.equals(parts[0].index)
    for bad in [(0.5, 0.6), (1.0, 0.0), (-0.5, 1.5)]:
        with pytest.raises(ValueError):
            split(housing, bad)


def test_price_model_seed_and_monotone(housing):
    north, _ = regions(housing)
    train, valid, _ = split(north, (0.3, 0.1, 0.6), seed=0)
    fit = lambda **kw: price_model(max_iter=40, **kw).fit(train[FEATURES], train[TARGET])  # noqa: E731
    a, b, c = fit(random_state=0), fit(random_state=0), fit(random_state=1)
    pa, pb, pc = (m.predict(valid[FEATURES]) for m in (a, b, c))
    assert np.array_equal(pa, pb) and not np.array_equal(pa, pc)
    assert rmse(valid[TARGET], pa) < 0.75
    monotone = fit(random_state=0, monotonic_income=True)
    richer = valid[FEATURES].assign(median_income=valid["median_income"] + 0.5)
    assert (monotone.predict(richer) >= monotone.predict(valid[FEATURES]) - 1e-12).all()
    # an unknown category is ignored by the encoder, not an error
    lower = valid[FEATURES].assign(ocean_proximity=valid["ocean_proximity"].str.lower())
    assert np.isfinite(a.predict(lower)).all()


def test_simulate_month_schedule(housing):
    north, south = regions(housing)
    month = simulate_month(north, south, per_day=400, shift_start=11, ramp_days=10, seed=0)
    assert len(month) == 30 * 400 and list(month["day"].unique()) == list(range(1, 31))
    share = month.groupby("day")["region"].apply(lambda r: (r == "south").mean())
    plan = south_share(30, 11, 10)
    assert (share.iloc[:10] == 0).all() and (share.iloc[19:] == 1).all()
    assert np.abs(share.to_numpy() - plan).max() < 0.12
    assert set(month.loc[month["region"] == "north", "district"]) <= set(north.index)
    again = simulate_month(north, south, per_day=400, seed=0)
    assert month.equals(again)
    control = simulate_month(north, south, per_day=50, shift_start=31, seed=1)
    assert (control["region"] == "north").all()
    for bad in [dict(shift_start=0), dict(shift_start=32), dict(per_day=0), dict(ramp_days=0)]:
        with pytest.raises(ValueError):
            simulate_month(north, south, **bad)
    with pytest.raises(ValueError):
        simulate_month(north.iloc[:0], south)


def test_within_20pct_and_rmse():
    assert within_20pct([1.0, 2.0, 10.0, 5.0], [1.2, 2.5, 8.0, 5.0]) == 0.75
    assert within_20pct([-1.0], [-1.1]) == 1.0
    assert rmse([0.0, 0.0], [3.0, 4.0]) == pytest.approx(np.sqrt(12.5))
    with pytest.raises(ValueError):
        within_20pct([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        within_20pct([], [])


# -- the Dockerfile checker --------------------------------------------------------------------

GOOD = """\
# a comment
FROM python:3.11.9-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
COPY model/requirements.txt ./requirements.txt
RUN pip install --no-cache-dir -r requirements.txt \\
 && useradd --create-home app
COPY model/ ./model/
USER app
HEALTHCHECK --interval=30s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/ping')"]
CMD ["mlflow", "models", "serve", "-m", "/srv/model", "-h", "0.0.0.0", "-p", "8080"]
"""


def _rules(text: str) -> set[str]:
    return {finding.rule for finding in lint(text)}


def test_a_good_dockerfile_has_no_findings():
    assert lint(GOOD) == []
    assert final_command(GOOD)[:3] == ["mlflow", "models", "serve"]
    assert "urlopen" in healthcheck_command(GOOD)
    instructions, findings = parse(GOOD)
    assert findings == [] and instructions[4].keyword == "RUN"
    assert "useradd" in instructions[4].args  # the continuation line was joined
    assert instructions[4].line == 6


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (("FROM python:3.11.9-slim", "FROM python:3.11-slim"), "pinned-base"),
        (("FROM python:3.11.9-slim", "FROM python"), "pinned-base"),
        (("FROM python:3.11.9-slim", "FROM python:latest"), "pinned-base"),
        (("USER app\n", ""), "non-root"),
        (("USER app\n", "USER app\nUSER root\n"), "non-root"),
        (("USER app\n", "USER 0:0\n"), "non-root"),
        (("HEALTHCHECK --interval=30s CMD", "HEALTHCHECK NONE\n#"), "healthcheck"),
        (
            ("HEALTHCHECK --interval=30s CMD [", "HEALTHCHECK CMD curl -f http://x/ping #["),
            "health-tool",
        ),
        (("COPY model/requirements.txt ./requirements.txt", "COPY . ."), "layer-order"),
        (("--no-cache-dir ", ""), "pip-cache"),
        (
            (
                'CMD ["mlflow", "models", "serve", "-m", "/srv/model", "-h", "0.0.0.0", '
                '"-p", "8080"]',
                "CMD mlflow models serve -m /srv/model -h 0.0.0.0 -p 8080",
            ),
            "exec-form",
        ),
        (('"0.0.0.0"', '"127.0.0.1"'), "listen-all"),
        (("ENV PYTHONUNBUFFERED=1", "ENV API_KEY=abc123"), "no-secrets"),
        (("ENV PYTHONUNBUFFERED=1", "ARG HF_TOKEN=hf_abc"), "no-secrets"),
        (("WORKDIR /srv", "WROKDIR /srv"), "syntax"),
    ],
)
def test_each_rule_fires_on_its_mistake(change, rule):
    before, after = change
    assert before in GOOD
    broken = GOOD.replace(before, after, 1)
    assert rule in _rules(broken), lint(broken)
    assert rule in RULES


def test_rules_that_must_not_fire():
    digest = "python@sha256:" + "a" * 64
    assert "pinned-base" not in _rules(GOOD.replace("python:3.11.9-slim", digest))
    assert "pinned-base" not in _rules(
        GOOD.replace("python:3.11.9-slim", "registry:5000/py:3.11.9")
    )
    assert "pinned-base" in _rules(GOOD.replace("python:3.11.9-slim", "registry:5000/py"))
    # A second stage FROM the first is not an unpinned image; curl installed is fine.
    staged = "FROM python:3.11.9-slim AS base\nRUN true\n" + GOOD.replace(
        "FROM python:3.11.9-slim", "FROM base"
    )
    assert lint(staged) == []
    with_curl = GOOD.replace(
        "HEALTHCHECK --interval=30s CMD [", "RUN apt-get install -y curl\nHEALTHCHECK CMD curl x #["
    )
    assert "health-tool" not in _rules(with_curl)
    env_cache = GOOD.replace("--no-cache-dir ", "").replace(
        "ENV PYTHONUNBUFFERED=1", "ENV PIP_NO_CACHE_DIR=1"
    )
    assert "pip-cache" not in _rules(env_cache)
    assert "no-secrets" not in _rules(
        GOOD.replace("ENV PYTHONUNBUFFERED=1", "ENV TOKEN_FILE_PATH=")
    )
    legacy_env = GOOD.replace("ENV PYTHONUNBUFFERED=1", "ENV DB_PASSWORD hunter2")
    assert "no-secrets" in _rules(legacy_env)


def test_structural_problems():
    assert {f.rule for f in lint("")} == {"syntax"}
    assert "syntax" in _rules("RUN echo hi\nFROM python:3.11.9")
    assert "syntax" in _rules(GOOD + "RUN echo \\")
    no_cmd = GOOD.rsplit("CMD [", 1)[0]
    assert any("no CMD" in f.message for f in lint(no_cmd))
    assert "layer-order" in _rules(GOOD.replace("RUN pip install", "RUN echo"))
    with pytest.raises(TypeError):
        lint(None)


def test_the_course_service_dockerfile():
    """The sentiment service's image uses a moving base tag; every other rule holds."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "mlcourse" / "service" / "Dockerfile").read_text()
    assert _rules(text) == {"pinned-base"}


# -- the notebook's fixtures ---------------------------------------------------------------------


def test_planted_models_behave_as_documented():
    from mlcourse.exercises.mlops_lifecycle import (
        PLANTED,
        PlantedModel,
        add_request_id,
        behaviour_frame,
        lowercase_ocean,
    )

    X = behaviour_frame(seed=1, n=20)
    same = lambda kind, perturb: np.abs(  # noqa: E731
        PlantedModel(kind).predict(perturb(X.copy())) - PlantedModel(kind).predict(X)
    )
    assert same("sound", lowercase_ocean).max() == 0
    assert same("sound", add_request_id).max() == 0
    moved = same("case_sensitive", lowercase_ocean) > 0
    assert list(moved) == list(X["ocean_proximity"] != "INLAND")
    assert 0 < same("jitter", lowercase_ocean).max() < 1e-8
    richer = X.assign(median_income=X["median_income"] + 0.5)
    assert (PlantedModel("sound").predict(richer) > PlantedModel("sound").predict(X)).all()
    assert (
        PlantedModel("flat_income").predict(richer) == PlantedModel("flat_income").predict(X)
    ).all()
    dip = PlantedModel("income_dip").predict(richer) < PlantedModel("income_dip").predict(X)
    assert list(dip) == list(X["median_income"] > (3.9 - 0.125) / 0.65)
    assert len(PLANTED) == 5
    with pytest.raises(ValueError):
        PlantedModel("nonsense")

"""Checks for ``03_specialize/mlops_lifecycle.ipynb``: the problems, then their checks.

Learners may read this file: it holds the visible checks, the hints and the
fixtures the checks share, never a solution or a hidden test. The fixtures are:

* course code run on the learner's side (``t.helper(f"{HERE}:...")``): the URI of
  the real MLflow server (started by :mod:`mlcourse.mlops` if the notebook's was
  stopped), a run's record read back from that server, runs planted for the
  promotion exercise, the registry's alias, and a pandera schema's verdict;
* planted models with known behaviour (a sound one, and one bug each) and the
  perturbations the behavioural tests apply;
* a small slice of the housing data for the tracking exercise.
"""

from __future__ import annotations

import string
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import pandas as pd

from mlcourse.check import choice, number, problem
from mlcourse.check.outcomes import CodeRaised

# Importing mlcourse.mlops switches MLflow's telemetry off before mlflow is ever loaded.
from mlcourse.mlops.dockerfile import final_command, healthcheck_command, lint
from mlcourse.mlops.housing import FEATURES, OCEAN_CATEGORIES, TARGET

HERE = "mlcourse.exercises.mlops_lifecycle"

# -- fixtures: data ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def housing() -> pd.DataFrame:
    """The census housing data (20,640 districts), as loaded by the course."""
    from mlcourse.data import load_housing

    return load_housing()


def housing_rows(n: int = 12, seed: int = 0) -> pd.DataFrame:
    """``n`` real districts, chosen by ``seed``, with their index labels kept."""
    full = housing()
    return full.dropna().sample(n, random_state=seed).copy()


@lru_cache(maxsize=1)
def small_housing() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, valid): 400 and 150 northern districts, for fast tracking checks."""
    from mlcourse.mlops.housing import regions

    north, _ = regions(housing())
    rows = north.sample(550, random_state=7)
    return rows.iloc[:400][[*FEATURES, TARGET]], rows.iloc[400:][[*FEATURES, TARGET]]


def expected_model(params: dict, seed: int, train: pd.DataFrame):
    """The course's price model fitted by the checks themselves (one thread)."""
    from threadpoolctl import threadpool_limits

    from mlcourse.mlops.housing import price_model

    inputs, target = train[FEATURES], train[TARGET]
    with threadpool_limits(1):
        return price_model(**params, random_state=seed).fit(inputs, target)


# -- fixtures: run on the learner's side ------------------------------------------------


@contextmanager
def _tracking(uri: str):
    """MLflow's global tracking URI set to ``uri`` for a block, then restored."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def max_age(t, text: str):
    """A ``pd.Timedelta`` built on the learner's side (it does not travel as data)."""
    return t.build("pandas:Timedelta", text, label=f"pd.Timedelta({text!r})")


def tracking_uri() -> str:
    """The URI of this kernel's MLflow server (a new one is started if none runs)."""
    from mlcourse.mlops import ensure_server

    return ensure_server().uri


def run_record(uri: str, run_id, frame: pd.DataFrame) -> dict:
    """What the server knows about a run, and what its logged models predict on ``frame``."""
    import tempfile
    from pathlib import Path

    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import get_model_info

    if not isinstance(run_id, str):
        return {"error": f"the run id is a {type(run_id).__name__}, not a str"}
    client = MlflowClient(uri)
    try:
        run = client.get_run(run_id)
    except Exception as exc:  # noqa: BLE001 - reported as data
        return {"error": f"the server has no run {run_id!r} ({type(exc).__name__})"}
    record = {
        "experiment": client.get_experiment(run.info.experiment_id).name,
        "status": run.info.status,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
        "inputs": sorted(
            [
                [
                    d.dataset.digest,
                    sorted(t.value for t in d.tags if t.key == "mlflow.data.context"),
                ]
                for d in run.inputs.dataset_inputs
            ]
        ),
        "models": [],
    }
    for output in run.outputs.model_outputs if run.outputs else []:
        logged = client.get_logged_model(output.model_id)
        model_uri = f"models:/{output.model_id}"
        with _tracking(uri), tempfile.TemporaryDirectory() as tmp:
            info = get_model_info(model_uri)
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{logged.artifact_location}/requirements.txt", dst_path=tmp
            )
            requirements = Path(path).read_text(encoding="utf-8").split()
            predictions = mlflow.pyfunc.load_model(model_uri).predict(frame[FEATURES])
        record["models"].append(
            {
                "name": logged.name,
                "requirements": requirements,
                "signature": None
                if info.signature is None
                else info.signature.inputs.input_names(),
                "flavors": sorted(info.flavors),
                "predictions": np.asarray(predictions, dtype=float),
            }
        )
    return record


def plant_runs(uri: str, experiment: str, specs: list) -> list[str]:
    """Runs with known metrics, statuses and models, in a new experiment.

    Each spec is ``[metric_name, value or None, status, constant]``: the run logs
    that metric (unless None), a model that always predicts ``constant``, and ends
    with ``status``. Returns the run ids in order.
    """
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient
    from sklearn.dummy import DummyRegressor

    from mlcourse.mlops import pinned

    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment)
    X = pd.DataFrame({"x": [0.0, 1.0]})
    ids = []
    with _tracking(uri):
        for metric, value, status, constant in specs:
            fixed = DummyRegressor(strategy="constant", constant=float(constant)).fit(X, [0.0, 0.0])
            with mlflow.start_run(experiment_id=experiment_id) as run:
                if value is not None:
                    mlflow.log_metric(metric, float(value))
                mlflow.sklearn.log_model(
                    fixed,
                    name="model",
                    pip_requirements=pinned("scikit-learn"),
                    serialization_format="cloudpickle",
                )
            if status != "FINISHED":
                client.set_terminated(run.info.run_id, status)
            ids.append(run.info.run_id)
    return ids


def alias_record(uri: str, registered: str, alias: str) -> dict:
    """Where an alias points: the version, its run, its model's prediction, and the count."""
    import mlflow
    from mlflow import MlflowClient

    registry = MlflowClient(uri)
    versions = registry.search_model_versions(f"name = '{registered}'")
    try:
        version = registry.get_model_version_by_alias(registered, alias)
    except Exception:  # noqa: BLE001 - no such alias (or model): reported as data
        return {"version": None, "run_id": None, "prediction": None, "versions": len(versions)}
    with _tracking(uri):
        model = mlflow.pyfunc.load_model(f"models:/{registered}@{alias}")
        prediction = float(np.asarray(model.predict(pd.DataFrame({"x": [0.5]})))[0])
    return {
        "version": int(version.version),
        "run_id": version.run_id,
        "prediction": prediction,
        "versions": len(versions),
    }


#: A tracking URI that MLflow refuses at once (file stores are retired in MLflow 3): set as the
#: global URI before a call, it proves that the function uses the URI it is given.
DECOY_URI = "file:///tmp/mlcourse-decoy-mlruns"


def schema_failures_of(t, schema, frame: pd.DataFrame) -> dict:
    """:func:`schema_failures` run on the learner's side."""
    return t.helper(f"{HERE}:schema_failures", schema, frame)


def schema_failures(schema, frame: pd.DataFrame) -> dict:
    """A pandera schema's verdict on ``frame``, lazily validated, as data.

    ``rows``: the index labels of the rows that break a check; ``frame_level``:
    the failures that belong to no row (a missing or extra column, a wrong dtype).
    """
    import pandera.pandas as pa

    if not isinstance(schema, pa.DataFrameSchema):
        return {"type": type(schema).__name__}
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        rows = sorted({int(i) for i in cases["index"] if pd.notna(i)})
        frame_level = sorted(
            {
                f"{c}: {k}"
                for c, k, i in zip(cases["column"], cases["check"], cases["index"])
                if pd.isna(i)
            }
        )
        return {"valid": False, "rows": rows, "frame_level": frame_level}
    except pa.errors.SchemaError as err:
        return {"valid": False, "rows": [], "frame_level": [str(err)[:200]]}
    return {"valid": True, "rows": [], "frame_level": []}


# -- fixtures: planted models and perturbations -------------------------------------------

#: The price bonus of each distance-to-ocean category in the planted models.
BONUS = {"<1H OCEAN": 0.6, "INLAND": 0.0, "ISLAND": 1.5, "NEAR BAY": 0.9, "NEAR OCEAN": 0.7}
PLANTED = ("sound", "case_sensitive", "income_dip", "flat_income", "jitter")


class PlantedModel:
    """A price model with known behaviour, for grading behavioural tests.

    ``sound``: price rises with income and age, plus a bonus by ocean category
    (read case-insensitively). ``case_sensitive``: the bonus lookup is
    case-sensitive, so a lower-case category gets none. ``income_dip``: the
    price falls with income above 6. ``flat_income``: income is ignored.
    ``jitter``: the sound model plus a wobble of a few 1e-9 that changes with the
    category's spelling.
    """

    def __init__(self, kind: str = "sound"):
        if kind not in PLANTED:
            raise ValueError(f"kind must be one of {PLANTED}, not {kind!r}")
        self.kind = kind

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        income = X["median_income"].to_numpy(dtype=float)
        age = X["housing_median_age"].to_numpy(dtype=float)
        ocean = X["ocean_proximity"].astype(str)
        if self.kind != "case_sensitive":
            ocean = ocean.str.upper()
        bonus = ocean.map(BONUS).fillna(0.0).to_numpy(dtype=float)
        if self.kind == "income_dip":
            effect = 0.4 * np.minimum(income, 6.0) - 0.25 * np.maximum(income - 6.0, 0.0)
        elif self.kind == "flat_income":
            effect = np.full_like(income, 1.2)
        else:
            effect = 0.4 * income
        price = 0.3 + effect + 0.01 * age + bonus
        if self.kind == "jitter":  # a wobble of a few 1e-9 that depends on the category's spelling
            spelling = X["ocean_proximity"].astype(str).map(lambda s: sum(map(ord, s)) % 7)
            price = price + 5e-10 * spelling.to_numpy(dtype=float)
        return price

    def __repr__(self) -> str:
        return f"PlantedModel({self.kind!r})"


def planted_model(kind: str) -> PlantedModel:
    return PlantedModel(kind)


def lowercase_ocean(frame: pd.DataFrame) -> pd.DataFrame:
    """The same districts with the ocean category in lower case (changes ``frame`` itself)."""
    frame["ocean_proximity"] = frame["ocean_proximity"].str.lower()
    return frame


def add_request_id(frame: pd.DataFrame) -> pd.DataFrame:
    """The same districts with an extra ``request_id`` column (changes ``frame`` itself)."""
    frame["request_id"] = np.arange(len(frame))
    return frame


def behaviour_frame(seed: int = 0, n: int = 8) -> pd.DataFrame:
    """Districts for behavioural tests, with a shuffled, non-default index."""
    gen = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "median_income": np.round(gen.uniform(1.0, 9.0, n), 2),
            "housing_median_age": gen.integers(5, 52, n).astype(float),
            "rooms_per_household": np.round(gen.uniform(3, 7, n), 2),
            "bedrooms_per_room": np.round(gen.uniform(0.15, 0.3, n), 3),
            "people_per_household": np.round(gen.uniform(2, 4, n), 2),
            "population": gen.integers(300, 3000, n).astype(float),
            "ocean_proximity": gen.choice(OCEAN_CATEGORIES, n),
        }
    )
    frame.index = gen.permutation(np.arange(100, 100 + 7 * n, 7))
    return frame


# -- the problems ---------------------------------------------------------------------------


def _hex64(value) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and set(value) <= set(string.hexdigits.lower())
    )


@problem(
    "data_fingerprint",
    hints=(
        "A fingerprint must depend on everything that makes the data what it is (names, "
        "types, values and their order) and on nothing else, such as the row labels; and it "
        "must come out the same in every process, which rules out Python's own hash.",
        "Feed a cryptographic hash first a description of the columns (names and dtypes, in "
        "order), then one hash per row of the values alone, and return its hex digest.",
        "pandas can hash each row for you, with or without the index (look at its index "
        "argument); the bytes of the resulting uint64 array can go straight into hashlib.",
    ),
)
def _data_fingerprint(t):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})
    got = t.call("fingerprint", frame)
    t.true(
        _hex64(got),
        f"fingerprint returned {got!r}"[:120],
        "Return the hex digest (hexdigest()) of a SHA-256 hash: a str of 64 characters 0-9a-f.",
    )
    t.equal(
        t.call("fingerprint", frame.copy()),
        got,
        what="the fingerprint of a copy",
        nudge="The same content must always give the same fingerprint.",
    )
    t.equal(
        t.call("fingerprint", frame.set_axis([10, 20, 30])),
        got,
        what="the fingerprint of the same rows with other index labels",
        nudge="The index is not content: hash the values without it.",
    )
    changed = frame.copy()
    changed.loc[2, "a"] = 3.5
    t.true(
        t.call("fingerprint", changed) != got,
        "changing one value did not change the fingerprint",
        "Every value must feed the hash.",
    )
    t.true(
        t.call("fingerprint", frame.rename(columns={"b": "c"})) != got,
        "renaming a column did not change the fingerprint",
        "Hash the column names (and dtypes) too: row hashes do not include them.",
    )


@problem(
    "housing_schema",
    hints=(
        "A schema is the data contract written as code: one entry per column with its type "
        "and its allowed values, plus the rules that involve several columns or the frame as "
        "a whole.",
        "Build a pandera DataFrameSchema with a Column per census column (type, checks, and "
        "whether it may be missing), one frame-level check comparing bedrooms with rooms, and "
        "the option that refuses columns the contract does not name.",
        "Check.in_range includes both ends by default; Check.gt(0) is strict; Column takes "
        "nullable; a frame-level Check gets the whole frame and returns one boolean per row.",
    ),
)
def _housing_schema(t):
    schema = t.call("housing_schema", keep=True)
    real = schema_failures_of(t, schema, housing())
    t.true(
        "type" not in real,
        f"housing_schema returned a {real.get('type')}, not a pandera DataFrameSchema",
        "Return pa.DataFrameSchema({...}).",
    )
    t.true(
        real["valid"] is True,
        f"the schema rejects the real census data (rows {real['rows'][:5]}..., frame-level "
        f"{real['frame_level'][:2]})",
        "The real data is the contract's first test: it holds 207 missing total_bedrooms, "
        "ages of exactly 52 and incomes of exactly 15.0001.",
    )
    bad = housing_rows(12, seed=1)
    labels = list(bad.index)
    bad.loc[labels[0], "latitude"] = 0.0  # an 'unknown' placeholder, not California
    bad.loc[labels[3], "ocean_proximity"] = "near bay"
    bad.loc[labels[5], "median_income"] = np.nan
    bad.loc[labels[7], "total_bedrooms"] = bad.loc[labels[7], "total_rooms"] + 1
    bad.loc[labels[9], "housing_median_age"] = 53.0
    verdict = schema_failures_of(t, schema, bad)
    want = sorted(labels[i] for i in (0, 3, 5, 7, 9))
    t.equal(
        verdict.get("rows"),
        want,
        case="12 districts with five planted bad rows (latitude 0, 'near bay', a missing "
        "income, more bedrooms than rooms, age 53)",
        nudge="Each planted row breaks one rule: find which rule your schema does not encode.",
    )
    extra = housing_rows(5, seed=2).assign(notes="typed by hand")
    verdict = schema_failures_of(t, schema, extra)
    t.true(
        verdict.get("valid") is False,
        "a frame with an extra column 'notes' passes the schema",
        "The contract names exactly ten columns: make the schema strict.",
    )


@problem(
    "pit_join",
    hints=(
        "At prediction time only the past exists: each event may use the newest feature value "
        "computed strictly before it, for the same key, and not one so old that it is stale.",
        "Sort both sides by their times (an as-of merge needs that), merge backwards by the "
        "key with a tolerance of max_age and without exact matches, then put the events back "
        "in their original order with their original index.",
        "Remember each event's original position in a helper column before sorting; after the "
        "merge, sort by it and copy the feature columns into a copy of the events with "
        "to_numpy(), so that the index labels never have to match.",
    ),
)
def _pit_join(t):
    ts = pd.Timestamp
    events = pd.DataFrame(
        {
            "origin": ["A", "A", "B", "A"],
            "time": [
                ts("2013-01-01 10:00"),
                ts("2013-01-01 10:30"),
                ts("2013-01-01 09:00"),
                ts("2013-01-01 12:00"),
            ],
            "flight": [1, 2, 3, 4],
        },
        index=[101, 102, 103, 104],
    )
    features = pd.DataFrame(
        {
            "origin": ["A", "A", "A", "B"],
            "at": [
                ts("2013-01-01 09:00"),
                ts("2013-01-01 10:00"),
                ts("2013-01-01 10:45"),
                ts("2013-01-01 09:30"),
            ],
            "delay": [1.0, 2.0, 3.0, 9.0],
        }
    )
    got = t.call("point_in_time_join", events, features, "origin", "time", "at", max_age(t, "1h"))
    t.type(got, pd.DataFrame, "Return a DataFrame: the events with the feature columns added.")
    t.equal(
        list(got.columns),
        ["origin", "time", "flight", "delay"],
        what="the columns",
        nudge="Keep the events' columns, then add each feature column (not the key, not the "
        "feature's timestamp).",
    )
    t.equal(
        list(got.index),
        [101, 102, 103, 104],
        what="the index",
        nudge="Return the events in their own order, with their own index labels.",
    )
    delays = [None if np.isnan(v) else float(v) for v in got["delay"].to_numpy(dtype=float)]
    t.equal(
        delays,
        [1.0, 2.0, None, None],
        what="the joined delays (None: missing)",
        wrong={
            "The 10:00 event used the row stamped 10:00: a value computed at the same instant "
            "may include the event itself, so use only rows strictly before it.": [
                2.0,
                2.0,
                None,
                None,
            ],
            "The 12:00 event used a value 75 minutes old: older than max_age is stale, so it "
            "must be missing (NaN).": [1.0, 2.0, None, 3.0],
            "Rows from the events' future were used (10:45, 09:30): look backwards only.": [
                3.0,
                3.0,
                9.0,
                None,
            ],
        },
        nudge="Event 1 (A, 10:00) may use only A's 09:00 row; event 3 (B, 09:00) has nothing "
        "before it; event 4 (A, 12:00) finds only a stale row.",
    )


@problem(
    "mlflow_log_run",
    hints=(
        "A run is the lab notebook of one training: what went in (parameters, seed, data), "
        "what came out (metrics, the model with its environment), and where it was recorded.",
        "Point MLflow at the given server and experiment, start a run in a with block, fit the "
        "model, then log the parameters and the seed, the two validation metrics, both data "
        "sets with their contexts and the model, and return the run's id.",
        "mlflow.set_tracking_uri and mlflow.set_experiment come first; run.info.run_id is the "
        "id; mlflow.models.infer_signature takes the validation features and predictions.",
    ),
)
def _mlflow_log_run(t):
    from mlcourse.mlops.housing import rmse

    uri = t.helper(f"{HERE}:tracking_uri")
    train, valid = small_housing()
    params = {"learning_rate": 0.1, "max_leaf_nodes": 15, "max_iter": 40}
    # MLflow's global URI points at a store that refuses every request while the function
    # runs: a function that ignores tracking_uri fails at once instead of logging elsewhere.
    previous = t.helper("mlflow:get_tracking_uri")
    t.helper("mlflow:set_tracking_uri", DECOY_URI)
    try:
        run_id = t.call("log_candidate", uri, "check-log-candidate", params, train, valid, seed=3)
    except CodeRaised as failure:
        raise CodeRaised(
            failure.exercise,
            [
                *failure.lines,
                (
                    "nudge",
                    "If the error mentions a filesystem tracking backend, your function used "
                    "MLflow's global tracking URI, which this check points at a dummy: call "
                    "mlflow.set_tracking_uri(tracking_uri) first.",
                ),
            ],
        ) from None
    finally:
        t.helper("mlflow:set_tracking_uri", previous)
    t.true(
        isinstance(run_id, str) and len(run_id) == 32,
        f"log_candidate returned {run_id!r}"[:120],
        "Return the run's id, run.info.run_id (a str of 32 hex characters).",
    )
    record = t.helper(f"{HERE}:run_record", uri, run_id, valid)
    t.true(
        "error" not in record,
        str(record.get("error")),
        "Log to the server you are given: mlflow.set_tracking_uri(tracking_uri) first, then "
        "return the id of the run you logged.",
    )
    t.equal(
        record["experiment"],
        "check-log-candidate",
        what="the run's experiment",
        nudge="Log into the experiment named by the argument (mlflow.set_experiment).",
    )
    t.equal(
        record["status"],
        "FINISHED",
        what="the run's status",
        nudge="End the run: a with mlflow.start_run() block ends it for you.",
    )
    t.equal(
        record["params"],
        {"learning_rate": "0.1", "max_leaf_nodes": "15", "max_iter": "40", "seed": "3"},
        what="the logged parameters (MLflow stores them as strings)",
        nudge="Log every entry of params, and the seed too.",
    )
    reference = expected_model(params, 3, train)
    want = reference.predict(valid[FEATURES])
    gaps = want - valid[TARGET].to_numpy(dtype=float)
    metrics = record["metrics"]
    t.true(
        {"valid_rmse", "valid_mae"} <= set(metrics),
        f"the run's metrics are {sorted(metrics)}",
        "Log valid_rmse and valid_mae.",
    )
    t.close(
        metrics["valid_rmse"],
        rmse(valid[TARGET], want),
        what="valid_rmse",
        wrong={
            "That is the error on the training set: measure on valid.": rmse(
                train[TARGET], reference.predict(train[FEATURES])
            )
        },
        nudge="Fit price_model(**params, random_state=seed) on train; measure on valid.",
    )
    t.close(metrics["valid_mae"], np.abs(gaps).mean(), what="valid_mae")
    models = record["models"]
    t.true(
        len(models) == 1 and models[0]["name"] == "model",
        f"the run logged {len(models)} model(s) named {[m['name'] for m in models]}",
        'Log the fitted model once, with mlflow.sklearn.log_model(..., name="model").',
    )
    t.close(
        models[0]["predictions"],
        want,
        what="the logged model's predictions on valid",
        nudge="Log the model you fitted (with the seed), after fitting it.",
    )


@problem(
    "mlflow_promote",
    hints=(
        "Promotion is a decision recorded in the registry: the best finished run becomes a "
        "numbered version of the model, and a named alias moves to point at it, so serving "
        "code never has to change.",
        "Search the experiment's finished runs ordered by the metric, skip those without it, "
        "look for an existing version of the model from the best run before registering a new "
        "one, then set the alias and return the version as an int.",
        "MlflowClient.search_runs takes a filter on attributes.status and an order_by; "
        "search_model_versions can filter on name and run_id; register_model takes a runs:/ "
        "URI ending in the model's name.",
    ),
)
def _mlflow_promote(t):
    import uuid

    uri = t.helper(f"{HERE}:tracking_uri")
    tag = uuid.uuid4().hex[:8]
    experiment, name = f"check-promote-{tag}", f"check-model-{tag}"
    ids = t.helper(
        f"{HERE}:plant_runs",
        uri,
        experiment,
        [
            ["valid_rmse", 0.50, "FINISHED", 1.0],
            ["valid_rmse", 0.30, "FINISHED", 2.0],
            ["valid_rmse", 0.40, "FINISHED", 3.0],
        ],
    )
    version = t.call("promote_best", uri, experiment, name)
    t.true(
        type(version) is int,
        f"promote_best returned {version!r} ({type(version).__name__})"[:120],
        "Return the version number as a Python int (MLflow gives it as a str).",
    )
    alias = t.helper(f"{HERE}:alias_record", uri, name, "champion")
    t.true(
        alias["version"] is not None,
        f"the model {name!r} has no alias 'champion' after promote_best",
        "Set the alias on the version you registered (set_registered_model_alias).",
    )
    t.equal(
        alias["run_id"],
        ids[1],
        what="the run behind the champion",
        nudge="The best run has the LOWEST valid_rmse (0.30 here).",
    )
    t.equal(version, alias["version"], what="the returned version")
    t.equal(alias["prediction"], 2.0, what="the champion's prediction (loaded from the registry)")
    again = t.call("promote_best", uri, experiment, name)
    after = t.helper(f"{HERE}:alias_record", uri, name, "champion")
    t.equal(
        [again, after["versions"]],
        [version, 1],
        what="[version, number of versions] after promoting the same run twice",
        nudge="Promoting the same run again must reuse its version, not register a copy.",
    )


@problem(
    "behaviour_tests",
    hints=(
        "A behavioural test changes the input in a way whose effect you know in advance "
        "(none at all, or a push in one direction) and lists the rows where the model "
        "disagrees.",
        "Predict on the rows as they are and on a changed copy; an invariance violation is a "
        "prediction that moved by more than the tolerance; a directional one moved the wrong "
        "way by more than the tolerance. Return the index labels of those rows, in order.",
        "Give perturbations a copy of X (they may change what they get); multiply the change "
        "in prediction by the expected sign to compare with the tolerance once.",
    ),
)
def _behaviour_tests(t):
    X = behaviour_frame(seed=0)
    sound = t.build(f"{HERE}:planted_model", "sound", label="sound_model")
    case = t.build(f"{HERE}:planted_model", "case_sensitive", label="case_sensitive_model")
    lower = t.ref(f"{HERE}:lowercase_ocean")
    t.equal(
        t.call("invariance_violations", sound, X, lower),
        [],
        what="violations of a model that reads the category case-insensitively",
    )
    not_inland = [label for label, ocean in X["ocean_proximity"].items() if ocean != "INLAND"]
    t.equal(
        t.call("invariance_violations", case, X, lower),
        not_inland,
        what="invariance violations of a case-sensitive model",
        wrong={
            "Those are positions (0, 1, 2...): return the index labels of X.": [
                i for i, ocean in enumerate(X["ocean_proximity"]) if ocean != "INLAND"
            ]
        },
        nudge="Lower-casing moves every row whose category has a bonus, that is every row but "
        "the INLAND ones; list their labels in X's order.",
    )
    dip = t.build(f"{HERE}:planted_model", "income_dip", label="income_dip_model")
    t.equal(
        t.call("directional_violations", sound, X, "median_income", 0.5),
        [],
        what="directional violations of a model whose price rises with income",
    )
    # Above an income of 6 the planted price falls by 0.25 per unit and below it rises by 0.4,
    # so a step of 0.5 lowers it exactly when income > (3.9 - 0.25 * 0.5) / 0.65.
    falls = [label for label, inc in X["median_income"].items() if inc > (3.9 - 0.125) / 0.65]
    t.equal(
        t.call("directional_violations", dip, X, "median_income", 0.5),
        falls,
        what="directional violations of a model whose price falls above an income of 6",
        nudge="Add delta to the column in a copy, predict both, and keep the rows whose "
        "prediction went down.",
    )


@problem(
    "slice_report",
    hints=(
        "An average can hide a group the model serves badly: score each group on its own, "
        "and do not judge a group too small for its score to mean anything.",
        "Group the rows by slice value (sorted); for each group count its rows, and if there "
        "are enough, score it with the metric and compare with the minimum; otherwise mark it "
        "as too small and leave its score missing.",
        "Call the metric with the true values first; a group of exactly min_size rows is "
        "judged, and a score of exactly min_score passes.",
    ),
)
def _slice_report(t):
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 5.0, 9.0])
    y_pred = np.array([1.1, 2.1, 2.0, 4.0, 1.5, 2.0, 3.0, 5.0, 1.0])
    slices = np.array(["b", "b", "b", "b", "a", "a", "a", "a", "c"])
    metric = t.ref("mlcourse.mlops.housing:within_20pct")
    got = t.call("slice_report", y_true, y_pred, slices, metric, 0.75, min_size=3)
    t.type(got, pd.DataFrame, "Return a DataFrame, one row per slice.")
    t.equal(
        list(got.index),
        ["a", "b", "c"],
        what="the slices (the index)",
        nudge="One row per slice value, sorted, with the value as the index.",
    )
    t.equal(list(got.columns), ["n", "score", "status"], what="the columns")
    t.equal([int(n) for n in got["n"]], [4, 4, 1], what="the slice sizes")
    t.close(
        got["score"].to_numpy(dtype=float),
        [0.75, 0.75, np.nan],
        what="the slice scores",
        nudge="Score slice a on its four rows; leave the score of a too-small slice missing.",
    )
    t.equal(
        list(got["status"]),
        ["pass", "pass", "too small"],
        what="the statuses",
        nudge="A score equal to min_score passes; a slice under min_size is 'too small'.",
    )


#: What the service's Dockerfile must do, beyond the general rules of the linter.
SERVICE_RULES = (
    ("mlflow models serve", "run the model with `mlflow models serve`"),
    ("--env-manager local", "pass `--env-manager local` (the image already holds the packages)"),
    ("8080", "serve on port 8080"),
)


def service_problems(text: str) -> list[str]:
    """Everything wrong with the model service's Dockerfile: lint findings, then service rules."""
    problems = [str(f) for f in lint(text)]
    command = " ".join(final_command(text))
    for needle, rule in SERVICE_RULES:
        if needle not in command:
            problems.append(f"the CMD does not {rule}")
    words = final_command(text)
    hosts = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-h", "--host")]
    if "0.0.0.0" not in hosts:
        problems.append(
            "the CMD does not bind to 0.0.0.0 (mlflow models serve listens on 127.0.0.1 unless "
            "told otherwise, which is unreachable from outside the container)"
        )
    health = healthcheck_command(text) or ""
    if "8080" not in health or not any(p in health for p in ("/ping", "/health")):
        problems.append(
            "the HEALTHCHECK does not ask the service's /ping (or /health) on port 8080"
        )
    if "requirements.txt" not in text:
        problems.append("the image does not install the model's pinned requirements.txt")
    return problems


@problem(
    "service_dockerfile",
    hints=(
        "An image is built in layers that are cached in order, and run by a container that "
        "Kubernetes starts, probes and stops: each rule of the linter protects one of those "
        "steps.",
        "Start from a base image pinned to a full version, install the model's requirements "
        "from that file alone, then copy the model folder, create and switch to a plain user, "
        "declare a health check that uses Python, and start the server in exec form.",
        "The health check can call Python's urllib on the ping endpoint; the exec form is a "
        "JSON list of strings; useradd creates the user in the same RUN as the install.",
    ),
)
def _service_dockerfile(t):
    text = t.value("DOCKERFILE")
    t.type(text, str, "DOCKERFILE is the Dockerfile's text, a str.")
    problems = service_problems(text)
    t.true(
        not problems,
        "the Dockerfile has problems:\n  " + "\n  ".join(problems[:8]),
        "Fix them one at a time; the linter's rules are in mlcourse/mlops/dockerfile.py.",
    )


@problem(
    "drift_psi",
    hints=(
        "Cut the reference into bins that each hold the same share of it, then compare the "
        "share of the new data that falls in each bin with that of the reference; a floor on "
        "the shares keeps an empty bin from giving an infinite value.",
        "Take the reference's quantiles at one bin's share, two bins' and so on as inner edges; "
        "count both samples into the bins closed on the right (with open ends), turn counts "
        "into shares, floor them at eps, and sum the difference times the log ratio.",
        "np.quantile gives the edges; np.searchsorted with its default side puts a value equal "
        "to an edge in the bin on its left; np.bincount with minlength counts every bin.",
    ),
)
def _drift_psi(t):
    ref = np.arange(1.0, 11.0)
    got = t.call("psi", ref, np.array([1, 1, 1, 2, 3, 5, 7, 9, 9, 10.0]), bins=5)
    t.true(
        type(got) is float,
        f"psi returned a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        0.38712010109078904,
        nudge="With bins=5 the reference 1..10 has edges 2.8, 4.6, 6.4 and 8.2, every bin "
        "holding 20 %; the current sample's shares are 40, 10, 10, 10 and 30 %.",
    )
    t.close(
        t.call("psi", ref, ref.copy(), bins=5),
        0.0,
        atol=1e-12,
        what="the PSI of the reference against itself",
    )
    t.close(
        t.call("psi", ref, np.array([1, 2, 1, 2, 1, 2, 9, 10, 9, 10.0]), bins=5),
        5.13633555656662,
        case="three empty bins (each share floored at eps = 1e-4)",
        nudge="An empty bin's share is floored at eps before the logarithm.",
    )
    t.close(
        t.call(
            "psi", np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2.0]), np.array([1, 1, 1, 1, 2.0]), bins=2
        ),
        0.0,
        atol=1e-12,
        case="a value equal to the edge (1.0): it belongs to the bin on its left",
        nudge="Bins are closed on the right: a value equal to an edge goes in the bin below it.",
    )


@problem(
    "drift_ks",
    hints=(
        "The two-sample Kolmogorov-Smirnov statistic is the largest vertical gap between the "
        "two empirical cumulative distribution functions.",
        "Both functions only change at observed values, so evaluate them at every value of "
        "either sample: the share of each sample at most that value. Return the largest "
        "absolute difference.",
        "Sort each sample once and use np.searchsorted with side='right' on the pooled values: "
        "that counts ties correctly.",
    ),
)
def _drift_ks(t):
    from scipy.stats import ks_2samp

    a = np.array([1.0, 2.0, 2.0, 3.0])
    b = np.array([2.0, 2.0, 2.0, 4.0, 5.0])
    got = t.call("ks_statistic", a, b)
    t.true(
        type(got) is float,
        f"ks_statistic returned a {type(got).__name__}",
        "Return a Python float (float(...)).",
    )
    t.close(
        got,
        ks_2samp(a, b).statistic,
        nudge="Compare the two ECDFs at every value of BOTH samples, counting ties (side='right').",
    )
    gen = np.random.default_rng(3)
    x, y = gen.normal(size=50), gen.normal(0.5, 1.0, size=80)
    t.close(t.call("ks_statistic", x, y), ks_2samp(x, y).statistic, case="normal samples, shifted")
    t.raises(
        ValueError,
        "ks_statistic",
        np.array([]),
        a,
        nudge="An empty sample has no distribution: raise a ValueError.",
    )


@problem(
    "drift_alert",
    hints=(
        "An alert rule trades speed for calm: it fires only when a feature has stayed above "
        "the threshold for several days in a row, so one noisy day does not wake anybody.",
        "Walk the days in order, keeping for each feature the length of its current run of "
        "days strictly above the threshold (a day at or below it, or missing, ends the run); "
        "on the first day some run reaches the patience, return that day and those features.",
        "Return the day's index label (not its position) and the sorted feature names, or "
        "None when the rule never fires.",
    ),
)
def _drift_alert(t):
    scores = pd.DataFrame(
        {"a": [0.05, 0.3, 0.1, 0.3, 0.3, 0.3], "b": [0.1, 0.1, 0.25, 0.25, 0.05, 0.3]},
        index=[11, 12, 13, 14, 15, 16],
    )
    got = t.call("first_alert", scores, 0.2, 2)
    t.equal(
        got,
        (14, ["b"]),
        wrong={
            "That day is a position: return the index label of the day.": (3, ["b"]),
            "Day 12 and day 14 are not consecutive for feature a: a day below the threshold "
            "ends a run.": (14, ["a", "b"]),
        },
        nudge="Feature b is above 0.2 on days 13 and 14: that is the first run of two.",
    )
    t.equal(
        t.call("first_alert", scores, 0.2, 3),
        (16, ["a"]),
        case="patience 3",
        nudge="Feature a is above 0.2 on days 14, 15 and 16.",
    )
    t.equal(
        t.call("first_alert", scores, 0.5, 1),
        None,
        case="a threshold no score reaches",
        nudge="Return None when the rule never fires.",
    )


# -- the quiz --------------------------------------------------------------------------------

number(
    "q_psi_value",
    hints=(
        "The PSI adds, over the bins, the change in share times the log of the ratio of shares.",
        "Two bins: (new minus old) times ln(new over old), for each, added up.",
    ),
)
choice(
    "q_probe",
    options="abcd",
    hints=(
        "Kubernetes has separate probes for 'send me traffic' and 'restart me'.",
        "Which probe only takes the pod out of the service while it fails, without killing it?",
    ),
)
choice(
    "q_limits",
    options="abcd",
    hints=(
        "Memory cannot be taken back from a process the way CPU time can.",
        "Think of what the kernel does to a container over its memory limit, and to one that "
        "wants more CPU than its limit.",
    ),
)
choice(
    "q_rollback",
    options="abcd",
    hints=(
        "Serving code that loads a model by alias never names a version.",
        "What is the smallest change to the registry that makes the alias mean the old model?",
    ),
)
choice(
    "q_ks_big_n",
    options="abcd",
    hints=(
        "A p-value answers 'is there any difference at all?', and with enough data the answer "
        "is almost always yes.",
        "What matters for an alert is how big the shift is, not how sure we are that it is not "
        "zero.",
    ),
)
choice(
    "q_layer_cache",
    options="abcd",
    hints=(
        "Docker reuses a cached layer only while every earlier layer is unchanged.",
        "Which files change with every edit of the code, and which almost never?",
    ),
)

"""The MLOps notebook's running example: pricing California districts, north then south.

The data is the 1990 California census housing set (:func:`mlcourse.data.load_housing`):
20,640 districts with their location, the age and size of their housing, their
population, the median income and the median house value. The model prices a
district from its census profile (:data:`FEATURES`: ratios, income, age and the
distance-to-ocean category), not from its coordinates, so that "does it carry
over to a new region?" is a real question.

* :func:`regions` splits the districts into Northern California (latitude at least
  36, the Bay Area to the Oregon border) and Southern California (latitude below 35,
  Los Angeles to San Diego); the band between is left out so the two do not touch.
* :func:`price_model` is the model: one-hot distance to the ocean, then a
  histogram gradient-boosted regressor; ``random_state`` drives its feature
  subsampling, so the seed matters.
* :func:`simulate_month` draws a month of production requests: northern districts
  at first, then a roll-out to the south whose share grows day by day.
* :func:`within_20pct` is the accuracy of a price: the share of predictions within
  20 % of the true value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Column of the target: the median house value, in units of $100,000.
TARGET = "price"
#: Columns the model reads.
FEATURES = [
    "median_income",
    "housing_median_age",
    "rooms_per_household",
    "bedrooms_per_room",
    "people_per_household",
    "population",
    "ocean_proximity",
]
#: The numeric ones (everything but the ocean category): what drift monitoring watches.
NUMERIC = [c for c in FEATURES if c != "ocean_proximity"]
#: The five values of ``ocean_proximity`` in the census data.
OCEAN_CATEGORIES = ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]
NORTH_MIN_LATITUDE = 36.0
SOUTH_MAX_LATITUDE = 35.0


def add_features(raw: pd.DataFrame) -> pd.DataFrame:
    """The census columns plus the model's ratios and the target (a new frame)."""
    missing = {"total_rooms", "total_bedrooms", "households", "population"} - set(raw.columns)
    if missing:
        raise ValueError(f"add_features needs the census columns; missing {sorted(missing)}")
    out = raw.copy()
    out["rooms_per_household"] = out["total_rooms"] / out["households"]
    out["bedrooms_per_room"] = out["total_bedrooms"] / out["total_rooms"]
    out["people_per_household"] = out["population"] / out["households"]
    if "median_house_value" in out:
        out[TARGET] = out["median_house_value"] / 1e5
    return out


def regions(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(north, south): the districts of each region, with :func:`add_features` applied."""
    data = add_features(raw)
    north = data[data["latitude"] >= NORTH_MIN_LATITUDE]
    south = data[data["latitude"] < SOUTH_MAX_LATITUDE]
    return north, south


def split(frame: pd.DataFrame, fractions=(0.6, 0.2, 0.2), seed: int = 0):
    """Shuffle ``frame`` with ``seed`` and cut it into parts of the given fractions."""
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or (fractions <= 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be positive and add up to 1, not {fractions.tolist()}")
    order = np.random.default_rng(seed).permutation(len(frame))
    cuts = np.round(np.cumsum(fractions)[:-1] * len(frame)).astype(int)
    return tuple(frame.iloc[part] for part in np.split(order, cuts))


def price_model(
    learning_rate: float = 0.1,
    max_leaf_nodes: int = 31,
    max_iter: int = 150,
    l2_regularization: float = 0.0,
    monotonic_income: bool = False,
    random_state: int = 0,
):
    """An unfitted price model: one-hot ocean category, then gradient boosting.

    ``monotonic_income`` constrains the predicted price never to fall when the
    median income rises. The boosting subsamples 80 % of the features per split,
    driven by ``random_state``.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = ColumnTransformer(
        [
            (
                "ocean",
                OneHotEncoder(categories=[OCEAN_CATEGORIES], handle_unknown="ignore"),
                ["ocean_proximity"],
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    # After encoding: the five ocean columns, then the numeric features in order.
    monotonic = [0] * len(OCEAN_CATEGORIES) + [
        1 if (monotonic_income and name == "median_income") else 0 for name in NUMERIC
    ]
    boost = HistGradientBoostingRegressor(
        learning_rate=learning_rate,
        max_leaf_nodes=int(max_leaf_nodes),
        max_iter=int(max_iter),
        l2_regularization=l2_regularization,
        max_features=0.8,
        early_stopping=False,
        monotonic_cst=monotonic,
        random_state=random_state,
    )
    return Pipeline([("encode", encode), ("boost", boost)])


def simulate_month(
    north: pd.DataFrame,
    south: pd.DataFrame,
    *,
    days: int = 30,
    per_day: int = 250,
    shift_start: int = 11,
    ramp_days: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """A month of production requests: ``per_day`` districts a day, drawn with replacement.

    Days ``1 .. shift_start - 1`` come from ``north`` only. From day
    ``shift_start`` the share of southern districts grows linearly, reaching
    100 % after ``ramp_days`` days, and stays there (``shift_start = days + 1``:
    a month without a shift, the control). The result holds the districts'
    columns plus ``district`` (their label in the census), ``day`` (1-based) and
    ``region``.
    """
    if days < 1 or per_day < 1 or ramp_days < 1 or not 1 <= shift_start <= days + 1:
        raise ValueError("need days, per_day, ramp_days >= 1 and 1 <= shift_start <= days + 1")
    if len(north) == 0 or len(south) == 0:
        raise ValueError("both regions need at least one district")
    gen = np.random.default_rng(seed)
    parts = []
    for day in range(1, days + 1):
        share = float(np.clip((day - shift_start + 1) / ramp_days, 0.0, 1.0))
        n_south = int(gen.binomial(per_day, share))
        picks = [
            north.iloc[gen.integers(0, len(north), per_day - n_south)].assign(region="north"),
            south.iloc[gen.integers(0, len(south), n_south)].assign(region="south"),
        ]
        parts.append(pd.concat(picks).assign(day=day))
    return pd.concat(parts).reset_index(names="district")


def south_share(days: int = 30, shift_start: int = 11, ramp_days: int = 10) -> np.ndarray:
    """The planned share of southern traffic on each day of :func:`simulate_month`."""
    day = np.arange(1, days + 1)
    return np.clip((day - shift_start + 1) / ramp_days, 0.0, 1.0)


def within_20pct(y_true, y_pred) -> float:
    """The share of predictions within 20 % of the true value (an 'accuracy' for prices)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError("y_true and y_pred must be non-empty and of the same shape")
    return float(np.mean(np.abs(y_pred - y_true) <= 0.2 * np.abs(y_true)))


def rmse(y_true, y_pred) -> float:
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return float(np.sqrt(np.mean((y_pred - y_true) ** 2)))

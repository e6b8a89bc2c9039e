"""Tests for mlcourse.experiments: the z-test, the simulated experiment, the drift index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from mlcourse.experiments import psi, simulate_experiment, two_proportion_z


@pytest.mark.parametrize(
    "counts",
    [(100, 1000, 130, 1000), (50, 800, 41, 1200), (7, 20, 1, 35), (300, 3000, 300, 3000)],
)
def test_z_test_matches_statsmodels(counts):
    ca, na, cb, nb = counts
    z, p = two_proportion_z(ca, na, cb, nb)
    z_ref, p_ref = proportions_ztest([cb, ca], [nb, na])
    assert type(z) is float and type(p) is float
    assert z == pytest.approx(float(z_ref), rel=1e-12, abs=1e-12)
    assert p == pytest.approx(float(p_ref), rel=1e-12)


def test_z_test_sign_follows_b_minus_a():
    assert two_proportion_z(100, 1000, 130, 1000)[0] > 0
    assert two_proportion_z(130, 1000, 100, 1000)[0] < 0


def test_z_test_vectorised_and_degenerate():
    ca = np.array([[0, 5], [10, 20]])
    cb = np.array([[0, 9], [10, 20]])
    z, p = two_proportion_z(ca, 20, cb, 20)
    assert z.shape == (2, 2) and p.shape == (2, 2)
    assert z[0, 0] == 0.0 and p[0, 0] == 1.0  # no conversion anywhere: variance 0
    assert z[1, 1] == 0.0 and p[1, 1] == 1.0  # everyone converted: variance 0
    assert p[1, 0] == pytest.approx(1.0)
    assert z[0, 1] == pytest.approx(two_proportion_z(5, 20, 9, 20)[0])


@pytest.mark.parametrize(
    "bad", [(5, 0, 5, 10), (-1, 10, 5, 10), (11, 10, 5, 10), (float("nan"), 10, 5, 10)]
)
def test_z_test_refuses_bad_counts(bad):
    with pytest.raises(ValueError):
        two_proportion_z(*bad)
    with pytest.raises(ValueError):
        two_proportion_z(5, 10, *bad[:2])


def test_simulated_experiment_shape_and_reproducibility():
    df = simulate_experiment(n_per_arm=2000, days=7, seed=3)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["user", "arm", "day", "converted", "pre_revenue", "revenue"]
    assert len(df) == 4000
    assert (df["arm"].value_counts() == 2000).all()
    assert df["day"].between(0, 6).all() and df["day"].is_monotonic_increasing
    assert df["converted"].dtype == bool
    assert (df["pre_revenue"] > 0).all() and (df["revenue"] > 0).all()
    pd.testing.assert_frame_equal(df, simulate_experiment(n_per_arm=2000, days=7, seed=3))
    assert not df.equals(simulate_experiment(n_per_arm=2000, days=7, seed=4))


def test_simulated_experiment_effects():
    df = simulate_experiment(n_per_arm=200_000, conversion_lift=0.02, revenue_lift=2.0, seed=1)
    rates = df.groupby("arm")["converted"].mean()
    assert rates["A"] == pytest.approx(0.10, abs=0.003)
    assert rates["B"] - rates["A"] == pytest.approx(0.02, abs=0.004)
    pre = df.groupby("arm")["pre_revenue"].mean()
    assert pre["A"] == pytest.approx(20.0, abs=0.2) and pre["B"] == pytest.approx(20.0, abs=0.2)
    adjusted = df["revenue"] - 0.9 * df["pre_revenue"]
    gap = adjusted[df["arm"] == "B"].mean() - adjusted[df["arm"] == "A"].mean()
    assert gap == pytest.approx(2.0, abs=0.1)
    rho2 = np.corrcoef(df["pre_revenue"], df["revenue"])[0, 1] ** 2
    assert 0.5 < rho2 < 0.62  # 162 / (162 + 128) = 0.56 in theory


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_per_arm": 0},
        {"n_per_arm": 10.5},
        {"days": 0},
        {"p_control": 1.2},
        {"p_control": 0.99, "conversion_lift": 0.02},
    ],
)
def test_simulated_experiment_refuses_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        simulate_experiment(**kwargs)


def test_psi():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    assert psi(ref, ref) == 0.0
    small = psi(ref, rng.normal(size=20_000))
    shifted = psi(ref, rng.normal(loc=0.5, size=20_000))
    assert 0 <= small < 0.01
    assert shifted > 0.2
    assert psi(ref, ref + 100.0) > 1.0  # everything in the top bin: floored shares, finite
    assert np.isfinite(psi(ref, ref + 100.0))
    ints = psi([1, 1, 1, 2, 2, 3], [1, 2, 3, 3, 3, 3], bins=3)
    assert ints > 0 and np.isfinite(ints)


@pytest.mark.parametrize(
    "args", [([], [1.0]), ([1.0], []), ([1.0, np.nan], [1.0]), ([1.0, 2.0], [1.0], 1)]
)
def test_psi_refuses_bad_input(args):
    with pytest.raises(ValueError):
        psi(*args)
